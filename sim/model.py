"""
US–Japan Tariff Negotiation
===========================

A Mesa model of bilateral, multi-issue tariff talks under alternating offers with a deadline.

One model instance advances a *batch* of B independent negotiations ("worlds") at once: each of its
two :class:`~sim.agents.Negotiator` agents holds its side's state for all B worlds as arrays, and
one :meth:`NegotiationModel.step` plays one round in every world that is still talking. Worlds may
differ in seed and in any numeric parameter. Every random draw of a world comes from that world's
own seed (:mod:`sim.streams`), so a world's result does not depend on B or on its batch-mates.

A round: the proposer (the opener in odd rounds, the other side in even rounds) offers a full
package; the responder accepts, counters (its counter-offer is next round's proposal) or walks away.
The talks in a world also end when a per-round breakdown risk strikes, or without a deal at the
final deadline: the US deadline, moved once by an extension that happens with a given probability
(revealed when the deadline is reached, as the 7 July 2025 letter was). A no-deal at the final
deadline leaves the status quo with the reciprocal tariff raised by the escalation.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.agents import ACCEPT, WALK_AWAY, Constituency, Negotiator
from sim.config import Structure
from sim.streams import RandomStreams, Stream

__all__ = ["END_REASONS", "NegotiationModel"]

# end_reason codes; 0 means still talking
END_REASONS = {1: "agreement", 2: "walk-away", 3: "deadline", 4: "breakdown", 5: "refused protocol"}
_AGREEMENT, _WALK_AWAY, _DEADLINE, _BREAKDOWN, _REFUSED = 1, 2, 3, 4, 5


class NegotiationModel(mesa.Model):
    """A batch of US–Japan negotiations advanced round by round.

    Args:
        structure: What all worlds of the batch share: outcome space, strategies, opener, calendar.
        params: Per-world parameters, arrays with a leading world axis (see :mod:`sim.config`).
        seeds: One ``uint64`` seed per world.
        record_rounds: Indices of worlds whose offers are recorded round by round (``None``: none).
        rng: Seed for Mesa's own generators (``model.rng``); worlds draw from their own seeds.

    Attributes:
        n_worlds: Number of worlds B.
        active: Whether each world is still talking.
        end_round: Round in which each world ended (0 while talking).
        end_reason: Code of how each world ended (see :data:`END_REASONS`).
        agreement: Agreed package per world (NaN without a deal).
        final_deadline: Last round of talks per world, after any extension.
        extended: Whether each world's deadline was extended.
        breakdown_horizon: Per world, the round by which the talks have broken down with probability
            at least 1/2 (infinite without a breakdown risk); negotiators work to it if it comes first.
    """

    def __init__(
        self,
        structure: Structure,
        params: dict[str, np.ndarray],
        seeds: np.ndarray,
        record_rounds: np.ndarray | None = None,
        rng: int | None = None,
    ) -> None:
        super().__init__(rng=rng)
        self.structure = structure
        self.space = structure.space
        self.tariff_schedule = structure.schedule  # tariff changes and threats (not a Mesa scheduler)
        self.max_rounds = structure.max_rounds
        self.valuation_rounds = params["valuation_rounds"]
        self.seeds = np.asarray(seeds, dtype=np.uint64)
        self.n_worlds = len(self.seeds)
        self.streams = RandomStreams(self.seeds)

        # exogenous schedule: the deadline, its extension, the escalation
        self.deadline = params["deadline"].astype(float)
        self.extended = self.streams.uniform(Stream.EXTENSION) < params["extension_probability"]
        self.final_deadline = self.deadline + np.where(self.extended, params["extension_rounds"], 0.0)
        self.breakdown_risk = params["breakdown_risk"]
        self._breakdown_possible = bool(np.any(self.breakdown_risk > 0))
        # the round by which the talks have broken down with probability >= 1/2: 1 - (1 - p)^k >= 1/2
        with np.errstate(divide="ignore", over="ignore"):  # p -> 0: an infinite horizon, as it should be
            median = np.ceil(np.log(0.5) / np.log1p(-np.minimum(self.breakdown_risk, 1 - 1e-12)))
        self.breakdown_horizon = np.where(self.breakdown_risk > 0, np.maximum(median, 2.0), np.inf)
        self.status_quo = params["status_quo"]
        self.no_deal_escalated = self.status_quo.copy()
        if "reciprocal" in self.space.names:
            self.no_deal_escalated[:, self.space.index("reciprocal")] += params["escalation"]

        sides = {
            side: Negotiator(self, side, structure.strategy_class(side)(**_prefixed(params, f"{side}.strategy.")),
                             _prefixed(params, f"{side}."))
            for side in ("us", "japan")
        }
        self.us, self.japan = sides["us"], sides["japan"]
        # level II (Putnam 1988): each side's domestic constituencies, who must ratify an agreement
        self.constituencies = [
            Constituency(self, side, name, params[f"{side}.constituency.{name}.weight"],
                         params[f"{side}.constituency.{name}.coef"], params[f"{side}.constituency.{name}.offset"])
            for side, name in structure.constituencies
        ]
        self.defections = np.zeros(self.n_worlds, dtype=np.int32)
        self.us.meet(self.japan)
        self.japan.meet(self.us)
        self.opener = sides[structure.opener]
        self.replier = self.japan if self.opener is self.us else self.us

        # the agenda: stages of issues settled one after another (one stage of everything: a package)
        self.staged = structure.agenda != "package"
        self.stage_mask = np.zeros((len(structure.stages), self.space.n), dtype=bool)
        for k, issues in enumerate(structure.stages):
            self.stage_mask[k, list(issues)] = True
        self.stage = np.zeros(self.n_worlds, dtype=np.int32)
        self.locked = np.zeros((self.n_worlds, self.space.n), dtype=bool)
        self.locked_value = np.full((self.n_worlds, self.space.n), np.nan)

        self.active = np.ones(self.n_worlds, dtype=bool)
        self.end_round = np.zeros(self.n_worlds, dtype=np.int32)
        self.end_reason = np.zeros(self.n_worlds, dtype=np.int8)
        # a side that refuses the agenda ends the talks before the first offer
        refused = (params["us.refuses"] > 0) | (params["japan.refuses"] > 0)
        self.active[refused] = False
        self.end_round[refused] = 1
        self.end_reason[refused] = _REFUSED
        self.agreement = np.full((self.n_worlds, self.space.n), np.nan)
        self._trace = None if record_rounds is None or len(record_rounds) == 0 else np.asarray(record_rounds)
        self.round_log: list[dict[str, np.ndarray]] = []

        self.datacollector = mesa.DataCollector(
            model_reporters={"talking": lambda m: int(m.active.sum()), "deals": lambda m: int((m.end_reason == 1).sum())}
        )
        self.running = True
        self.datacollector.collect(self)

    def pending_mask(self) -> np.ndarray:
        """Per world, the issues of stages after the current one, shape ``(B, n)``."""
        current = self.stage_mask[np.minimum(self.stage, len(self.stage_mask) - 1)]
        return ~self.locked & ~current

    def window_share(self, start: np.ndarray, t: int | np.ndarray) -> np.ndarray:
        """Share of the valuation window beginning in round ``t`` that lies at or after round ``start``."""
        window = self.valuation_rounds
        return np.clip((t + window - np.maximum(t, start)) / window, 0.0, 1.0)

    def no_deal_mean(self, t: int | np.ndarray) -> np.ndarray:
        """Per world and issue, the mean value of the no-deal path over the valuation window from round
        ``t`` (status quo, announced scheduled changes, the escalation after the deadline), ``(B, n)``."""
        t = np.asarray(t)
        mean = self.status_quo.copy()
        for change in self.tariff_schedule:
            known = t >= change.announced
            mean[:, change.issue] += np.where(known, change.step * self.window_share(change.effective, t), 0.0)
        if "reciprocal" in self.space.names:
            j = self.space.index("reciprocal")
            mean[:, j] += (self.no_deal_escalated[:, j] - self.status_quo[:, j]) * self.window_share(
                self.known_deadline(t), t)
        return mean

    def known_deadline(self, t: int) -> np.ndarray:
        """The talks' deadline as known in round ``t``: an extension is revealed at the deadline."""
        return np.where(t >= self.deadline, self.final_deadline, self.deadline)

    def step(self) -> None:
        """Play one round in every world still talking: a proposal, then a response."""
        t = self.steps
        proposer, responder = (self.opener, self.replier) if t % 2 == 1 else (self.replier, self.opener)
        offer = proposer.propose(t)
        response = responder.respond(offer, t)

        talking = self.active
        accepted = talking & (response == ACCEPT)
        if self.staged:  # an accepted stage is locked in; the deal is the last stage's acceptance
            newly = accepted[:, None] & self.stage_mask[np.minimum(self.stage, len(self.stage_mask) - 1)]
            self.locked_value = np.where(newly, offer, self.locked_value)
            self.locked |= newly
            self.stage = self.stage + accepted
            agreed = accepted & (self.stage >= len(self.stage_mask))
            if accepted.any():  # next round's offers must respect the new locks
                self.us._planned = self.japan._planned = None
            offer = np.where(self.locked, self.locked_value, offer)
        else:
            agreed = accepted
        if agreed.any() and (self.us.ratification_binds(t) or self.japan.ratification_binds(t)):
            # a tentative agreement takes effect only if both sides ratify it; if not, it is an involuntary
            # defection and the talks go on (a staged agenda reopens its last stage)
            ratified = self.us.ratifies(offer, t) & self.japan.ratifies(offer, t)
            defected = agreed & ~ratified
            if defected.any():
                self.defections += defected
                agreed = agreed & ratified
                if self.staged:
                    self.stage = self.stage - defected
                    reopen = defected[:, None] & self.stage_mask[np.minimum(self.stage, len(self.stage_mask) - 1)]
                    self.locked &= ~reopen
                    self.locked_value = np.where(reopen, np.nan, self.locked_value)
                    self.us._planned = self.japan._planned = None
        walked = talking & (response == WALK_AWAY)
        undecided = talking & ~agreed & ~walked
        timed_out = undecided & (t >= self.final_deadline)
        broken = undecided & ~timed_out
        if self._breakdown_possible:
            broken &= self.streams.uniform(Stream.BREAKDOWN, t) < self.breakdown_risk
        else:
            broken[:] = False

        self.agreement[agreed] = offer[agreed]
        ended = agreed | walked | timed_out | broken
        self.end_round[ended] = t
        self.end_reason[agreed] = _AGREEMENT
        self.end_reason[walked] = _WALK_AWAY
        self.end_reason[timed_out] = _DEADLINE
        self.end_reason[broken] = _BREAKDOWN
        if self._trace is not None:
            self._record(t, proposer, offer, response)
        self.active = talking & ~ended
        if not self.active.any() or t >= self.max_rounds:
            self.running = False
        self.datacollector.collect(self)

    def _record(self, t: int, proposer: Negotiator, offer: np.ndarray, response: np.ndarray) -> None:
        """Keep the round's offer and response for the traced worlds that were still talking."""
        idx = self._trace[self.active[self._trace]]
        code = np.where(self.end_reason[idx] >= _DEADLINE, self.end_reason[idx] + 1, response[idx])
        self.round_log.append(
            {
                "world_index": idx,
                "round": np.full(len(idx), t),
                "proposer": np.full(len(idx), proposer.side),
                "offer": offer[idx],
                "us_utility": self.us.utility(offer)[idx],
                "japan_utility": self.japan.utility(offer)[idx],
                "response": code,  # 0 counter, 1 accept, 2 walk-away, 4 deadline, 5 breakdown
            }
        )

    def outcomes(self) -> dict[str, np.ndarray]:
        """One record per world: how it ended, the terms, and each side's payoff and utility.

        Payoffs are in USD bn: the yearly payoff of the agreed package (without a deal: of the no-deal
        path valued from the end round, see :meth:`Negotiator.no_deal_payoff`) minus the side's delay
        cost for every round of talks. Utilities exclude the delay cost.
        """
        deal = self.end_reason == _AGREEMENT
        # sequential talks that stop mid-way leave the stages agreed so far in force: a piecemeal deal
        partial = (self.structure.agenda == "sequential") & ~deal & self.locked.any(axis=1)
        no_deal = self.no_deal_mean(self.end_round)
        package = np.where(deal[:, None], self.agreement,
                           np.where(partial[:, None] & self.locked, self.locked_value, no_deal))
        out: dict[str, np.ndarray] = {
            "deal": deal,
            "partial_deal": partial,
            "stages_agreed": np.where(deal, len(self.stage_mask), self.stage).astype(np.int32),
            "defections": self.defections.copy(),
            "end_round": self.end_round.copy(),
            "end_reason": self.end_reason.copy(),
            "deadline": self.deadline.astype(np.int32),
            "deadline_extended": self.extended.copy(),
            "final_deadline": self.final_deadline.astype(np.int32),
        }
        for j, name in enumerate(self.space.names):
            out[name] = np.where(partial & self.locked[:, j], self.locked_value[:, j], self.agreement[:, j])
        # a deal that sits on a red line (a bound tighter than the issue's range) of either side
        at_line = np.zeros(self.n_worlds, dtype=bool)
        for agent in (self.us, self.japan):
            tight_lo, tight_hi = agent.red_lo > self.space.lo + 1e-12, agent.red_hi < self.space.hi - 1e-12
            at_line |= np.any((tight_lo & (np.abs(self.agreement - agent.red_lo) < 1e-9))
                              | (tight_hi & (np.abs(self.agreement - agent.red_hi) < 1e-9)), axis=1)
        out["red_line_binding"] = deal & at_line
        settled = deal | partial
        for agent in (self.us, self.japan):
            rv = agent.reservation(self.end_round)
            value = np.where(settled, agent.payoff(package), agent.no_deal_payoff(self.end_round))
            out[f"{agent.side}_payoff"] = value - agent.delay_cost * self.end_round
            out[f"{agent.side}_utility"] = np.where(settled, agent.utility(package), rv)
            out[f"{agent.side}_reservation_utility"] = rv
            out[f"{agent.side}_approval"] = np.where(settled, agent.approval(package), np.nan)
        return out

    def round_table(self) -> dict[str, np.ndarray]:
        """The recorded rounds of the traced worlds, as flat columns."""
        if not self.round_log:
            return {}
        cols = {k: np.concatenate([r[k] for r in self.round_log]) for k in self.round_log[0] if k != "offer"}
        offers = np.concatenate([r["offer"] for r in self.round_log])
        for j, name in enumerate(self.space.names):
            cols[name] = offers[:, j]
        return cols


def _prefixed(params: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The entries of ``params`` under ``prefix``, with the prefix removed."""
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
