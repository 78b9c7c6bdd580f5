"""Check a scenario's ``calibration`` block: where each number comes from, and its prior.

The block maps full dotted config keys (``scenario.payoff.pass_through``) to an entry::

    {source: "<DOMAIN row / seed / paper / public statement, with its date>",
     tag: DOMAIN | SEED | PAPER | STATEMENT | DERIVED | ASSUMPTION,
     prior: {dist: uniform | triangular, lo: x, hi: y, mode: z}}   # mode for triangular only

A prior is required for every ``ASSUMPTION`` and optional otherwise (give one for every uncertain
sourced value). The engine never reads the block; the compiler checks it (:func:`check_calibration`)
and ``docs/calibration.md`` is generated from it (:mod:`sim.report.calibration`).

Two levels of checking:

* :func:`check_calibration` (every run): the block is well formed: each key exists in the config and
  holds a number, each tag and distribution is known, ``lo <= hi`` and a triangular mode lies in
  ``[lo, hi]``.
* ``values=True`` (``python -m sim run``'s pre-run check on the scenario file as written, without the
  command line's other overrides, :func:`sim.preflight.check`; ``python -m sim calibration --check`` and
  the tests on each shipped scenario): each value also lies inside its prior. The values of the run
  itself are not held to it, so that a what-if override outside the prior (``scenario.escalation=0``)
  stays possible.
"""

from __future__ import annotations

import fnmatch
import math

from sim.config.components import with_part_defaults
from sim.config.parameters import DISTS, TAGS, Parameter, Prior, Source, parameter
from sim.config.parties import parties
from sim.config.values import MISSING, ConfigError, Tree, lookup

__all__ = ["BLOCK", "DISTS", "TAGS", "calibration_entries", "check_calibration", "value_at"]

BLOCK = "scenario.calibration"


def _number(value, key: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(key, f"{what} must be a finite number, got {value!r}")
    return float(value)


def _prior(node, key: str) -> Prior:
    where = f"{BLOCK}.{key}.prior"
    if not isinstance(node, dict):
        raise ConfigError(where, "must be {dist: uniform|triangular, lo: x, hi: y[, mode: z]}")
    unknown = set(node) - {"dist", "lo", "hi", "mode"}
    if unknown:
        raise ConfigError(where, f"unknown field {sorted(unknown)[0]!r}; allowed: dist, lo, hi, mode")
    dist = node.get("dist")
    if dist not in DISTS:
        raise ConfigError(where, f"dist must be one of {', '.join(DISTS)}, got {dist!r}")
    lo = _number(node.get("lo"), where, "lo")
    hi = _number(node.get("hi"), where, "hi")
    if lo > hi:
        raise ConfigError(where, f"lo {lo:g} is above hi {hi:g}")
    mode = None
    if dist == "triangular":
        mode = _number(node.get("mode"), where, "mode (a triangular prior needs one)")
        if not lo <= mode <= hi:
            raise ConfigError(where, f"mode {mode:g} lies outside [lo, hi] = [{lo:g}, {hi:g}]")
    elif "mode" in node:
        raise ConfigError(where, "mode is for a triangular prior only")
    return Prior(dist, lo, hi, mode)


# Where a config may legitimately lack a calibrated key: a named member of a collection (an issue, a party's
# block, a constituency, a purchase item, an export flow) or the optional ratification section, removed by an
# override. (deepest existing ancestor, its missing child) as fnmatch patterns; any other gap is a typo.
_REMOVABLE = (("scenario.issues", "*"), ("scenario.sides", "*"), ("scenario.payoff", "*"), ("scenario", "ratification"),
              ("scenario.ratification", "*"), ("scenario.ratification.*.constituencies", "*"),
              ("scenario.payoff.*.purchase_cost", "*"), ("scenario.stakes.exports_usd_bn", "*"),
              # a side's stances (a red line, an issue's firmness) switched off, e.g. ~scenario.sides.us.firmness.steel
              ("scenario.sides.*", "red_lines"), ("scenario.sides.*.red_lines", "*"),
              ("scenario.sides.*.red_lines.*", "*"), ("scenario.sides.*", "firmness"), ("scenario.sides.*.firmness", "*"),
              # a negotiator part of another choice lacks the default part's parameters (strategy@us=hardliner)
              ("*.offering", "*"), ("*.acceptance", "*"), ("*.opponent", "*"))


def _removed(cfg: Tree, key: str) -> bool:
    """Whether ``key`` is missing because a collection member or optional section holding it was removed."""
    parts = key.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        ancestor = ".".join(parts[:depth])
        if isinstance(lookup(cfg, ancestor), dict):
            child = parts[depth]
            return any(fnmatch.fnmatchcase(ancestor, a) and fnmatch.fnmatchcase(child, c) for a, c in _REMOVABLE)
    return False


def value_at(cfg: Tree, key: str) -> float:
    """The number at ``key`` in ``cfg`` (NaN for null or a non-number, e.g. an override to null)."""
    found = lookup(cfg, key)
    return float(found) if isinstance(found, (int, float)) and not isinstance(found, bool) else math.nan


def calibration_entries(cfg: Tree, *, values: bool = False) -> list[Parameter]:
    """The scenario's calibration entries, checked.

    Args:
        cfg: A composed config (plain containers).
        values: Also require each value to lie inside its prior (for the scenario as written).

    Returns:
        One :class:`~sim.config.parameters.Parameter` per calibrated key (the registry's label, unit and
        bounds at that key, with its source and prior), in the block's order; an empty list without a block.
        Its value in ``cfg`` is :func:`value_at`.

    Raises:
        ConfigError: naming the first bad key: not in the config or not a number, a missing source, an
            unknown tag, a missing prior for an assumption, a malformed prior, or (with ``values``) a
            value outside its prior.
    """
    block = lookup(cfg, BLOCK)
    if block is MISSING or block is None:
        return []
    if isinstance(lookup(cfg, "scenario.parties"), dict):  # a part's declared parameters are settings too
        cfg = with_part_defaults(cfg, tuple(pid for pid, _ in parties(cfg)))
    if not isinstance(block, dict):
        raise ConfigError(BLOCK, "must map full config keys to {source, tag, prior}")
    out = []
    for key, node in block.items():
        where = f"{BLOCK}.{key}"
        value = lookup(cfg, key)
        if value is MISSING and _removed(cfg, key):
            continue  # its issue, party group or section was removed (e.g. ~scenario.issues.steel_aluminium)
        if value is MISSING:
            raise ConfigError(where, f"unknown key: {key} is not a setting of this config")
        if isinstance(value, (dict, list)):
            raise ConfigError(where, f"{key} is a group of settings, not a number; name a single setting")
        # null or a non-number (e.g. an override `sides.PARTY.deadline=null`): the compiler checks the setting
        # itself; the entry then describes the scenario's own value
        value = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
        if not isinstance(node, dict):
            raise ConfigError(where, "must be {source: TEXT, tag: TAG, prior: {...}}")
        unknown = set(node) - {"source", "tag", "prior"}
        if unknown:
            raise ConfigError(where, f"unknown field {sorted(unknown)[0]!r}; allowed: source, tag, prior")
        source = node.get("source")
        if not isinstance(source, str) or not source.strip():
            raise ConfigError(f"{where}.source", "must say where the value comes from")
        tag = node.get("tag")
        if tag not in TAGS:
            raise ConfigError(f"{where}.tag", f"must be one of {', '.join(TAGS)}, got {tag!r}")
        prior = None if node.get("prior") is None else _prior(node["prior"], key)
        if prior is None and tag == "ASSUMPTION":
            raise ConfigError(f"{where}.prior", "an ASSUMPTION needs a prior {dist, lo, hi}")
        if values and prior is not None and not (math.isnan(value) or prior.contains(value)):
            raise ConfigError(where, f"the value {value:g} lies outside its prior {prior.describe()}")
        out.append(parameter(key).calibrated(key, Source(source.strip(), tag), prior))
    return out


def check_calibration(cfg: Tree) -> None:
    """Check that the calibration block is well formed (see :func:`calibration_entries`)."""
    calibration_entries(cfg)
