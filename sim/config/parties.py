"""Compile each party's stance: its red lines (each holding with a given strength) and issues off the table,
its firmness per issue, the agendas it refuses, and its ratification layer (threshold, dated changes, constituencies).

A scenario names its two parties in ``scenario.parties`` (id and display name, in the order of the
output columns); each party's settings are found under its id (``scenario.sides.ID``,
``scenario.ratification.ID``, ``scenario.payoff.ID``), and its negotiator under ``ID.offering``,
``ID.acceptance`` and ``ID.opponent``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.config.components import available
from sim.config.parameters import read
from sim.config.values import (
    MISSING,
    ConfigError,
    Tree,
    choice,
    entry_date,
    entry_number,
    fmt,
    get,
    lookup,
    number,
)
from sim.domain.outcome_space import OutcomeSpace
from sim.domain.utility import LinearPayoff
from sim.engine.inputs import ConstituencyInputs

__all__ = ["Bounds", "firmness", "parties", "party_bounds", "ratification", "refused"]


def parties(cfg: Tree) -> list[tuple[str, str]]:
    """The scenario's two parties as ``(id, display name)``, in scenario order."""
    node = get(cfg, "scenario.parties")
    if not isinstance(node, dict) or len(node) != 2:
        raise ConfigError("scenario.parties", "must name exactly two parties: {id: {name: display name}}")
    out = []
    for pid, spec in node.items():
        name = spec.get("name", pid) if isinstance(spec, dict) else pid
        if not str(pid).isidentifier():
            raise ConfigError("scenario.parties", f"a party id must be a plain name (letters, digits, _), got {pid!r}")
        out.append((str(pid), str(name)))
    return out


@dataclasses.dataclass(frozen=True)
class Bounds:
    """A party's own bounds per issue, from its red lines and the issues it keeps off the table.

    Attributes:
        lo, hi: The negotiation box narrowed by every red line and fixed at the status quo off the table:
            the bounds in a world where all its red lines hold.
        loose_lo, loose_hi: The same without the red lines (only the issues off the table fixed): the bounds
            on an issue whose red line does not hold in a world.
        strength: Per issue, the probability that its red line holds in a world (1 where there is no line,
            or a hard one).
        described: Each constraint, in words.
    """

    lo: np.ndarray
    hi: np.ndarray
    loose_lo: np.ndarray
    loose_hi: np.ndarray
    strength: np.ndarray
    described: list[str]


def party_bounds(cfg: Tree, pid: str, space: OutcomeSpace) -> Bounds:
    """A party's own bounds per issue: the negotiation box, narrowed by its red lines and fixed at the
    status quo for the issues it keeps off the table; and a description of each constraint.

    A red line ``scenario.sides.PARTY.red_lines.ISSUE: {min: value, max: value, strength: p}`` holds in a
    world with probability ``p`` (drawn once per world by the negotiator, :class:`~sim.engine.agents.Negotiator`);
    without ``strength`` it always holds (a hard red line).
    """
    key = f"scenario.sides.{pid}"
    lo, hi = space.lo.copy(), space.hi.copy()
    described = []
    off = lookup(cfg, f"{key}.off_table")
    off = [] if off is MISSING or off is None else off
    if not isinstance(off, list) or any(name not in space.names for name in off):
        raise ConfigError(f"{key}.off_table", f"must list issues among {', '.join(space.names)}, got {off!r}")
    for name in off:
        j = space.index(name)
        lo[j] = hi[j] = space.issues[j].status_quo
        described.append(f"{pid} keeps {name} off the table")
    loose_lo, loose_hi = lo.copy(), hi.copy()
    strength = np.ones(space.n)
    lines = lookup(cfg, f"{key}.red_lines")
    lines = {} if lines is MISSING or lines is None else lines
    if not isinstance(lines, dict):
        raise ConfigError(f"{key}.red_lines", "must map issue names to {min: value, max: value, strength: p}")
    for name, bound in lines.items():
        where = f"{key}.red_lines.{name}"
        if name not in space.names:
            raise ConfigError(where, f"names no issue; choose from {', '.join(space.names)}")
        if not isinstance(bound, dict) or not set(bound) & {"min", "max"} or not set(bound) <= {"min", "max", "strength"}:
            raise ConfigError(where, "must be {min: value}, {max: value} or both, with an optional strength: p in [0, 1]")
        j = space.index(name)
        issue = space.issues[j]
        if "strength" in bound:
            strength[j] = number(cfg, f"{where}.strength", 0.0, 1.0,
                                 what=" (probability that the red line holds in a world)")
        for edge in ("min", "max"):
            if edge in bound:
                value = number(cfg, f"{where}.{edge}", issue.lo, issue.hi,
                               what=f" ({issue.unit}, within the issue's range)")
                if edge == "min":
                    lo[j] = max(lo[j], value)
                else:
                    hi[j] = min(hi[j], value)
                sign = ">=" if edge == "min" else "<="
                held = "" if strength[j] == 1.0 else f" (holds with probability {fmt(strength[j])})"
                described.append(f"{pid} red line: {name} {sign} {fmt(value)} {issue.unit}{held}")
        if lo[j] > hi[j]:
            raise ConfigError(where, "leaves no value of the issue open")
    return Bounds(lo=lo, hi=hi, loose_lo=loose_lo, loose_hi=loose_hi, strength=strength, described=described)


def firmness(cfg: Tree, pid: str, space: OutcomeSpace) -> np.ndarray:
    """A party's firmness per issue (``scenario.sides.PARTY.firmness: {issue or tag value: exponent}``).

    On an issue of firmness ``e`` a line offer concedes ``alpha ** e`` of the way from the party's ideal to
    the other side's where it concedes ``alpha`` on an issue of firmness 1: ``e > 1`` holds the issue harder
    at every concession level in (0, 1) (a hardheaded issue), ``e < 1`` gives it up sooner; both still
    meet at 0 and 1. Issues not named keep firmness 1.

    Returns:
        The exponent per issue, shape ``(n,)``.
    """
    key = f"scenario.sides.{pid}.firmness"
    node = lookup(cfg, key)
    out = np.ones(space.n)
    if node is MISSING or node is None:
        return out
    if not isinstance(node, dict):
        raise ConfigError(key, "must map issue names or tag values to exponents, e.g. {steel: 2.0}")
    for target, _ in node.items():
        hits = [j for j, issue in enumerate(space.issues) if issue.name == target or target in dict(issue.tags).values()]
        if not hits:
            raise ConfigError(f"{key}.{target}", f"names no issue or tag value; issues: {', '.join(space.names)}")
        out[hits] = number(cfg, f"{key}.{target}", 0.01, 100.0, what=" (concession exponent; 1 = as on any issue)")
    return out


def refused(cfg: Tree, pid: str) -> list[str]:
    """The agendas a party refuses to negotiate under (``scenario.sides.PARTY.refuses``)."""
    key = f"scenario.sides.{pid}.refuses"
    refused = lookup(cfg, key)
    refused = [] if refused is MISSING or refused is None else refused
    agendas = available("protocol")
    if not isinstance(refused, list) or any(a not in agendas for a in refused):
        raise ConfigError(key, f"must list agendas among {', '.join(agendas)}, got {refused!r}")
    return refused


def ratification(cfg: Tree, pid: str, space: OutcomeSpace, payoff: LinearPayoff | None,
                  consumer: np.ndarray | None, to_round) -> tuple[float, float, list, list, list]:
    """A party's ratification layer (Putnam 1988): threshold, dated changes, and its constituencies.

    Each constituency's approval of a package is the normalised value, over the negotiation box, of the
    party's payoff terms on its issues (``interest: producer``) or of the importer's consumers' price
    costs (``interest: consumer``); the party's approval is their weighted mean.

    Returns:
        ``(threshold, knows_win_set, threshold changes, constituency names, constituency inputs)``.
    """
    key = f"scenario.ratification.{pid}"
    if lookup(cfg, key) in (MISSING, None):
        return 0.0, 0.0, [], [], []
    threshold = read(cfg, "scenario.ratification.{party}.threshold", pid,
                     what=" (weighted approval needed to ratify)")
    knows = float(read(cfg, "scenario.ratification.{party}.knows_win_set", pid))
    changes = []
    for k, change in enumerate(get(cfg, f"{key}.threshold_changes") or []):
        where = f"{key}.threshold_changes[{k}]"
        if not isinstance(change, dict):
            raise ConfigError(where, "must be {date: YYYY-MM-DD, threshold: value}")
        changes.append((pid, to_round(entry_date(change, f"{where}.date")),
                        entry_number(change, where, "threshold", 0.0, 1.0, " (new threshold)")))
    names, terms = [], []
    groups = get(cfg, f"{key}.constituencies") or {}
    if not isinstance(groups, dict):
        raise ConfigError(f"{key}.constituencies", "must map names to {weight, issues, interest}")
    for name, group in groups.items():
        where = f"{key}.constituencies.{name}"
        issues = get(cfg, f"{where}.issues")
        if not isinstance(issues, list) or not issues or any(i not in space.names for i in issues):
            raise ConfigError(f"{where}.issues", f"must list issues among {', '.join(space.names)}")
        interest = choice(cfg, f"{where}.interest", ("producer", "consumer"))
        if payoff is None or (interest == "consumer" and consumer is None):
            raise ConfigError(where, "constituencies need the trade payoff model")
        source = payoff.a if interest == "producer" else consumer
        coef, offset = LinearPayoff.over(space, np.where(np.isin(space.names, issues), source, 0.0), 0.0).normalised()
        terms.append(ConstituencyInputs(weight=np.float64(number(cfg, f"{where}.weight", 0.0, 1e6)), coef=coef,
                                        offset=np.float64(offset)))
        names.append(str(name))
    return threshold, knows, changes, names, terms
