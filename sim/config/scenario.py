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

from sim.config.components import PARTS, available, import_class, load_option, part
from sim.config.parameters import PARAMETERS, read
from sim.config.values import (
    MISSING,
    ConfigError,
    Tree,
    check_number,
    choice,
    date,
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
from sim.domain.payoffs.linear import linear_payoffs
from sim.domain.payoffs.split import split_payoffs
from sim.domain.payoffs.tariffs import FLOWS, KINDS, consumer_cost_coefficients, derived_stakes, payoffs_for
from sim.domain.utility import LinearPayoff
from sim.engine.inputs import ConstituencyInputs, PartyInputs, PartySpec, Structure, WorldInputs
from sim.engine.protocols import Protocol

__all__ = ["Compiled", "compile_point", "parties"]


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


PAYOFF_MODELS = ("trade", "split", "linear")


def _payoff_model(cfg: Tree) -> str:
    model = lookup(cfg, "scenario.payoff.model")
    return "trade" if model is MISSING else choice(cfg, "scenario.payoff.model", PAYOFF_MODELS)


def _linear_weights(cfg: Tree, ids: tuple[str, ...], space: OutcomeSpace) -> dict[str, dict[str, float]]:
    """The linear payoff model's weights, ``scenario.payoff.weights.PARTY.ISSUE`` (payoff per unit)."""
    out = {}
    for pid in ids:
        key = f"scenario.payoff.weights.{pid}"
        node = get(cfg, key)
        if not isinstance(node, dict) or any(name not in space.names for name in node):
            raise ConfigError(key, f"must map issues among {', '.join(space.names)} to weights (payoff per unit)")
        out[pid] = {name: number(cfg, f"{key}.{name}", -1e9, 1e9, what=" (payoff per unit of the issue)")
                    for name in node}
    return out


def _tags(cfg: Tree, key: str) -> tuple[tuple[str, str], ...]:
    tags = lookup(cfg, f"{key}.tags")
    if tags is MISSING or tags is None:
        return ()
    if not isinstance(tags, dict):
        raise ConfigError(f"{key}.tags", "must map tag names to values, e.g. {kind: tariff, sector: autos}")
    return tuple(sorted((str(k), str(v)) for k, v in tags.items()))


def _outcome_space(cfg: Tree, ids: tuple[str, str], importer: str | None) -> OutcomeSpace:
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
            if (grantor == importer) != (kind == "tariff"):
                raise ConfigError(key, f"the importer ({importer}) grants the tariffs and only them")
            if kind == "tariff" and dict(tags).get("flow") not in FLOWS:
                raise ConfigError(f"{key}.tags.flow", f"a tariff must tax one of the flows {', '.join(FLOWS)}")
        if grantor == importer and unit == "pp":
            lo = number(cfg, f"{key}.min", 0.0, 1000.0, what=" (pp)")
            hi = number(cfg, f"{key}.max", lo, 1000.0, what=f" (pp, at least {key}.min)")
        else:
            lo = money(cfg, f"{key}.min", unit)
            hi = number(cfg, f"{key}.max", lo, math.inf, what=f" ({unit}, at least {key}.min)")
        sq = number(cfg, f"{key}.status_quo", lo, hi, what=f" ({unit}, within [min, max])")
        negotiable = True if lookup(cfg, f"{key}.negotiable") is MISSING else flag(cfg, f"{key}.negotiable")
        issues.append(Issue(name=str(name), grantor=grantor, unit=unit, status_quo=sq, lo=lo, hi=hi,
                            negotiable=negotiable, tags=tags))
    return OutcomeSpace(tuple(issues))


def _trade_roles(cfg: Tree, ids: tuple[str, str]) -> tuple[str, str]:
    importer = choice(cfg, "scenario.payoff.importer", ids)
    exporter = choice(cfg, "scenario.payoff.exporter", ids)
    if importer == exporter:
        raise ConfigError("scenario.payoff.exporter", "must be the other party than scenario.payoff.importer")
    return importer, exporter


def _stakes_and_weights(cfg: Tree, space: OutcomeSpace, importer: str, exporter: str) -> tuple[dict, float, dict]:
    stakes = {k.rsplit(".", 1)[1]: read(cfg, k) for k in PARAMETERS if k.startswith("scenario.stakes.")}
    if stakes["cars_and_parts_tn_yen"] + stakes["steel_tn_yen"] > stakes["exports_to_us_tn_yen"]:
        raise ConfigError("scenario.stakes", "cars, parts and steel exports exceed total exports")
    if stakes["vehicle_share_of_exports"] * stakes["exports_to_us_tn_yen"] > stakes["cars_and_parts_tn_yen"]:
        raise ConfigError("scenario.stakes.vehicle_share_of_exports", "vehicles exceed cars and parts exports")
    if stakes["surplus_share_cars_and_parts"] * stakes["surplus_tn_yen"] > stakes["cars_and_parts_tn_yen"]:
        raise ConfigError("scenario.stakes.surplus_share_cars_and_parts",
                          "the surplus from cars and parts exceeds their exports")
    yen = read(cfg, "scenario.yen_per_usd")
    p = "scenario.payoff.{party}."
    weights = {
        exporter: {k: read(cfg, p + k, exporter) for k in ("tariff_cost_share", "investment_years", "investment_cost")},
        importer: {k: read(cfg, p + k, importer) for k in
                   ("revenue_weight", "consumer_cost_weight", "pass_through", "investment_value", "purchase_value")},
    }
    weights[exporter]["purchase_cost"] = {}
    purchases = [i for i in space.issues if i.tag("kind") == "purchase"]
    template = PARAMETERS[p + "purchase_cost.{item}"]
    for issue in purchases:
        item = dataclasses.replace(template, key=template.key.replace("{item}", issue.name))
        weights[exporter]["purchase_cost"][issue.name] = item.read(cfg, exporter,
                                                                   what=" (cost per USD of purchases)")
    yearly = sum(i.hi for i in purchases)
    surplus_usd_bn = stakes["surplus_tn_yen"] * 1000.0 / yen
    if yearly > surplus_usd_bn:
        raise ConfigError("scenario.issues", f"yearly purchase maxima add up to {yearly:g} USD bn, above the "
                                             f"exporter's surplus with the importer ({surplus_usd_bn:.1f} USD bn)")
    return stakes, yen, weights


def _party_bounds(cfg: Tree, pid: str, space: OutcomeSpace) -> tuple[np.ndarray, np.ndarray, list[str]]:
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


def _refused(cfg: Tree, pid: str) -> list[str]:
    """The agendas a party refuses to negotiate under (``scenario.sides.PARTY.refuses``)."""
    key = f"scenario.sides.{pid}.refuses"
    refused = lookup(cfg, key)
    refused = [] if refused is MISSING or refused is None else refused
    agendas = available("protocol")
    if not isinstance(refused, list) or any(a not in agendas for a in refused):
        raise ConfigError(key, f"must list agendas among {', '.join(agendas)}, got {refused!r}")
    return refused


def _ratification(cfg: Tree, pid: str, space: OutcomeSpace, payoff: LinearPayoff | None,
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
        changes.append((pid, to_round(_entry_date(change, f"{where}.date")),
                        _entry_number(change, where, "threshold", 0.0, 1.0, " (new threshold)")))
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


def _entry_date(entry: dict, key: str) -> dt.date:
    """The date at ``entry[field]``, its error naming the entry's own key ``key`` (not an internal one)."""
    field = key.rsplit(".", 1)[1]
    if field not in entry:
        raise ConfigError(key, "is missing")
    try:
        return dt.date.fromisoformat(str(entry[field]))
    except ValueError:
        raise ConfigError(key, "must be a date as YYYY-MM-DD") from None


def _entry_number(entry: dict, where: str, field: str, lo: float, hi: float, what: str) -> float:
    """A number of a list entry, its error naming the entry's own key (not an internal one)."""
    key = f"{where}.{field}"
    if field not in entry:
        raise ConfigError(key, "is missing")
    return check_number(entry[field], key, lo, hi, what=what)


def _schedule(cfg: Tree, space: OutcomeSpace, start: dt.date, round_days: int) -> tuple[ScheduledChange, ...]:
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
        value = _entry_number(entry, key, "value", issue.lo, issue.hi, f" ({issue.unit}, within the issue's range)")
        effective = _entry_date(entry, f"{key}.effective")
        announced = _entry_date(entry, f"{key}.announced") if "announced" in entry else start
        if announced > effective:
            raise ConfigError(f"{key}.announced", "must not come after the change takes effect")
        kind = entry.get("kind", "change")
        if kind not in ("change", "threat"):
            raise ConfigError(f"{key}.kind", f"must be change or threat, got {kind!r}")
        parsed.append((round_on_or_after(effective, start, round_days), k, space.index(name), value,
                       round_on_or_after(announced, start, round_days), kind, str(entry.get("note", ""))))
    changes, level = [], {j: space.issues[j].status_quo for j in range(space.n)}
    for effective, k, j, value, announced, kind, note in sorted(parsed):
        changes.append(ScheduledChange(index=k, issue=j, value=value, step=value - level[j], effective=effective,
                                       announced=announced, kind=kind, note=note))
        level[j] = value
    return tuple(changes)


def _protocol(cfg: Tree) -> tuple[str, type]:
    """The protocol: its agenda name and class (the class of ``conf/protocol/<agenda>.yaml``)."""
    agendas = tuple(available("protocol"))
    agenda = "package" if lookup(cfg, "protocol.agenda") is MISSING else choice(cfg, "protocol.agenda", agendas)
    node = get(cfg, "protocol")
    target = node.get("_target_") if node.get("name", agenda) == agenda else None
    if target is None:
        target = load_option("protocol", agenda, "protocol.agenda").get("_target_")
    return agenda, import_class(target, "protocol._target_", Protocol)


def _stages(cfg: Tree, space: OutcomeSpace) -> tuple[tuple[int, ...], ...]:
    """The stages of a staged agenda, from the scenario: a tag to group the issues by (in order of first
    appearance), or a list of stages, each a list of issue names or tag values; every issue in exactly one."""
    spec = lookup(cfg, "scenario.stages")
    if spec is MISSING or spec is None:
        return tuple((j,) for j in range(space.n))
    if isinstance(spec, str):
        return tuple(idx for _, idx in space.groups(spec))
    if not isinstance(spec, list) or not spec or not all(isinstance(g, list) and g for g in spec):
        raise ConfigError("scenario.stages", "must be a tag name, or a list of non-empty lists of issue names")
    stages = []
    for group in spec:
        members = []
        for entry in group:
            hits = [j for j, i in enumerate(space.issues) if i.name == entry or entry in dict(i.tags).values()]
            if not hits:
                raise ConfigError("scenario.stages", f"names no issue or tag value {entry!r}; choose from "
                                                     f"{', '.join(space.names)}")
            members.extend(hits)
        stages.append(tuple(members))
    names = [space.names[j] for group in stages for j in group]
    if sorted(names) != sorted(space.names):
        missing = [n for n in space.names if n not in names]
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError("scenario.stages", "must put every issue in exactly one stage"
                          + (f"; missing {', '.join(missing)}" if missing else "")
                          + (f"; repeated {', '.join(twice)}" if twice else ""))
    return tuple(stages)


def compile_point(cfg: Tree) -> Compiled:
    """Validate one fully specified config and compile it for one world."""
    ids = tuple(pid for pid, _ in parties(cfg))
    names = dict(parties(cfg))
    max_rounds = int(read(cfg, "protocol.max_rounds"))
    opener = choice(cfg, "protocol.opener", ids)
    horizon = f" (rounds; the horizon protocol.max_rounds is {max_rounds})"
    deadline = read(cfg, "scenario.deadline.round", hi=max_rounds, what=horizon)
    ext_p = read(cfg, "scenario.deadline.extension.probability")
    ext_rounds = read(cfg, "scenario.deadline.extension.rounds", hi=max_rounds - deadline,
                      what=f" (rounds; deadline {int(deadline)} plus extension must stay within protocol.max_rounds"
                           f" = {max_rounds})")
    model = _payoff_model(cfg)
    importer, exporter = _trade_roles(cfg, ids) if model == "trade" else (None, None)
    space = _outcome_space(cfg, ids, importer)
    escalation, escalation_issue = 0.0, None
    target = lookup(cfg, "scenario.escalation_issue")
    if target not in (MISSING, None):
        if target not in space.names:
            raise ConfigError("scenario.escalation_issue", f"must be one of {', '.join(space.names)} or null, "
                                                           f"got {target!r}")
        escalation_issue = space.index(target)
        issue = space.issues[escalation_issue]
        escalation = read(cfg, "scenario.escalation", hi=issue.hi - issue.status_quo,
                          what=f" (pp; the escalated rate must stay within scenario.issues.{target}.max = "
                               f"{fmt(issue.hi)})")
    breakdown = read(cfg, "scenario.breakdown_risk")
    valuation = read(cfg, "scenario.valuation_rounds")
    start = date(cfg, "scenario.calendar.start_date")
    round_days = int(read(cfg, "scenario.calendar.round_days"))
    schedule = _schedule(cfg, space, start, round_days)
    agenda, protocol_class = _protocol(cfg)
    stages = (tuple(range(space.n)),) if not protocol_class.staged else _stages(cfg, space)

    def to_round(day: dt.date) -> int:
        return round_on_or_after(day, start, round_days)

    if model == "split":
        try:
            payoffs = split_payoffs(space, ids)
        except ValueError:
            raise ConfigError("scenario.issues", "the split payoff model needs exactly one issue, share, "
                                                 "with min 0 and max 1") from None
        no_deal = {pid: (read(cfg, "scenario.payoff.disagreement.{party}", pid, what=" (utility of no deal)"),) * 2
                   for pid in ids}
        stakes_usd, consumer = {}, None
    elif model == "linear":
        payoffs = linear_payoffs(space, _linear_weights(cfg, ids, space))
        worst = escalated(space.status_quo, escalation_issue, escalation)
        no_deal = {pid: (float(payoffs[pid].utility(space.status_quo)), float(payoffs[pid].utility(worst)))
                   for pid in ids}
        stakes_usd, consumer = {}, None
    else:
        stakes, yen, weights = _stakes_and_weights(cfg, space, importer, exporter)
        payoffs = payoffs_for(space, stakes, yen, weights, importer, exporter)
        worst = escalated(space.status_quo, escalation_issue, escalation)
        no_deal = {pid: (float(payoffs[pid].utility(space.status_quo)), float(payoffs[pid].utility(worst)))
                   for pid in ids}
        stakes_usd = derived_stakes(stakes, yen)
        consumer = consumer_cost_coefficients(space, stakes, yen, weights, importer)

    constraints = [f"{i.name} off the table" for i in space.issues if not i.negotiable]
    party_specs, party_inputs, threshold_changes = [], [], []
    for pid in ids:
        key = f"scenario.sides.{pid}"
        pay = payoffs[pid]
        if pay.p_max <= pay.p_min:
            raise ConfigError(f"scenario.payoff.{pid}", "gives the same payoff to every package; nothing to negotiate")
        own = get(cfg, f"{key}.deadline")
        own_deadline = math.nan if own is None else read(cfg, "scenario.sides.{party}.deadline", pid, hi=max_rounds,
                                                         what=horizon + "; or null for the talks' deadline")
        red_lo, red_hi, described = _party_bounds(cfg, pid, space)
        constraints += described
        threshold, knows, changes, groups, terms = _ratification(
            cfg, pid, space, pay if model == "trade" else None, consumer, to_round)
        threshold_changes += changes
        parts = {}
        for part_key, (group, base) in PARTS.items():
            parts[part_key] = part(lookup(cfg, f"{pid}.{part_key}"), f"{pid}.{part_key}", base)
        s = "scenario.sides.{party}."
        party_inputs.append(PartyInputs(
            payoff_a=pay.a, payoff_b=np.float64(pay.b), p_min=np.float64(pay.p_min), p_max=np.float64(pay.p_max),
            red_lo=red_lo, red_hi=red_hi, refuses=np.float64(agenda in _refused(cfg, pid)),
            deadline=np.float64(own_deadline),
            deadline_private=np.float64(read(cfg, s + "deadline_private", pid)),
            delay_cost=np.float64(read(cfg, s + "delay_cost", pid)),
            noise=np.float64(read(cfg, s + "concession_noise", pid, what=" (s.d.)")),
            belief_deadline_sd=np.float64(read(cfg, s + "belief_noise.deadline", pid, hi=max_rounds,
                                               what=" (s.d. in rounds)")),
            belief_reservation_sd=np.float64(read(cfg, s + "belief_noise.reservation", pid, what=" (s.d. in utility)")),
            walk_away=np.float64(read(cfg, s + "walk_away", pid)),
            u_status_quo=np.float64(no_deal[pid][0]), u_escalated=np.float64(no_deal[pid][1]),
            discount=np.float64(read(cfg, s + "discount", pid, default=1.0,
                                     what=" (per-round discount factor; 1 = none)")),
            threshold=np.float64(threshold), knows_win_set=np.float64(knows), constituencies=tuple(terms),
            offering=parts["offering"][2], acceptance=parts["acceptance"][2], opponent=parts["opponent"][2]))
        party_specs.append(PartySpec(id=pid, name=names[pid], offering=parts["offering"][:2],
                                     acceptance=parts["acceptance"][:2], opponent=parts["opponent"][:2],
                                     constituencies=tuple(groups)))
    structure = Structure(space=space, parties=tuple(party_specs), opener=opener, protocol=(agenda, protocol_class),
                          stages=stages, start_date=start, round_days=round_days, max_rounds=max_rounds,
                          schedule=schedule, escalation_issue=escalation_issue,
                          threshold_changes=tuple(sorted(threshold_changes)))
    inputs = WorldInputs(deadline=np.float64(deadline), extension_probability=np.float64(ext_p),
                         extension_rounds=np.float64(ext_rounds), escalation=np.float64(escalation),
                         breakdown_risk=np.float64(breakdown), valuation_rounds=np.float64(valuation),
                         status_quo=space.status_quo, parties=tuple(party_inputs))
    return Compiled(structure=structure, inputs=inputs, stakes_usd=stakes_usd, constraints="; ".join(constraints)
                    or "none")
