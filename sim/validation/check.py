"""One validation case (:class:`Check`): what theory says, what the simulator did, and whether they agree.

Part of :mod:`sim.validation` (see its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.config import plan
from sim.config.compose import compose_config
from sim.run.runner import simulate


@dataclass
class Check:
    """One validation case: what theory says, what the simulator did, and whether they agree."""

    group: str
    case: str
    expected: float | str
    simulated: float | str
    tolerance: float | str
    passed: bool


def _outcomes(*overrides: str, seeds: int = 1) -> pd.DataFrame:
    """Run the config the overrides describe and return its outcomes."""
    return simulate(plan(compose_config(*overrides, f"run.seeds={seeds}", "run.record_rounds=none")))[0]


def _close(group: str, case: str, expected: float, simulated: float, tol: float) -> Check:
    return Check(group, case, expected, simulated, tol, bool(abs(simulated - expected) <= tol))
