"""Opponent models: what a party believes of the other side.

The opponent part of a negotiator holds its beliefs about the other side, for all B worlds at once:
its deadline (exact if public, a noisy prior draw if private), its reservation value (a noisy prior
draw), and how far it has conceded so far, measured in the party's own utility (what tit-for-tat
reciprocates). It observes every offer received before the party plans its next one.

Adding a model takes one subclass here (or in any importable module) and one YAML file in
``conf/opponent/`` whose ``opponent._target_`` names the class.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.engine.acceptance import EPS
from sim.engine.streams import Stream

__all__ = ["NoisyPrior", "OpponentModel"]


class OpponentModel:
    """Base class: beliefs about the other side over a batch of worlds.

    Attributes:
        PARAMS: Parameter name -> (default, lowest allowed, highest allowed).
        concession: Share of its room the other side has conceded so far, ``(B,)``.
    """

    PARAMS: ClassVar[dict[str, tuple[float, float, float]]] = {}

    def __init__(self, **params: np.ndarray) -> None:
        for name, (default, _, _) in self.PARAMS.items():
            setattr(self, name, np.asarray(params.get(name, default), dtype=float))

    def attach(self, me) -> None:
        """Bind the model to its negotiator ``me`` (and draw any prior); called once, at the table."""
        self.me = me
        self.concession = np.zeros(me.n_worlds)
        self._first_received = np.full(me.n_worlds, np.nan)

    def observe(self, u: np.ndarray) -> None:
        """Take in the utility (to ``me``) of the offer just received."""
        first = np.where(np.isnan(self._first_received), u, self._first_received)
        self._first_received = first
        room = 1.0 - first
        gained = np.divide(u - first, room, out=np.zeros_like(u), where=room > EPS)
        self.concession = np.clip(gained, 0.0, 1.0)

    def deadline(self, t: int) -> np.ndarray:
        """Believed deadline of the other side in round ``t``."""
        raise NotImplementedError

    def reservation(self, t: int) -> np.ndarray:
        """Believed reservation value of the other side in round ``t`` (in the other side's utility)."""
        raise NotImplementedError


class NoisyPrior(OpponentModel):
    """Beliefs drawn once from a prior around the truth, never updated.

    A party believes the other side's private deadline to be the true one plus a normal error of
    s.d. ``belief_noise.deadline`` rounds (rounded, within the horizon; exact if the deadline is
    public), and its reservation value to be the true one plus a normal error of s.d.
    ``belief_noise.reservation`` (clipped to [0, 1]). The s.d.s are the scenario's
    (``scenario.sides.PARTY.belief_noise``): how uncertain a side is belongs to the scenario.
    """

    def attach(self, me) -> None:  # noqa: D102
        super().attach(me)
        beliefs = me.streams.normal(Stream.belief(me.index), 0, 2)
        self._deadline_error = np.rint(beliefs[:, 0] * me.inputs.belief_deadline_sd)
        self._reservation_error = beliefs[:, 1] * me.inputs.belief_reservation_sd

    def deadline(self, t: int) -> np.ndarray:  # noqa: D102
        other = self.me.other
        truth = other.own_deadline(t)
        guess = np.clip(truth + self._deadline_error, 1.0, self.me.deadlines.max_rounds)
        return np.where(other.deadline_private, guess, truth)

    def reservation(self, t: int) -> np.ndarray:  # noqa: D102
        return np.clip(self.me.other.reservation(t) + self._reservation_error, 0.0, 1.0)
