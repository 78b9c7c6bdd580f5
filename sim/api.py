"""A Python entry point for notebooks: run an experiment, read its outcomes, draw and analyse it.

It takes the same overrides as the command line and goes through the same code path: the command is
composed by Hydra from ``conf/``, checked and planned, once, by :func:`sim.preflight.prepare`, and that config
and plan are run by :func:`sim.cli.run_experiment`, so a run folder written here is the same as one written by
``python -m sim run`` (and can be resumed, plotted, analysed or compared from the command line)::

    from sim import api

    run = api.run(overrides=["+experiment=smoke", "run.seeds=20"])
    run.summary            # per strategy pair and grid point: deal rate, median round and terms
    run.outcomes           # one row per negotiation (pandas)
    run.plot()             # the figures, as paths
    run.analyze()          # .sensitivity: indices (or feature scores), a tidy table; .box: the PRIM box

``api.load(path)`` opens an existing run folder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Analysis", "Run", "load", "run"]

_NOT_IN_OVERRIDES = "=,()[]{}'\" \t\n\\"  # characters Hydra's override grammar does not take unquoted in a value


@dataclass
class Run:
    """A run folder and what is in it.

    Attributes:
        path: The run folder.
        report: The terminal summary of the run (empty for a folder opened with :func:`load`).
    """

    path: Path
    report: str = ""
    _outcomes: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def outcomes(self) -> pd.DataFrame:
        """One row per negotiation (``outcomes.parquet``, or the chunks done so far)."""
        if self._outcomes is None:
            from sim.run.readback import RunDirError, read_outcomes

            try:
                self._outcomes = read_outcomes(self.path).to_pandas()
            except RunDirError as err:  # damaged (its digest differs) or unreadable: the one-line reason
                raise ValueError(str(err)) from None
        return self._outcomes

    @property
    def summary(self) -> pd.DataFrame:
        """Per strategy pair and grid point: deal rate (95 % Wilson interval), median round and terms."""
        return pd.read_csv(self.path / "summary.csv")

    @property
    def config(self) -> dict:
        """The resolved config (``config_resolved.yaml``) as a plain dict."""
        import yaml

        return yaml.safe_load((self.path / "config_resolved.yaml").read_text())

    def plot(self, formats: tuple[str, ...] = ("png",)) -> list[Path]:
        """Draw every figure the run's data supports into ``figures/``; return the paths written."""
        from sim.report.plots import draw_all
        from sim.run.readback import RunDirError, load_run

        try:
            data, _ = load_run(self.path)
        except RunDirError as err:
            raise ValueError(str(err)) from None
        written, _ = draw_all(data, self.path, formats=formats)
        return written

    def __repr__(self) -> str:
        """One line: the folder, and the numbers of negotiations and deals once the outcomes are read."""
        if self._outcomes is None:
            return f"Run({str(self.path)!r})"
        deals = int(self._outcomes["deal"].sum()) if "deal" in self._outcomes else 0
        return f"Run({str(self.path)!r}, negotiations={len(self._outcomes)}, deals={deals})"

    def analyze(self, outcomes: list[str] | None = None, method: str | None = None, prim: str | None = None,
                figures: bool = True) -> Analysis:
        """Sensitivity indices (``sensitivity.csv``) and, with ``prim``, the PRIM box, as ``python -m sim
        analyze`` writes them.

        Args:
            outcomes: Outcome columns (default: deal, agreement time, terms, utilities, welfare).
            method: ``sobol``, ``morris``, ``fast`` or ``scores``; default: the run's design.
            prim: A scenario-discovery condition (``no_deal``, ``"reciprocal>=15"``); the PRIM box is
                returned as ``.box`` and written to ``prim_box.csv``.
            figures: Draw ``figures/sensitivity.png`` (and the PRIM figure).

        Raises:
            ValueError: with the one-line reason the command line prints.
        """
        from sim.analysis.analyze import AnalyzeError, analyze_run

        try:
            result = analyze_run(self.path, outcomes, method, prim, figures)
        except AnalyzeError as err:
            raise ValueError(str(err)) from None
        return Analysis(sensitivity=result.sensitivity, box=None if result.prim is None else result.prim.limits,
                        prim=result.prim)


@dataclass(frozen=True)
class Analysis:
    """What :meth:`Run.analyze` found.

    Attributes:
        sensitivity: One row per outcome, parameter and index (``sensitivity.csv``).
        box: The PRIM box (``prim_box.csv``: ``parameter, low, high, range_low, range_high, restricted``), or
            None without a condition.
        prim: The whole PRIM result (trajectory, coverage and density of the box), or None.
    """

    sensitivity: pd.DataFrame
    box: pd.DataFrame | None = None
    prim: Any = None

    def __repr__(self) -> str:
        box = "" if self.box is None else f", box of {int(self.box['restricted'].sum())} restricted parameter(s)"
        return f"Analysis({len(self.sensitivity)} sensitivity rows{box})"


def run(overrides: list[str] | tuple[str, ...] = (), out_dir: str | Path | None = None,
        progress: bool = False) -> Run:
    """Run (or resume) an experiment, as ``python -m sim run OVERRIDES`` does.

    Args:
        overrides: Hydra overrides, e.g. ``["+experiment=smoke", "scenario.escalation=0"]``.
        out_dir: The run folder; default ``results/<run.name>/<timestamp>`` under the current folder.
            An existing run folder of the same config is resumed.
        progress: Show a progress bar.

    Returns:
        The finished run.

    Raises:
        ValueError: a bad override, with the one-line message the command line prints.
    """
    from sim.cli import run_experiment
    from sim.config import ConfigError
    from sim.preflight import UsageError, prepare

    if isinstance(overrides, (str, bytes)) or not isinstance(overrides, (list, tuple)):
        raise ValueError(f"overrides: must be a list of strings such as ['+experiment=smoke'], got "
                         f"{type(overrides).__name__} {overrides!r:.80}")
    overrides = list(overrides)
    wrong = next((o for o in overrides if not isinstance(o, str)), None)
    if wrong is not None:
        raise ValueError(f"overrides: each must be a string 'key=value', got {type(wrong).__name__} {wrong!r:.80}")
    if out_dir is not None and not isinstance(out_dir, (str, Path)):
        raise ValueError(f"out_dir: must be a path (str or pathlib.Path), got {type(out_dir).__name__}")
    if out_dir is not None and Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise ValueError(f"out_dir {str(out_dir)!r}: is a file, not a folder; give a new or a run folder")
    if out_dir is not None and (bad := set(str(out_dir)) & set(_NOT_IN_OVERRIDES)):
        raise ValueError(f"out_dir {str(out_dir)!r}: a run folder's path cannot hold {' '.join(sorted(bad))} "
                         "(it goes into a Hydra override); choose another name")
    if any(o.lstrip("+~").startswith("hydra.") for o in overrides):
        raise ValueError("hydra.* overrides are not used by sim.api.run; pass out_dir= for the run folder")
    try:
        checked = prepare(overrides + ([f"hydra.run.dir={out_dir}"] if out_dir is not None else []), multirun=False)
    except UsageError as err:
        raise ValueError(str(err)) from None
    cfg = checked.jobs[0].own  # the config the check composed (composed once), without Hydra's node
    if out_dir is None:
        out_dir = Path("results") / str(cfg.run.name) / dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S-%f")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        report = run_experiment(cfg, out_dir, progress=progress, checked=checked.plan)  # planned once, by the check
    except ConfigError as err:
        raise ValueError(str(err)) from None
    return Run(path=out_dir, report=report)


def load(run_dir: str | Path) -> Run:
    """Open an existing run folder.

    Raises:
        ValueError: the folder is not a run folder (one line naming it).
    """
    from sim.run.readback import RunDirError, load_run

    path = Path(run_dir)
    try:
        load_run(path)
    except RunDirError as err:
        raise ValueError(str(err)) from None
    return Run(path=path)
