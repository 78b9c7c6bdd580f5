"""One-shot deviations from subgame-perfect play, for checking the equilibrium through the model.

A subgame-perfect profile is an equilibrium when no party gains by deviating at a single decision
node and playing the equilibrium afterwards (the one-shot deviation principle). These two negotiator
parts make one side deviate once, so that ``python -m sim validate`` can play each deviation through
the same model, protocol and acceptance code as any run:

* :class:`OneShotOffer`: the subgame-perfect offering strategy, except in round ``at_round``, where
  the side asks to keep the share ``keep`` of the pie (more or less than its equilibrium share);
* :class:`RejectOnce`: the subgame-perfect acceptance rule (AC_next with discounting), except that
  it rejects whatever is offered in round ``at_round``.

They are composed by overriding a party's parts, e.g.::

    p1.offering._target_=sim.validation.deviations.OneShotOffer +p1.offering.keep=0.6 +p1.offering.at_round=1

They exist for validation and are not offered as strategies in ``conf/``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.engine.acceptance import ACNext
from sim.engine.offering import SubgamePerfect

__all__ = ["OneShotOffer", "RejectOnce"]


class OneShotOffer(SubgamePerfect):
    """Subgame-perfect offers, except in round ``at_round``, where the side keeps the share ``keep``.

    On the pie the side's utility of its own offer at concession ``alpha`` is ``1 - alpha``, so
    keeping ``keep`` is conceding ``1 - keep``.
    """

    PARAMS: ClassVar = {**SubgamePerfect.PARAMS, "keep": (0.5, 0.0, 1.0), "at_round": (1.0, 1.0, 1e6)}

    def concession(self, me, t: int) -> np.ndarray:  # noqa: D102
        equilibrium = super().concession(me, t)
        return np.where(self.at_round == t, 1.0 - self.keep, equilibrium)


class RejectOnce(ACNext):
    """AC_next (the subgame-perfect acceptance rule with discounting), except that every offer
    received in round ``at_round`` is rejected."""

    PARAMS: ClassVar = {**ACNext.PARAMS, "at_round": (1.0, 1.0, 1e6)}

    def accepts(self, me, u_offer, u_next, t, final):  # noqa: D102
        return super().accepts(me, u_offer, u_next, t, final) & (self.at_round != t)
