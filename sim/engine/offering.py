"""Offering strategies: how far a party concedes in each round, and the package it offers.

An offering strategy answers, for all B worlds of a batch at once, what *concession level*
``alpha`` in [0, 1] the party offers in round ``t``: ``alpha = 0`` is its own ideal package and
``alpha = 1`` the other side's ideal. :meth:`OfferingStrategy.package` turns it into a package issue
by issue, as in Faratin, Sierra & Jennings (1998)::

    x_j(t) = best_j + alpha_j(t) * (other_best_j - best_j)

with the party's concession noise added to ``alpha``, raised per issue to the party's firmness
(``alpha_j ** e_j``, ``scenario.sides.PARTY.firmness``: a firm issue concedes less at every level), and its
red lines respected. Trade-off strategies choose the issues to give way on from the opponent model instead,
so firmness does not apply to them. The negotiator then keeps the package within what the protocol has locked, its reservation value and its win-set.
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

from sim.domain.tradeoff import tradeoff_package

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
    """Faratin's relative tit-for-tat.

    Concedes the same share of its room that the other side has conceded of its own so far,
    measured in this side's utility: ``alpha = max(kappa, reciprocity * c_other)`` with
    ``c_other = (u(last offer received) - u(first offer received)) / (1 - u(first offer received))``.
    """

    PARAMS: ClassVar = {"kappa": (0.1, 0.0, 1.0), "reciprocity": (1.0, 0.0, 10.0)}

    def concession(self, me, t: int) -> np.ndarray:  # noqa: D102
        return np.maximum(self.kappa, self.reciprocity * me.opponent.concession)


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
    the issues that matter most to the other side and least to itself.
    """

    PER_ISSUE: ClassVar = ()

    def target(self, me, t: int) -> np.ndarray:
        """The utility the side keeps in round ``t``, ``(B,)``."""
        alpha = self.concession(me, t)
        if self.uses_noise and me.noise.any():
            alpha = alpha + me.noise * me.draw_normal(t)[:, 0]
        alpha = np.clip(alpha, 0.0, 1.0)
        return me.u_best - alpha * (me.u_best - me.utility(me.other.best))

    def package(self, me, t: int) -> np.ndarray:  # noqa: D102
        target = np.maximum(self.target(me, t), np.minimum(me.reservation(t), me.u_best))
        c_me = me.utility.a / me.utility.span[:, None]
        return tradeoff_package(c_me, me.opponent.weights(), me.red_lo, me.red_hi, me.best, me.u_best - target)


class NiceTitForTat(TradeOff):
    """Nice Tit-for-Tat (Baarslag, Hindriks & Jonker 2013): reciprocate toward the Nash point.

    The side concedes the share of its room that the other side has conceded so far (measured in its own
    utility, as relative tit-for-tat), but its room runs only down to its utility at the *estimated Nash
    point*, and it never lags a Boulware-like time floor that reaches the Nash point at its deadline (so two
    reciprocators do not wait for each other forever):
    ``target = u_best - max(kappa, reciprocity * c_other, t_rel ** (1 / beta)) * (u_best - u_nash)``, offered
    as a trade-off package. The Nash point is estimated from the opponent model's weights and reservation value,
    by maximising the Nash product along the side's own trade-off frontier (41 utility levels, batched).
    """

    PARAMS: ClassVar = {"kappa": (0.0, 0.0, 1.0), "reciprocity": (1.0, 0.0, 10.0), "beta": (0.5, 1e-3, 1e3)}
    uses_noise: ClassVar[bool] = False
    LEVELS: ClassVar[int] = 41

    def nash_utility(self, me, t: int) -> np.ndarray:
        """The side's utility at the estimated Nash point, ``(B,)``."""
        c_me = me.utility.a / me.utility.span[:, None]
        c_other = me.opponent.weights()
        lo, hi = me.red_lo, me.red_hi
        # the other side's believed utility, normalised over the box: c @ x + k in [0, 1]
        k_other = -np.minimum(c_other * lo, c_other * hi).sum(axis=1)
        span_other = np.maximum(c_other * lo, c_other * hi).sum(axis=1) + k_other
        scale = np.where(span_other > 0, span_other, 1.0)
        d_me, d_other = me.reservation(t), me.opponent.reservation(t)
        best_value, best_u = np.full(me.n_worlds, -np.inf), me.u_best.copy()
        for level in np.linspace(0.0, 1.0, self.LEVELS):
            u_me = d_me + level * (me.u_best - d_me)
            x = tradeoff_package(c_me, c_other, lo, hi, me.best, me.u_best - u_me)
            u_other = ((x * c_other).sum(axis=1) + k_other) / scale
            value = np.where(u_other >= d_other, (u_me - d_me) * (u_other - d_other), -np.inf)
            better = value > best_value
            best_value, best_u = np.where(better, value, best_value), np.where(better, u_me, best_u)
        return best_u

    def target(self, me, t: int) -> np.ndarray:  # noqa: D102
        floor = me.relative_time(t) ** (1.0 / self.beta)
        share = np.maximum(np.maximum(self.kappa, self.reciprocity * me.opponent.concession), floor)
        return me.u_best - np.clip(share, 0.0, 1.0) * (me.u_best - self.nash_utility(me, t))
