"""Bargaining metrics of many worlds at once: the rational frontier, Nash and Kalai–Smorodinsky points of many
(frontier, disagreement point) pairs, and every world's distances to them.

:mod:`sim.domain.bargaining` defines each of these for one frontier and one disagreement point ``d`` (the
reference). Here K pairs are arrays with a leading axis of K, each polyline padded to a common length with its
number of points beside it, and every step is the same floating-point operation, in the same order, as in the
one-pair function, with the one-pair function's branches as masks: the results are the same numbers, bit for
bit (``tests/test_metrics_batch.py``). Inside, a polyline is one array per utility with the pairs on the last
axis (point by pair, so every operation runs along the pairs), and a chunk's worlds are taken in blocks of a few
thousand pairs, which keeps the working arrays small.

One operation is not elementwise arithmetic: the Nash product's powers ``g ** w``. The one-pair function raises
NumPy scalars (the C library's ``pow``), and the batch uses NumPy's array functions (``sqrt`` for an exponent of
1/2), which can differ in the last bit. The Nash product only ranks the candidates, so a pair whose ranking
could turn on a last bit (two candidates' products within ``1e-13`` relative of the tolerance that separates
them) is solved again by the one-pair function.
"""

from __future__ import annotations

import numpy as np

from sim.domain.bargaining import EPS, frontier_array, nash_point

__all__ = ["all_distinct", "kalai_points", "nash_points", "outcome_metrics", "polyline_distances", "rational_parts"]

_POWER_SLACK = 1e-13  # relative: far above the last-bit differences of two ways of raising to a power
_BLOCK = 2048  # pairs (or worlds) per block: the working arrays stay small (cached, no fresh pages)


def rational_parts(vertices: np.ndarray, count: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sim.domain.bargaining.rational_part` of K frontiers at once.

    Args:
        vertices: ``(K, V, 2)``: the first ``count[k]`` rows are frontier k's vertices.
        count: ``(K,)``, vertices of each frontier (0 for none).
        d: ``(K, 2)``, the disagreement points.

    Returns:
        ``(points, count)``: ``(K, R, 2)`` with ``R >= 2`` (zero padded) and each rational part's number of points.
    """
    points, n_points = _rational(_pair_last(vertices), count, d)
    return np.stack((points[0].T, points[1].T), axis=-1), n_points


def _pair_last(points: np.ndarray) -> list[np.ndarray]:
    """``(K, V, 2)`` points as one contiguous ``(V, K)`` array per utility (point by pair)."""
    return [np.ascontiguousarray(points[..., axis].T) for axis in (0, 1)]


def _rational(vertices: list[np.ndarray], count: np.ndarray, d: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """:func:`rational_parts` of frontiers given point by pair (``(V, K)`` per utility), the points the same."""
    p, q = [v[:-1] for v in vertices], [v[1:] for v in vertices]  # per utility, (segments, K)
    lo_s, hi_s = _segment_cuts(p, q, d)
    n_segments = len(lo_s)
    keep = (np.arange(n_segments)[:, None] < count - 1) & (lo_s <= hi_s + EPS)
    step = [q[axis] - p[axis] for axis in (0, 1)]
    start = [p[axis] + lo_s * step[axis] for axis in (0, 1)]
    widest = np.where(lo_s > hi_s, lo_s, hi_s)  # max(hi_s, lo_s), then min(., 1.0), as Python's max and min
    widest = np.where(1.0 < widest, 1.0, widest)
    end = [p[axis] + widest * step[axis] for axis in (0, 1)]
    last = np.maximum.accumulate(np.where(keep, np.arange(n_segments)[:, None], -1), axis=0)
    before = np.concatenate((np.full((1, len(d)), -1), last[:-1]))  # the last kept segment before each, -1 if none
    at = np.maximum(before, 0)
    with np.errstate(invalid="ignore"):
        gap = [np.abs(np.take_along_axis(end[axis], at, axis=0) - start[axis]) for axis in (0, 1)]
        fresh = (before < 0) | (np.maximum(gap[0], gap[1]) > EPS)  # a start not at the last kept end
    emit = np.stack((keep & fresh, keep), axis=1).reshape(2 * n_segments, len(d))  # start, end of each segment
    lone = (count == 1) & (vertices[0][0] >= d[:, 0] - EPS) & (vertices[1][0] >= d[:, 1] - EPS)
    n_points = np.where(lone, 1, emit.sum(axis=0))
    width = max(2, int(n_points.max(initial=0)))
    slot = np.where(emit, np.cumsum(emit, axis=0) - 1, width) * len(d) + np.arange(len(d))  # a spare row if not
    points = []
    for axis in (0, 1):
        out = np.zeros((width + 1, len(d)))
        np.put(out, slot, np.stack((start[axis], end[axis]), axis=1))  # each pair's emitted points, in order
        out[0, lone] = vertices[axis][0, lone]
        points.append(out[:width])
    return points, n_points


def _segment_cuts(p: list[np.ndarray], q: list[np.ndarray], d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per segment ``p + s (q - p)`` (per utility, ``(segments, K)``), the range ``[lo_s, hi_s]`` of ``s`` where
    both utilities are at least ``d`` (``lo_s > hi_s`` if none), narrowed axis by axis as
    :func:`sim.domain.bargaining.rational_part` does."""
    lo_s, hi_s = np.zeros(p[0].shape), np.ones(p[0].shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for axis in (0, 1):
            bound = d[:, axis]
            delta = q[axis] - p[axis]
            flat = np.abs(delta) < EPS
            below = flat & (p[axis] < bound - EPS)
            cut = (bound - p[axis]) / delta
            rising = ~flat & (delta > 0)
            falling = ~flat & ~(delta > 0)
            lo_s = np.where(below, 1.0, np.where(rising & (cut > lo_s), cut, lo_s))
            hi_s = np.where(below, 0.0, np.where(falling & (cut < hi_s), cut, hi_s))
    return lo_s, hi_s


def nash_points(rational: np.ndarray, count: np.ndarray, d: np.ndarray, weight: float = 0.5) -> np.ndarray:
    """:func:`sim.domain.bargaining.nash_point` of K rational frontiers (as :func:`rational_parts` returns them).

    Each segment's candidates (its ends and the stationary point of the product, in the one-pair function's
    order) are scanned in order, a candidate replacing the best so far when it exceeds it by more than the
    tolerance; a pair whose scan had a comparison too close to call (see the module's docstring) is solved by
    the one-pair function.

    Returns:
        ``(K, 2)``, NaN where the rational frontier is empty.
    """
    return _nash(_pair_last(rational), count, d, weight)


def _nash(rational: list[np.ndarray], count: np.ndarray, d: np.ndarray, weight: float) -> np.ndarray:
    """:func:`nash_points` of rational frontiers given point by pair (``(R, K)`` per utility)."""
    p = [r[:-1] for r in rational]  # (segments, K) per utility
    q = [np.where(count == 1, p[axis], rational[axis][1:]) for axis in (0, 1)]  # a lone point: (r0, r0)
    a, b = p[0] - d[:, 0], q[0] - p[0]  # u_A - d_A = a + b s
    c, e = p[1] - d[:, 1], q[1] - p[1]  # u_B - d_B = c + e s
    with np.errstate(all="ignore"):
        turn = -(weight * b * c + (1 - weight) * e * a) / (b * e)
        turn = np.where(0.0 > turn, 0.0, turn)
        s = np.stack((np.zeros_like(b), np.ones_like(b), np.where(1.0 < turn, 1.0, turn)), axis=1)  # (S, 3, K)
        value = (_power(_at_least_zero(a[:, None] + b[:, None] * s), weight)
                 * _power(_at_least_zero(c[:, None] + e[:, None] * s), 1 - weight))
        segments = np.arange(len(b))[:, None] < np.maximum(count - 1, 1)
        best, unsure = _scan(value.reshape(3 * len(b), len(d)), segments, b * e < 0)
    k = np.arange(len(d))
    seg, s_best = np.maximum(best, 0) // 3, s.reshape(3 * len(b), len(d))[np.maximum(best, 0), k]
    with np.errstate(all="ignore"):
        point = np.stack([p[axis][seg, k] + s_best * (q[axis][seg, k] - p[axis][seg, k]) for axis in (0, 1)], axis=1)
    point = np.where((best >= 0)[:, None], point, np.stack((rational[0][0], rational[1][0]), axis=1))
    point[count == 0] = np.nan
    for j in np.flatnonzero(unsure & (count > 0)):
        one = np.stack((rational[0][:count[j], j], rational[1][:count[j], j]), axis=1)
        point[j] = nash_point(one, (float(d[j, 0]), float(d[j, 1])), weight)
    return point


def _at_least_zero(gain: np.ndarray) -> np.ndarray:
    """``max(gain, 0.0)`` elementwise, as Python's ``max`` (a NaN stays)."""
    return np.where(0.0 > gain, 0.0, gain)


def _power(base: np.ndarray, exponent: float) -> np.ndarray:
    """``base ** exponent`` elementwise by NumPy's array functions (``sqrt`` for an exponent of 1/2), which may
    differ from the C library's ``pow`` in the last bit (see the module's docstring)."""
    return np.sqrt(base) if exponent == 0.5 else np.power(base, exponent)


def _scan(value: np.ndarray, segments: np.ndarray, turning: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one-pair function's running best over the candidates (rows: each segment's two ends and turning
    point), for every pair (column) at once; a segment's candidates count where ``segments``, its turning point
    only where ``turning`` too.

    Returns:
        The best candidate's row (-1 if none beat ``-inf``), and whether a comparison was too close to call.
    """
    best_value, best = np.full(value.shape[1], -np.inf), np.full(value.shape[1], -1)
    unsure = np.zeros(value.shape[1], bool)
    on = np.stack((segments, segments, segments & turning), axis=1).reshape(value.shape)
    infinite, size = np.isinf(value), np.abs(value)
    for row, v in enumerate(value):
        bar = best_value + EPS
        better = on[row] & (v > bar)
        near = infinite[row] | (np.isfinite(bar) & (np.abs(v - bar) <= _POWER_SLACK * (size[row] + np.abs(bar))))
        unsure |= on[row] & near
        np.copyto(best_value, v, where=better)
        np.copyto(best, row, where=better)
    return best, unsure


def kalai_points(rational: np.ndarray, count: np.ndarray, d: np.ndarray) -> np.ndarray:
    """:func:`sim.domain.bargaining.kalai_point` of K rational frontiers (as :func:`rational_parts` returns them).

    Returns:
        ``(K, 2)``, NaN where the rational frontier is empty or the ray misses it.
    """
    return _kalai(_pair_last(rational), count, d)


def _kalai(points: list[np.ndarray], count: np.ndarray, d: np.ndarray) -> np.ndarray:
    """:func:`kalai_points` of rational frontiers given point by pair (``(R, K)`` per utility)."""
    k = np.arange(len(d))
    valid = np.arange(len(points[0]))[:, None] < count
    ideal = [np.where(valid, points[axis], -np.inf).max(axis=0) for axis in (0, 1)]
    direction = [ideal[axis] - d[:, axis] for axis in (0, 1)]
    with np.errstate(all="ignore"):
        flat = (np.abs(direction[0]) < EPS) & (np.abs(direction[1]) < EPS)
        f = (points[0] - d[:, 0]) * direction[1] - (points[1] - d[:, 1]) * direction[0]
        f_p, f_q = f[:-1], f[1:]
        hit = (np.arange(len(f_p))[:, None] < count - 1) & ((f_p == 0) | (f_p * f_q < 0) | (f_q == 0))
        first = hit.argmax(axis=0)
        f_p, f_q = f_p[first, k], f_q[first, k]
        s = np.where(f_p == f_q, 0.0, f_p / (f_p - f_q))
        point = np.stack([points[axis][first, k] + s * (points[axis][first + 1, k] - points[axis][first, k])
                          for axis in (0, 1)], axis=1)
    start = np.stack((points[0][0], points[1][0]), axis=1)
    point = np.where(hit.any(axis=0)[:, None], point, np.where((count == 1)[:, None], start, np.nan))
    point = np.where(flat[:, None], start, point)
    point[count == 0] = np.nan
    return point


def polyline_distances(points: np.ndarray, pair: np.ndarray | None, polylines: np.ndarray, count: np.ndarray
                       ) -> np.ndarray:
    """:func:`sim.domain.bargaining.distance_to_polyline` of each point to its pair's polyline.

    Args:
        points: ``(W, 2)``.
        pair: ``(W,)``, each point's polyline (an index into ``polylines``); None if point w's is polyline w.
        polylines: ``(K, R, 2)``, of which the first ``count[k]`` rows are polyline k's points.
        count: ``(K,)``.
    """
    return _distances(points, pair, _pair_last(polylines), count)


def _distances(points: np.ndarray, pair: np.ndarray | None, vertex: list[np.ndarray], count: np.ndarray
               ) -> np.ndarray:
    """:func:`polyline_distances` to polylines given point by pair (``(R, K)`` per utility), the norms as
    ``np.linalg.norm`` takes them (the squares summed, then the root)."""
    p = [vertex[axis][:-1] for axis in (0, 1)]
    seg = [vertex[axis][1:] - p[axis] for axis in (0, 1)]
    length2 = np.maximum(seg[0] ** 2 + seg[1] ** 2, EPS)
    out = np.empty(len(points))
    with np.errstate(all="ignore"):
        for rows in _blocks(len(points)):
            k, at = (rows if pair is None else pair[rows]), points[rows]
            rel = [at[:, axis] - p[axis][:, k] for axis in (0, 1)]
            s = np.clip((rel[0] * seg[0][:, k] + rel[1] * seg[1][:, k]) / length2[:, k], 0.0, 1.0)
            gap = [at[:, axis] - (p[axis][:, k] + s * seg[axis][:, k]) for axis in (0, 1)]
            to_segments = np.sqrt(gap[0] ** 2 + gap[1] ** 2)
            n = count[k]
            to_segments = np.where(np.arange(len(s))[:, None] < n - 1, to_segments, np.inf)
            lone = np.sqrt((at[:, 0] - vertex[0][0, k]) ** 2 + (at[:, 1] - vertex[1][0, k]) ** 2)
            out[rows] = np.where(n == 1, lone, np.where(n == 0, np.nan, to_segments.min(axis=0)))
    return out


def outcome_metrics(point: np.ndarray, coefficients: tuple, boxes: tuple, outcomes: dict[str, np.ndarray],
                    parties: tuple[str, str]) -> dict[str, np.ndarray]:
    """Bargaining metrics for every world, as columns.

    The frontiers of all labels are computed by blocks of labels (:func:`sim.domain.bargaining.frontier_array`),
    and the rational frontier, Nash and KS points once per key, a label and disagreement point (the reservation
    values in the end round). Where every world is its own key, seen at a glance (the worlds' labels, or one of
    their reservation values, all differ: an ensemble's prior draws), the worlds are taken block by block as they
    come; else the keys (a few values per label for default values) are found by a sort, all at once.

    Args:
        point: Label of each world (``0`` to ``G - 1``): worlds with one label share their utilities and box.
        coefficients: ``(c_a, c_b, k_a, k_b)`` of the normalised utilities, per label (a leading axis of G).
        boxes: ``(lo, hi)`` per label, ``(G, n)`` each: the packages both sides can agree to (the issue ranges
            narrowed by both sides' red lines and the issues kept off the table).
        outcomes: The model's outcome columns (utilities, reservation utilities, deal, rounds).
        parties: The two parties' ids, in the order of the coefficients (column prefixes).

    Returns:
        ``<party>_advantage`` for each party (utility above the reservation value), ``welfare`` (sum of
        utilities), ``agreement_time`` (agreement round / final deadline; NaN without a deal),
        ``individually_rational``, ``pareto_dist``, ``nash_dist`` and ``kalai_dist``.
    """
    first, second = parties
    u = np.c_[outcomes[f"{first}_utility"], outcomes[f"{second}_utility"]]
    d = np.c_[outcomes[f"{first}_reservation_utility"], outcomes[f"{second}_reservation_utility"]]
    deal = outcomes["deal"]
    out = {
        f"{first}_advantage": u[:, 0] - d[:, 0],
        f"{second}_advantage": u[:, 1] - d[:, 1],
        "welfare": u.sum(axis=1),
        "agreement_time": np.where(deal, outcomes["end_round"] / outcomes["final_deadline"], np.nan),
        "individually_rational": deal & (u[:, 0] >= d[:, 0] - 1e-9) & (u[:, 1] >= d[:, 1] - 1e-9),
    }
    lo, hi = boxes
    feasible = np.all(lo <= hi + 1e-12, axis=1)
    frontiers = [frontier_array(*(c[rows] for c in coefficients), lo[rows], hi[rows]) for rows in _blocks(len(lo))]
    vertices = np.concatenate([v for v, _ in frontiers]) if frontiers else np.zeros((0, lo.shape[1] + 1, 2))
    count = np.where(feasible, np.concatenate([n for _, n in frontiers]) if frontiers else 0, 0)
    if all_distinct(point) or all_distinct(d[:, 0]) or all_distinct(d[:, 1]):  # every world is its own key
        distances = _own_keys(u, d, point, vertices, count)
    else:
        distances = _shared_keys(u, d, point, vertices, count)
    return out | dict(zip(("pareto_dist", "nash_dist", "kalai_dist"), distances, strict=True))


def _blocks(n: int) -> list[slice]:
    """Consecutive blocks of at most ``_BLOCK`` of ``n`` rows."""
    return [slice(i, i + _BLOCK) for i in range(0, n, _BLOCK)]


def _own_keys(u: np.ndarray, d: np.ndarray, point: np.ndarray, vertices: np.ndarray, count: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distances of worlds that are each their own (frontier, disagreement point) pair, block by block.

    Args:
        u: ``(W, 2)``, each world's utilities.
        d: ``(W, 2)``, each world's disagreement point.
        point: ``(W,)``, each world's label (an index into ``vertices``).
        vertices: ``(G, V, 2)``, each label's frontier, of ``count`` vertices.
        count: ``(G,)``.
    """
    pareto, nash, kalai = np.empty(len(u)), np.empty((len(u), 2)), np.empty((len(u), 2))
    for rows in _blocks(len(u)):
        label = point[rows]
        rational, n_rational = _rational(_pair_last(np.take(vertices, label, axis=0)), count[label], d[rows])
        pareto[rows] = _distances(u[rows], None, rational, n_rational)
        nash[rows] = _nash(rational, n_rational, d[rows], 0.5)
        kalai[rows] = _kalai(rational, n_rational, d[rows])
    return pareto, np.linalg.norm(u - nash, axis=1), np.linalg.norm(u - kalai, axis=1)


def _shared_keys(u: np.ndarray, d: np.ndarray, point: np.ndarray, vertices: np.ndarray, count: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distances of worlds of which some share their label and disagreement point (one key): the rational
    frontier and solutions once per key. Arguments as :func:`_own_keys`'s."""
    keys, inverse = np.unique(np.c_[point, d], axis=0, return_inverse=True)
    label, key, key_d = keys[:, 0].astype(int), inverse.ravel(), keys[:, 1:]
    rational, n_rational = rational_parts(np.take(vertices, label, axis=0), count[label], key_d)
    nash, kalai = nash_points(rational, n_rational, key_d), kalai_points(rational, n_rational, key_d)
    return (polyline_distances(u, key, rational, n_rational), np.linalg.norm(u - nash[key], axis=1),
            np.linalg.norm(u - kalai[key], axis=1))


def all_distinct(values: np.ndarray) -> bool:
    """Whether no two of the values are equal (as ``==`` compares them: ``-0.0 == 0.0``, NaN equals nothing)."""
    ordered = np.sort(values)
    return not np.any(ordered[1:] == ordered[:-1])
