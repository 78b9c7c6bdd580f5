"""A scenario as typed objects: parties, issues with their dated values, a deadline with its announcements,
stances, sources.

A scenario YAML file under ``conf/scenario/`` and a :class:`Scenario` built in Python describe the same
thing; :meth:`Scenario.to_config` writes the object as the config tree the compiler reads
(:func:`sim.config.scenario.compile_point`), so an object is checked by the same code, with the same
one-line errors naming the key, as a file composed by Hydra. :meth:`Scenario.run` compiles and runs it,
without Hydra and without any file of ``conf/``, as NegMAS builds a ``Scenario`` from an outcome space,
preferences and negotiators::

    from sim.config.schema import Issue, Party, Part, Scenario
    issues = (Issue("price", grantor="a", unit="USD", lo=0, hi=10, status_quo=10), ...)
    scenario = Scenario("toy", parties=(Party("a", weights={"price": -1}), Party("b", weights={"price": 1})),
                        issues=issues, deadline=Deadline(round=8))
    outcomes = scenario.run(seeds=20)          # {"deal": ..., "agreement_round": ..., "a_utility": ...}

Dated records (as in the case-study files) are typed as well: an :class:`Issue`'s ``timeline`` of
:class:`Value` (value, in force from, known from, source), a :class:`Deadline`'s :class:`Announcement`
(made, due, escalation), a :class:`Stance` (a party's red line, refusal or issue off the table, stated on
a date, with its strength). With ``as_of`` set they are read as the vantage-date cut of
:mod:`sim.config.as_of` reads them; without it, the written status quo and deadline hold.

The payoff model of a Python scenario is linear (``scenario.payoff.model: {_target_:
sim.config.payoffs.Linear}``): each party's payoff is the sum over issues of its weight times the issue's value;
or, with ``payoff=TradePayoff(...)`` (:mod:`sim.config.schema_trade`), the trade payoff model with volumes,
pledges by form, tariffs both ways and each party's :class:`Objectives`. The no-deal path's scheduled changes
(:class:`Change`) and a staged agenda's stages are fields of the scenario too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sim.config.parameters import Source
from sim.config.schema_trade import Change, Objectives, PledgeForm, TradePayoff
from sim.config.values import ConfigError

__all__ = ["Announcement", "Change", "Deadline", "Issue", "Objectives", "Part", "Party", "PledgeForm", "Scenario",
           "Source", "Stance", "TradePayoff", "Value"]


@dataclasses.dataclass(frozen=True)
class Value:
    """One dated value of an issue: ``value`` in force from ``in_force``, public from ``known``."""

    value: float
    in_force: dt.date
    known: dt.date
    source: str = ""


@dataclasses.dataclass(frozen=True)
class Issue:
    """One negotiable issue.

    Attributes:
        name: Its id (config key, output column ``agreed_<name>``).
        grantor: The party whose concession it is.
        unit: Unit of its value (``pp``, ``USD bn``...).
        lo, hi: Its negotiable range.
        status_quo: Its value without a deal, when the talks open.
        title: A readable title for tables and figures (``""``: from the name).
        tags: What it is and how it groups (``{sector: autos}``).
        negotiable: ``False`` keeps it at its status quo.
        timeline: Its dated values (each with the day it became known), oldest first.
    """

    name: str
    grantor: str
    unit: str
    lo: float
    hi: float
    status_quo: float
    title: str = ""
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    negotiable: bool = True
    timeline: tuple[Value, ...] = ()


@dataclasses.dataclass(frozen=True)
class Announcement:
    """One announcement of the talks' deadline: made on ``made``, due ``due``, threatening ``escalation``
    (the rise of the escalation issue without a deal, ``None``: unchanged)."""

    made: dt.date
    due: dt.date
    escalation: float | None = None
    source: str = ""


@dataclasses.dataclass(frozen=True)
class Deadline:
    """The talks' deadline: its round, the chance and length of one extension, and its dated announcements."""

    round: int
    extension_probability: float = 0.0
    extension_rounds: int = 0
    announcements: tuple[Announcement, ...] = ()


@dataclasses.dataclass(frozen=True)
class Stance:
    """A party's stance on an issue or an agenda.

    Attributes:
        party: Its party id.
        kind: ``min`` or ``max`` (a red line on ``issue``), ``refuses`` (agendas, ``value`` a list) or
            ``off_table`` (``issue`` kept at its status quo).
        issue: The issue it bears on (``None`` for ``refuses``).
        value: The bound (``min``/``max``) or the refused agendas.
        strength: The probability that a red line holds in a world (1: a hard line).
        stated: The day it was stated (``None``: it holds from the start).
        source: Where it is on record.
    """

    party: str
    kind: str
    issue: str | None = None
    value: Any = None
    strength: float = 1.0
    stated: dt.date | None = None
    source: str = ""


@dataclasses.dataclass(frozen=True)
class Part:
    """A negotiator part: the class it builds (``_target_``) and its parameters."""

    target: str
    params: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def node(self, name: str) -> dict:
        """The part as a config node."""
        return {"name": name, "_target_": self.target, **dict(self.params)}


BOULWARE = Part("sim.engine.offering.TimeDependent", {"beta": 0.25})
AC_NEXT = Part("sim.engine.acceptance.ACNext")
NOISY_PRIOR = Part("sim.engine.opponent.NoisyPrior")


@dataclasses.dataclass(frozen=True)
class Party:
    """One party: its id and display name, payoff weights per issue (payoff per unit, the linear payoff
    model), its negotiator's three parts and its settings (``scenario.sides.<id>``)."""

    id: str
    name: str = ""
    weights: Mapping[str, float] = dataclasses.field(default_factory=dict)
    offering: Part = BOULWARE
    acceptance: Part = AC_NEXT
    opponent: Part = NOISY_PRIOR
    deadline: int | None = None
    deadline_private: bool = False
    delay_cost: float = 0.0
    discount: float = 1.0
    concession_noise: float = 0.0
    belief_noise_deadline: float = 0.0
    belief_noise_reservation: float = 0.0
    walk_away: bool = False


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A bilateral negotiation: two parties, the issues, the calendar, the deadline and the stances.

    Attributes:
        name: Its name.
        parties: The two parties, in the order of the output columns.
        issues: The issues, in the order of the outcome space.
        deadline: The talks' deadline.
        opener: The party proposing in round 1 (``""``: the first party).
        start_date: The day of round 1.
        round_days: Days between rounds.
        escalation_issue: The issue that rises at the final deadline without a deal (``None``: none).
        escalation: By how much it rises.
        breakdown_risk: Per-round probability of a collapse for reasons outside the model.
        valuation_rounds: Rounds over which the no-deal path is valued.
        max_rounds: The horizon.
        protocol: The agenda (``package``, ``sequential``, ``linked``).
        stances: The parties' stances.
        as_of: The vantage date (``None``: the scenario as written).
        payoff: The trade payoff model (:class:`TradePayoff`); ``None``: the linear model of the parties'
            ``weights``.
        schedule: The scheduled changes of the no-deal path (:class:`Change`).
        stages: The stages of a staged agenda: a tag to group the issues by, or stages of issue names or tag
            values (``None``: none given).
    """

    name: str
    parties: tuple[Party, Party]
    issues: tuple[Issue, ...]
    deadline: Deadline
    opener: str = ""
    start_date: dt.date = dt.date(2025, 1, 6)
    round_days: int = 7
    escalation_issue: str | None = None
    escalation: float = 0.0
    breakdown_risk: float = 0.0
    valuation_rounds: int = 52
    max_rounds: int = 26
    protocol: str = "package"
    stances: tuple[Stance, ...] = ()
    as_of: dt.date | None = None
    payoff: TradePayoff | None = None
    schedule: tuple[Change, ...] = ()
    stages: str | tuple[tuple[str, ...], ...] | None = None

    def to_config(self) -> dict:
        """The scenario as the config tree the compiler reads (``scenario``, ``protocol``, one node per party)."""
        from sim.config.components import load_option

        if len(self.parties) != 2:
            raise ConfigError("scenario.parties", "must name exactly two parties")
        protocol = load_option("protocol", self.protocol, "protocol.agenda")
        protocol.update(agenda=self.protocol, opener=self.opener or self.parties[0].id, max_rounds=self.max_rounds)
        cfg: dict[str, Any] = {"scenario": self._scenario_node(), "protocol": protocol}
        for p in self.parties:
            cfg[p.id] = {"offering": p.offering.node("offering"), "acceptance": p.acceptance.node("acceptance"),
                         "opponent": p.opponent.node("opponent")}
        return cfg

    def _scenario_node(self) -> dict:
        stated = {f"stance_{k}": s for k, s in enumerate(self.stances) if s.stated is not None}
        return {
            "name": self.name,
            "parties": {p.id: {"name": p.name or p.id} for p in self.parties},
            "opener": self.opener or self.parties[0].id,
            "calendar": {"start_date": self.start_date.isoformat(), "round_days": self.round_days},
            "deadline": {"round": self.deadline.round,
                         "extension": {"probability": self.deadline.extension_probability,
                                       "rounds": self.deadline.extension_rounds}},
            "escalation_issue": self.escalation_issue,
            "escalation": self.escalation,
            "valuation_rounds": self.valuation_rounds,
            "breakdown_risk": self.breakdown_risk,
            "schedule": [c.node() for c in self.schedule],
            **({} if self.stages is None else {"stages": self.stages if isinstance(self.stages, str)
                                               else [list(stage) for stage in self.stages]}),
            "issues": {i.name: {"grantor": i.grantor, "unit": i.unit, "status_quo": i.status_quo, "min": i.lo,
                                "max": i.hi, "negotiable": i.negotiable, "tags": dict(i.tags),
                                **({"title": i.title} if i.title else {})}
                       for i in self.issues},
            **self._payoff_nodes(),
            "sides": {p.id: self._side(p) for p in self.parties},
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "facts": self._facts(),
            "positions": {name: _position(s) for name, s in stated.items()},
        }

    def _payoff_nodes(self) -> dict:
        if self.payoff is not None:
            payoff, stakes = self.payoff.nodes()
            return {"payoff": payoff, "stakes": stakes}
        return {"payoff": {"model": {"_target_": "sim.config.payoffs.Linear"},
                           "weights": {p.id: dict(p.weights) for p in self.parties}}}

    def _side(self, p: Party) -> dict:
        lines: dict[str, dict] = {}
        refuses: list[str] = []
        off_table: list[str] = []
        for s in self.stances:
            if s.party != p.id or s.stated is not None:
                continue
            if s.kind in ("min", "max"):
                lines.setdefault(str(s.issue), {})[s.kind] = s.value
                if s.strength != 1.0:
                    lines[str(s.issue)]["strength"] = s.strength
            elif s.kind == "refuses":
                refuses += list(s.value)
            elif s.kind == "off_table":
                off_table.append(str(s.issue))
            else:
                raise ConfigError(f"scenario.sides.{p.id}", f"a stance's kind must be min, max, refuses or "
                                                            f"off_table, got {s.kind!r}")
        return {"deadline": p.deadline, "deadline_private": p.deadline_private, "delay_cost": p.delay_cost,
                "discount": p.discount, "concession_noise": p.concession_noise,
                "belief_noise": {"deadline": p.belief_noise_deadline, "reservation": p.belief_noise_reservation},
                "walk_away": p.walk_away, "red_lines": lines, "refuses": refuses, "off_table": off_table}

    def _facts(self) -> dict:
        tariffs = {i.name: [{"value": v.value, "effective": v.in_force.isoformat(), "known": v.known.isoformat(),
                             "source": v.source} for v in i.timeline] for i in self.issues if i.timeline}
        deadlines = [{"date": a.due.isoformat(), "escalation": a.escalation, "known": a.made.isoformat(),
                      "source": a.source} for a in self.deadline.announcements]
        return {"tariffs": tariffs, "deadlines": deadlines}

    def compile(self):
        """The scenario compiled for one world (:class:`sim.config.scenario.Compiled`), checked as a file is."""
        from sim.config.scenario import compile_point

        return compile_point(self.to_config())

    def model(self, seeds: int = 1, root_seed: int = 0):
        """A :class:`~sim.engine.model.NegotiationModel` of ``seeds`` negotiations of the scenario, not yet run
        (world ``k`` gets the seed a run with ``run.seed=root_seed`` gives seed index ``k``)."""
        import numpy as np

        from sim.engine.inputs import stack
        from sim.engine.model import NegotiationModel
        from sim.engine.streams import world_seeds

        compiled = self.compile()
        return NegotiationModel(compiled.structure, stack([compiled.inputs] * seeds),
                                world_seeds(root_seed, np.arange(seeds)))

    def run(self, seeds: int = 1, root_seed: int = 0) -> dict:
        """Run ``seeds`` negotiations and return their outcome columns (one value per negotiation).

        The columns are those of a run's ``outcomes.parquet``: ``deal``, ``end_round``, one per issue (the
        agreed value), ``<party>_payoff``, ``<party>_utility``...
        """
        model = self.model(seeds, root_seed)
        model.run_model()
        return model.outcomes()


def _position(s: Stance) -> dict:
    out = {"party": s.party, "kind": s.kind, "value": list(s.value) if s.kind == "refuses" else s.value,
           "stated": s.stated.isoformat(), "source": s.source}
    if s.issue is not None:
        out["issue"] = s.issue
    return out
