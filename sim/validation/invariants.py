"""Invariants every negotiation must satisfy, over random configs of the default scenario.

Part of :mod:`sim.validation` (see its docstring).
"""

from __future__ import annotations

import numpy as np

from sim.config import plan
from sim.config.compose import compose_config
from sim.validation.check import Check, _outcomes


# -- 6. Invariants across a randomised sweep -------------------------------------------------------


def invariants(samples: int = 30) -> list[Check]:
    """No deal below a reservation value, utilities in [0, 1], agreed values in range, same seed same
    table, across randomly drawn configurations of the default scenario (hypothesis drives the same
    check in the tests)."""
    rng = np.random.default_rng(2025)
    strategies = ["boulware", "conceder", "linear", "hardliner", "tit_for_tat", "deadline_aware", "random"]
    failures = {"reservation": 0, "utility range": 0, "issue range": 0, "reproducible": 0}
    first, second = (pid for pid, _ in plan(compose_config()).parties)  # the default scenario's parties
    for _ in range(samples):
        overrides = [f"strategy@{first}={rng.choice(strategies)}", f"strategy@{second}={rng.choice(strategies)}",
                     f"scenario.deadline.round={rng.integers(2, 21)}", f"scenario.escalation={rng.uniform(0, 15):.3f}",
                     f"scenario.breakdown_risk={rng.uniform(0, 0.1):.3f}",
                     f"scenario.sides.{first}.concession_noise={rng.uniform(0, 0.2):.3f}",
                     f"scenario.sides.{second}.concession_noise={rng.uniform(0, 0.2):.3f}",
                     f"run.seed={rng.integers(0, 2**31)}"]
        o = _outcomes(*overrides, seeds=20)
        deals = o[o["deal"]]
        space = plan(compose_config(*overrides)).points[0].structure.space
        failures["reservation"] += int(((deals[f"{first}_utility"] < deals[f"{first}_reservation_utility"] - 1e-9)
                                        | (deals[f"{second}_utility"] < deals[f"{second}_reservation_utility"] - 1e-9)
                                        ).any())
        failures["utility range"] += int(not o[[f"{first}_utility", f"{second}_utility"]].stack().between(0, 1).all())
        failures["issue range"] += int(not all(deals[i.name].between(i.lo - 1e-9, i.hi + 1e-9).all()
                                               for i in space.issues))
        failures["reproducible"] += int(not o.equals(_outcomes(*overrides, seeds=20)))
    return [Check("Invariants", f"{name}: configurations failing, of {samples} random ones", 0, count, 0, count == 0)
            for name, count in failures.items()]
