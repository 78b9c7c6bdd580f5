"""The run folder a command line runs into, named, checked and claimed before Hydra writes anything into it.

A folder named on the command line (``hydra.run.dir``, ``hydra.sweep.dir``) must be one the file system takes
and this user can write; a default one (``results/<run.name>/<timestamp>``) is made unique and created here
(:func:`claim_folder`), so two runs started at the same moment never share one. :mod:`sim.preflight` calls these
after every job of the command line passed its checks.
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import OmegaConf

from sim.console import UsageError

__all__ = ["check_folder_names", "claim_folder", "fits", "override", "settle_folder", "writable"]


def override(overrides: list[str], key: str) -> str | None:
    """The value of ``key=VALUE`` on the command line, if given."""
    for o in overrides:
        if o.lstrip("+").startswith(f"{key}="):
            return o.split("=", 1)[1]
    return None


def writable(folder: Path, key: str) -> None:
    """Create ``folder`` (and its parents) and check it can be written; one line if not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise NotADirectoryError(f"{folder} is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError("permission denied")
    except OSError as err:
        reason = err.strerror or str(err)
        raise UsageError(f"{key}: cannot create or write the folder {folder} ({reason})") from None


_NAMED_FOLDERS = ("hydra.run.dir", "hydra.sweep.dir", "run.name")


def check_folder_names(overrides: list[str], cfg, folders: dict) -> None:
    """Refuse an empty run folder name (the run would go into the current folder, or lose a level) and a
    name longer than the file system takes (one line, before anything is written)."""
    for key in _NAMED_FOLDERS:
        given = override(overrides, key)
        value = given if given is not None else (OmegaConf.select(cfg, key) if key == "run.name" else None)
        if value is not None and str(value).strip() in ("", ".", ".."):
            raise UsageError(f"{key}: {'is empty' if not str(value).strip() else f'is {value!r}'}; give a folder "
                             "name (e.g. " + ("run.name=my_study" if key == "run.name" else f"{key}=results/my_run")
                             + ")")
    name = str(OmegaConf.select(cfg, "run.name") or "")
    for key in ("hydra.run.dir", "hydra.sweep.dir"):
        folder = override(overrides, key) or folders.get(key.split(".")[1])
        if folder:  # a default folder is named after run.name: a name too long is that key's
            fits(Path(str(folder)), "run.name" if override(overrides, key) is None and name else key)


def fits(path: Path, key: str) -> None:
    """Refuse a path whose folder names, or whole length, the file system would not take."""
    parent = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    try:
        name_max, path_max = os.pathconf(parent, "PC_NAME_MAX"), os.pathconf(parent, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        name_max, path_max = 255, 4096
    long = next((part for part in path.parts if len(os.fsencode(part)) > name_max), None)
    if long is not None:
        raise UsageError(f"{key}: the folder name {long[:40]!r}... is {len(os.fsencode(long))} bytes; the file system "
                         f"takes at most {name_max} (shorten the name or the overrides that make it)")
    if len(os.fsencode(str(path.absolute()))) >= path_max:
        raise UsageError(f"{key}: the folder path is longer than the file system takes ({path_max} bytes)")


def claim_folder(template: str) -> Path:
    """A new folder from the configured name: ``template``, or ``template-2``, ``-3``, … if it exists.

    The folder is created here (``os.mkdir`` fails if another run took the name first), so two runs
    started at the same moment never share one.
    """
    base = Path(template)
    for k in range(1, 10_000):
        folder = base if k == 1 else base.with_name(f"{base.name}-{k}")
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise UsageError(f"hydra.run.dir: cannot find a free folder name next to {base}")


def settle_folder(overrides: list[str], multirun: bool, claim: bool, run_dir: str | None, folders: dict) -> list[str]:
    """Check (and with ``claim``, create) the run or sweep folder; the override naming a claimed default one."""
    if not multirun:
        if run_dir is not None:
            if claim:
                writable(Path(run_dir), "hydra.run.dir")
            return []
        return [f"hydra.run.dir={claim_folder(folders['run'])}"] if claim else []
    sweep_dir = override(overrides, "hydra.sweep.dir")
    if sweep_dir is None:
        return [f"hydra.sweep.dir={claim_folder(folders['sweep'])}"] if claim else []
    if claim:
        writable(Path(sweep_dir), "hydra.sweep.dir")
    return []
