"""The bargaining metrics of a chunk's worlds, from its points' inputs (:mod:`sim.domain.bargaining_batch`).

The points of a chunk that have the same payoffs and bounds of both parties share their utilities, joint box and
frontier (the points of an ensemble that differ only in a deadline or a noise level); the utilities and boxes of
the distinct ones are computed as arrays with a leading point axis, not one point at a time.
"""

from __future__ import annotations

import numpy as np

from sim.domain.bargaining_batch import outcome_metrics
from sim.engine.inputs import WorldInputs

__all__ = ["bargaining_columns"]

_FIELDS = ("payoff_a", "payoff_b", "p_min", "p_max", "red_lo", "red_hi")


def bargaining_columns(point_inputs: WorldInputs, local_point: np.ndarray, outcomes: dict[str, np.ndarray],
                       parties: tuple[str, str]) -> dict[str, np.ndarray]:
    """The metrics' columns for each world of a chunk.

    Args:
        point_inputs: The chunk's points' stacked inputs.
        local_point: Each world's point (an index into ``point_inputs``).
        outcomes: The model's outcome columns.
        parties: The two parties' ids, in scenario order.
    """
    group, first = _frontier_groups(point_inputs)
    (c_a, k_a), (c_b, k_b) = (_normalised(party, first) for party in point_inputs.parties)
    one, two = point_inputs.parties
    lo = np.maximum(_rows(one.red_lo, first), _rows(two.red_lo, first))  # both parties' own bounds intersected
    hi = np.minimum(_rows(one.red_hi, first), _rows(two.red_hi, first))
    return outcome_metrics(group[local_point], (c_a, c_b, k_a, k_b), (lo, hi), outcomes, parties)


def _rows(leaf, first: np.ndarray) -> np.ndarray:
    """A per-point leaf's rows ``first``, as ``(G, n)``."""
    values = np.asarray(leaf)
    return values[first].reshape(len(first), -1)


def _normalised(party, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(c, k)`` of the party's normalised utility at the points ``first`` (as
    :func:`sim.domain.utility.normalised`, one point per row): ``c`` is ``(G, n)``, ``k`` is ``(G,)``."""
    a = _rows(party.payoff_a, first).astype(float)
    b, p_min, p_max = (np.asarray(getattr(party, name))[first].reshape(len(first)) for name in ("payoff_b", "p_min",
                                                                                               "p_max"))
    span = p_max - p_min
    positive = span > 0
    safe = np.where(positive, span, 1.0)
    c = np.where(positive[:, None], a / safe[:, None], a * 0.0)
    k = np.where(positive, (b - p_min) / safe, 1.0).astype(float)
    return c, k


def _frontier_groups(point_inputs: WorldInputs) -> tuple[np.ndarray, np.ndarray]:
    """Points with the same payoffs and the same bounds of both parties (so the same utilities, joint box and
    frontier): a group number per point, and each group's first point."""
    parts = [np.reshape(np.asarray(getattr(party, name), dtype=float), (len(point_inputs.deadline), -1))
             for party in point_inputs.parties for name in _FIELDS]
    _, first, group = np.unique(np.column_stack(parts), axis=0, return_index=True, return_inverse=True)
    return group.ravel(), first
