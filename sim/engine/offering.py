"""Offering strategies: how far a party concedes in each round, and the package it offers.

An offering strategy answers, for all B worlds of a batch at once, what *concession level*
``alpha`` in [0, 1] the party offers in round ``t``: ``alpha = 0`` is its own ideal package and
``alpha = 1`` the other side's ideal. :meth:`OfferingStrategy.package` turns it into a package issue
by issue, as in Faratin, Sierra & Jennings (1998)::

    x_j(t) = best_j + alpha_j(t) * (other_best_j - best_j)

with the party's concession noise added to ``alpha`` and its red lines respected. The negotiator
then keeps the package within what the protocol has locked, its reservation value and its win-set.
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

__all__ = [
    "DeadlineAware",
    "Hardliner",
    "OfferingStrategy",
    "RandomBaseline",
    "RelativeTitForTat",
    "SubgamePerfect",
    "TimeDependent",
]


class OfferingStrategy:
    """Base class: a concession rule over a batch of worlds, and the package it builds.

    Attributes:
        PARAMS: Parameter name -> (default, lowest allowed, highest allowed).
        uses_noise: Whether the side's concession noise applies to this strategy.
    """

    PARAMS: ClassVar[dict[str, tuple[float, float, float]]] = {}
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
        """The package offered in round ``t``: the concession level, plus the party's noise, on the
        line from its ideal package to the other side's, within its red lines. Shape ``(B, n)``."""
        alpha = self.concession(me, t)
        if alpha.ndim == 1:
            alpha = alpha[:, None]
        if self.uses_noise and me.noise.any():
            alpha = alpha + me.noise[:, None] * me.draw_normal(t)
        alpha = np.minimum(np.maximum(alpha, 0.0), 1.0)
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
    own deadline elapsed. ``beta < 1`` is Boulware, ``beta = 1`` linear, ``beta > 1`` Conceder.
    """

    PARAMS: ClassVar = {"beta": (1.0, 1e-3, 1e3), "kappa": (0.0, 0.0, 1.0)}

    def concession(self, me, t: int) -> np.ndarray:  # noqa: D102
        return _faratin_alpha(self.kappa, self.beta, me.relative_time(t))


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
