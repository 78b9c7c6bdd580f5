"""The talks' calendar: rounds and dates, the deadline and its extension, the breakdown horizon.

Rounds are numbered from 1; round ``t`` is held ``(t - 1) * round_days`` days after the start date. A calendar
may instead date its first rounds by the meetings on the record (``meetings``: the dates of rounds 1 to m, in
order, the first on the start date) and then hold one round every ``round_days`` days after the last of them
(the stated cadence): round ``t > m`` is held ``(t - m) * round_days`` days after meeting m.
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


def round_on_or_after(day: dt.date, start: dt.date, round_days: int, meetings: tuple[dt.date, ...] = ()) -> int:
    """The first round held on or after ``day`` (round 1 is held on ``start``; with ``meetings``, rounds 1 to m on
    their dates and then one every ``round_days`` days)."""
    if meetings:
        if day <= meetings[-1]:
            return next(k for k, held in enumerate(meetings, 1) if held >= day)
        return len(meetings) + max(1, math.ceil((day - meetings[-1]).days / round_days))
    return max(1, 1 + math.ceil((day - start).days / round_days))


def round_on_or_before(day: dt.date, start: dt.date, round_days: int, meetings: tuple[dt.date, ...] = ()) -> int:
    """The last round held on or before ``day`` (e.g. the last round before a deadline that falls on ``day``);
    with ``meetings`` as in :func:`round_on_or_after` (0 before the first meeting)."""
    if meetings:
        if day < meetings[-1]:
            return sum(1 for held in meetings if held <= day)
        return len(meetings) + (day - meetings[-1]).days // round_days
    return 1 + (day - start).days // round_days


def round_date(rounds: np.ndarray, start: dt.date, round_days: int, meetings: tuple[dt.date, ...] = ()) -> np.ndarray:
    """Calendar date (``datetime64[D]``) of each round (with ``meetings`` as in :func:`round_on_or_after`)."""
    rounds = np.asarray(rounds, dtype=np.int64)
    if meetings:
        held = np.array(meetings, dtype="datetime64[D]")
        m = len(held)
        return np.where(rounds <= m, held[np.clip(rounds - 1, 0, m - 1)], held[-1] + (rounds - m) * round_days)
    return np.datetime64(start, "D") + (rounds - 1) * round_days


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
