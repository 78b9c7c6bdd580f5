"""The pie split (Rubinstein 1982): one issue, the first party's share ``x`` of a pie of size 1.

The first party gets ``x`` and the second ``1 - x``; utilities equal payoffs. The theory scenarios
(``conf/scenario/*_split.yaml``) use it to check the engine against closed-form equilibria.
"""

from __future__ import annotations

import numpy as np

from sim.domain.outcome_space import OutcomeSpace
from sim.domain.utility import LinearPayoff

__all__ = ["split_payoffs"]


def split_payoffs(space: OutcomeSpace, parties: tuple[str, str]) -> dict[str, LinearPayoff]:
    """Payoffs of the pie split: ``parties[0]`` gets the share, ``parties[1]`` the rest."""
    if space.names != ("share",) or (space.lo[0], space.hi[0]) != (0.0, 1.0):
        raise ValueError("the split payoff model needs exactly one issue, share, ranging over [0, 1]")
    first, second = parties
    return {first: LinearPayoff.over(space, np.array([1.0]), 0.0),
            second: LinearPayoff.over(space, np.array([-1.0]), 1.0)}
