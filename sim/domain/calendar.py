"""The talks' calendar: rounds and dates, the deadline and its extension, the breakdown horizon.

Rounds are numbered from 1; round ``t`` is held ``(t - 1) * round_days`` days after the start date.
The talks' deadline may be extended once; the extension is revealed only when the deadline is
reached (as the 7 July 2025 letters moved the 9 July deadline to 1 August), so in round ``t`` the
deadline *as known* is the original one before it and the final one from it on.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Deadlines", "round_date", "round_on_or_after", "round_on_or_before"]


def round_on_or_after(day: dt.date, start: dt.date, round_days: int) -> int:
    """The first round held on or after ``day`` (round 1 is held on ``start``)."""
    return max(1, 1 + math.ceil((day - start).days / round_days))


def round_on_or_before(day: dt.date, start: dt.date, round_days: int) -> int:
    """The last round held on or before ``day`` (e.g. the last round before a deadline that falls on ``day``)."""
    return 1 + (day - start).days // round_days


def round_date(rounds: np.ndarray, start: dt.date, round_days: int) -> np.ndarray:
    """Calendar date (``datetime64[D]``) of each round."""
    return np.datetime64(start, "D") + (np.asarray(rounds, dtype=np.int64) - 1) * round_days


@dataclass
class Deadlines:
    """The deadlines of B worlds.

    Attributes:
        deadline: The talks' announced deadline (round) per world.
        extended: Whether each world's deadline is extended.
        final_deadline: The last round of talks per world, after any extension.
        breakdown_horizon: Per world, the round by which the talks have broken down with probability
            at least 1/2 (infinite without a breakdown risk); negotiators work to it if it comes first.
        max_rounds: The protocol's horizon.
    """

    deadline: np.ndarray
    extended: np.ndarray
    final_deadline: np.ndarray
    breakdown_horizon: np.ndarray
    max_rounds: int

    @classmethod
    def draw(cls, deadline: np.ndarray, extended: np.ndarray, extension_rounds: np.ndarray,
             breakdown_risk: np.ndarray, max_rounds: int) -> Deadlines:
        """The deadlines, given whether each world's deadline is extended (a draw made by the engine)."""
        deadline = deadline.astype(float)
        final = deadline + np.where(extended, extension_rounds, 0.0)
        # the round by which the talks have broken down with probability >= 1/2: 1 - (1 - p)^k >= 1/2
        with np.errstate(divide="ignore", over="ignore"):  # p -> 0: an infinite horizon, as it should be
            median = np.ceil(np.log(0.5) / np.log1p(-np.minimum(breakdown_risk, 1 - 1e-12)))
        horizon = np.where(breakdown_risk > 0, np.maximum(median, 2.0), np.inf)
        return cls(deadline=deadline, extended=extended, final_deadline=final, breakdown_horizon=horizon,
                   max_rounds=max_rounds)

    def known(self, t: int | np.ndarray) -> np.ndarray:
        """The talks' deadline as known in round ``t``: an extension is revealed at the deadline."""
        return np.where(t >= self.deadline, self.final_deadline, self.deadline)
