"""
Negotiator and constituency agents
==================================

One :class:`Negotiator` per party. Each agent holds its party's state for all B worlds of a batch as
NumPy arrays, and is composed of three parts in the BOA architecture (Baarslag et al. 2014):

* an **offering strategy** (:mod:`sim.engine.offering`): how far to concede in a round, and the
  package built at that concession;
* an **acceptance strategy** (:mod:`sim.engine.acceptance`): whether to accept the offer on the table;
* an **opponent model** (:mod:`sim.engine.opponent`): what it believes of the other side.

The negotiator itself holds what the party *is*: its utility, its ideal package and red lines, its
deadline, its reservation value (its value of the no-deal path), and its constituencies. It keeps
every offer at or above its reservation value and within its red lines, its win-set and what the
protocol has locked. Its two verbs are :meth:`Negotiator.propose` and :meth:`Negotiator.respond`.

:class:`Constituency` agents are the parties' domestic constituencies (Putnam's level II), who must
ratify an agreement.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.domain.tradeoff import Tradeoffs, frozen, same_bits
from sim.engine.acceptance import EPS
from sim.engine.inputs import PartyInputs, PartySpec
from sim.engine.codes import Response
from sim.engine.streams import Stream

__all__ = ["Constituency", "Negotiator"]


class Negotiator(mesa.Agent):
    """A party's negotiator, acting in all worlds of a batch at once.

    Args:
        model: The negotiation model (gives the shared random streams).
        spec: The party (id, name, and the classes of its parts).
        index: Its position in the scenario (0 or 1), which numbers its random streams.
        inputs: Its per-world numbers, arrays with a leading world axis.
        box: The negotiation box ``(lo, hi)``, per issue.
        utility: Its :class:`~sim.domain.utility.BatchUtility`.
        no_deal: The talks' :class:`~sim.domain.no_deal.NoDealPath`.
        protocol: The protocol of the talks.
        constituencies: Its constituencies, an :class:`mesa.AgentSet` (possibly empty).
        threshold_changes: Dated changes of its ratification threshold, ``(first round, value)``.

    Attributes:
        id: The party's id.
        offering, acceptance, opponent: Its three parts.
        other: The negotiator across the table (set by :meth:`meet`).
        best: Its ideal package in each world (within its own bounds), shape ``(B, n)``.
        red_lo, red_hi: Its own bounds in each world: the box, narrowed by the red lines that hold there.
        stated_lo, stated_hi: Its red lines as it states them, whatever their strength (read-only, as its own bounds
            and its ideal ``best`` are).
        lines_hold: Whether each of its red lines holds in each world, ``(B, n)`` (True where it has none).
        firmness: Its per-issue exponent on the concession of its line offers, ``(B, n)``.
        last_offer: The package it offered most recently, ``(B, n)``.
    """

    def __init__(self, model: mesa.Model, spec: PartySpec, index: int, inputs: PartyInputs,
                 box: tuple[np.ndarray, np.ndarray], utility, no_deal, protocol, constituencies: mesa.AgentSet,
                 threshold_changes: tuple[tuple[int, float], ...] = ()) -> None:
        super().__init__(model)
        self.spec, self.id, self.index, self.inputs = spec, spec.id, index, inputs
        self.streams = model.streams
        self.n_worlds = len(inputs.deadline)
        self.utility = utility
        self.deadlines = no_deal.deadlines
        self.value_of_no_deal = no_deal.valued_by(utility, inputs.u_status_quo, inputs.u_escalated)
        self.protocol = protocol
        self.constituencies = constituencies
        self._threshold_changes = threshold_changes

        self.box = box
        lo, hi = box
        # its own bounds: the box, narrowed by its red lines and the issues it keeps off the table. A red line
        # of strength p < 1 holds in a world with probability p, drawn once per world and issue from the
        # world's own stream; where it does not hold, the issue keeps only the box (and the off-table fix).
        # Its red lines as it states them (what the other side's opponent model reads) and these bounds are its own
        # read-only arrays (frozen: a check that they still hold the same numbers needs no comparison).
        self.stated_lo, self.stated_hi = _frozen_copy(inputs.red_lo), _frozen_copy(inputs.red_hi)
        self.red_lo, self.red_hi = self.stated_lo, self.stated_hi
        self.lines_hold = np.ones(inputs.red_lo.shape, dtype=bool)
        if np.any(inputs.line_strength < 1.0):
            self.lines_hold = self.streams.uniform(Stream.red_line(index), 0, inputs.red_lo.shape[1]) \
                < inputs.line_strength
            self.red_lo = _frozen(np.where(self.lines_hold, inputs.red_lo, inputs.loose_lo))
            self.red_hi = _frozen(np.where(self.lines_hold, inputs.red_hi, inputs.loose_hi))
        self.best = _frozen(np.clip(np.where(utility.a > 0, hi, lo), self.red_lo, self.red_hi))
        self.has_red_lines = bool(np.any(self.red_lo > lo) or np.any(self.red_hi < hi))
        self.deadline = inputs.deadline  # NaN: works to the talks' deadline as publicly known
        self.deadline_private = inputs.deadline_private > 0
        self.delay_cost = inputs.delay_cost
        self.noise = inputs.noise
        self.firmness = inputs.firmness  # per-issue exponent on its line offers' concession
        self.has_firmness = bool(np.any(self.firmness != 1.0))
        self.walk_away = inputs.walk_away > 0
        self.discount = inputs.discount
        self._threshold = inputs.threshold
        self.knows_win_set = inputs.knows_win_set > 0
        self.u_best = self.utility(self.best)  # 1 unless its own constraints rule its ideal package out

        self.offering = spec.offering[1](**inputs.offering)
        self.acceptance = spec.acceptance[1](**inputs.acceptance)
        self.opponent = spec.opponent[1](**inputs.opponent)
        self._planned: tuple[int, np.ndarray] | None = None  # (round, offer) worked out by respond()
        self._no_deal_tradeoffs: Tradeoffs | None = None  # its no-deal check's knapsack order, while it holds
        # (copies of the bounds it was made from, the believed common box, those bounds that were frozen)
        self._common_box: tuple | None = None
        self.last_offer = self.best.copy()
        self.other: Negotiator | None = None

    def meet(self, other: Negotiator) -> None:
        """Seat the other party across the table and form the first beliefs about it."""
        self.other = other
        self.opponent.attach(self)

    # -- value and time --------------------------------------------------------------------------

    def reservation(self, t: int | np.ndarray) -> np.ndarray:
        """Reservation value in round ``t``: its utility of the no-deal path over the valuation window
        (see :mod:`sim.domain.no_deal`)."""
        return self.value_of_no_deal.reservation(t)

    def own_deadline(self, t: int) -> np.ndarray:
        """The round by which this party means to have conceded to its reservation value.

        Its own deadline (or the talks' deadline as known in round ``t``), or, if sooner, the round by
        which the talks will more likely than not have broken down: with a risk of collapse, waiting is
        worth less.
        """
        deadline = np.where(np.isnan(self.deadline), self.deadlines.known(t), self.deadline)
        return np.minimum(deadline, self.deadlines.breakdown_horizon)

    def relative_time(self, t: int) -> np.ndarray:
        """Share of this party's own time elapsed in round ``t``: 0 in round 1, 1 at its deadline
        (and 1 throughout a one-round negotiation)."""
        span = self.own_deadline(t) - 1.0
        elapsed = np.divide(t - 1.0, span, out=np.ones_like(span), where=span > 0)
        return np.clip(elapsed, 0.0, 1.0)

    def time_at_next_turn(self, t: int) -> np.ndarray:
        """Share of this party's own time that will have passed when it next responds, if it does not accept in
        round ``t``: its relative time ``protocol.turn_gap`` rounds on (with alternating offers a side responds
        every other round, so 1 when round ``t`` is its last response before its deadline)."""
        return self.relative_time(t + self.protocol.turn_gap)

    def draw_uniform(self, t: int) -> np.ndarray:
        """Uniform draws for a randomising strategy, one per world and issue."""
        return self.streams.uniform(Stream.strategy(self.index), t, self.best.shape[1])

    def draw_normal(self, t: int) -> np.ndarray:
        """Standard normal draws for the concession noise, one per world and issue."""
        return self.streams.normal(Stream.noise(self.index), t, self.best.shape[1])

    # -- verbs -----------------------------------------------------------------------------------

    def plan_offer(self, t: int) -> np.ndarray:
        """The package this party would offer in round ``t``, without making it.

        The offering strategy builds the package; the issues the protocol has locked keep their agreed
        values; if the package would be worth less than the reservation value, the concession is scaled
        back toward the party's fallback (its ideal, with the locked issues) until it is worth exactly
        that; and a party that knows its win-set does the same with its constituencies' approval.
        """
        offer = self.offering.package(self, t)
        offer, base = self.protocol.lock(offer, self.best)
        staged = self.protocol.staged
        u = self.utility(offer)
        rv = self.reservation(t)
        below = u < rv
        if below.any():
            u_base = self.utility(base) if staged else self.u_best
            offer = _scale_back(offer, base, below, u_base - u, u_base - rv)
        if self.knows_win_set.any() and self.ratification_binds(t):  # nor propose what would not be ratified
            # per world: one whose threshold rejects nothing is never short, not even by an approval of -1e-17
            # (else its offer would depend on whether a batch-mate's threshold binds)
            threshold = self.threshold(t)
            rho = np.where(self.knows_win_set & (threshold > 0), threshold, -np.inf)
            a_offer, a_base = self.approval(offer), self.approval(base)
            short = a_offer < rho
            if short.any():
                offer = _scale_back(offer, base, short, a_base - a_offer, a_base - rho)
        return offer

    def propose(self, t: int) -> np.ndarray:
        """Make this party's offer for round ``t`` in every world.

        The offer this party worked out as its next offer when it last responded (AC_next) is the same
        computation with the same state and the same random draws, so it is reused.
        """
        if self._planned is not None and self._planned[0] == t:
            self.last_offer = self._planned[1]
        else:
            self.last_offer = self.plan_offer(t)
        self._planned = None
        return self.last_offer

    def forget_plan(self) -> None:
        """Drop the offer planned for next round (the protocol changed what an offer may contain)."""
        self._planned = None

    def respond(self, offer: np.ndarray, t: int) -> np.ndarray:
        """Accept, counter or walk away from ``offer`` in round ``t``.

        The opponent model observes the offer first (tit-for-tat answers this one), then the party plans
        its next offer. It accepts when its acceptance strategy does, and never below its current
        reservation value, outside its red lines or (if it knows it) outside its win-set. A party allowed
        to walk away does so when it believes no package can give both sides their reservation values
        (:meth:`_sees_no_deal`).

        Returns:
            A :class:`~sim.engine.codes.Response` per world: counter, accept or walk-away.
        """
        received = offer
        offer = self.protocol.as_seen_by(self, offer, t)
        u = self.utility(offer)
        self.opponent.observe(u, received)
        self._planned = (t + 1, self.plan_offer(t + 1))
        rv = self.reservation(t)
        final = t >= self.deadlines.final_deadline
        next_u = self.utility(self._planned[1])
        accept = (u >= rv - EPS) & self.acceptance.accepts(self, u, next_u, t, final) & self.within_red_lines(offer)
        if self.knows_win_set.any() and self.ratification_binds(t):  # it accepts nothing outside its win-set
            accept &= ~self.knows_win_set | self.ratifies(offer, t)
        response = np.where(accept, Response.ACCEPT, Response.COUNTER)
        if self.walk_away.any():
            walk = ~accept & self.walk_away & self._sees_no_deal(t, rv)
            response = np.where(walk, Response.WALK_AWAY, response)
        return response

    # -- ratification ----------------------------------------------------------------------------

    def approval(self, x: np.ndarray) -> np.ndarray:
        """Weighted approval of packages ``x`` by this party's constituencies (1 if it has none)."""
        if not self.constituencies:
            return np.ones(self.n_worlds)
        weights = self.constituencies.get("weight")
        total = sum(weights, np.zeros(self.n_worlds))
        votes = sum(w * a for w, a in zip(weights, self.constituencies.map("approval", x), strict=True))
        return np.divide(votes, total, out=np.ones_like(total), where=total > 0)

    def threshold(self, t: int) -> np.ndarray:
        """Approval needed to ratify in round ``t`` (it may change on a date, e.g. after an election)."""
        rho = self._threshold
        for first_round, value in self._threshold_changes:
            if t >= first_round:
                rho = np.full_like(rho, value)
        return rho

    def ratification_binds(self, t: int) -> bool:
        """Whether this party's ratification can reject anything in round ``t`` (a threshold above 0)."""
        return bool(np.any(self.threshold(t) > 0))

    def ratifies(self, x: np.ndarray, t: int) -> np.ndarray:
        """Whether this party's constituencies would ratify packages ``x`` in round ``t``."""
        return self.approval(x) >= self.threshold(t) - 1e-12

    def within_red_lines(self, x: np.ndarray) -> np.ndarray:
        """Whether each package respects this party's red lines and the issues it keeps off the table."""
        if not self.has_red_lines:
            return np.ones(len(x), dtype=bool)
        return np.all((x >= self.red_lo - 1e-9) & (x <= self.red_hi + 1e-9), axis=1)

    def believed_common_box(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The packages it believes both sides may agree: its own bounds narrowed by the other side's stated red
        lines (its own where the two do not overlap); its best package there and its utility.

        Worked out again only when a bound or its ideal holds other numbers than last time (compared bit for bit
        with copies, so an opponent model that changes its stated bounds in place is seen; a bound that is the
        same :func:`~sim.domain.tradeoff.frozen` array as last time is not compared), so not in every round
        of a party whose beliefs hold. Its own utility function never changes during a run. The arrays returned
        are shared between rounds and read-only.
        """
        other_lo, other_hi = self.opponent.believed_bounds()
        given = (self.red_lo, self.red_hi, other_lo, other_hi, self.best)
        kept = self._common_box
        if kept is not None and all(same_bits(copy, now, source)
                                    for copy, now, source in zip(kept[0], given, kept[2], strict=True)):
            return kept[1]
        lo, hi = np.maximum(self.red_lo, other_lo), np.minimum(self.red_hi, other_hi)
        overlap = np.all(lo <= hi, axis=1, keepdims=True)
        lo, hi = np.where(overlap, lo, self.red_lo), np.where(overlap, hi, self.red_hi)
        best = np.clip(self.best, lo, hi)
        box = (lo, hi, best, self.utility(best))
        for array in box:
            array.setflags(write=False)
        self._common_box = (tuple(np.array(a, dtype=float) for a in given), box,
                            tuple(a if frozen(a) else None for a in given))
        return box

    def _sees_no_deal(self, t: int, rv: np.ndarray) -> np.ndarray:
        """Whether, by its beliefs, no package gives both sides their reservation values in round ``t``.

        Among the packages it believes both may agree (:meth:`believed_common_box`), those worth at least its
        reservation value to it include one the other side values most, by its opponent model's utility per unit: a
        fractional knapsack (:func:`~sim.domain.tradeoff.tradeoff_package`, the linear programme's exact solution).
        It sees no deal when that package is worth less to the other side than its believed reservation value, or
        when no package there reaches its own.
        """
        lo, hi, best, u_best = self.believed_common_box()
        model = self.opponent
        budget = u_best - rv
        c_me = self.utility.per_unit
        # sorted again only when its beliefs or its box changed since the last round
        self._no_deal_tradeoffs = Tradeoffs.reuse(self._no_deal_tradeoffs, c_me, model.believed_weights(), lo, hi, best)
        x = self._no_deal_tradeoffs.at(np.maximum(budget, 0.0))
        return (budget < -EPS) | (model.utility(x) < model.believed_reservation(t) - EPS)


def _frozen_copy(a: np.ndarray) -> np.ndarray:
    """A read-only float64 copy of ``a`` (one of the caller's inputs, left as it is), owning its memory."""
    return _frozen(np.array(a, dtype=float))


def _frozen(a: np.ndarray) -> np.ndarray:
    """``a``, an array of the party's own, made read-only (:func:`~sim.domain.tradeoff.frozen`)."""
    a.setflags(write=False)
    return a


def _scale_back(offer: np.ndarray, base: np.ndarray, short: np.ndarray, room: np.ndarray, allowed: np.ndarray
                ) -> np.ndarray:
    """Move ``offer`` back toward ``base`` in the worlds ``short`` until a linear measure (utility,
    approval) that falls by ``room`` from base to offer falls only by ``allowed``. The other worlds' offers are
    kept as they are, bit for bit (``base + 1.0 * (offer - base)`` may differ from ``offer`` in its last bit, which
    would make a world's offer depend on whether a batch-mate was short)."""
    room = np.where(short, room, 1.0)
    scale = np.where(short, np.clip(allowed / np.where(room > 0, room, 1.0), 0.0, 1.0), 1.0)
    return np.where(short[:, None], base + scale[:, None] * (offer - base), offer)


class Constituency(mesa.Agent):
    """A domestic constituency of one party (Putnam's level II): automakers, farmers, steel, consumers.

    Args:
        model: The negotiation model.
        party: Id of the party it belongs to.
        name: Its name.
        inputs: Its vote weight ``(B,)`` and its approval terms: ``coef`` ``(B, n)`` and ``offset`` ``(B,)``,
            already normalised so that its worst package in the box scores 0 and its best 1.
    """

    def __init__(self, model: mesa.Model, party: str, name: str, inputs) -> None:
        super().__init__(model)
        self.party, self.name = party, name
        self.weight, self.coef, self.offset = inputs.weight, inputs.coef, inputs.offset

    def approval(self, x: np.ndarray) -> np.ndarray:
        """Approval in [0, 1] of packages ``x``: 0 for its worst package in the box, 1 for its best."""
        return np.einsum("bn,bn->b", x, self.coef) + self.offset
