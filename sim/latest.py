"""Finding a run again: ``results/<experiment>/latest`` points to the newest run of an experiment.

A run folder's name carries its start time to the microsecond (``results/smoke/2026-01-02_03-04-05-123456``);
the ``run`` verb points the link ``latest`` next to it at the run it starts (for a multirun, at the multirun
folder). ``plot``, ``analyze`` and ``compare`` take an experiment's name for its latest run
(:func:`find_run`). The link is relative (the results folder may be moved) and replaced atomically, so two
runs starting at once leave it pointing at one of them, never broken.

Only the default layout, ``results/<run.name>/<folder>`` (and ``.../multirun_<time>/<job>``), gets a link:
a folder named on the command line (``hydra.run.dir=...``) is left alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.console import did_you_mean

__all__ = ["LATEST", "RESULTS", "RunNotFound", "find_run", "link_latest"]

LATEST = "latest"
RESULTS = Path("results")


def link_latest(out_dir: Path, run_name: str) -> Path | None:
    """Point ``<experiment folder>/latest`` at ``out_dir`` (or at its multirun folder); the link, or None
    when ``out_dir`` is not in the default layout or the file system refuses links."""
    out_dir = Path(out_dir).absolute()
    target = out_dir
    if target.parent.name.startswith("multirun_") and target.parent.parent.name == run_name:
        target = target.parent
    if target.parent.name != run_name or target.name == LATEST:
        return None
    link = target.parent / LATEST
    tmp = target.parent / f".{LATEST}.{os.getpid()}.tmp"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(target.name, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # no symbolic links here (some Windows and network file systems): the run itself goes on
        tmp.unlink(missing_ok=True)
        return None
    return link


class RunNotFound(LookupError):
    """A RUN_DIR argument that is neither a folder nor an experiment with runs."""


def find_run(arg: str | Path, results: Path = RESULTS) -> Path:
    """The folder ``arg`` names: itself if it exists, else the latest run of the experiment of that name.

    Raises:
        RunNotFound: one line naming the argument, the experiments that have runs, and the closest one.
    """
    path = Path(arg)
    if path.exists() or path.is_symlink():
        return path
    if len(path.parts) == 1:
        experiment = results / path.name
        if (experiment / LATEST).exists():
            return experiment / LATEST
        runs = sorted(p for p in experiment.glob("*") if p.is_dir() and p.name != LATEST) if experiment.is_dir() else []
        if runs:  # made before links existed
            return runs[-1]
    known = sorted(p.name for p in results.glob("*") if p.is_dir()) if results.is_dir() else []
    where = f"experiments with runs in {results}: {', '.join(known)}" if known else f"no runs in {results}/ yet"
    hint = did_you_mean(path.name, known)
    raise RunNotFound(f"{arg}: no such folder, nor an experiment with runs ({where})" + (f"; {hint}" if hint else ""))
