"""Acceptance strategies: whether a party accepts the offer on the table.

The acceptance part of a negotiator (Baarslag, Hindriks & Jonker 2014, "Effective acceptance
conditions in automated negotiation") decides, for all B worlds at once, whether the offer received
in round ``t`` is accepted. Whatever the rule, the negotiator never accepts an offer worth less than
its current reservation value, outside its red lines, or outside its win-set; the rule decides
among the rest.

Adding a rule takes one subclass here (or in any importable module) and one YAML file in
``conf/acceptance/`` whose ``acceptance._target_`` names the class; numeric ``PARAMS`` arrive as
arrays of shape ``(B,)`` and can be swept.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

__all__ = ["ACCombi", "ACConst", "ACNext", "ACTime", "AcceptanceStrategy"]

# Utility comparisons allow for rounding: an offer worth the same as the responder's own next offer
# up to this tolerance is accepted.
EPS = 1e-12


class AcceptanceStrategy:
    """Base class: an acceptance condition over a batch of worlds.

    Attributes:
        PARAMS: Parameter name -> (default, lowest allowed, highest allowed).
    """

    PARAMS: ClassVar[dict[str, tuple[float, float, float]]] = {}

    def __init__(self, **params: np.ndarray) -> None:
        for name, (default, _, _) in self.PARAMS.items():
            setattr(self, name, np.asarray(params.get(name, default), dtype=float))

    def accepts(self, me, u_offer: np.ndarray, u_next: np.ndarray, t: int, final: np.ndarray) -> np.ndarray:
        """Whether the offer is accepted in each world (before the reservation value and red lines).

        Args:
            me: The :class:`~sim.engine.agents.Negotiator` responding.
            u_offer: Its utility of the offer received, ``(B,)``.
            u_next: Its utility of the offer it would make next, ``(B,)``.
            t: The round.
            final: Whether ``t`` is the world's final round (no next offer), ``(B,)``.
        """
        raise NotImplementedError


class ACNext(AcceptanceStrategy):
    """AC_next: accept when the offer is worth at least one's own next offer.

    With the party's per-round discount factor ``delta`` (1 unless the scenario sets it) the condition
    is ``alpha * u(offer) + beta >= delta * u(next offer)``; with ``alpha = 1``, ``beta = 0`` and
    discounting it is the subgame-perfect acceptance rule of Rubinstein (1982). In the final round
    there is no next offer, so any offer at or above the reservation value is accepted.
    """

    PARAMS: ClassVar = {"alpha": (1.0, 0.0, 10.0), "beta": (0.0, -1.0, 1.0)}

    def accepts(self, me, u_offer, u_next, t, final):  # noqa: D102
        return final | (self.alpha * u_offer + self.beta >= me.discount * u_next - EPS)


class ACConst(AcceptanceStrategy):
    """AC_const(alpha): accept any offer worth at least ``alpha`` (a fixed aspiration)."""

    PARAMS: ClassVar = {"alpha": (0.8, 0.0, 1.0)}

    def accepts(self, me, u_offer, u_next, t, final):  # noqa: D102
        return u_offer >= self.alpha - EPS


def _late(me, t: int, T: np.ndarray) -> np.ndarray:
    """Whether the party's time is up to ``T`` for a time rule in round ``t``: the share of its own time passed
    by its next response, should it not accept now, exceeds ``T``.

    Baarslag et al.'s rules live in continuous time, where the responder meets the offer on the table at every
    instant after ``T``. In rounds it answers only in some of them (every other round with alternating offers), so
    waiting for its relative time to reach ``T`` can leave no response between ``T`` and its deadline: with a
    deadline in round 13, answering in the odd rounds, its relative time is 0.83 in round 11 and 1 in 13. The rule
    therefore acts in the last response before ``T`` has passed.
    """
    return me.time_at_next_turn(t) > T + EPS


class ACTime(AcceptanceStrategy):
    """AC_time(T): accept any offer once a share ``T`` of the party's own time has passed, counting as passed a
    share that passes before its next response (and, as always, only at or above its reservation value)."""

    PARAMS: ClassVar = {"T": (0.9, 0.0, 1.0)}

    def accepts(self, me, u_offer, u_next, t, final):  # noqa: D102
        return final | _late(me, t, self.T)


class ACCombi(AcceptanceStrategy):
    """AC_combi(T, MAX^W): AC_next; and, once a share ``T`` of the party's own time has passed (as AC_time counts
    it), also any offer
    worth at least the best offer received in the last ``W`` rounds in which it responded (Baarslag et al.
    2014's best-performing combination: late in the talks, accept what is as good as anything lately offered).
    """

    PARAMS: ClassVar = {"T": (0.9, 0.0, 1.0), "W": (3.0, 1.0, 1000.0)}

    def __init__(self, **params: np.ndarray) -> None:
        super().__init__(**params)
        self._received: list[np.ndarray] = []

    def accepts(self, me, u_offer, u_next, t, final):  # noqa: D102
        ac_next = final | (u_offer >= me.discount * u_next - EPS)
        window = int(np.max(self.W))
        recent = self._received[-window:]
        if recent:
            # per world, the best of its own last W offers received
            history = np.stack(recent)  # (k, B)
            age = np.arange(len(recent))[::-1][:, None]  # 0 = the latest
            best = np.max(np.where(age < self.W, history, -np.inf), axis=0)
        else:
            best = np.full_like(u_offer, np.inf)
        self._received.append(u_offer)
        return ac_next | (_late(me, t, self.T) & (u_offer >= best - EPS))
