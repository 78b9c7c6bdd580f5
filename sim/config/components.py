"""Swappable parts named in the config: negotiator parts and protocols, as classes with parameters.

Each part is one YAML file in its config group (``conf/strategy/`` for offering strategies,
``conf/acceptance/``, ``conf/opponent/``, ``conf/protocol/``) whose ``_target_`` names a class. The
class declares its numeric parameters in ``PARAMS`` (name -> default, lowest, highest). A part's class is
built by ``hydra.utils.instantiate`` (as a factory, ``_partial_``) once its ``_target_`` has passed the
allow-list of :mod:`sim.config.plugins`; each parameter's value is checked through the one
:class:`~sim.config.parameters.Parameter` of the registry (:func:`part_parameters`), and the engine calls the
factory's class with the checked values, one array per parameter over a batch of worlds. A strategy chosen
per sweep point (``sweep.pairs``) is composed by Hydra from its config file and that file's defaults list
(:func:`load_negotiator`).
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from sim.config.parameters import Parameter
from sim.config.plugins import instantiate, plugin_folders
from sim.config.values import CONF_DIR, ConfigError, Tree, check_number, copy_on_write
from sim.engine.acceptance import AcceptanceStrategy
from sim.engine.offering import OfferingStrategy
from sim.engine.opponent import OpponentModel

__all__ = ["PARTS", "available", "import_class", "load_negotiator", "load_option", "part", "part_parameters",
           "with_part_defaults"]

# negotiator part -> (config group, the part's key under the party, base class)
PARTS = {
    "offering": ("strategy", OfferingStrategy),
    "acceptance": ("acceptance", AcceptanceStrategy),
    "opponent": ("opponent", OpponentModel),
}


def available(group: str) -> list[str]:
    """Option names of a config group (the YAML files in ``conf/<group>/``)."""
    folder = CONF_DIR / group
    try:
        stamp = folder.stat().st_mtime_ns  # a file added or removed changes the folder's time
    except OSError:
        return []
    return list(_options(folder, stamp))


@functools.lru_cache(maxsize=64)
def _options(folder: Path, stamp: int) -> tuple[str, ...]:
    """The option names in ``folder`` as of its modification time ``stamp`` (each compiled grid point asks)."""
    return tuple(sorted(p.stem for p in folder.glob("*.yaml")))


def load_option(group: str, name: str, key: str) -> Tree:
    """Load ``conf/<group>/<name>.yaml`` as a plain dict, or raise naming the allowed options."""
    if name not in available(group):
        what = {"strategy": "strategy"}.get(group, f"{group} option")
        raise ConfigError(key, f"unknown {what} {name!r}; choose one of {', '.join(available(group))}")
    return OmegaConf.to_container(OmegaConf.load(CONF_DIR / group / f"{name}.yaml"))


def load_negotiator(name: str, key: str) -> Tree:
    """A strategy as a whole negotiator, ``{offering, acceptance, opponent}``: ``conf/strategy/<name>.yaml``
    composed by Hydra with the parts its own defaults list names (``/acceptance@_here_: ac_next``).

    Raises:
        ConfigError: ``name`` is not an option of ``conf/strategy/`` (the message names them).
    """
    from sim.config.compose import conf_state

    load_option("strategy", name, key)  # an unknown name: one line naming the options
    return copy.deepcopy(_negotiator(name, conf_state()))


@functools.lru_cache(maxsize=64)
def _negotiator(name: str, state: tuple) -> Tree:
    """The composed strategy ``name`` while the files under ``conf/`` are as ``state`` says (a tournament asks
    for each strategy once per pair; Hydra takes about 0.05 s a compose)."""
    from hydra import compose

    from sim.config.compose import hydra_context

    with hydra_context():
        node = compose(config_name=f"strategy/{name}").strategy
    return OmegaConf.to_container(node)


@functools.lru_cache(maxsize=256)
def _factory(path: str, key: str, base: type, folders: tuple[Path, ...]) -> type:
    """The class Hydra's ``instantiate`` builds for ``_target_: path`` (a factory, ``_partial_``), once per
    target and plugin folders (Hydra takes about 5 ms an instantiate; every compiled grid point asks)."""
    return instantiate({"_target_": path}, key, base, partial=True).func


def import_class(path: Any, key: str, base: type) -> type:
    """The class named by ``path`` (``module.Class``), which must subclass ``base``, built by Hydra's
    ``instantiate`` as a factory.

    Only modules of the ``sim`` package and of the plugin folders are imported (:mod:`sim.config.plugins`).
    """
    if not isinstance(path, str):
        raise ConfigError(key, f"must be a dotted path module.Class, got {str(path)[:80]!r}")
    return _factory(path, key, base, tuple(plugin_folders()))


def part_parameters(cls: type, key: str) -> dict[str, Parameter]:
    """The numeric parameters a part's class declares in ``PARAMS``, as registry parameters at ``key``
    (``us.offering`` -> ``us.offering.beta``), with their defaults and bounds."""
    return {name: Parameter(f"{key}.{name}", f"{cls.__name__} {name}", "", f"parameter {name} of {cls.__name__}",
                            float(lo), float(hi), default=default)
            for name, (default, lo, hi) in cls.PARAMS.items()}


def with_part_defaults(cfg: Tree, ids: tuple[str, ...]) -> Tree:
    """``cfg`` with every parameter a party's negotiator part declares (``PARAMS``) and its config leaves out
    set to the declared default, so that a part's parameter is a config key like any other: the calibration
    block can give it a source and a prior, an ensemble can draw it, a design can sample it. The values the
    parts compile to are unchanged. A copy where something is filled in; ``cfg`` itself otherwise."""
    out, put, filled = None, None, False
    for pid in ids:
        for part_key, (_, base) in PARTS.items():
            node = (cfg.get(pid) or {}).get(part_key) if isinstance(cfg.get(pid), dict) else None
            if not isinstance(node, dict) or "_target_" not in node:
                continue  # the compiler names the malformed part
            cls = import_class(node["_target_"], f"{pid}.{part_key}._target_", base)
            for name, parameter in part_parameters(cls, f"{pid}.{part_key}").items():
                if name not in node:
                    if out is None:
                        out, put = copy_on_write(cfg)
                    put(parameter.key, parameter.default)
                    filled = True
    return out if filled else cfg


def part(node: Any, key: str, base: type, space=None) -> tuple[str, type, dict[str, np.ndarray]]:
    """A part's name, class and checked parameters, from its config node at ``key``.

    A class that lists parameters in ``PER_ISSUE`` also takes ``per_issue: {param: {issue: value}}``,
    where ``issue`` is an issue's name or a tag value (all issues with that tag); those parameters then
    become one value per issue of ``space``.

    Returns:
        ``(name, class, {parameter: value})``; parameters not given take the class's defaults.
    """
    if not isinstance(node, dict) or "_target_" not in node:
        raise ConfigError(key, "must name a config with a _target_ class")
    cls = import_class(node["_target_"], f"{key}._target_", base)
    name = str(node.get("name", cls.__name__))
    for pname in node:
        if pname not in ("name", "_target_", "per_issue") and pname not in cls.PARAMS:
            allowed = ", ".join(cls.PARAMS) or "none"
            raise ConfigError(f"{key}.{pname}", f"unknown parameter of {name!r}; allowed: {allowed}")
    declared = part_parameters(cls, key)
    params = {}
    for pname, parameter in declared.items():
        value = check_number(node[pname], parameter.key, parameter.lo, parameter.hi) if pname in node \
            else parameter.default
        params[pname] = np.float64(value)
    per_issue = node.get("per_issue") or {}
    if per_issue:
        allowed = getattr(cls, "PER_ISSUE", ())
        if not isinstance(per_issue, dict) or space is None:
            raise ConfigError(f"{key}.per_issue", "must map parameters to {issue or tag value: value}")
        for pname, values in per_issue.items():
            where = f"{key}.per_issue.{pname}"
            if pname not in allowed:
                raise ConfigError(where, f"cannot be set per issue for {name!r}; allowed: {', '.join(allowed) or 'none'}")
            if not isinstance(values, dict) or not values:
                raise ConfigError(where, "must map issue names or tag values to values")
            lo, hi = declared[pname].lo, declared[pname].hi
            vector = np.full(space.n, params[pname])
            for target, value in values.items():
                hits = [j for j, issue in enumerate(space.issues)
                        if issue.name == target or target in dict(issue.tags).values()]
                if not hits:
                    raise ConfigError(f"{where}.{target}", f"names no issue or tag value; issues: {', '.join(space.names)}")
                vector[hits] = check_number(value, f"{where}.{target}", lo, hi)
            params[pname] = vector
    return name, cls, params
