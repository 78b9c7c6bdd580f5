"""Summary statistics of simulated worlds, on the scale of the observations, and the distance between them.

Each observation (:class:`sim.inference.observations.Observation`) is compared with the same quantity of a world,
divided by the observation's scale (``high - low``: an issue's range, 1 for the deal, the days to the horizon for
the date):

- a term: the agreed value of that issue; a world without a deal is at the far end of the range from the
  observation (its scaled gap is the larger of ``scaled`` and ``1 - scaled``), since no term was agreed;
- ``deal``: 1 if the world reached a deal by its deadline, else 0;
- ``date``: days from the origin to the world's agreement; a world without a deal is at the horizon.

The distance of a world is the Euclidean norm of its scaled gaps over every observation of every case: each
term, the deal and the date weigh the same on their scales.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.inference.observations import Observation

__all__ = ["gaps", "simulated"]


def simulated(obs: Observation, outcomes: pd.DataFrame, start: dt.date) -> np.ndarray:
    """The world's value of ``obs`` on its scale (0 to 1 within the scale), one per outcome row.

    Args:
        obs: The observation.
        outcomes: The worlds' outcome table (columns ``deal``, ``end_date`` and one per issue).
        start: The forecast origin the worlds were run from.
    """
    deal = outcomes["deal"].to_numpy(dtype=bool)
    if obs.term == "deal":
        return deal.astype(float)
    if obs.term == "date":
        ends = pd.to_datetime(outcomes["end_date"]).dt.date
        days = np.array([(e - start).days for e in ends], dtype=float)
        return np.where(deal, np.clip(days, obs.low, obs.high), obs.high) / (obs.high - obs.low)
    value = outcomes[obs.term].to_numpy(dtype=float)
    far = 0.0 if obs.scaled > 0.5 else 1.0  # the end of the range farthest from the observation
    return np.where(deal, (value - obs.low) / (obs.high - obs.low), far)


def gaps(observed: list[Observation], outcomes: pd.DataFrame, start: dt.date) -> np.ndarray:
    """Per world (row) and observation (column), the scaled gap simulated minus observed."""
    if not observed:
        return np.zeros((len(outcomes), 0))
    return np.column_stack([simulated(o, outcomes, start) - o.scaled for o in observed])
