"""Reading and checking config values, with errors that name the key and what it allows.

Values are read from the config as plain nested dicts (``OmegaConf.to_container``), an order of
magnitude faster than OmegaConf lookups when a sweep compiles many grid points. Every reader raises
:class:`ConfigError` naming the key, what is allowed and what was given.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from sim.resources import conf_dir

__all__ = ["CONF_DIR", "MISSING", "ConfigError", "Tree", "choice", "copy_on_write", "date", "entry_date", "entry_number",
           "flag", "flatten", "fmt", "get", "lookup", "money", "number", "probability"]

CONF_DIR = conf_dir()  # the package sim.conf (sim/resources.py)
MISSING = object()
Tree = dict[str, Any]


class ConfigError(ValueError):
    """A config value that cannot be run, with the key it belongs to."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def flatten(tree: Any, prefix: str = "", keep_empty: bool = False) -> dict[str, Any]:
    """The leaves of a nested mapping under dotted keys, in order: ``{"a": {"b": 1}, "c.d": [2]}`` ->
    ``{"a.b": 1, "c.d": [2]}``. Lists are leaves; an empty mapping has none (with ``keep_empty``, it is a leaf
    itself: a config that sets ``x: {}`` sets ``x``); a key may itself be dotted."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for k, v in tree.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        out.update(flatten(v, key, keep_empty) if isinstance(v, dict) and (v or not keep_empty) else {key: v})
    return out


def lookup(tree: Tree, key: str) -> Any:
    """The value at dotted ``key``, or :data:`MISSING`."""
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def numeric_key(cfg: Tree, key: str, where: str, otherwise: str) -> int | float:
    """The numeric value of config key ``key``, named by another entry ``where`` (a sweep axis, a prior).

    Raises:
        ConfigError: naming ``where`` if ``key`` does not exist, or with ``otherwise`` if it is not numeric.
    """
    base = lookup(cfg, key)
    if base is MISSING:
        raise ConfigError(where, f"names no config key; {key!r} does not exist")
    if isinstance(base, bool) or not isinstance(base, int | float):
        raise ConfigError(where, f"{key!r} is not numeric, so {otherwise}")
    return base


def get(cfg: Tree, key: str) -> Any:
    """The value at ``key``; a :class:`ConfigError` if it is missing."""
    value = lookup(cfg, key)
    if value is MISSING:
        raise ConfigError(key, "is missing")
    return value


def copy_on_write(tree: Tree) -> tuple[Tree, Callable[[str, Any], None]]:
    """A copy of ``tree`` and a setter of its dotted keys, ``put(key, value)`` (the key's parents must exist).

    Only the dicts on a key's path are copied, the first time ``put`` goes through them; everything else
    is shared with ``tree``, which is never changed. Far cheaper than a deep copy of a scenario with its
    calibration block, so a sweep can make one config per grid point. The copy's shared parts must not be
    changed in place: change them through ``put``.
    """
    out = dict(tree)
    copied = {id(out)}

    def put(key: str, value: Any) -> None:
        *parents, last = key.split(".")
        node = out
        for part in parents:
            if id(node[part]) not in copied:
                node[part] = dict(node[part])
                copied.add(id(node[part]))
            node = node[part]
        node[last] = value

    return out, put


def number(cfg: Tree, key: str, lo: float, hi: float, *, integer: bool = False, what: str = "") -> float:
    """A number within [lo, hi], or a :class:`ConfigError` naming ``key``."""
    return check_number(get(cfg, key), key, lo, hi, integer=integer, what=what)


def check_number(value: Any, key: str, lo: float, hi: float, *, integer: bool = False, what: str = "") -> float:
    """``value`` as a number within [lo, hi], or a :class:`ConfigError` naming ``key``."""
    def refuse(got: str) -> ConfigError:  # the message is built only for a bad value (this runs per grid point)
        kind = "an integer" if integer else "a number"
        return ConfigError(key, f"must be {kind} in [{fmt(lo)}, {fmt(hi)}]{what}, got {got}")

    if isinstance(value, bool) or not isinstance(value, int | float):
        raise refuse(f"{value!r} ({type(value).__name__})")
    if integer and not float(value).is_integer():
        raise refuse(repr(value))
    if not (lo <= value <= hi) or math.isnan(value):
        raise refuse(repr(value))
    return float(value)


def probability(cfg: Tree, key: str) -> float:
    """A probability in [0, 1]."""
    return number(cfg, key, 0.0, 1.0, what=" (a probability)")


def money(cfg: Tree, key: str, unit: str = "USD bn") -> float:
    """A non-negative amount of money (or a count)."""
    return number(cfg, key, 0.0, math.inf, what=f" ({unit}; money amounts cannot be negative)")


def flag(cfg: Tree, key: str) -> bool:
    """A boolean."""
    value = get(cfg, key)
    if not isinstance(value, bool):
        raise ConfigError(key, f"must be true or false, got {value!r}")
    return value


def choice(cfg: Tree, key: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed``."""
    value = get(cfg, key)
    if value not in allowed:
        raise ConfigError(key, f"must be one of {', '.join(allowed)}, got {value!r}")
    return value


def date(cfg: Tree, key: str) -> dt.date:
    """A date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(str(get(cfg, key)))
    except ValueError:
        raise ConfigError(key, "must be a date as YYYY-MM-DD") from None


def fmt(x: float) -> str:
    """A bound as written in an error message (integers without a decimal point)."""
    if math.isinf(x):
        return "inf"
    return str(int(x)) if float(x).is_integer() else str(x)


def entry_date(entry: dict, key: str) -> dt.date:
    """The date at ``entry[field]``, its error naming the entry's own key ``key`` (not an internal one)."""
    field = key.rsplit(".", 1)[1]
    if field not in entry:
        raise ConfigError(key, "is missing")
    try:
        return dt.date.fromisoformat(str(entry[field]))
    except ValueError:
        raise ConfigError(key, "must be a date as YYYY-MM-DD") from None


def entry_number(entry: dict, where: str, field: str, lo: float, hi: float, what: str) -> float:
    """A number of a list entry, its error naming the entry's own key (not an internal one)."""
    key = f"{where}.{field}"
    if field not in entry:
        raise ConfigError(key, "is missing")
    return check_number(entry[field], key, lo, hi, what=what)
