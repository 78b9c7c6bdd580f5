"""Where the files a run reads are: the one place that finds the configs and the source tree.

The configs (``conf/`` at the top of the repository) ship inside the package as ``sim.conf``
(``[tool.setuptools.package-dir]`` in pyproject.toml), so a wheel install finds them in site-packages and an
editable install finds the repository's folder, both through :mod:`importlib.resources`. Nothing else locates a
data file by a path relative to a module.

The documents generated from the registry (``docs/codebook.md``, ``docs/calibration.md``) and the git commit
recorded in ``metadata.json`` belong to a source checkout, which a wheel install does not have:
:func:`source_root` says where it is, or ``None``.

This module imports nothing from ``sim``, so every floor may use it.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

__all__ = ["conf_dir", "doc_path", "source_root"]

_HERE = Path(__file__).resolve().parent


def conf_dir() -> Path:
    """The folder of ``config.yaml`` and its config groups (the package ``sim.conf``).

    Falls back to ``conf/`` next to the package when ``sim`` runs from a source tree that was never installed
    (``PYTHONPATH=.``), where no finder maps ``sim.conf``.
    """
    try:
        folder = Path(str(importlib.resources.files("sim.conf")))
    except ModuleNotFoundError:
        folder = _HERE.parent / "conf"
    return folder


def source_root() -> Path | None:
    """The repository this package runs from (it holds ``pyproject.toml`` and ``docs/``), or ``None`` when the
    package was installed from a wheel."""
    root = _HERE.parent
    return root if (root / "pyproject.toml").is_file() and (root / "sim").resolve() == _HERE else None


def doc_path(name: str) -> Path:
    """A generated document, ``docs/<name>``: in the source checkout, or under the current folder when the
    package was installed from a wheel (``python -m sim codebook`` then writes ``./docs/codebook.md``)."""
    root = source_root()
    return (root / "docs" if root is not None else Path("docs")) / name
