"""Write the files of a run folder, each atomically.

Every file is written under a temporary name in the same folder and then renamed into place, so a
crash or Ctrl-C never leaves a half-written file under its final name, and an earlier file of the
same name survives until the new one is complete.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from sim.resources import source_root

__all__ = ["atomic_write", "package_versions", "write_config", "write_metadata"]

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def package_versions() -> dict[str, str]:
    """Versions of this package and the libraries that shape its results."""
    out = {}
    for name in ("sim", "mesa", "hydra-core", "omegaconf", "numpy", "pandas", "pyarrow", "scipy", "matplotlib"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str | None:
    """The commit of the source tree this package runs from, if it is a git checkout (``None`` for a wheel
    install, which has no source tree: :func:`sim.resources.source_root`)."""
    root = source_root()
    if root is None:
        return None
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    return done.stdout.strip() + ("+dirty" if dirty else "")


def write_config(out_dir: Path, cfg: DictConfig | dict) -> None:
    """Write the resolved config, ``config_resolved.yaml`` (at the start of a sweep, so that an unfinished
    sweep can be plotted, analysed and compared; again at its end)."""
    text = OmegaConf.to_yaml(cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg), resolve=True)
    atomic_write(Path(out_dir) / "config_resolved.yaml", lambda p: p.write_text(text))


def write_metadata(out_dir: Path, cfg: DictConfig, info: dict) -> None:
    """Write the resolved config and ``metadata.json`` (versions, commit, command, run facts)."""
    out_dir = Path(out_dir)
    write_config(out_dir, cfg)
    meta = {
        "versions": package_versions(),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "argv": [Path(sys.argv[0]).name, *sys.argv[1:]],
        **info,
    }
    if meta.get("command") is None:  # not given: the command line as this process received it
        meta["command"] = " ".join(meta["argv"])
    atomic_write(out_dir / "metadata.json", lambda p: p.write_text(json.dumps(meta, indent=2, default=str) + "\n"))
