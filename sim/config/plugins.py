"""Where a ``_target_`` may come from: the ``sim`` package, or a folder the user names for plugins.

A config names the class of a swappable part by its dotted path (``_target_: sim.engine.offering.TimeDependent``,
or a user's own ``mypackage.tactics.Stubborn``). Importing a module runs its code, so a path read from a run
folder (``plot``, ``analyze``, ``compare``, the API rebuild the plan from ``config_resolved.yaml``) or typed on a
command line must not import whatever module happens to lie on ``sys.path``, such as a file planted beside a
run folder. A ``_target_`` is imported only if its module is

* in the ``sim`` package itself, or
* in a folder named in the environment variable ``SIM_PLUGIN_PATH`` (folders separated by ``os.pathsep``, as
  ``PYTHONPATH``): ``SIM_PLUGIN_PATH=. python -m sim run strategy@us=stubborn`` for a ``mypackage/`` in the
  current folder. The module must be found in that folder, not elsewhere on ``sys.path``.

Hydra's own keys (``hydra.*``: launchers, sweepers) may also name Hydra and its installed plugins.
Everything else is refused, before any import, in one line naming the key.
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib.machinery import PathFinder
from pathlib import Path
from typing import Any

from sim.config.values import ConfigError

__all__ = ["PLUGIN_ENV", "check_target", "import_subclass", "import_target", "instantiate", "plugin_folders", "targets"]

PLUGIN_ENV = "SIM_PLUGIN_PATH"
PACKAGE_ROOTS = ("sim",)
HYDRA_ROOTS = ("hydra", "hydra_plugins")


def plugin_folders() -> list[Path]:
    """The folders named in ``SIM_PLUGIN_PATH`` that exist, resolved."""
    text = os.environ.get(PLUGIN_ENV, "")
    return [Path(p).resolve() for p in text.split(os.pathsep) if p and Path(p).is_dir()]


def _inside(path: str | None, folder: Path) -> bool:
    return path is not None and Path(path).resolve().is_relative_to(folder)


def _plugin_folder(root: str) -> Path | None:
    """The plugin folder that holds the top-level module ``root``, if one does."""
    for folder in plugin_folders():
        spec = PathFinder.find_spec(root, [str(folder)])
        if spec is None:
            continue
        loaded = sys.modules.get(root)
        if loaded is not None:  # the name is taken already: it must be this very module
            where = getattr(loaded, "__file__", None) or next(iter(getattr(loaded, "__path__", [])), None)
            if not _inside(where, folder):
                continue
        return folder
    return None


def check_target(path: Any, key: str, roots: tuple[str, ...] = PACKAGE_ROOTS) -> tuple[str, str]:
    """Check, without importing anything, that ``path`` may be imported; return ``(module, name)``.

    Args:
        path: The ``_target_`` value, ``module.Class``.
        key: Its config key, for the message.
        roots: Top-level packages allowed besides the plugin folders.

    Raises:
        ConfigError: a malformed path, or a module outside ``roots`` and the plugin folders.
    """
    module_name, _, name = str(path).rpartition(".")
    if not module_name or not all(part.isidentifier() for part in (*module_name.split("."), name)):
        raise ConfigError(key, f"must be a dotted path module.Class, got {str(path)[:80]!r}")
    root = module_name.split(".")[0]
    if root not in roots and _plugin_folder(root) is None:
        raise ConfigError(key, f"{str(path)[:80]!r} is neither in the sim package nor in a plugin folder; to use your "
                               f"own module, name its folder in {PLUGIN_ENV} (e.g. {PLUGIN_ENV}=. python -m sim ...)")
    return module_name, name


def import_target(path: Any, key: str, roots: tuple[str, ...] = PACKAGE_ROOTS) -> Any:
    """The object named by ``path``, imported only once :func:`check_target` allows it.

    Raises:
        ConfigError: refused by :func:`check_target`, or the module or the name cannot be imported.
    """
    module_name, name = check_target(path, key, roots)
    root = module_name.split(".")[0]
    if root not in roots:
        folder = str(_plugin_folder(root))
        if folder not in sys.path:
            sys.path.insert(0, folder)
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError):
        raise ConfigError(key, f"cannot import {str(path)[:80]!r}") from None


def import_subclass(path: Any, key: str, base: type) -> type:
    """The class named by ``path`` (``module.Class``), imported through :func:`import_target`; it must
    subclass ``base``.

    Raises:
        ConfigError: refused or not importable (:func:`import_target`), or not a ``base`` subclass.
    """
    cls = import_target(path, key)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(key, f"{path!r} is not a {base.__module__}.{base.__name__} subclass")
    return cls


def instantiate(node: dict, key: str, base: type, *, partial: bool = False) -> Any:
    """``hydra.utils.instantiate(node)``, once ``node["_target_"]`` has passed the allow-list above and names a
    ``base`` subclass: Hydra builds the object (or, with ``partial``, the ``functools.partial`` factory of the
    class with the node's arguments); nothing outside the ``sim`` package and the plugin folders is imported.

    Args:
        node: A config node with a ``_target_`` and the class's keyword arguments.
        key: The node's config key, for the message.
        base: The class the target must subclass.
        partial: Return the factory instead of calling it.

    Raises:
        ConfigError: no ``_target_``, a refused or wrong target (:func:`import_subclass`), or arguments the class
            does not take.
    """
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate as hydra_instantiate

    if not isinstance(node, dict) or "_target_" not in node:
        raise ConfigError(key, "must name a config with a _target_ class")
    import_subclass(node["_target_"], f"{key}._target_", base)  # checked (and imported) before Hydra sees it
    try:
        return hydra_instantiate(node, _partial_=partial, _convert_="all")
    except InstantiationException as err:
        raise ConfigError(key, f"cannot build {node['_target_']!r}: {str(err).splitlines()[-1][:160]}") from None


def targets(tree: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every ``_target_`` in a config tree (dicts and lists), as ``(key, value)``."""
    found = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            where = f"{prefix}.{k}" if prefix else str(k)
            if k == "_target_":
                found.append((where, v))
            else:
                found += targets(v, where)
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            found += targets(v, f"{prefix}[{i}]")
    return found
