"""The linear payoff model: each party's payoff is a weighted sum of the issues, weights given directly.

``P_i(x) = sum_j w_ij * x_j`` with the weights ``w_ij`` (payoff per unit of issue ``j``) written in the
scenario (``scenario.payoff.weights.PARTY.ISSUE``); an issue a party does not weigh counts 0 to it. This
is the generic model for a scenario that is not about tariffs (a trade agreement's chapters, a supply
contract), and what the engine's tests use to check that nothing depends on the 2025 scenario.
"""

from __future__ import annotations

import numpy as np

from sim.domain.outcome_space import OutcomeSpace
from sim.domain.utility import LinearPayoff

__all__ = ["linear_payoffs"]


def linear_payoffs(space: OutcomeSpace, weights: dict[str, dict[str, float]]) -> dict[str, LinearPayoff]:
    """Each party's payoff from its issue weights (``{party: {issue: weight}}``)."""
    return {party: LinearPayoff.over(space, np.array([w.get(name, 0.0) for name in space.names]), 0.0)
            for party, w in weights.items()}
