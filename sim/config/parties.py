"""Compile each party's stance: its red lines and issues off the table, the agendas it refuses, and its
ratification layer (threshold, dated changes, constituencies).

A scenario names its two parties in ``scenario.parties`` (id and display name, in the order of the
output columns); each party's settings are found under its id (``scenario.sides.ID``,
``scenario.ratification.ID``, ``scenario.payoff.ID``), and its negotiator under ``ID.offering``,
``ID.acceptance`` and ``ID.opponent``.
"""

from __future__ import annotations

import numpy as np

from sim.config.components import available
from sim.config.parameters import read
from sim.config.values import MISSING, ConfigError, Tree, choice, entry_date, entry_number, fmt, get, lookup, number
from sim.domain.outcome_space import OutcomeSpace
from sim.domain.utility import LinearPayoff
from sim.engine.inputs import ConstituencyInputs

__all__ = ["parties", "party_bounds", "ratification", "refused"]


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


def party_bounds(cfg: Tree, pid: str, space: OutcomeSpace) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A party's own bounds per issue: the negotiation box, narrowed by its red lines and fixed at the
    status quo for the issues it keeps off the table; and a description of each constraint."""
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
    lines = lookup(cfg, f"{key}.red_lines")
    lines = {} if lines is MISSING or lines is None else lines
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
                value = number(cfg, f"{where}.{edge}", issue.lo, issue.hi,
                               what=f" ({issue.unit}, within the issue's range)")
                if edge == "min":
                    lo[j] = max(lo[j], value)
                else:
                    hi[j] = min(hi[j], value)
                sign = ">=" if edge == "min" else "<="
                described.append(f"{pid} red line: {name} {sign} {fmt(value)} {issue.unit}")
        if lo[j] > hi[j]:
            raise ConfigError(where, "leaves no value of the issue open")
    return lo, hi, described


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
