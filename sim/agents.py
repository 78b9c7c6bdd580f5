"""
Negotiator agents
=================

One :class:`Negotiator` per side (the United States and Japan). Each agent holds its side's state for
all B worlds of a batch as NumPy arrays: its payoff coefficients, its ideal package, its deadline,
its beliefs about the other side, and what it has seen of the other side's offers. Its two verbs are
:meth:`Negotiator.propose` and :meth:`Negotiator.respond`; the strategy decides only how far to
concede.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.strategies import Strategy
from sim.streams import Stream

if TYPE_CHECKING:
    from sim.model import NegotiationModel

__all__ = ["ACCEPT", "COUNTER", "WALK_AWAY", "Constituency", "Negotiator"]

COUNTER, ACCEPT, WALK_AWAY = 0, 1, 2
# Utility comparisons allow for rounding: an offer worth the same as the responder's own next offer
# up to this tolerance is accepted.
_EPS = 1e-12

_STREAMS = {
    "us": (Stream.US_NOISE, Stream.US_BELIEF, Stream.US_STRATEGY),
    "japan": (Stream.JAPAN_NOISE, Stream.JAPAN_BELIEF, Stream.JAPAN_STRATEGY),
}


class Negotiator(mesa.Agent):
    """A side's negotiator, acting in all worlds of a batch at once.

    Args:
        model: The negotiation model.
        side: ``"us"`` or ``"japan"``.
        strategy: The concession strategy.
        params: The side's per-world parameters (keys without the side prefix), arrays with a
            leading world axis.

    Attributes:
        side: ``"us"`` or ``"japan"``.
        strategy: The concession strategy.
        other: The negotiator across the table (set by the model).
        best: The side's ideal package in each world, shape ``(B, n)``.
        u_status_quo: Utility of no deal before the deadline, shape ``(B,)``.
        u_escalated: Utility of no deal after the deadline (escalated tariffs), ``(B,)``.
        discount: Per-round discount factor on the value of agreement (1: none), ``(B,)``.
        other_concession: Share of its room the other side has conceded so far, ``(B,)``.
        last_offer: The package this side offered most recently, ``(B, n)``.
    """

    def __init__(self, model: NegotiationModel, side: str, strategy: Strategy, params: dict) -> None:
        super().__init__(model)
        self.side = side
        self.strategy = strategy
        self.other: Negotiator | None = None
        self._noise_stream, belief_stream, self._strategy_stream = _STREAMS[side]

        space = model.space
        self.a = params["payoff_a"]
        self.b = params["payoff_b"]
        self.p_min = params["p_min"]
        self.p_span = params["p_max"] - params["p_min"]
        # the side's own bounds: the box, narrowed by its red lines and the issues it keeps off the table
        self.red_lo, self.red_hi = params["red_lo"], params["red_hi"]
        self.best = np.clip(np.where(self.a > 0, space.hi, space.lo), self.red_lo, self.red_hi)
        self.has_red_lines = bool(np.any(self.red_lo > space.lo) or np.any(self.red_hi < space.hi))
        self.deadline = params["deadline"]  # NaN: works to the talks' deadline as publicly known
        self.deadline_private = params["deadline_private"] > 0
        self.delay_cost = params["delay_cost"]
        self.noise = params["noise"] if strategy.uses_noise else np.zeros(model.n_worlds)
        self.walk_away = params["walk_away"] > 0
        beliefs = model.streams.normal(belief_stream, 0, 2)
        self._deadline_error = np.rint(beliefs[:, 0] * params["belief_deadline_sd"])
        self._reservation_error = beliefs[:, 1] * params["belief_reservation_sd"]

        self._rv_cache: dict[int, np.ndarray] = {}
        self._planned: tuple[int, np.ndarray] | None = None  # (round, offer) worked out by respond()
        self.u_best = self.utility(self.best)  # 1 unless its own constraints rule its ideal package out
        self.u_status_quo = params["u_status_quo"]
        self.u_escalated = params["u_escalated"]
        self.discount = params["discount"]
        self._threshold = params["threshold"]
        self.knows_win_set = params["knows_win_set"] > 0
        # utility step of each scheduled change: coefficient x (new value - value before it), normalised
        self._schedule_step = {c.index: self.a[:, c.issue] * c.step / self.p_span for c in model.tariff_schedule}
        self.last_offer = self.best.copy()
        self.other_concession = np.zeros(model.n_worlds)
        self._first_received = np.full(model.n_worlds, np.nan)

    def meet(self, other: Negotiator) -> None:
        """Seat the other side across the table and precompute the shared concession line."""
        self.other = other
        self._u_at_other_best = self.utility(other.best)
        self._other_u_at_my_best = other.utility(self.best)

    # -- preferences -----------------------------------------------------------------------

    def payoff(self, x: np.ndarray) -> np.ndarray:
        """Payoff in USD bn/yr of packages ``x`` (one per world)."""
        return np.einsum("bn,bn->b", x, self.a) + self.b

    def utility(self, x: np.ndarray) -> np.ndarray:
        """Normalised utility in [0, 1] of packages ``x`` (one per world)."""
        return (self.payoff(x) - self.p_min) / self.p_span

    def no_deal_payoff(self, t: int | np.ndarray) -> np.ndarray:
        """Payoff in USD bn/yr of no deal as seen in round ``t`` (no delay cost)."""
        return self.p_min + self.p_span * self.reservation(t)

    def reservation(self, t: int | np.ndarray) -> np.ndarray:
        """Reservation value in round ``t``: the mean utility of the no-deal path over the valuation
        window that begins in round ``t``.

        Without a deal the status quo stays in force, changed by every scheduled tariff change from its
        effective round (once announced, a change is anticipated), and the reciprocal tariff rises by
        the escalation from the talks' deadline as known in round ``t``. So the reservation value
        falls for Japan and rises for the US as the deadline nears (and equals the escalated no-deal
        utility from the final deadline on), and jumps when a change or threat is announced.
        """
        if isinstance(t, int):
            cached = self._rv_cache.get(t)
            if cached is None:
                cached = self._rv_cache[t] = self.reservation(np.int64(t))
                self._rv_cache.pop(t - 2, None)
            return cached
        rv = self.u_status_quo + (self.u_escalated - self.u_status_quo) * self.model.window_share(
            self.model.known_deadline(t), t)
        for change in self.model.tariff_schedule:
            known = t >= change.announced
            rv = rv + np.where(known, self._schedule_step[change.index] * self.model.window_share(change.effective, t), 0.0)
        return rv

    # -- time and beliefs --------------------------------------------------------------------

    def own_deadline(self, t: int) -> np.ndarray:
        """The round by which this side means to have conceded to its reservation value.

        Its own deadline (or the talks' deadline as known in round ``t``), or, if sooner, the round by
        which the talks will more likely than not have broken down (see
        :attr:`NegotiationModel.breakdown_horizon`): with a risk of collapse, waiting is worth less.
        """
        deadline = np.where(np.isnan(self.deadline), self.model.known_deadline(t), self.deadline)
        return np.minimum(deadline, self.model.breakdown_horizon)

    def relative_time(self, t: int) -> np.ndarray:
        """Share of this side's own time elapsed in round ``t``: 0 in round 1, 1 at its deadline
        (and 1 throughout a one-round negotiation)."""
        span = self.own_deadline(t) - 1.0
        elapsed = np.divide(t - 1.0, span, out=np.ones_like(span), where=span > 0)
        return np.clip(elapsed, 0.0, 1.0)

    def believed_other_deadline(self, t: int) -> np.ndarray:
        """This side's belief about the other side's deadline (exact if the other's is public)."""
        truth = self.other.own_deadline(t)
        guess = np.clip(truth + self._deadline_error, 1.0, self.model.max_rounds)
        return np.where(self.other.deadline_private, guess, truth)

    def strategy_uniform(self, t: int) -> np.ndarray:
        """Uniform draws for a randomising strategy, one per world and issue."""
        return self.model.streams.uniform(self._strategy_stream, t, self.model.space.n)

    # -- verbs -----------------------------------------------------------------------------

    def plan_offer(self, t: int) -> np.ndarray:
        """The package this side would offer in round ``t``, without making it.

        The strategy's concession level (plus noise) places each issue between this side's ideal
        and the other side's, within this side's red lines; if the package would be worth less than the
        reservation value, the concession is scaled back along the same direction until it is worth
        exactly that.
        """
        alpha = self.strategy.concession(self, t)
        if alpha.ndim == 1:
            alpha = alpha[:, None]
        if self.noise.any():
            alpha = alpha + self.noise[:, None] * self.model.streams.normal(self._noise_stream, t, self.model.space.n)
        alpha = np.minimum(np.maximum(alpha, 0.0), 1.0)
        offer = self.best + alpha * (self.other.best - self.best)
        if self.has_red_lines:
            offer = np.clip(offer, self.red_lo, self.red_hi)
        locked = self.model.locked
        base = self.best
        if self.model.staged:  # issues already agreed stay as agreed
            base = np.where(locked, self.model.locked_value, self.best)
            offer = np.where(locked, self.model.locked_value, offer)
        u = self.utility(offer)
        rv = self.reservation(t)
        below = u < rv
        if below.any():
            u_base = self.utility(base) if self.model.staged else self.u_best
            room = np.where(below, u_base - u, 1.0)
            scale = np.where(below, np.clip((u_base - rv) / np.where(room > 0, room, 1.0), 0.0, 1.0), 1.0)
            offer = base + scale[:, None] * (offer - base)
        if self.knows_win_set.any() and self.ratification_binds(t):  # nor propose what would not be ratified
            rho = np.where(self.knows_win_set, self.threshold(t), -np.inf)
            a_offer, a_base = self.approval(offer), self.approval(base)
            short = a_offer < rho
            if short.any():
                room = np.where(short, a_base - a_offer, 1.0)
                scale = np.where(short, np.clip((a_base - rho) / np.where(room > 0, room, 1.0), 0.0, 1.0), 1.0)
                offer = base + scale[:, None] * (offer - base)
        return offer

    def propose(self, t: int) -> np.ndarray:
        """Make this side's offer for round ``t`` in every world.

        The offer this side worked out as its next offer when it last responded (AC_next) is the
        same computation with the same state and the same random draws, so it is reused.
        """
        if self._planned is not None and self._planned[0] == t:
            self.last_offer = self._planned[1]
        else:
            self.last_offer = self.plan_offer(t)
        self._planned = None
        return self.last_offer

    def respond(self, offer: np.ndarray, t: int) -> np.ndarray:
        """Accept, counter or walk away from ``offer`` in round ``t``.

        AC_next (THEORY §4c): accept when the offer is worth at least as much as this side's own
        next offer, discounted by one round (``discount``, 1 unless set; with it this is the
        subgame-perfect acceptance rule of Rubinstein 1982), and never below the current reservation
        value; in the final round there is no next offer, so any offer at or above the reservation
        value is accepted. A side allowed to
        walk away does so when it believes no package on the line between the two ideals can give
        both sides their reservation values.

        Returns:
            Response code per world: :data:`COUNTER`, :data:`ACCEPT` or :data:`WALK_AWAY`.
        """
        if self.model.staged:
            # issues on later stages are valued at this side's own planned offer on them (its expectation)
            offer = np.where(self.model.pending_mask(), self.plan_offer(t + 1), offer)
        u = self.utility(offer)
        self._observe(u)  # before planning the next offer: tit-for-tat answers this one
        self._planned = (t + 1, self.plan_offer(t + 1))
        rv = self.reservation(t)
        final = t >= self.model.final_deadline
        next_u = self.utility(self._planned[1])
        accept = (u >= rv - _EPS) & (final | (u >= self.discount * next_u - _EPS)) & self.within_red_lines(offer)
        if self.knows_win_set.any() and self.ratification_binds(t):  # it accepts nothing outside its win-set
            accept &= ~self.knows_win_set | self.ratifies(offer, t)
        response = np.where(accept, ACCEPT, COUNTER)
        if self.walk_away.any():
            walk = ~accept & self.walk_away & self._sees_no_deal(t, rv)
            response = np.where(walk, WALK_AWAY, response)
        return response

    def approval(self, x: np.ndarray) -> np.ndarray:
        """Weighted approval of packages ``x`` by this side's constituencies (1 if it has none)."""
        groups = [c for c in self.model.constituencies if c.side == self.side]
        total = sum((c.weight for c in groups), np.zeros(self.model.n_worlds))
        if not groups:
            return np.ones(self.model.n_worlds)
        votes = sum(c.weight * c.approval(x) for c in groups)
        return np.divide(votes, total, out=np.ones_like(total), where=total > 0)

    def threshold(self, t: int) -> np.ndarray:
        """Approval needed to ratify in round ``t`` (it may change on a date, e.g. after an election)."""
        rho = self._threshold
        for side, first_round, value in self.model.structure.threshold_changes:
            if side == self.side and t >= first_round:
                rho = np.full_like(rho, value)
        return rho

    def ratification_binds(self, t: int) -> bool:
        """Whether this side's ratification can reject anything in round ``t`` (a threshold above 0)."""
        return bool(np.any(self.threshold(t) > 0))

    def ratifies(self, x: np.ndarray, t: int) -> np.ndarray:
        """Whether this side's constituencies would ratify packages ``x`` in round ``t``."""
        return self.approval(x) >= self.threshold(t) - 1e-12

    def within_red_lines(self, x: np.ndarray) -> np.ndarray:
        """Whether each package respects this side's red lines and the issues it keeps off the table."""
        if not self.has_red_lines:
            return np.ones(len(x), dtype=bool)
        return np.all((x >= self.red_lo - 1e-9) & (x <= self.red_hi + 1e-9), axis=1)

    # -- helpers ---------------------------------------------------------------------------

    def _observe(self, u: np.ndarray) -> None:
        """Track how far the other side has conceded, in this side's utility."""
        first = np.where(np.isnan(self._first_received), u, self._first_received)
        self._first_received = first
        room = 1.0 - first
        gained = np.divide(u - first, room, out=np.zeros_like(u), where=room > _EPS)
        self.other_concession = np.clip(gained, 0.0, 1.0)

    def _sees_no_deal(self, t: int, rv: np.ndarray) -> np.ndarray:
        """Whether, by its belief about the other's reservation value, no package satisfies both."""
        believed = np.clip(self.other.reservation(t) + self._reservation_error, 0.0, 1.0)
        start = self._other_u_at_my_best
        room = np.where(1.0 - start > _EPS, 1.0 - start, _EPS)
        share = (believed - start) / room  # how far along the line the other side needs to be
        mine = self.u_best - np.clip(share, 0.0, 1.0) * (self.u_best - self._u_at_other_best)
        return (share > 1.0) | (mine < rv - _EPS)


class Constituency(mesa.Agent):
    """A domestic constituency of one side (Putnam's level II): automakers, farmers, steel, consumers.

    Args:
        model: The negotiation model.
        side: The side it belongs to.
        name: Its name.
        weight: Its weight in the side's ratification vote, per world ``(B,)``.
        coef: Its approval per unit of each issue, per world ``(B, n)`` (already normalised).
        offset: Constant of its approval, per world ``(B,)``.
    """

    def __init__(self, model: NegotiationModel, side: str, name: str, weight: np.ndarray, coef: np.ndarray,
                 offset: np.ndarray) -> None:
        super().__init__(model)
        self.side, self.name = side, name
        self.weight, self.coef, self.offset = weight, coef, offset

    def approval(self, x: np.ndarray) -> np.ndarray:
        """Approval in [0, 1] of packages ``x``: 0 for its worst package in the box, 1 for its best."""
        return np.einsum("bn,bn->b", x, self.coef) + self.offset
