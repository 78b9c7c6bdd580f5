"""Swappable parts named in the config: negotiator parts and protocols, as classes with parameters.

Each part is one YAML file in its config group (``conf/strategy/`` for offering strategies,
``conf/acceptance/``, ``conf/opponent/``, ``conf/protocol/``) whose ``_target_`` names a class. The
class declares its numeric parameters in ``PARAMS`` (name -> default, lowest, highest); this module
imports the class, checks it is of the right kind and checks each parameter's value.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from sim.config.values import CONF_DIR, ConfigError, Tree, check_number
from sim.engine.acceptance import AcceptanceStrategy
from sim.engine.offering import OfferingStrategy
from sim.engine.opponent import OpponentModel

__all__ = ["PARTS", "available", "import_class", "load_option", "part"]

# negotiator part -> (config group, the part's key under the party, base class)
PARTS = {
    "offering": ("strategy", OfferingStrategy),
    "acceptance": ("acceptance", AcceptanceStrategy),
    "opponent": ("opponent", OpponentModel),
}


def available(group: str) -> list[str]:
    """Option names of a config group (the YAML files in ``conf/<group>/``)."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def load_option(group: str, name: str, key: str) -> Tree:
    """Load ``conf/<group>/<name>.yaml`` as a plain dict, or raise naming the allowed options."""
    if name not in available(group):
        what = {"strategy": "strategy"}.get(group, f"{group} option")
        raise ConfigError(key, f"unknown {what} {name!r}; choose one of {', '.join(available(group))}")
    return OmegaConf.to_container(OmegaConf.load(CONF_DIR / group / f"{name}.yaml"))


def import_class(path: Any, key: str, base: type) -> type:
    """The class named by ``path`` (``module.Class``), which must subclass ``base``."""
    module_name, _, class_name = str(path).rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        raise ConfigError(key, f"cannot import class {path!r}") from None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(key, f"{path!r} is not a {base.__module__}.{base.__name__} subclass")
    return cls


def part(node: Any, key: str, base: type) -> tuple[str, type, dict[str, np.ndarray]]:
    """A part's name, class and checked parameters, from its config node at ``key``.

    Returns:
        ``(name, class, {parameter: value})``; parameters not given take the class's defaults.
    """
    if not isinstance(node, dict) or "_target_" not in node:
        raise ConfigError(key, "must name a config with a _target_ class")
    cls = import_class(node["_target_"], f"{key}._target_", base)
    name = str(node.get("name", cls.__name__))
    for pname in node:
        if pname not in ("name", "_target_") and pname not in cls.PARAMS:
            allowed = ", ".join(cls.PARAMS) or "none"
            raise ConfigError(f"{key}.{pname}", f"unknown parameter of {name!r}; allowed: {allowed}")
    params = {}
    for pname, (default, lo, hi) in cls.PARAMS.items():
        value = check_number(node[pname], f"{key}.{pname}", lo, hi) if pname in node else default
        params[pname] = np.float64(value)
    return name, cls, params
