"""The bargaining metrics of a chunk's worlds, from its points' inputs (:mod:`sim.domain.bargaining_batch`).

The points of a chunk that have the same payoffs and bounds of both parties share their utilities, joint box and
frontier (the points of an ensemble that differ only in a deadline or a noise level); the utilities and boxes of
the distinct ones are computed as arrays with a leading point axis, not one point at a time. Where the points are
seen to be distinct at a glance (every prior draw has payoffs of its own), each is its own group, unsorted.
"""

from __future__ import annotations

import numpy as np

from sim.domain.bargaining_batch import all_distinct, outcome_metrics
from sim.domain.utility import ordered_dot
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
    n_points = len(point_inputs.deadline)
    group, first = _frontier_groups(point_inputs, n_points)
    (c_a, k_a), (c_b, k_b) = (_normalised(party, first, n_points) for party in point_inputs.parties)
    one, two = point_inputs.parties
    lo = np.maximum(_rows(one.red_lo, first, n_points), _rows(two.red_lo, first, n_points))  # both sides' bounds
    hi = np.minimum(_rows(one.red_hi, first, n_points), _rows(two.red_hi, first, n_points))
    label = local_point if group is None else group[local_point]
    return outcome_metrics(label, (c_a, c_b, k_a, k_b), (lo, hi), outcomes, parties)


def _rows(leaf, first: np.ndarray | None, n_points: int) -> np.ndarray:
    """A per-point leaf's rows ``first`` (every point's, in order, if None), as ``(G, n)`` in row order."""
    values = np.asarray(leaf)
    if first is None:
        return np.ascontiguousarray(values.reshape(n_points, -1))
    return values[first].reshape(len(first), -1)


def _normalised(party, first: np.ndarray | None, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """``(c, k)`` of the party's normalised utility at the points ``first`` (every point, if None; as
    :func:`sim.domain.utility.normalised`, one point per row): ``c`` is ``(G, n)``, ``k`` is ``(G,)``."""
    a = _rows(party.payoff_a, first, n_points).astype(float)
    b, p_min, p_max = (_rows(getattr(party, name), first, n_points)[:, 0] for name in ("payoff_b", "p_min", "p_max"))
    span = p_max - p_min
    positive = span > 0
    safe = np.where(positive, span, 1.0)
    c = np.where(positive[:, None], a / safe[:, None], a * 0.0)
    k = np.where(positive, (b - p_min) / safe, 1.0).astype(float)
    return c, k


def _frontier_groups(point_inputs: WorldInputs, n_points: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Points with the same payoffs and the same bounds of both parties (so the same utilities, joint box and
    frontier): a group number per point, and each group's first point.

    ``(None, None)``, each point its own group, where a weighted sum of each point's inputs differs from point to
    point (equal inputs have equal sums, so these points are distinct; and a point's frontier is the same numbers
    in a group or alone, so a misjudged case costs time, never a value); else the points' rows are sorted."""
    parts = [np.reshape(np.asarray(getattr(party, name), dtype=float), (n_points, -1))
             for party in point_inputs.parties for name in _FIELDS]
    weights = np.linspace(1.0, 2.0, sum(part.shape[1] for part in parts))
    edges = np.cumsum([0] + [part.shape[1] for part in parts])
    with np.errstate(all="ignore"):
        terms = zip(parts, edges[:-1], edges[1:], strict=True)
        digest = sum(ordered_dot(part, weights[start:end]) for part, start, end in terms)
    if all_distinct(digest):
        return None, None
    _, first, group = np.unique(np.column_stack(parts), axis=0, return_index=True, return_inverse=True)
    return group.ravel(), first
