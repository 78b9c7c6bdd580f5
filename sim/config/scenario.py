"""Compile one fully specified config (one grid point) into the engine's typed inputs.

A scenario names its two parties, its issues (unit, range, status quo, tags), its calendar and
deadline, the no-deal path (the escalation and the scheduled tariff changes), a payoff model, and each
party's stance (deadline, noise, beliefs, red lines, constituencies). Each party's negotiator is
composed of the parts named under its id (``us.offering``, ``us.acceptance``, ``us.opponent``); the
protocol is named under ``protocol``. :func:`compile_point` checks every value and returns the
:class:`~sim.engine.inputs.Structure` its worlds share and their :class:`~sim.engine.inputs.WorldInputs`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np

from sim.config.as_of import cut
from sim.config.components import PARTS, part
from sim.config.parameters import read
from sim.config.parties import firmness, parties, party_bounds, ratification, refused
from sim.config.payoffs import PayoffModel, Trade, payoff_model, trade_model_of, trade_roles
from sim.config.protocol import protocol, stages
from sim.config.values import (
    MISSING,
    ConfigError,
    Tree,
    choice,
    date,
    entry_date,
    entry_number,
    flag,
    fmt,
    get,
    lookup,
    money,
    number,
)
from sim.domain.calendar import round_on_or_after
from sim.domain.no_deal import ScheduledChange, escalated
from sim.domain.outcome_space import Issue, OutcomeSpace
from sim.domain.payoffs.tariffs import FLOWS, KINDS, TradeModel
from sim.engine.inputs import PartyInputs, PartySpec, Structure, WorldInputs

__all__ = ["Compiled", "compile_point", "outcome_space", "parties", "trade_model"]


@dataclasses.dataclass


class Compiled:
    """One grid point, compiled.

    Attributes:
        structure: What its worlds share.
        inputs: Its numbers (one world's).
        stakes_usd: The stakes in dollars (tariff payoff model), for ``metadata.json``.
        constraints: The constraints in force, described.
    """

    structure: Structure
    inputs: WorldInputs
    stakes_usd: dict[str, float]
    constraints: str


def _tags(cfg: Tree, key: str) -> tuple[tuple[str, str], ...]:
    tags = lookup(cfg, f"{key}.tags")
    if tags is MISSING or tags is None:
        return ()
    if not isinstance(tags, dict):
        raise ConfigError(f"{key}.tags", "must map tag names to values, e.g. {kind: tariff, sector: autos}")
    return tuple(sorted((str(k), str(v)) for k, v in tags.items()))


def outcome_space(cfg: Tree, ids: tuple[str, str], importer: str | None) -> OutcomeSpace:
    issues_cfg = get(cfg, "scenario.issues")
    if not isinstance(issues_cfg, dict) or len(issues_cfg) == 0:
        raise ConfigError("scenario.issues", "must map issue names to {grantor, unit, status_quo, min, max}")
    issues = []
    for name in issues_cfg:
        key = f"scenario.issues.{name}"
        grantor = choice(cfg, f"{key}.grantor", ids)
        unit = str(get(cfg, f"{key}.unit"))
        tags = _tags(cfg, key)
        if importer is not None:
            kind = dict(tags).get("kind")
            if kind not in KINDS:
                raise ConfigError(f"{key}.tags.kind", f"must be one of {', '.join(KINDS)} (the trade payoff model), "
                                                      f"got {kind!r}")
            if grantor == importer and kind != "tariff":
                raise ConfigError(key, f"the importer ({importer}) grants tariffs only; pledges are the other side's")
            if kind == "tariff" and dict(tags).get("flow") not in FLOWS:
                raise ConfigError(f"{key}.tags.flow", f"a tariff must tax one of the flows {', '.join(FLOWS)}")
        if unit == "pp" and (grantor == importer or dict(tags).get("kind") == "tariff"):
            lo = number(cfg, f"{key}.min", 0.0, 1000.0, what=" (pp)")
            hi = number(cfg, f"{key}.max", lo, 1000.0, what=f" (pp, at least {key}.min)")
        else:
            lo = money(cfg, f"{key}.min", unit)
            hi = number(cfg, f"{key}.max", lo, math.inf, what=f" ({unit}, at least {key}.min)")
        sq = number(cfg, f"{key}.status_quo", lo, hi, what=f" ({unit}, within [min, max])")
        negotiable = True if lookup(cfg, f"{key}.negotiable") is MISSING else flag(cfg, f"{key}.negotiable")
        title = lookup(cfg, f"{key}.title")
        if title is not MISSING and not isinstance(title, str):
            raise ConfigError(f"{key}.title", f"must be text (a title for tables and figures), got {title!r}")
        issues.append(Issue(name=str(name), grantor=grantor, unit=unit, status_quo=sq, lo=lo, hi=hi,
                            negotiable=negotiable, tags=tags, title="" if title is MISSING else title))
    return OutcomeSpace(tuple(issues))


def meetings(cfg: Tree) -> tuple[dt.date, ...]:
    """The dates of the first rounds, the meetings on the record (``scenario.calendar.meetings``; empty without):
    in order, the first on the start date (:mod:`sim.domain.calendar`)."""
    entries = lookup(cfg, "scenario.calendar.meetings")
    if entries is MISSING or entries is None:
        return ()
    allowed = "must be a list of dates YYYY-MM-DD in increasing order, the first scenario.calendar.start_date"
    if not isinstance(entries, list):
        raise ConfigError("scenario.calendar.meetings", allowed)
    try:
        days = tuple(dt.date.fromisoformat(str(d)) for d in entries)
    except ValueError:
        raise ConfigError("scenario.calendar.meetings", allowed) from None
    if days and (days[0] != date(cfg, "scenario.calendar.start_date")
                 or any(b <= a for a, b in zip(days, days[1:], strict=False))):
        raise ConfigError("scenario.calendar.meetings", f"{allowed}; got {', '.join(map(str, days))}")
    return days


def _schedule(cfg: Tree, space: OutcomeSpace, start: dt.date, round_days: int,
              held: tuple[dt.date, ...] = ()) -> tuple[ScheduledChange, ...]:
    """The scenario's scheduled changes and threats, with their dates turned into rounds."""
    entries = lookup(cfg, "scenario.schedule")
    entries = [] if entries is MISSING or entries is None else entries
    if not isinstance(entries, list):
        raise ConfigError("scenario.schedule", "must be a list of {issue, value, effective, announced, kind, note}")
    parsed = []
    for k, entry in enumerate(entries):
        key = f"scenario.schedule[{k}]"
        if not isinstance(entry, dict):
            raise ConfigError(key, "must be {issue, value, effective, announced, kind, note}")
        name = entry.get("issue")
        if name not in space.names:
            raise ConfigError(f"{key}.issue", f"must be one of {', '.join(space.names)}, got {name!r}")
        issue = space.issues[space.index(name)]
        value = entry_number(entry, key, "value", issue.lo, issue.hi, f" ({issue.unit}, within the issue's range)")
        effective = entry_date(entry, f"{key}.effective")
        announced = entry_date(entry, f"{key}.announced") if "announced" in entry else start
        if announced > effective:
            raise ConfigError(f"{key}.announced", "must not come after the change takes effect")
        kind = entry.get("kind", "change")
        if kind not in ("change", "threat"):
            raise ConfigError(f"{key}.kind", f"must be change or threat, got {kind!r}")
        parsed.append((round_on_or_after(effective, start, round_days, held), k, space.index(name), value,
                       round_on_or_after(announced, start, round_days, held), kind, str(entry.get("note", ""))))
    changes, level = [], {j: space.issues[j].status_quo for j in range(space.n)}
    for effective, k, j, value, announced, kind, note in sorted(parsed):
        changes.append(ScheduledChange(index=k, issue=j, value=value, step=value - level[j], effective=effective,
                                       announced=announced, kind=kind, note=note))
        level[j] = value
    return tuple(changes)


def trade_model(cfg: Tree) -> TradeModel:
    """The trade payoff model of a scenario (exact payoffs, the chord's error, the exporter's loss), cut to its
    vantage date like :func:`compile_point`.

    Raises:
        ConfigError: the scenario does not use the trade payoff model, or any error of :func:`compile_point`.
    """
    cfg, _ = cut(cfg)
    ids = tuple(pid for pid, _ in parties(cfg))
    if not isinstance(payoff_model(cfg), Trade):
        raise ConfigError("scenario.payoff.model", "must be the trade payoff model, sim.config.payoffs.Trade")
    importer, exporter = trade_roles(cfg, ids)
    return trade_model_of(cfg, outcome_space(cfg, ids, importer), importer, exporter)


def compile_point(cfg: Tree) -> Compiled:
    """Validate one fully specified config and compile it for one world.

    With a vantage date (``scenario.as_of``) the config is first cut to the facts known on it, and the
    talks begin in the first round on or after it (:func:`sim.config.as_of.cut`).
    """
    cfg, first_round = cut(cfg)
    party_list = parties(cfg)
    ids, names = tuple(pid for pid, _ in party_list), dict(party_list)
    max_rounds = int(read(cfg, "protocol.max_rounds"))
    opener = choice(cfg, "protocol.opener", ids)
    horizon = f" (rounds; the horizon protocol.max_rounds is {max_rounds})"
    deadline = read(cfg, "scenario.deadline.round", hi=max_rounds, what=horizon)
    ext_p = read(cfg, "scenario.deadline.extension.probability")
    ext_rounds = read(cfg, "scenario.deadline.extension.rounds", hi=max_rounds - deadline,
                      what=f" (rounds; deadline {int(deadline)} plus extension must stay within protocol.max_rounds"
                           f" = {max_rounds})")
    model = payoff_model(cfg)
    importer, exporter = trade_roles(cfg, ids) if model.roles else (None, None)
    space = outcome_space(cfg, ids, importer)
    escalation, escalation_issue = _escalation(cfg, space)
    breakdown = read(cfg, "scenario.breakdown_risk")
    valuation = read(cfg, "scenario.valuation_rounds")
    start = date(cfg, "scenario.calendar.start_date")
    round_days = int(read(cfg, "scenario.calendar.round_days"))
    held = meetings(cfg)
    schedule = _schedule(cfg, space, start, round_days, held)
    agenda, protocol_class = protocol(cfg)
    stage_issues = (tuple(range(space.n)),) if not protocol_class.staged else stages(cfg, space)

    def to_round(day: dt.date) -> int:
        return round_on_or_after(day, start, round_days, held)

    payoffs, no_deal, stakes_usd, consumer = _payoffs(cfg, model, space, ids, (importer, exporter),
                                                      escalation_issue, escalation)
    constraints = [f"{i.name} off the table" for i in space.issues if not i.negotiable]
    party_specs, party_inputs, threshold_changes = [], [], []
    for pid in ids:
        spec, inputs, changes, described = _party(cfg, pid, names[pid], space, model, payoffs[pid], no_deal[pid],
                                                  consumer, agenda, max_rounds, horizon, to_round)
        party_specs.append(spec)
        party_inputs.append(inputs)
        threshold_changes += changes
        constraints += described
    structure = Structure(space=space, parties=tuple(party_specs), opener=opener, protocol=(agenda, protocol_class),
                          stages=stage_issues, start_date=start, round_days=round_days, max_rounds=max_rounds,
                          schedule=schedule, escalation_issue=escalation_issue,
                          threshold_changes=tuple(sorted(threshold_changes)), first_round=first_round,
                          meetings=held)
    inputs = WorldInputs(deadline=np.float64(deadline), extension_probability=np.float64(ext_p),
                         extension_rounds=np.float64(ext_rounds), escalation=np.float64(escalation),
                         breakdown_risk=np.float64(breakdown), valuation_rounds=np.float64(valuation),
                         status_quo=space.status_quo, parties=tuple(party_inputs))
    return Compiled(structure=structure, inputs=inputs, stakes_usd=stakes_usd, constraints="; ".join(constraints)
                    or "none")


def _escalation(cfg: Tree, space: OutcomeSpace) -> tuple[float, int | None]:
    """The rise at the final deadline without a deal, and the index of the issue it raises (``None``: none)."""
    target = lookup(cfg, "scenario.escalation_issue")
    if target in (MISSING, None):
        return 0.0, None
    if target not in space.names:
        raise ConfigError("scenario.escalation_issue", f"must be one of {', '.join(space.names)} or null, "
                                                       f"got {target!r}")
    index = space.index(target)
    issue = space.issues[index]
    escalation = read(cfg, "scenario.escalation", hi=issue.hi - issue.status_quo,
                      what=f" (pp; the escalated rate must stay within scenario.issues.{target}.max = "
                           f"{fmt(issue.hi)})")
    return escalation, index


def _payoffs(cfg: Tree, model: PayoffModel, space: OutcomeSpace, ids: tuple[str, str], roles: tuple,
             escalation_issue: int | None, escalation: float) -> tuple[dict, dict, dict, object]:
    """Each party's payoff, its no-deal utilities (status quo, escalated), the stakes in USD and the
    consumers' cost coefficients (the tariff model's; ``None`` otherwise)."""
    payoffs, stakes_usd, consumer = model.payoffs(cfg, space, ids, roles)
    worst = escalated(space.status_quo, escalation_issue, escalation)
    return payoffs, model.no_deal(cfg, payoffs, space, ids, worst), stakes_usd, consumer


def _party(cfg: Tree, pid: str, name: str, space: OutcomeSpace, model: PayoffModel, pay, no_deal: tuple[float, float],
           consumer, agenda: str, max_rounds: int, horizon: str, to_round) -> tuple:
    """One party compiled: its :class:`PartySpec`, its :class:`PartyInputs`, its dated threshold changes and
    its constraints in words."""
    key = f"scenario.sides.{pid}"
    if pay.p_max <= pay.p_min:
        raise ConfigError(f"scenario.payoff.{pid}", "gives the same payoff to every package; nothing to negotiate")
    own = get(cfg, f"{key}.deadline")
    own_deadline = math.nan if own is None else read(cfg, "scenario.sides.{party}.deadline", pid, hi=max_rounds,
                                                     what=horizon + "; or null for the talks' deadline")
    bounds = party_bounds(cfg, pid, space)
    threshold, knows, changes, groups, terms = ratification(
        cfg, pid, space, pay if isinstance(model, Trade) else None, consumer, to_round)
    parts = {}
    for part_key, (group, base) in PARTS.items():
        parts[part_key] = part(lookup(cfg, f"{pid}.{part_key}"), f"{pid}.{part_key}", base, space)
    s = "scenario.sides.{party}."
    inputs = PartyInputs(
        payoff_a=pay.a, payoff_b=np.float64(pay.b), p_min=np.float64(pay.p_min), p_max=np.float64(pay.p_max),
        red_lo=bounds.lo, red_hi=bounds.hi, loose_lo=bounds.loose_lo, loose_hi=bounds.loose_hi,
        line_strength=bounds.strength, firmness=firmness(cfg, pid, space), refuses=np.float64(agenda in refused(cfg, pid)),
        deadline=np.float64(own_deadline),
        deadline_private=np.float64(read(cfg, s + "deadline_private", pid)),
        delay_cost=np.float64(read(cfg, s + "delay_cost", pid)),
        noise=np.float64(read(cfg, s + "concession_noise", pid, what=" (s.d.)")),
        belief_deadline_sd=np.float64(read(cfg, s + "belief_noise.deadline", pid, hi=max_rounds,
                                           what=" (s.d. in rounds)")),
        belief_reservation_sd=np.float64(read(cfg, s + "belief_noise.reservation", pid, what=" (s.d. in utility)")),
        walk_away=np.float64(read(cfg, s + "walk_away", pid)),
        u_status_quo=np.float64(no_deal[0]), u_escalated=np.float64(no_deal[1]),
        discount=np.float64(read(cfg, s + "discount", pid, default=1.0,
                                 what=" (per-round discount factor; 1 = none)")),
        threshold=np.float64(threshold), knows_win_set=np.float64(knows), constituencies=tuple(terms),
        offering=parts["offering"][2], acceptance=parts["acceptance"][2], opponent=parts["opponent"][2])
    spec = PartySpec(id=pid, name=name, offering=parts["offering"][:2], acceptance=parts["acceptance"][:2],
                     opponent=parts["opponent"][:2], constituencies=tuple(groups),
                     per_issue=tuple(k for k, v in parts["offering"][2].items() if np.ndim(v)))
    return spec, inputs, changes, bounds.described
