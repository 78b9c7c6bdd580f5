"""The no-deal path: what holds without an agreement, as packages and as each party's utility.

Without a deal the status quo stays in force, changed by every scheduled tariff change from the round
it takes effect, and, from the talks' deadline as known at the time, by the *escalation* (e.g. the
reciprocal tariff rising from 10 % to 24 % at the end of the pause). A party values no deal in round
``t`` as the mean of that path over a valuation window of ``valuation_rounds`` rounds beginning in
``t`` (a year of weekly rounds by default); this is its *reservation value*. It falls for the party
that pays the tariffs and rises for the one that levies them as the deadline nears, equals the
escalated no-deal value from the final deadline on, and jumps when a change or threat is announced
(once announced, a change is anticipated).

This module is the one place that builds the escalated package and the no-deal path: the engine's
agents and outcomes, the config compiler (the no-deal utilities) and the figures all use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.domain.calendar import Deadlines

__all__ = ["NoDealPath", "NoDealValue", "ScheduledChange", "escalated"]


@dataclass(frozen=True)
class ScheduledChange:
    """A tariff change that applies without a deal from a date: scheduled, or threatened.

    Attributes:
        index: Position in the scenario's schedule.
        issue: Index of the issue it changes.
        value: The new value (the issue's unit).
        step: New value minus the value in force before it.
        effective: First round it applies in.
        announced: First round the negotiators know of it (and anticipate it).
        kind: ``"change"`` (applies whatever the negotiators do) or ``"threat"`` (applies unless a deal).
        note: Its source or description.
    """

    index: int
    issue: int
    value: float
    step: float
    effective: int
    announced: int
    kind: str
    note: str


def escalated(status_quo: np.ndarray, issue: int | None, escalation) -> np.ndarray:
    """The no-deal package after the final deadline: the status quo with ``issue`` raised by the escalation.

    Args:
        status_quo: Package(s), ``(n,)`` or ``(B, n)``.
        issue: Index of the escalating issue (``None``: nothing escalates).
        escalation: The rise, in the issue's unit (pp), scalar or per world ``(B,)``.
    """
    x = np.array(status_quo, dtype=float, copy=True)
    if issue is not None:
        x[..., issue] += escalation
    return x


class NoDealPath:
    """The no-deal path of B worlds.

    Args:
        status_quo: The status-quo package per world, ``(B, n)``.
        escalation_issue: Index of the issue the escalation raises (``None``: none).
        escalation: The escalation per world, ``(B,)``.
        schedule: Scheduled changes and threats.
        valuation_rounds: Length of the valuation window per world, ``(B,)``.
        deadlines: The worlds' deadlines.
    """

    def __init__(self, status_quo: np.ndarray, escalation_issue: int | None, escalation: np.ndarray,
                 schedule: tuple[ScheduledChange, ...], valuation_rounds: np.ndarray, deadlines: Deadlines) -> None:
        self.status_quo = status_quo
        self.escalation_issue = escalation_issue
        self.escalated = escalated(status_quo, escalation_issue, escalation)
        self.schedule = schedule
        self.valuation_rounds = valuation_rounds
        self.deadlines = deadlines

    def window_share(self, start: np.ndarray, t: int | np.ndarray) -> np.ndarray:
        """Share of the valuation window beginning in round ``t`` that lies at or after round ``start``."""
        window = self.valuation_rounds
        return np.clip((t + window - np.maximum(t, start)) / window, 0.0, 1.0)

    def package(self, t: int | np.ndarray) -> np.ndarray:
        """Per world and issue, the mean value of the no-deal path over the valuation window from round
        ``t`` (status quo, announced scheduled changes, the escalation after the deadline), ``(B, n)``."""
        t = np.asarray(t)
        mean = self.status_quo.copy()
        for change in self.schedule:
            known = t >= change.announced
            mean[:, change.issue] += np.where(known, change.step * self.window_share(change.effective, t), 0.0)
        j = self.escalation_issue
        if j is not None:
            mean[:, j] += (self.escalated[:, j] - self.status_quo[:, j]) * self.window_share(
                self.deadlines.known(t), t)
        return mean

    def in_force(self, t: np.ndarray) -> np.ndarray:
        """Per world and issue, the value in force in round ``t`` without a deal: the status quo, every
        scheduled change that has taken effect, and the escalation from the final deadline on, ``(B, n)``."""
        t = np.asarray(t)
        x = self.status_quo.copy()
        for change in self.schedule:
            x[:, change.issue] += np.where(t >= change.effective, change.step, 0.0)
        j = self.escalation_issue
        if j is not None:
            x[:, j] = np.where(t >= self.deadlines.final_deadline, self.escalated[:, j], x[:, j])
        return x

    def valued_by(self, utility, u_status_quo: np.ndarray, u_escalated: np.ndarray) -> NoDealValue:
        """The path as one party values it (see :class:`NoDealValue`)."""
        return NoDealValue(self, utility, u_status_quo, u_escalated)


class NoDealValue:
    """One party's value of the no-deal path: its reservation value in each round.

    Args:
        path: The no-deal path.
        utility: The party's :class:`~sim.domain.utility.BatchUtility`.
        u_status_quo: Its utility of the status quo, ``(B,)``.
        u_escalated: Its utility of the escalated no-deal package, ``(B,)``.
    """

    def __init__(self, path: NoDealPath, utility, u_status_quo: np.ndarray, u_escalated: np.ndarray) -> None:
        self.path, self.utility = path, utility
        self.u_status_quo, self.u_escalated = u_status_quo, u_escalated
        # utility step of each scheduled change: coefficient x (new value - value before it), normalised
        self._step = {c.index: utility.step(c.issue, c.step) for c in path.schedule}
        self._cache: dict[int, np.ndarray] = {}

    def reservation(self, t: int | np.ndarray) -> np.ndarray:
        """Reservation value in round ``t``: the mean utility of the no-deal path over the valuation
        window that begins in round ``t``."""
        if isinstance(t, int):
            cached = self._cache.get(t)
            if cached is None:
                cached = self._cache[t] = self.reservation(np.int64(t))
                self._cache.pop(t - 2, None)
            return cached
        path = self.path
        rv = self.u_status_quo + (self.u_escalated - self.u_status_quo) * path.window_share(
            path.deadlines.known(t), t)
        for change in path.schedule:
            known = t >= change.announced
            rv = rv + np.where(known, self._step[change.index] * path.window_share(change.effective, t), 0.0)
        return rv

    def payoff(self, t: int | np.ndarray) -> np.ndarray:
        """Payoff of no deal as seen in round ``t`` (no delay cost)."""
        return self.utility.payoff_of_utility(self.reservation(t))
