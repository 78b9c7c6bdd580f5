"""
Bilateral negotiation model
===========================

A Mesa model of bilateral, multi-issue talks under a protocol with a deadline, built first for the
2025 tariff talks but knowing nothing of them: the parties, issues, stakes and deadlines all
come from the scenario, compiled into a :class:`~sim.engine.inputs.Structure` and
:class:`~sim.engine.inputs.WorldInputs`.

One model instance advances a *batch* of B independent negotiations ("worlds") at once: each of its
two :class:`~sim.engine.agents.Negotiator` agents holds its party's state for all B worlds as arrays,
and one :meth:`NegotiationModel.step` plays one round in every world that is still talking. Worlds may
differ in seed and in any number. Every random draw of a world comes from that world's own seed
(:mod:`sim.engine.streams`), so a world's result does not depend on B or on its batch-mates.

A round is the protocol's (:mod:`sim.engine.protocols`): an offer, a response, and what an acceptance
settles. The talks in a world also end when a per-round breakdown risk strikes, or without a deal at
the final deadline: the talks' deadline, moved once by an extension that happens with a given
probability (revealed when the deadline is reached). Without a deal the no-deal path holds
(:mod:`sim.domain.no_deal`).

The talks may begin after round 1 (``Structure.first_round``, a forecast from a vantage date): the rounds
before it were held, so rounds keep their calendar numbers and dates, and every time-dependent part
(concession, deadlines, the no-deal path) reads the round number as it would have in round 1's talks.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.domain.calendar import Deadlines
from sim.domain.no_deal import NoDealPath
from sim.domain.tradeoff import tradeoff_package
from sim.domain.utility import BatchUtility
from sim.engine.agents import Constituency, Negotiator
from sim.engine.codes import END_REASONS, EndReason, Response
from sim.engine.compaction import keep_rows
from sim.engine.inputs import Structure, WorldInputs, negotiation_box
from sim.engine.protocols import RoundResult
from sim.engine.streams import RandomStreams, Stream

__all__ = ["END_REASONS", "NegotiationModel"]

# the round record's code of talks that ended in a round regardless of the response, by end reason
_ENDED_BY = np.array([-1 if Response.ended_by(r) is None else Response.ended_by(r) for r in EndReason], dtype=np.int8)


def draw_deadlines(structure: Structure, inputs: WorldInputs, streams: RandomStreams) -> Deadlines:
    """The worlds' deadlines, each extended or not by a draw from its own stream (:class:`Deadlines`)."""
    extended = streams.uniform(Stream.EXTENSION) < inputs.extension_probability
    return Deadlines.draw(inputs.deadline, extended, inputs.extension_rounds, inputs.breakdown_risk,
                          structure.max_rounds)


class NegotiationModel(mesa.Model):
    """A batch of bilateral negotiations advanced round by round.

    Args:
        structure: What all worlds of the batch share: outcome space, parties, protocol, calendar.
        inputs: Per-world numbers, leaves with a leading world axis (:func:`sim.engine.inputs.stack`).
        seeds: One ``uint64`` seed per world.
        record_rounds: Indices of worlds whose offers are recorded round by round (``None``: none).
        rng: Seed for Mesa's own generators (``model.rng``); worlds draw from their own seeds.

    Attributes:
        n_worlds: Number of worlds B.
        negotiators: The two negotiators, in scenario order.
        constituencies: Every constituency agent (an :class:`mesa.agent.AgentSet`).
        protocol: The protocol instance.
        deadlines: The worlds' deadlines (:class:`~sim.domain.calendar.Deadlines`).
        box: The negotiation box ``(lo, hi)`` per issue, or per world and issue when the worlds' ranges differ.
        no_deal: The no-deal path.
        active: Whether each world is still talking.
        rows: Each world's row in the batch as it started (they differ once ended worlds are dropped: :meth:`keep`).
        end_round: Round in which each world ended (0 while talking).
        end_reason: Code of how each world ended (see :data:`END_REASONS`).
        agreement: Agreed package per world (NaN without a deal).
        first_round: The round the simulated talks begin in (the rounds before it were held).
        round_log: Per round, the offers and responses of the recorded worlds.
        last_round: What happened in the latest round (``None`` before the first).
    """

    def __init__(self, structure: Structure, inputs: WorldInputs, seeds: np.ndarray,
                 record_rounds: np.ndarray | None = None, rng: int | None = None) -> None:
        super().__init__(rng=rng)
        self.structure = structure
        self.space = structure.space
        self.max_rounds = structure.max_rounds
        self.first_round = int(structure.first_round)
        self.seeds = np.asarray(seeds, dtype=np.uint64)
        self.n_worlds = len(self.seeds)
        self.streams = RandomStreams(self.seeds)
        self.deadlines = draw_deadlines(structure, inputs, self.streams)
        self.breakdown_risk = inputs.breakdown_risk
        self._breakdown_possible = bool(np.any(self.breakdown_risk > 0))
        self.no_deal = NoDealPath(inputs.status_quo, structure.escalation_issue, inputs.escalation,
                                  structure.schedule, inputs.valuation_rounds, self.deadlines)
        self.protocol = structure.protocol[1](structure.stages, self.space.n, self.n_worlds)

        # level II (Putnam 1988): each party's domestic constituencies, who must ratify an agreement
        self.constituencies = mesa.agent.AgentSet(
            [Constituency(self, spec.id, name, terms)
             for spec, party in zip(structure.parties, inputs.parties, strict=True)
             for name, terms in zip(spec.constituencies, party.constituencies, strict=True)], random=self.random)
        # the negotiation box of each world (its own issue ranges: worlds of one batch may differ in them)
        box = self.box = negotiation_box(structure, inputs)
        self.negotiators = tuple(
            Negotiator(self, spec, k, party, box,
                       BatchUtility(party.payoff_a, party.payoff_b, party.p_min, party.p_max), self.no_deal,
                       self.protocol, self.constituencies.select(lambda c, pid=spec.id: c.party == pid),
                       tuple((r, v) for p, r, v in structure.threshold_changes if p == spec.id))
            for k, (spec, party) in enumerate(zip(structure.parties, inputs.parties, strict=True)))
        first, second = self.negotiators
        first.meet(second)
        second.meet(first)
        opener = self.negotiator(structure.opener)
        self.protocol.seat(opener, second if opener is first else first)

        self.active = np.ones(self.n_worlds, dtype=bool)
        self.end_round = np.zeros(self.n_worlds, dtype=np.int32)
        self.end_reason = np.zeros(self.n_worlds, dtype=np.int8)
        # a party that refuses the agenda ends the talks before the first offer
        refused = (inputs.parties[0].refuses > 0) | (inputs.parties[1].refuses > 0)
        self.active[refused] = False
        self.end_round[refused] = self.first_round
        self.end_reason[refused] = EndReason.REFUSED
        self.agreement = np.full((self.n_worlds, self.space.n), np.nan)
        self.rows = np.arange(self.n_worlds)  # each world's row in the batch as it started (see keep)
        self._zone: np.ndarray | None = None  # zone_of_agreement, once worked out
        self._trace = None if record_rounds is None or len(record_rounds) == 0 else np.asarray(record_rounds)
        self.round_log: list[dict[str, np.ndarray]] = []
        self.last_round: RoundResult | None = None
        self.running = True

    def negotiator(self, party_id: str) -> Negotiator:
        """The negotiator of party ``party_id``."""
        return next(n for n in self.negotiators if n.id == party_id)

    def step(self) -> None:
        """Play one round in every world still talking: the protocol's round, then the end conditions."""
        t = self.steps + self.first_round - 1  # Mesa counts steps from 1
        talking = self.active
        result = self.last_round = self.protocol.round(t, talking)
        agreed, walked = result.agreed, result.walked
        undecided = talking & ~agreed & ~walked
        timed_out = undecided & (t >= self.deadlines.final_deadline)
        broken = undecided & ~timed_out
        if self._breakdown_possible:
            broken &= self.streams.uniform(Stream.BREAKDOWN, t) < self.breakdown_risk
        else:
            broken[:] = False

        offer = result.offer
        self.agreement[agreed] = offer[agreed]
        ended = agreed | walked | timed_out | broken
        self.end_round[ended] = t
        self.end_reason[agreed] = EndReason.AGREEMENT
        self.end_reason[walked] = EndReason.WALK_AWAY
        self.end_reason[timed_out] = EndReason.DEADLINE
        self.end_reason[broken] = EndReason.BREAKDOWN
        if self._trace is not None:
            self._record(t, result.proposer, offer, result.response)
        self.active = talking & ~ended
        if not self.active.any() or t >= self.max_rounds:
            self.running = False

    def _record(self, t: int, proposer: Negotiator, offer: np.ndarray, response: np.ndarray) -> None:
        """Keep the round's offer and response for the traced worlds that were still talking."""
        idx = self._trace[self.active[self._trace]]
        ended_by = _ENDED_BY[self.end_reason[idx]]
        code = np.where(ended_by >= 0, ended_by, response[idx])
        entry = {"world_index": self.rows[idx], "round": np.full(len(idx), t),
                 "proposer": np.full(len(idx), proposer.id), "offer": offer[idx]}
        for negotiator in self.negotiators:
            entry[f"{negotiator.id}_utility"] = negotiator.utility(offer)[idx]
        entry["response"] = code  # a Response
        self.round_log.append(entry)

    def keep(self, rows: np.ndarray) -> None:
        """Carry on with the worlds ``rows`` (positions in the model now, ascending) only: every per-world array
        of the model and its agents keeps those rows (:mod:`sim.engine.compaction`). ``self.rows`` tells each
        kept world's row in the batch as it started; recorded rounds name worlds by it."""
        trace = None if self._trace is None else np.flatnonzero(np.isin(rows, self._trace))
        keep_rows(self, rows)
        self._trace = trace

    def outcomes(self) -> dict[str, np.ndarray]:
        """One record per world: how it ended, the terms, and each party's payoff and utility.

        Payoffs are in USD bn: the yearly payoff of the agreed package (without a deal: of the no-deal
        path valued from the end round) minus the party's delay cost for every round of talks. Utilities
        exclude the delay cost.
        """
        deal = self.end_reason == EndReason.AGREEMENT
        protocol = self.protocol
        # with a sequential agenda, talks that stop mid-way leave the stages agreed so far in force
        partial = protocol.partial(deal)
        no_deal = self.no_deal.package(self.end_round)
        package = np.where(deal[:, None], self.agreement,
                           np.where(partial[:, None] & protocol.locked, protocol.locked_value, no_deal))
        out: dict[str, np.ndarray] = {
            "deal": deal,
            "partial_deal": partial,
            "stages_agreed": protocol.stages_agreed(deal),
            "defections": protocol.defections.copy(),
            "end_round": self.end_round.copy(),
            "end_reason": self.end_reason.copy(),
            "deadline": self.deadlines.deadline.astype(np.int32),
            "deadline_extended": self.deadlines.extended.copy(),
            "final_deadline": self.deadlines.final_deadline.astype(np.int32),
        }
        # a partial deal: the agreed stages' values, and on the other issues the value in force in the end round
        in_force = self.no_deal.in_force(self.end_round)
        for j, name in enumerate(self.space.names):
            out[name] = np.where(partial & protocol.locked[:, j], protocol.locked_value[:, j],
                                 np.where(partial, in_force[:, j], self.agreement[:, j]))
        # an agreed term on its issue's range bound: -1 at the min, +1 at the max, 0 inside (or without a deal)
        lo, hi = self.box
        tol = 1e-6 * np.maximum(hi - lo, 1.0)
        at_min = deal[:, None] & (np.abs(self.agreement - lo) <= tol)
        at_max = deal[:, None] & (np.abs(self.agreement - hi) <= tol)
        at_bound = np.where(at_max, 1, np.where(at_min, -1, 0)).astype(np.int8)
        for j, name in enumerate(self.space.names):
            out[f"{name}_at_bound"] = at_bound[:, j]
        out["terms_at_bound"] = np.count_nonzero(at_bound, axis=1).astype(np.int32)
        # a deal that sits on a red line (a bound tighter than the issue's range) of either party
        at_line = np.zeros(self.n_worlds, dtype=bool)
        for agent in self.negotiators:
            tight_lo, tight_hi = agent.red_lo > lo + 1e-12, agent.red_hi < hi - 1e-12
            at_line |= np.any((tight_lo & (np.abs(self.agreement - agent.red_lo) < 1e-9))
                              | (tight_hi & (np.abs(self.agreement - agent.red_hi) < 1e-9)), axis=1)
        out["red_line_binding"] = deal & at_line
        out["zopa"] = self.zone_of_agreement()
        settled = deal | partial
        for agent in self.negotiators:
            rv = agent.reservation(self.end_round)
            value = np.where(settled, agent.utility.payoff(package), agent.value_of_no_deal.payoff(self.end_round))
            out[f"{agent.id}_payoff"] = value - agent.delay_cost * self.end_round
            out[f"{agent.id}_utility"] = np.where(settled, agent.utility(package), rv)
            out[f"{agent.id}_reservation_utility"] = rv
            out[f"{agent.id}_approval"] = np.where(settled, agent.approval(package), np.nan)
        return out

    def zone_of_agreement(self) -> np.ndarray:
        """Whether each world has a zone of agreement: a package, within both parties' red lines, that both
        prefer to no deal by their true utilities at the final deadline (their reservation values in that round).

        The package best for the first party among those the second values at least at its reservation value
        is a fractional knapsack (:func:`~sim.domain.tradeoff.tradeoff_package`); there is a zone of agreement
        when it gives the first party more than its reservation value. Ratification is not considered. It depends
        on nothing the talks change, so it is worked out once per world (a batch's outcomes are read again each
        time ended worlds are dropped: :meth:`keep`).
        """
        if self._zone is None:
            self._zone = self._zone_of_agreement()
        return self._zone

    def _zone_of_agreement(self) -> np.ndarray:
        first, second = self.negotiators
        lo, hi = np.maximum(first.red_lo, second.red_lo), np.minimum(first.red_hi, second.red_hi)
        overlap = np.all(lo <= hi, axis=1)
        hi = np.maximum(lo, hi)
        t = self.deadlines.final_deadline
        rv_first, rv_second = first.reservation(t), second.reservation(t)
        c_first, c_second = (n.utility.per_unit for n in self.negotiators)
        best_second = np.where(c_second > 0, hi, lo)
        budget = second.utility(best_second) - rv_second - 1e-9
        x = tradeoff_package(c_second, c_first, lo, hi, best_second, budget)
        return overlap & (budget >= 0) & (first.utility(x) > rv_first + 1e-9)

    def round_table(self) -> dict[str, np.ndarray]:
        """The recorded rounds of the traced worlds, as flat columns."""
        if not self.round_log:
            return {}
        cols = {k: np.concatenate([r[k] for r in self.round_log]) for k in self.round_log[0] if k != "offer"}
        offers = np.concatenate([r["offer"] for r in self.round_log])
        for j, name in enumerate(self.space.names):
            cols[name] = offers[:, j]
        return cols
