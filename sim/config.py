"""From a Hydra config to validated, per-world simulation inputs.

:func:`plan` checks every value a run will use and expands the sweep (``sweep.pairs`` of strategies
times the ``sweep.grid`` of config values) into grid points. Each point compiles to a
:class:`Structure` (what worlds must share to be advanced by one model: outcome space, strategy
classes, opener, calendar) and a flat dict of numeric parameters, which :func:`stack` turns into
arrays with a leading world axis. A bad value raises :class:`ConfigError`, whose message names the
key and what is allowed, before anything runs.
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copy

import numpy as np
from omegaconf import DictConfig, OmegaConf

from sim.outcome_space import SIDES, Issue, OutcomeSpace
from sim.preferences import (
    INVESTMENT,
    TARIFF_SECTORS,
    LinearPayoff,
    consumer_cost_coefficients,
    derived_stakes,
    payoffs_for,
    split_payoffs,
)
from sim.strategies import Strategy

__all__ = ["CONF_DIR", "ConfigError", "GridPoint", "Plan", "ScheduledChange", "Structure", "plan", "stack"]

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
_MISSING = object()


class ConfigError(ValueError):
    """A config value that cannot be run, with the key it belongs to."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class ScheduledChange:
    """A tariff change that applies without a deal from a date: scheduled, or threatened.

    Attributes:
        index: Position in the schedule.
        issue: Index of the issue it changes.
        value: The new value (the issue's unit).
        step: New value minus the value in force before it.
        effective: First round it applies in.
        announced: First round the negotiators know of it (and anticipate it).
        kind: ``"change"`` (applies whatever the negotiators do) or ``"threat"`` (applies unless a deal).
        note: Its source or description.
    """

    index: int
    issue: int
    value: float
    step: float
    effective: int
    announced: int
    kind: str
    note: str


@dataclass(frozen=True)
class Structure:
    """What every world in one batch shares.

    Attributes:
        space: The outcome space.
        strategies: Strategy name and class path per side.
        opener: The side proposing in round 1.
        start_date: Calendar date of round 1.
        round_days: Days per round.
        max_rounds: Horizon: no round runs beyond it.
        schedule: Tariff changes and threats on the no-deal path, by date.
        agenda: ``"package"``, ``"sequential"`` or ``"linked"``.
        stages: The issues negotiated at each stage, in order (one stage of all issues for a package).
        constituencies: The domestic constituencies of each side (two-level ratification).
        threshold_changes: Dated changes of a side's ratification threshold (e.g. after an election).
    """

    space: OutcomeSpace
    strategies: tuple[tuple[str, str, str], ...]  # (side, name, class path)
    opener: str
    start_date: dt.date
    round_days: int
    max_rounds: int
    schedule: tuple[ScheduledChange, ...] = ()
    agenda: str = "package"
    stages: tuple[tuple[int, ...], ...] = ()
    constituencies: tuple[tuple[str, str], ...] = ()  # (side, name)
    threshold_changes: tuple[tuple[str, int, float], ...] = ()  # (side, first round, new threshold)

    def strategy_name(self, side: str) -> str:
        """Name of the strategy a side plays."""
        return next(name for s, name, _ in self.strategies if s == side)

    def strategy_class(self, side: str) -> type[Strategy]:
        """The strategy class a side plays."""
        path = next(p for s, _, p in self.strategies if s == side)
        return _import_strategy(path, f"strategy@{side}._target_")

    def round_date(self, rounds: np.ndarray) -> np.ndarray:
        """Calendar date of each round (``datetime64[D]``)."""
        start = np.datetime64(self.start_date, "D")
        return start + (np.asarray(rounds, dtype=np.int64) - 1) * self.round_days


@dataclass
class GridPoint:
    """One point of the sweep: coordinates, and its compiled inputs.

    Attributes:
        coordinates: Swept key -> value, including ``us_strategy`` and ``japan_strategy``.
        structure: Shared structure of its worlds.
        params: Numeric parameters of one world (scalars or per-issue vectors).
    """

    coordinates: dict[str, Any]
    structure: Structure
    params: dict[str, np.ndarray] = field(repr=False)
    stakes_usd: dict[str, float] = field(default_factory=dict, repr=False)


@dataclass
class Plan:
    """A validated run: its grid points and run settings.

    Attributes:
        points: The grid points, in world order.
        seeds: Replications per grid point.
        root_seed: The run's root seed.
        chunk_size: Most worlds in one chunk (one batched model run, one Parquet part).
        workers: Parallel worker processes (at most).
        workers_auto: Whether ``workers`` was left to default, so the runner may use fewer for small sweeps.
        executor: ``"local"`` or ``"dask"``.
        dask_address: Dask scheduler address (``None``: a local cluster).
        record_rounds: ``"all"``, ``"none"`` or the number of seeds per point whose rounds are kept.
        common_random_numbers: Whether the same seed index gets the same draws at every point.
        swept_keys: The swept config keys, in column order.
        coordinate_dtypes: NumPy dtype of each coordinate column (strategies and swept keys).
    """

    points: list[GridPoint]
    seeds: int
    root_seed: int
    chunk_size: int
    workers: int
    workers_auto: bool
    executor: str
    dask_address: str | None
    record_rounds: str | int
    common_random_numbers: bool
    swept_keys: list[str]
    coordinate_dtypes: dict[str, str]

    @property
    def n_worlds(self) -> int:
        """Total number of negotiations."""
        return len(self.points) * self.seeds


# -- reading values ------------------------------------------------------------------------
# Values are read from the config as plain nested dicts (OmegaConf.to_container), which is an order
# of magnitude faster than OmegaConf lookups when a sweep compiles many grid points.

Tree = dict[str, Any]


def _lookup(tree: Tree, key: str) -> Any:
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _get(cfg: Tree, key: str) -> Any:
    value = _lookup(cfg, key)
    if value is _MISSING:
        raise ConfigError(key, "is missing")
    return value


def _set(tree: Tree, key: str, value: Any) -> None:
    *parents, last = key.split(".")
    node = tree
    for part in parents:
        node = node[part]
    node[last] = value


def _number(cfg: Tree, key: str, lo: float, hi: float, *, integer: bool = False, what: str = "") -> float:
    """A number within [lo, hi], or a :class:`ConfigError` naming ``key``."""
    value = _get(cfg, key)
    kind = "an integer" if integer else "a number"
    allowed = f"must be {kind} in [{_fmt(lo)}, {_fmt(hi)}]{what}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, f"{allowed}, got {value!r} ({type(value).__name__})")
    if integer and not float(value).is_integer():
        raise ConfigError(key, f"{allowed}, got {value!r}")
    if not (lo <= value <= hi) or math.isnan(value):
        raise ConfigError(key, f"{allowed}, got {value!r}")
    return float(value)


def _probability(cfg: Tree, key: str) -> float:
    return _number(cfg, key, 0.0, 1.0, what=" (a probability)")


def _money(cfg: Tree, key: str, unit: str = "USD bn") -> float:
    return _number(cfg, key, 0.0, math.inf, what=f" ({unit}; money amounts cannot be negative)")


def _flag(cfg: Tree, key: str) -> bool:
    value = _get(cfg, key)
    if not isinstance(value, bool):
        raise ConfigError(key, f"must be true or false, got {value!r}")
    return value


def _choice(cfg: Tree, key: str, allowed: tuple[str, ...]) -> str:
    value = _get(cfg, key)
    if value not in allowed:
        raise ConfigError(key, f"must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf"
    return str(int(x)) if float(x).is_integer() else str(x)


# -- strategies ----------------------------------------------------------------------------


def available(group: str) -> list[str]:
    """Option names of a config group (the YAML files in ``conf/<group>/``)."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def load_strategy(name: str, key: str) -> Tree:
    """Load ``conf/strategy/<name>.yaml``, or raise naming the allowed strategies."""
    if name not in available("strategy"):
        raise ConfigError(key, f"unknown strategy {name!r}; choose one of {', '.join(available('strategy'))}")
    return OmegaConf.to_container(OmegaConf.load(CONF_DIR / "strategy" / f"{name}.yaml"))


def _import_strategy(path: str, key: str) -> type[Strategy]:
    module_name, _, class_name = str(path).rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        raise ConfigError(key, f"cannot import strategy class {path!r}") from None
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(key, f"{path!r} is not a sim.strategies.Strategy subclass")
    return cls


def _strategy_params(node: Tree, side: str) -> tuple[str, str, dict[str, np.ndarray]]:
    key = f"strategy@{side}"
    if not isinstance(node, dict) or "_target_" not in node:
        raise ConfigError(key, "must name a strategy config with a _target_ class")
    cls = _import_strategy(node["_target_"], f"{key}._target_")
    name = str(node.get("name", cls.__name__))
    params = {}
    for pname in node:
        if pname in ("name", "_target_"):
            continue
        if pname not in cls.PARAMS:
            allowed = ", ".join(cls.PARAMS) or "none"
            raise ConfigError(f"{side}.{pname}", f"unknown parameter of strategy {name!r}; allowed: {allowed}")
    scoped = {side: node}
    for pname, (default, lo, hi) in cls.PARAMS.items():
        value = _number(scoped, f"{side}.{pname}", lo, hi) if pname in node else default
        params[pname] = np.float64(value)
    return name, node["_target_"], params


# -- compiling one point -------------------------------------------------------------------


def _payoff_model(cfg: Tree) -> str:
    model = _lookup(cfg, "scenario.payoff.model")
    return "trade" if model is _MISSING else _choice(cfg, "scenario.payoff.model", ("trade", "split"))


def _outcome_space(cfg: Tree) -> OutcomeSpace:
    issues_cfg = _get(cfg, "scenario.issues")
    if not isinstance(issues_cfg, dict) or len(issues_cfg) == 0:
        raise ConfigError("scenario.issues", "must map issue names to {grantor, unit, status_quo, min, max}")
    issues = []
    for name in issues_cfg:
        key = f"scenario.issues.{name}"
        grantor = _choice(cfg, f"{key}.grantor", SIDES)
        unit = str(_get(cfg, f"{key}.unit"))
        if grantor == "us" and name not in TARIFF_SECTORS and _payoff_model(cfg) == "trade":
            raise ConfigError(key, f"a US issue must be one of the tariffs {', '.join(TARIFF_SECTORS)}")
        if grantor == "us" and unit == "pp":
            lo = _number(cfg, f"{key}.min", 0.0, 1000.0, what=" (pp)")
            hi = _number(cfg, f"{key}.max", lo, 1000.0, what=f" (pp, at least {key}.min)")
        else:
            lo = _money(cfg, f"{key}.min", unit)
            hi = _number(cfg, f"{key}.max", lo, math.inf, what=f" ({unit}, at least {key}.min)")
        sq = _number(cfg, f"{key}.status_quo", lo, hi, what=f" ({unit}, within [min, max])")
        negotiable = True if _lookup(cfg, f"{key}.negotiable") is _MISSING else _flag(cfg, f"{key}.negotiable")
        issues.append(Issue(name=str(name), grantor=grantor, unit=unit, status_quo=sq, lo=lo, hi=hi,
                            negotiable=negotiable))
    return OutcomeSpace(tuple(issues))


def _check_stakes_and_weights(cfg: Tree, space: OutcomeSpace) -> tuple[dict, float, dict]:
    stakes = {}
    for key in ("exports_to_us_tn_yen", "cars_and_parts_tn_yen", "steel_tn_yen", "surplus_tn_yen",
                "cars_exported_to_us_m", "cars_built_in_us_m", "price_effect_usd_per_vehicle"):
        stakes[key] = _money(cfg, f"scenario.stakes.{key}", "money or counts")
    for key in ("vehicle_share_of_exports", "surplus_share_cars_and_parts"):
        stakes[key] = _number(cfg, f"scenario.stakes.{key}", 0.0, 1.0, what=" (a share)")
    stakes["price_effect_at_pp"] = _number(cfg, "scenario.stakes.price_effect_at_pp", 1e-9, 1000.0, what=" (pp)")
    if stakes["cars_and_parts_tn_yen"] + stakes["steel_tn_yen"] > stakes["exports_to_us_tn_yen"]:
        raise ConfigError("scenario.stakes", "cars, parts and steel exports exceed total exports to the US")
    if stakes["vehicle_share_of_exports"] * stakes["exports_to_us_tn_yen"] > stakes["cars_and_parts_tn_yen"]:
        raise ConfigError("scenario.stakes.vehicle_share_of_exports", "vehicles exceed cars and parts exports")
    if stakes["surplus_share_cars_and_parts"] * stakes["surplus_tn_yen"] > stakes["cars_and_parts_tn_yen"]:
        raise ConfigError("scenario.stakes.surplus_share_cars_and_parts",
                          "the surplus from cars and parts exceeds their exports")
    yen = _number(cfg, "scenario.yen_per_usd", 1e-6, math.inf, what=" (yen per USD)")

    jp = "scenario.payoff.japan"
    us = "scenario.payoff.us"
    weights = {
        "japan": {
            "tariff_cost_share": _number(cfg, f"{jp}.tariff_cost_share", 0.0, 10.0),
            "investment_years": _number(cfg, f"{jp}.investment_years", 1e-9, 1000.0, what=" (years)"),
            "investment_cost": _number(cfg, f"{jp}.investment_cost", 0.0, 10.0),
            "purchase_cost": {},
        },
        "us": {k: _number(cfg, f"{us}.{k}", 0.0, 10.0) for k in
               ("revenue_weight", "consumer_cost_weight", "pass_through", "investment_value", "purchase_value")},
    }
    purchases = [i for i in space.issues if i.grantor == "japan" and i.name != INVESTMENT]
    for issue in purchases:
        weights["japan"]["purchase_cost"][issue.name] = _number(
            cfg, f"{jp}.purchase_cost.{issue.name}", 0.0, 10.0, what=" (cost per USD of purchases)")
    yearly = sum(i.hi for i in purchases)
    surplus_usd_bn = stakes["surplus_tn_yen"] * 1000.0 / yen
    if yearly > surplus_usd_bn:
        raise ConfigError("scenario.issues", f"yearly purchase maxima add up to {yearly:g} USD bn, above Japan's "
                                             f"surplus with the US ({surplus_usd_bn:.1f} USD bn)")
    return stakes, yen, weights


def _side_bounds(cfg: Tree, side: str, space: OutcomeSpace) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A side's own bounds per issue: the negotiation box, narrowed by its red lines and fixed at the
    status quo for the issues it keeps off the table; and a description of each constraint."""
    key = f"scenario.sides.{side}"
    lo, hi = space.lo.copy(), space.hi.copy()
    described = []
    off = _lookup(cfg, f"{key}.off_table")
    off = [] if off is _MISSING or off is None else off
    if not isinstance(off, list) or any(name not in space.names for name in off):
        raise ConfigError(f"{key}.off_table", f"must list issues among {', '.join(space.names)}, got {off!r}")
    for name in off:
        j = space.index(name)
        lo[j] = hi[j] = space.issues[j].status_quo
        described.append(f"{side} keeps {name} off the table")
    lines = _lookup(cfg, f"{key}.red_lines")
    lines = {} if lines is _MISSING or lines is None else lines
    if not isinstance(lines, dict):
        raise ConfigError(f"{key}.red_lines", "must map issue names to {min: value} and/or {max: value}")
    for name, bound in lines.items():
        where = f"{key}.red_lines.{name}"
        if name not in space.names:
            raise ConfigError(where, f"names no issue; choose from {', '.join(space.names)}")
        if not isinstance(bound, dict) or not bound or not set(bound) <= {"min", "max"}:
            raise ConfigError(where, "must be {min: value}, {max: value} or both")
        j = space.index(name)
        issue = space.issues[j]
        for edge in ("min", "max"):
            if edge in bound:
                value = _number(cfg, f"{where}.{edge}", issue.lo, issue.hi,
                                what=f" ({issue.unit}, within the issue's range)")
                if edge == "min":
                    lo[j] = max(lo[j], value)
                else:
                    hi[j] = min(hi[j], value)
                sign = ">=" if edge == "min" else "<="
                described.append(f"{side} red line: {name} {sign} {_fmt(value)} {issue.unit}")
        if lo[j] > hi[j]:
            raise ConfigError(where, "leaves no value of the issue open")
    return lo, hi, described


def _refused(cfg: Tree, side: str) -> list[str]:
    """The agendas a side refuses to negotiate under (``scenario.sides.SIDE.refuses``)."""
    key = f"scenario.sides.{side}.refuses"
    refused = _lookup(cfg, key)
    refused = [] if refused is _MISSING or refused is None else refused
    if not isinstance(refused, list) or any(a not in AGENDAS for a in refused):
        raise ConfigError(key, f"must list agendas among {', '.join(AGENDAS)}, got {refused!r}")
    return refused


def _ratification(cfg: Tree, side: str, space: OutcomeSpace, payoff: LinearPayoff | None,
                  consumer: np.ndarray | None, to_round) -> tuple[dict, list, list]:
    """A side's ratification layer (Putnam 1988): threshold, dated changes, and its constituencies.

    Each constituency's approval of a package is the normalised value, over the negotiation box, of the
    side's payoff terms on its issues (``interest: producer``) or of US consumers' price costs
    (``interest: consumer``); the side's approval is their weighted mean.
    """
    key = f"scenario.ratification.{side}"
    if _lookup(cfg, key) in (_MISSING, None):
        return {f"{side}.threshold": np.float64(0.0), f"{side}.knows_win_set": np.float64(0.0)}, [], []
    params = {f"{side}.threshold": np.float64(_number(cfg, f"{key}.threshold", 0.0, 1.0,
                                                      what=" (weighted approval needed to ratify)")),
              f"{side}.knows_win_set": np.float64(_flag(cfg, f"{key}.knows_win_set"))}
    changes = []
    for k, change in enumerate(_get(cfg, f"{key}.threshold_changes") or []):
        where = f"{key}.threshold_changes[{k}]"
        if not isinstance(change, dict):
            raise ConfigError(where, "must be {date: YYYY-MM-DD, threshold: value}")
        scoped = {"c": change}
        changes.append((side, to_round(_date(scoped, "c.date")),
                        _number(scoped, "c.threshold", 0.0, 1.0, what=" (new threshold)")))
    names = []
    groups = _get(cfg, f"{key}.constituencies") or {}
    if not isinstance(groups, dict):
        raise ConfigError(f"{key}.constituencies", "must map names to {weight, issues, interest}")
    for name, group in groups.items():
        where = f"{key}.constituencies.{name}"
        issues = _get(cfg, f"{where}.issues")
        if not isinstance(issues, list) or not issues or any(i not in space.names for i in issues):
            raise ConfigError(f"{where}.issues", f"must list issues among {', '.join(space.names)}")
        interest = _choice(cfg, f"{where}.interest", ("producer", "consumer"))
        if payoff is None or (interest == "consumer" and consumer is None):
            raise ConfigError(where, "constituencies need the trade payoff model")
        source = payoff.a if interest == "producer" else consumer
        coef = np.where(np.isin(space.names, issues), source, 0.0)
        approval = LinearPayoff.over(space, coef, 0.0)
        span = approval.p_max - approval.p_min
        params |= {f"{side}.constituency.{name}.weight": np.float64(_number(cfg, f"{where}.weight", 0.0, 1e6)),
                   f"{side}.constituency.{name}.coef": coef / span if span > 0 else coef * 0.0,
                   f"{side}.constituency.{name}.offset": np.float64(-approval.p_min / span if span > 0 else 1.0)}
        names.append((side, str(name)))
    return params, changes, names


def round_on_or_after(day: dt.date, start: dt.date, round_days: int) -> int:
    """The first round held on or after ``day`` (round 1 is held on ``start``)."""
    return max(1, 1 + math.ceil((day - start).days / round_days))


def _date(cfg: Tree, key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(_get(cfg, key)))
    except ValueError:
        raise ConfigError(key, "must be a date as YYYY-MM-DD") from None


def _schedule(cfg: Tree, space: OutcomeSpace, start: dt.date, round_days: int) -> tuple[ScheduledChange, ...]:
    """The scenario's scheduled changes and threats, with their dates turned into rounds."""
    entries = _lookup(cfg, "scenario.schedule")
    entries = [] if entries is _MISSING or entries is None else entries
    if not isinstance(entries, list):
        raise ConfigError("scenario.schedule", "must be a list of {issue, value, effective, announced, kind, note}")

    def to_round(day: dt.date) -> int:
        return round_on_or_after(day, start, round_days)

    parsed = []
    for k, entry in enumerate(entries):
        key = f"scenario.schedule[{k}]"
        if not isinstance(entry, dict):
            raise ConfigError(key, "must be {issue, value, effective, announced, kind, note}")
        scoped = {"e": entry}
        name = entry.get("issue")
        if name not in space.names:
            raise ConfigError(f"{key}.issue", f"must be one of {', '.join(space.names)}, got {name!r}")
        issue = space.issues[space.index(name)]
        value = _number(scoped, "e.value", issue.lo, issue.hi, what=f" ({issue.unit}, within the issue's range)")
        effective = _date(scoped, "e.effective")
        announced = _date(scoped, "e.announced") if "announced" in entry else start
        if announced > effective:
            raise ConfigError(f"{key}.announced", "must not come after the change takes effect")
        kind = entry.get("kind", "change")
        if kind not in ("change", "threat"):
            raise ConfigError(f"{key}.kind", f"must be change or threat, got {kind!r}")
        parsed.append((to_round(effective), k, space.index(name), value, to_round(announced), kind,
                       str(entry.get("note", ""))))
    changes, level = [], {j: space.issues[j].status_quo for j in range(space.n)}
    for effective, k, j, value, announced, kind, note in sorted(parsed):
        changes.append(ScheduledChange(index=k, issue=j, value=value, step=value - level[j], effective=effective,
                                       announced=announced, kind=kind, note=note))
        level[j] = value
    return tuple(changes)


AGENDAS = ("package", "sequential", "linked")


def _agenda(cfg: Tree, space: OutcomeSpace) -> tuple[str, tuple[tuple[int, ...], ...]]:
    """The protocol's agenda and its stages, as issue indices; every issue in exactly one stage."""
    agenda = "package" if _lookup(cfg, "protocol.agenda") is _MISSING else _choice(cfg, "protocol.agenda", AGENDAS)
    if agenda == "package":
        return agenda, (tuple(range(space.n)),)
    stages = _get(cfg, "protocol.stages")
    if not isinstance(stages, list) or not stages or not all(isinstance(g, list) and g for g in stages):
        raise ConfigError("protocol.stages", "must be a list of non-empty lists of issue names")
    names = [name for group in stages for name in group]
    unknown = [n for n in names if n not in space.names]
    if unknown:
        raise ConfigError("protocol.stages", f"names no issue {unknown[0]!r}; choose from {', '.join(space.names)}")
    if sorted(names) != sorted(space.names):
        missing = [n for n in space.names if n not in names]
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError("protocol.stages", "must put every issue in exactly one stage"
                          + (f"; missing {', '.join(missing)}" if missing else "")
                          + (f"; repeated {', '.join(twice)}" if twice else ""))
    return agenda, tuple(tuple(space.index(n) for n in group) for group in stages)


def compile_point(cfg: Tree) -> tuple[Structure, dict[str, np.ndarray]]:
    """Validate one fully specified config and compile it for one world.

    Returns:
        The shared :class:`Structure` and the world's numeric parameters.
    """
    max_rounds = int(_number(cfg, "protocol.max_rounds", 2, 10_000, integer=True))
    opener = _choice(cfg, "protocol.opener", SIDES)
    horizon = f" (rounds; the horizon protocol.max_rounds is {max_rounds})"
    deadline = _number(cfg, "scenario.deadline.round", 1, max_rounds, integer=True, what=horizon)
    ext_p = _probability(cfg, "scenario.deadline.extension.probability")
    ext_rounds = _number(cfg, "scenario.deadline.extension.rounds", 0, max_rounds - deadline, integer=True,
                         what=f" (rounds; deadline {int(deadline)} plus extension must stay within protocol.max_rounds"
                              f" = {max_rounds})")
    space = _outcome_space(cfg)
    escalation = 0.0
    if "reciprocal" in space.names:
        rec = space.issues[space.index("reciprocal")]
        escalation = _number(cfg, "scenario.escalation", 0.0, rec.hi - rec.status_quo,
                             what=f" (pp; the escalated rate must stay within scenario.issues.reciprocal.max = "
                                  f"{_fmt(rec.hi)})")
    breakdown = _probability(cfg, "scenario.breakdown_risk")
    valuation = _number(cfg, "scenario.valuation_rounds", 1, 10_000, integer=True, what=" (rounds)")
    start = _date(cfg, "scenario.calendar.start_date")
    round_days = int(_number(cfg, "scenario.calendar.round_days", 1, 366, integer=True, what=" (days)"))
    schedule = _schedule(cfg, space, start, round_days)
    agenda, stages = _agenda(cfg, space)

    def to_round(day: dt.date) -> int:
        return round_on_or_after(day, start, round_days)

    model = _payoff_model(cfg)
    if model == "split":
        if space.names != ("share",) or (space.lo[0], space.hi[0]) != (0.0, 1.0):
            raise ConfigError("scenario.issues", "the split payoff model needs exactly one issue, share, "
                                                 "with min 0 and max 1")
        payoffs = split_payoffs(space)
        no_deal = {side: (_number(cfg, f"scenario.payoff.disagreement.{side}", 0.0, 1.0,
                                  what=" (utility of no deal)"),) * 2 for side in SIDES}
        stakes_usd = {}
        consumer = None
    else:
        stakes, yen, weights = _check_stakes_and_weights(cfg, space)
        payoffs = payoffs_for(space, stakes, yen, weights)
        escalated = space.status_quo.copy()
        if "reciprocal" in space.names:
            escalated[space.index("reciprocal")] += escalation
        no_deal = {side: (float(payoffs[side].utility(space.status_quo)), float(payoffs[side].utility(escalated)))
                   for side in SIDES}
        stakes_usd = derived_stakes(stakes, yen)
        consumer = consumer_cost_coefficients(space, stakes, yen, weights)

    constraints = [f"{i.name} off the table" for i in space.issues if not i.negotiable]
    params: dict[str, np.ndarray] = {
        "deadline": np.float64(deadline),
        "extension_probability": np.float64(ext_p),
        "extension_rounds": np.float64(ext_rounds),
        "escalation": np.float64(escalation),
        "breakdown_risk": np.float64(breakdown),
        "valuation_rounds": np.float64(valuation),
        "status_quo": space.status_quo,
    }
    strategies, threshold_changes, constituencies = [], [], []
    for side in SIDES:
        key = f"scenario.sides.{side}"
        own = _get(cfg, f"{key}.deadline")
        own_deadline = math.nan if own is None else _number(cfg, f"{key}.deadline", 1, max_rounds, integer=True,
                                                            what=horizon + "; or null for the talks' deadline")
        pay = payoffs[side]
        red_lo, red_hi, described = _side_bounds(cfg, side, space)
        constraints += described
        params |= {
            f"{side}.red_lo": red_lo,
            f"{side}.red_hi": red_hi,
            f"{side}.refuses": np.float64(agenda in _refused(cfg, side)),
            f"{side}.payoff_a": pay.a,
            f"{side}.payoff_b": np.float64(pay.b),
            f"{side}.p_min": np.float64(pay.p_min),
            f"{side}.p_max": np.float64(pay.p_max),
            f"{side}.deadline": np.float64(own_deadline),
            f"{side}.deadline_private": np.float64(_flag(cfg, f"{key}.deadline_private")),
            f"{side}.delay_cost": np.float64(_money(cfg, f"{key}.delay_cost", "USD bn per round")),
            f"{side}.noise": np.float64(_number(cfg, f"{key}.concession_noise", 0.0, 1.0, what=" (s.d.)")),
            f"{side}.belief_deadline_sd": np.float64(
                _number(cfg, f"{key}.belief_noise.deadline", 0.0, max_rounds, what=" (s.d. in rounds)")),
            f"{side}.belief_reservation_sd": np.float64(
                _number(cfg, f"{key}.belief_noise.reservation", 0.0, 1.0, what=" (s.d. in utility)")),
            f"{side}.walk_away": np.float64(_flag(cfg, f"{key}.walk_away")),
            f"{side}.u_status_quo": np.float64(no_deal[side][0]),
            f"{side}.u_escalated": np.float64(no_deal[side][1]),
            f"{side}.discount": np.float64(1.0 if _lookup(cfg, f"{key}.discount") is _MISSING else _number(
                cfg, f"{key}.discount", 1e-9, 1.0, what=" (per-round discount factor; 1 = none)")),
        }
        if pay.p_max <= pay.p_min:
            raise ConfigError(f"scenario.payoff.{side}", "gives the same payoff to every package; nothing to negotiate")
        ratify, changes, groups = _ratification(cfg, side, space, pay if model == "trade" else None, consumer,
                                                to_round)
        params |= ratify
        threshold_changes += changes
        constituencies += groups
        name, target, sparams = _strategy_params(_get(cfg, side), side)
        params |= {f"{side}.strategy.{k}": v for k, v in sparams.items()}
        strategies.append((side, name, target))
    structure = Structure(space=space, strategies=tuple(strategies), opener=opener, start_date=start,
                          round_days=round_days, max_rounds=max_rounds, schedule=schedule, agenda=agenda,
                          stages=stages, constituencies=tuple(constituencies),
                          threshold_changes=tuple(sorted(threshold_changes)))
    params["_stakes_usd"] = stakes_usd
    params["_constraints"] = "; ".join(constraints) or "none"
    return structure, params


# -- the sweep -----------------------------------------------------------------------------


def _sweepable(key: str, where: str) -> None:
    if key.split(".")[0] in ("run", "sweep", "hydra"):
        raise ConfigError(where, "run settings cannot vary inside one run; sweep them with -m (Hydra multirun)")


def _axis_values(cfg: Tree, key: str, values: Any) -> list:
    _sweepable(key, f"sweep.grid.{key}")
    if not isinstance(values, list) or len(values) == 0:
        raise ConfigError(f"sweep.grid.{key}", "must be a non-empty list of values")
    if _lookup(cfg, key) is _MISSING:
        raise ConfigError(f"sweep.grid.{key}", f"names no config key; {key!r} does not exist")
    return values


def _flatten(grid: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Axes of a grid given flat (``{"a.b": [..]}``) or nested (``{"a": {"b": [..]}}``)."""
    if not isinstance(grid, dict):
        raise ConfigError(f"sweep.grid{'.' if prefix else ''}{prefix.rstrip('.')}",
                          "must map config keys to lists of values")
    out = []
    for k, v in grid.items():
        key = f"{prefix}{k}"
        out.extend(_flatten(v, f"{key}.") if isinstance(v, dict) else [(key, v)])
    return out


def _pairs(cfg: Tree) -> list[tuple[str | None, str | None]]:
    pairs = _get(cfg, "sweep.pairs")
    if pairs is None or len(pairs) == 0:
        return [(None, None)]
    out = []
    for k, pair in enumerate(pairs):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ConfigError(f"sweep.pairs[{k}]", "must be a [us_strategy, japan_strategy] pair")
        out.append((str(pair[0]), str(pair[1])))
    return out


def plan(config: DictConfig | Tree) -> Plan:
    """Validate a run's config and expand its sweep into grid points.

    Raises:
        ConfigError: naming the first bad key and what it allows.
    """
    cfg = OmegaConf.to_container(config, resolve=True) if isinstance(config, DictConfig) else dict(config)
    cfg.pop("hydra", None)
    seeds = int(_number(cfg, "run.seeds", 1, 10**9, integer=True))
    root_seed = int(_number(cfg, "run.seed", 0, 2**63 - 1, integer=True))
    chunk_size = int(_number(cfg, "run.chunk_size", 1, 10**8, integer=True))
    workers = _get(cfg, "run.workers")
    workers_auto = workers is None
    workers = _default_workers() if workers_auto else int(
        _number(cfg, "run.workers", 1, 4096, integer=True, what=" (processes), or null for this machine's cores"))
    executor = _choice(cfg, "run.executor", ("local", "dask"))
    address = _get(cfg, "run.dask_address")
    if address is not None and not isinstance(address, str):
        raise ConfigError("run.dask_address", f"must be a scheduler address such as tcp://host:8786, or null; "
                                              f"got {address!r}")
    record = _get(cfg, "run.record_rounds")
    if not (record in ("auto", "all", "none") or (isinstance(record, int) and not isinstance(record, bool)
                                                  and record >= 0)):
        raise ConfigError("run.record_rounds", f"must be auto, all, none or a number of seeds >= 0, got {record!r}")
    crn = _flag(cfg, "run.common_random_numbers")
    _flag(cfg, "run.plot")
    if _lookup(cfg, "run.force_resume") is not _MISSING:  # absent from configs written before it existed
        _flag(cfg, "run.force_resume")
    progress = _get(cfg, "run.progress")
    if progress is not None and not isinstance(progress, bool):
        raise ConfigError("run.progress", f"must be true, false or null (a bar only on a terminal), got {progress!r}")

    axes = {key: _axis_values(cfg, key, values) for key, values in _flatten(_get(cfg, "sweep.grid") or {})}
    samples = _samples(cfg, root_seed, set(axes))
    pairs = _pairs(cfg)
    points = []
    for us_name, jp_name in pairs:
        base = dict(cfg)
        for side, name in (("us", us_name), ("japan", jp_name)):
            if name is not None:
                base[side] = load_strategy(name, "sweep.pairs")
        for values, sample in itertools.product(itertools.product(*axes.values()), samples):
            coords = dict(zip(axes, values, strict=True)) | sample
            point_cfg = copy.deepcopy(base) if coords else base
            for key, value in coords.items():
                _set(point_cfg, key, value)
            try:
                structure, params = compile_point(point_cfg)
            except ConfigError as err:
                where = f" at sweep point {coords}" if coords else ""
                raise ConfigError(err.key, str(err).split(": ", 1)[1] + where) from None
            coords = {"us_strategy": structure.strategy_name("us"),
                      "japan_strategy": structure.strategy_name("japan"), "agenda": structure.agenda, **coords,
                      "constraints": params.pop("_constraints")}
            stakes_usd = params.pop("_stakes_usd")
            points.append(GridPoint(coordinates=coords, structure=structure, params=params, stakes_usd=stakes_usd))
    if record == "auto":
        record = "all" if len(points) * seeds <= 1000 else 1
    swept = list(axes) + [k for k in (samples[0] if samples else {}) if k not in axes]
    dtypes = {k: _dtype([p.coordinates[k] for p in points])
              for k in ("us_strategy", "japan_strategy", "agenda", *swept, "constraints")}
    return Plan(points=points, seeds=seeds, root_seed=root_seed, chunk_size=chunk_size, workers=workers,
                workers_auto=workers_auto, executor=executor, dask_address=address, record_rounds=record, common_random_numbers=crn,
                swept_keys=swept, coordinate_dtypes=dtypes)


def _dtype(values: list) -> str:
    """One NumPy dtype for a coordinate column, whatever chunk a value lands in."""
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "float64"
    return "str"


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _samples(cfg: Tree, root_seed: int, grid_keys: set[str]) -> list[dict[str, float]]:
    """Points sampled from numeric ranges (``sweep.sample``), by scipy.stats.qmc; ``[{}]`` if none."""
    method = _choice(cfg, "sweep.sample.method", ("none", "random", "lhs"))
    if method == "none":
        return [{}]
    n = int(_number(cfg, "sweep.sample.n", 1, 10**7, integer=True, what=" (sample size)"))
    ranges = _get(cfg, "sweep.sample.ranges") or {}
    axes = _flatten(ranges, "")
    if not axes:
        raise ConfigError("sweep.sample.ranges", "must map at least one numeric config key to [low, high]")
    bounds = []
    for key, bound in axes:
        where = f"sweep.sample.ranges.{key}"
        _sweepable(key, where)
        if key in grid_keys:
            raise ConfigError(where, "is also a sweep.grid axis; sweep a key one way only")
        base = _lookup(cfg, key)
        if base is _MISSING:
            raise ConfigError(where, f"names no config key; {key!r} does not exist")
        if isinstance(base, bool) or not isinstance(base, int | float):
            raise ConfigError(where, f"{key!r} is not numeric, so it cannot be sampled; use sweep.grid")
        if (not isinstance(bound, list) or len(bound) != 2
                or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in bound)
                or not bound[0] < bound[1]):
            raise ConfigError(where, f"must be [low, high] with low < high, got {bound!r}")
        integer = isinstance(base, int)  # integers: every value in [low, high] equally likely
        bounds.append((key, float(bound[0]), float(bound[1]) + (1.0 if integer else 0.0), integer))
    from scipy.stats import qmc  # imported here: scipy.stats takes a second to import

    # the sampler's own stream, derived from the root seed (never shared with any world)
    rng = np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=(2**32 - 1,)))
    if method == "lhs":
        unit = qmc.LatinHypercube(d=len(bounds), rng=rng).random(n)
    else:
        unit = rng.random((n, len(bounds)))
    lo = np.array([b[1] for b in bounds])
    hi = np.array([b[2] for b in bounds])
    values = qmc.scale(unit, lo, hi)
    out = []
    for row in values:
        point = {}
        for (key, _, hi_, integer), v in zip(bounds, row, strict=True):
            point[key] = int(min(np.floor(v), hi_ - 1)) if integer else float(v)
        out.append(point)
    return out


def stack(params: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Stack single-world parameter dicts into arrays with a leading world axis."""
    return {k: np.stack([p[k] for p in params]) for k in params[0]}
