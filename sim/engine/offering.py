"""Offering strategies: how far a party concedes in each round, and the package it offers.

An offering strategy answers, for all B worlds of a batch at once, what *concession level*
``alpha`` in [0, 1] the party offers in round ``t``: ``alpha = 0`` is its own ideal package and
``alpha = 1`` the other side's ideal. :meth:`OfferingStrategy.package` turns it into a package issue
by issue, as in Faratin, Sierra & Jennings (1998)::

    x_j(t) = best_j + alpha_j(t) * (other_best_j - best_j)

with the party's concession noise added to ``alpha``, raised per issue to the party's firmness
(``alpha_j ** e_j``, ``scenario.sides.PARTY.firmness``: a firm issue concedes less at every level), and its
red lines respected. Trade-off strategies choose the issues to give way on from the opponent model instead, within
the other side's stated red lines, and give a firm issue up later in that choice (:mod:`sim.domain.tradeoff`).
The negotiator then keeps the package within what the protocol has locked, its reservation value and its win-set.
Acceptance is a separate part (:mod:`sim.engine.acceptance`), and so is what the party believes of
the other side (:mod:`sim.engine.opponent`).

Adding a strategy takes one subclass here (or in any importable module) and one YAML file in
``conf/strategy/`` whose ``offering._target_`` names the class. Numeric parameters declared in
``PARAMS`` are validated and arrive as arrays of shape ``(B,)`` (one value per world), so they can be
swept.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.domain.tradeoff import Tradeoffs
from sim.engine.acceptance import EPS

__all__ = [
    "DeadlineAware",
    "Hardliner",
    "NiceTitForTat",
    "OfferingStrategy",
    "RandomBaseline",
    "RelativeTitForTat",
    "SubgamePerfect",
    "TimeDependent",
    "TradeOff",
]


class OfferingStrategy:
    """Base class: a concession rule over a batch of worlds, and the package it builds.

    Attributes:
        PARAMS: Parameter name -> (default, lowest allowed, highest allowed).
        PER_ISSUE: Parameters that may also be set per issue (``per_issue: {beta: {steel: 0.1}}``, by issue
            name or tag value); they then arrive as arrays of shape ``(B, n)``.
        uses_noise: Whether the side's concession noise applies to this strategy.
    """

    PARAMS: ClassVar[dict[str, tuple[float, float, float]]] = {}
    PER_ISSUE: ClassVar[tuple[str, ...]] = ()
    uses_noise: ClassVar[bool] = True

    def __init__(self, **params: np.ndarray) -> None:
        for name, (default, _, _) in self.PARAMS.items():
            setattr(self, name, np.asarray(params.get(name, default), dtype=float))

    def concession(self, me, t: int) -> np.ndarray:
        """Concession level for round ``t``, shape ``(B,)`` or ``(B, n_issues)``.

        Args:
            me: The :class:`~sim.engine.agents.Negotiator` using the strategy (gives time, beliefs
                and history).
            t: Round number, starting at 1.
        """
        raise NotImplementedError

    def package(self, me, t: int) -> np.ndarray:
        """The package offered in round ``t``: the concession level, plus the party's noise, raised per
        issue to the party's firmness, on the line from its ideal package to the other side's, within its red
        lines. Shape ``(B, n)``."""
        alpha = self.concession(me, t)
        if alpha.ndim == 1:
            alpha = alpha[:, None]
        if self.uses_noise and me.noise.any():
            alpha = alpha + me.noise[:, None] * me.draw_normal(t)
        alpha = np.minimum(np.maximum(alpha, 0.0), 1.0)
        if me.has_firmness:  # a firm issue concedes alpha ** e of the way (e > 1: less at every alpha in (0, 1))
            alpha = alpha ** me.firmness
        offer = me.best + alpha * (me.other.best - me.best)
        if me.has_red_lines:
            offer = np.clip(offer, me.red_lo, me.red_hi)
        return offer


def _faratin_alpha(kappa: np.ndarray, beta: np.ndarray, relative_time: np.ndarray) -> np.ndarray:
    """Faratin's polynomial decision function, Faratin, Sierra & Jennings 1998: kappa + (1 - kappa) * t^(1/beta)."""
    return kappa + (1.0 - kappa) * relative_time ** (1.0 / beta)


class TimeDependent(OfferingStrategy):
    """Faratin's polynomial time-dependent tactic.

    ``alpha(t) = kappa + (1 - kappa) * (t_rel) ** (1 / beta)`` with ``t_rel`` the share of the side's
    own deadline elapsed. ``beta < 1`` is Boulware, ``beta = 1`` linear, ``beta > 1`` Conceder. ``beta``
    and ``kappa`` may be set per issue, so that a side is hardheaded on one issue and concedes readily on
    another (Faratin et al. 1998 give each issue its own tactic).
    """

    PARAMS: ClassVar = {"beta": (1.0, 1e-3, 1e3), "kappa": (0.0, 0.0, 1.0)}
    PER_ISSUE: ClassVar = ("beta", "kappa")

    def concession(self, me, t: int) -> np.ndarray:  # noqa: D102
        elapsed = me.relative_time(t)
        if self.beta.ndim == 2 or self.kappa.ndim == 2:
            elapsed = elapsed[:, None]
        return _faratin_alpha(self.kappa, self.beta, elapsed)


class Hardliner(OfferingStrategy):
    """Never concedes: always offers its ideal package.

    It concedes nothing, but it accepts by its acceptance strategy: with ``ac_next``, any offer worth
    at least its own next offer, i.e. only its ideal package before the final round, and in the final
    round (no next offer) anything at or above its reservation value.
    """

    uses_noise: ClassVar[bool] = False

    def concession(self, me, t: int) -> np.ndarray:  # noqa: D102
        return np.zeros(me.n_worlds)


class RelativeTitForTat(OfferingStrategy):
    """Relative tit-for-tat (Faratin, Sierra & Jennings 1998): answer each concession of the other side with the
    same share of one's own room.

    Tit-for-tat cooperates first, then copies the other side's moves (Axelrod 1984); Faratin et al.'s relative
    tactic copies the proportional *change* of the other side's last offers, not their level. Here a move is
    measured as a share of room: the other side's room runs from its ideal package down to its (believed)
    reservation value, in its (believed) utility (the opponent model's
    :meth:`~sim.engine.opponent.OpponentModel.relative_concession` with ``since_ideal``), and this side's room from
    its ideal down to its reservation value ``rv(t)``, in its utility. Copying every move, its cumulative share is

        ``share = opening + reciprocity * c_other``,

    where ``c_other`` is the other side's cumulative share (its opening concession counts as a move) and
    ``opening`` is ``kappa`` if this side moved before the other made any offer (the cooperative first move) and 0
    if it answers an offer with its first. It keeps ``target = u_best - share * (u_best - rv(t))`` and offers the
    package on the line toward the other side's ideal worth that much to it,
    ``alpha = (u_best - target) / (u_best - u(other side's ideal))`` (at most 1). Two such sides concede ``kappa``
    of their room per move in turn; a side whose room is a fifth of its range, fully conceded, is answered by a
    full concession.
    """

    PARAMS: ClassVar = {"kappa": (0.1, 0.0, 1.0), "reciprocity": (1.0, 0.0, 10.0)}

    def concession(self, me, t: int) -> np.ndarray:  # noqa: D102
        if getattr(self, "_opened_first", None) is None:  # its first move: before or after an offer received?
            self._opened_first = not me.opponent.has_seen_offer
        opening = self.kappa if self._opened_first else 0.0
        conceded = me.opponent.relative_concession(t, since_ideal=True)
        share = np.clip(opening + self.reciprocity * conceded, 0.0, 1.0)
        room = np.maximum(me.u_best - me.reservation(t), 0.0)
        line = me.u_best - me.utility(me.other.best)
        return np.clip(np.divide(share * room, line, out=np.zeros_like(room), where=line > 0), 0.0, 1.0)


class DeadlineAware(OfferingStrategy):
    """Holds firm, then concedes as its deadline nears.

    Holds at ``kappa`` until a share ``hold`` of its own deadline has passed, or until the round it
    believes the other side's deadline falls, if that is later (but before its own), and then
    concedes with Faratin's exponent ``beta`` to its reservation value at its own deadline.
    """

    PARAMS: ClassVar = {"hold": (0.7, 0.0, 0.99), "beta": (1.0, 1e-3, 1e3), "kappa": (0.0, 0.0, 1.0)}

    def concession(self, me, t: int) -> np.ndarray:  # noqa: D102
        last = me.own_deadline(t) - 1.0  # rounds are counted from 1; relative time from 0
        hold_until = np.maximum(self.hold * last, np.minimum(me.opponent.deadline(t) - 1.0, last - 1.0))
        span = np.maximum(last - hold_until, 1.0)
        relative = np.clip((t - 1.0 - hold_until) / span, 0.0, 1.0)
        return _faratin_alpha(self.kappa, self.beta, relative)


class RandomBaseline(OfferingStrategy):
    """Draws a fresh concession level per issue uniformly from [0, 1] every round."""

    uses_noise: ClassVar[bool] = False

    def concession(self, me, t: int) -> np.ndarray:  # noqa: D102
        return me.draw_uniform(t)


class SubgamePerfect(OfferingStrategy):
    """The subgame-perfect equilibrium of alternating offers over a pie (Rubinstein 1982; Ståhl 1972).

    As proposer the side keeps its equilibrium share ``s`` and offers the rest, i.e. concedes
    ``alpha = 1 - s`` along the line between the ideals; acceptance is the discounted AC_next rule,
    which is the equilibrium acceptance rule. With ``finite_horizon = 0`` the share is Rubinstein's
    stationary ``(1 - d_other) / (1 - d_me d_other)``. With ``finite_horizon = 1`` it is Ståhl's,
    found by backward induction from the side's deadline ``T``: the proposer in round ``T`` keeps
    everything, and in each earlier round the proposer keeps ``1 - d_responder * s_next``.
    Both sides' discount factors are common knowledge.
    """

    PARAMS: ClassVar = {"finite_horizon": (0.0, 0.0, 1.0)}
    uses_noise: ClassVar[bool] = False

    def concession(self, me, t: int) -> np.ndarray:  # noqa: D102
        mine, theirs = me.discount, me.other.discount
        # without any discounting every split is an equilibrium; take the limit of equal patience,
        # the even (Nash) split (Binmore, Rubinstein & Wolinsky 1986)
        patience = 1.0 - mine * theirs
        stationary = np.divide(1.0 - theirs, patience, out=np.full(len(mine), 0.5), where=patience > 1e-15)
        if not np.any(self.finite_horizon > 0.5):
            return 1.0 - stationary
        # s_k: the share kept by the proposer of round t + k; s_L = 1 in the last round (L = T - t), and
        # s_k = 1 - d * s_(k+1) with d the discount of round t + k's responder: the other side when k is
        # even (this side proposes in t, t + 2, ...), this side when k is odd.
        last = np.maximum(me.own_deadline(t) - t, 0).astype(int)
        share = np.ones(len(last))
        for k in range(int(last.max()) - 1, -1, -1):
            responder = theirs if k % 2 == 0 else mine
            share = np.where(k < last, 1.0 - responder * share, share)
        return 1.0 - np.where(self.finite_horizon > 0.5, share, stationary)


class TradeOff(TimeDependent):
    """Faratin's time-dependent tactic in utility, with trade-off offers (Faratin, Sierra & Jennings 2002).

    The concession level ``alpha(t)`` sets the utility the side keeps, the same as its line offer would be
    worth to it: ``target = u_best - alpha * (u_best - u(other side's ideal))`` (and never below its
    reservation value). Among the packages worth that much to it, it offers the one its opponent model
    rates best for the other side (:func:`sim.domain.tradeoff.tradeoff_package`): it gives way first on
    the issues that matter most to the other side and least to itself, a firm issue (``firmness`` e > 1) as if
    the other side valued it 1/e as much. It offers within its own bounds narrowed by the other side's stated red
    lines (taken at their word: offering outside them is offering what will be refused), where they overlap.
    """

    PER_ISSUE: ClassVar = ()
    _tradeoffs: Tradeoffs | None = None  # the knapsack order of its last offer, kept while its beliefs hold

    def target(self, me, t: int) -> np.ndarray:
        """The utility the side keeps in round ``t``, ``(B,)``."""
        alpha = self.concession(me, t)
        if self.uses_noise and me.noise.any():
            alpha = alpha + me.noise * me.draw_normal(t)[:, 0]
        alpha = np.clip(alpha, 0.0, 1.0)
        return me.u_best - alpha * (me.u_best - me.utility(me.other.best))

    @staticmethod
    def _coefficients(me) -> tuple[np.ndarray, np.ndarray]:
        """Its own utility per unit of each issue, and the other side's as believed (the prior before any offer)."""
        model = me.opponent
        return me.utility.per_unit, model.believed_weights()

    def package(self, me, t: int) -> np.ndarray:  # noqa: D102
        lo, hi, best, u_best = me.believed_common_box()
        target = np.minimum(np.maximum(self.target(me, t), np.minimum(me.reservation(t), u_best)), u_best)
        c_me, c_other = self._coefficients(me)
        # sorted again only when its beliefs or its box changed since its last offer
        self._tradeoffs = Tradeoffs.reuse(self._tradeoffs, c_me, c_other, lo, hi, best, me.firmness)
        return self._tradeoffs.at(u_best - target)



class NiceTitForTat(TradeOff):
    """Nice Tit-for-Tat (Baarslag, Hindriks & Jonker 2013): reciprocate toward the Nash point.

    The side estimates the Nash point from its opponent model (:meth:`nash_point`). The other side's concession
    is the share of its room, from its first offer down to its believed utility at that point, that it has given
    up so far (in its believed utility); the side concedes the same share of its own room, from its ideal down to
    its utility at the point, and never lags a Boulware-like time floor that reaches the point at its deadline (so
    two reciprocators do not wait for each other forever):
    ``target = u_best - max(kappa, reciprocity * c_other, t_rel ** (1 / beta)) * (u_best - u_nash)``, offered as a
    trade-off package.
    """

    PARAMS: ClassVar = {"kappa": (0.0, 0.0, 1.0), "reciprocity": (1.0, 0.0, 10.0), "beta": (0.5, 1e-3, 1e3)}
    uses_noise: ClassVar[bool] = False
    LEVELS: ClassVar[int] = 41

    def nash_point(self, me, t: int) -> tuple[np.ndarray, np.ndarray]:
        """The estimated Nash point: the side's utility there and the other side's believed utility, ``(B,)`` each.

        Both axes come from the same beliefs: the side's own utility, and the other side's utility and reservation
        value as its opponent model has them (before any offer, the model's prior). The point maximises the Nash
        product over the frontier the side believes in, its own trade-off packages at ``LEVELS`` utility levels
        from its reservation value to its ideal (:func:`~sim.domain.tradeoff.tradeoff_package` with the believed
        weights), among the packages each side believes better than no deal. Where it believes there is none, the
        point is the frontier's end that gives the other side most: the side's own reservation value.
        """
        model = me.opponent
        c_me, c_other = self._coefficients(me)
        lo, hi, best, u_best = me.believed_common_box()
        d_me, d_other = np.minimum(me.reservation(t), u_best), model.believed_reservation(t)
        best_value = np.full(me.n_worlds, -np.inf)
        best_u, best_o = d_me.copy(), np.full(me.n_worlds, np.nan)
        # one knapsack order for every level, and for the offer made at the target found (package, the same beliefs)
        tradeoffs = self._tradeoffs = Tradeoffs.reuse(self._tradeoffs, c_me, c_other, lo, hi, best, me.firmness)
        for level in np.linspace(0.0, 1.0, self.LEVELS):
            u_me = d_me + level * (u_best - d_me)
            x = tradeoffs.at(u_best - u_me)
            u_other = model.utility(x)
            if level == 0.0:
                best_o = u_other
            value = np.where(u_other >= d_other - EPS, (u_me - d_me) * (u_other - d_other), -np.inf)
            better = value > best_value
            best_value = np.where(better, value, best_value)
            best_u, best_o = np.where(better, u_me, best_u), np.where(better, u_other, best_o)
        return best_u, best_o

    def target(self, me, t: int) -> np.ndarray:  # noqa: D102
        u_nash, o_nash = self.nash_point(me, t)
        floor = me.relative_time(t) ** (1.0 / self.beta)
        conceded = me.opponent.relative_concession(t, floor=o_nash)
        share = np.maximum(np.maximum(self.kappa, self.reciprocity * conceded), floor)
        return me.u_best - np.clip(share, 0.0, 1.0) * (me.u_best - u_nash)
