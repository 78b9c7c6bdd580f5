"""Bargaining-theory metrics for outcomes: Pareto frontier, Nash and Kalai–Smorodinsky points, distances.

Both sides' utilities are affine in the package over a box of issue ranges, ``u_i(x) = c_i @ x + k_i``.
For two such utilities the Pareto frontier is found *exactly*, by enumeration of its vertices rather
than by an optimiser: maximising ``w u_A + (1 - w) u_B`` sets every issue to one of its bounds, and as
the weight ``w`` goes from 0 to 1 the issues the sides disagree on flip, one at a time, from the second party's
preferred bound to the first party's, in the order of ``|c_B| / (|c_B| + |c_A|)`` (a fractional
knapsack). The frontier is the polyline through the points after each flip: concave, with ``u_A``
increasing and ``u_B`` decreasing along it.

Following NegMAS (``negmas.preferences.ops``), the solution points and distances use the
*rational* part of the frontier, where both utilities are at least the disagreement point ``d`` (the
reservation values):

* Nash (1950): the point of the rational frontier maximising ``(u_A - d_A)(u_B - d_B)``,
  found exactly on each segment (the product is a quadratic in the segment's parameter);
* Kalai–Smorodinsky (1975): where the line from ``d`` to the ideal point (each side's best
  rational utility) meets the frontier;
* ``pareto_dist``, ``nash_dist``, ``kalai_dist``: Euclidean distances in utility space from an outcome's
  utility pair to the nearest point of the rational frontier, to the Nash point and to the KS point.

These functions take one frontier and one disagreement point; :mod:`sim.domain.bargaining_batch` computes the
same numbers for all of a chunk's worlds at once, and is checked against them bit for bit.
"""

from __future__ import annotations

import numpy as np

from sim.domain.utility import ordered_dot

__all__ = [
    "EPS",
    "distance_to_polyline",
    "frontier",
    "frontier_array",
    "frontiers",
    "kalai_point",
    "nash_discrete",
    "nash_point",
    "pareto_indices",
    "rational_part",
]

EPS = 1e-12  # tolerance of the utility comparisons (normalised utilities, so of order 1)


def frontier(c_a: np.ndarray, c_b: np.ndarray, k_a: float, k_b: float, lo: np.ndarray, hi: np.ndarray
             ) -> np.ndarray:
    """Vertices of the Pareto frontier in utility space, shape ``(V, 2)`` as ``(u_A, u_B)``.

    Args:
        c_a: The first party's utility's coefficient per issue.
        c_b: The second party's utility's coefficient per issue.
        k_a: The first party's utility's constant.
        k_b: The second party's utility's constant.
        lo: Lower bounds of the issues.
        hi: Upper bounds of the issues.

    Returns:
        Vertices ordered from the second party's ideal (``u_A`` smallest) to the first party's ideal.
    """
    c_a, c_b = np.asarray(c_a, float), np.asarray(c_b, float)
    a_pick = np.where(c_a > 0, hi, lo)  # each side's preferred bound; ties broken toward the other's
    b_pick = np.where(c_b > 0, hi, np.where(c_b < 0, lo, a_pick))
    a_pick = np.where(c_a == 0, b_pick, a_pick)
    x = b_pick.astype(float).copy()
    opposed = np.flatnonzero(a_pick != b_pick)
    gain_a = c_a[opposed] * (a_pick[opposed] - b_pick[opposed])  # > 0: what the first party gains by a flip
    loss_b = -c_b[opposed] * (a_pick[opposed] - b_pick[opposed])  # > 0: what the second party loses
    # flip first where the second party loses least per unit of joint value; an issue whose range is too
    # narrow for either side to feel (a red line at 1e-320, say: 0 / 0) changes nothing, wherever it goes
    total = loss_b + gain_a
    ratio = np.divide(loss_b, total, out=np.zeros_like(total), where=total > 0)
    order = opposed[np.argsort(ratio, kind="stable")]
    points = [(ordered_dot(c_a, x) + k_a, ordered_dot(c_b, x) + k_b)]
    for j in order:
        x[j] = a_pick[j]
        points.append((ordered_dot(c_a, x) + k_a, ordered_dot(c_b, x) + k_b))
    return np.array(points)


def frontiers(c_a: np.ndarray, c_b: np.ndarray, k_a: np.ndarray, k_b: np.ndarray, lo: np.ndarray, hi: np.ndarray
              ) -> list[np.ndarray]:
    """:func:`frontier` of G utility pairs at once (arrays with a leading axis of G), the same numbers.

    Returns:
        Each pair's vertices, ``(V_g, 2)`` (views of :func:`frontier_array`'s rows).
    """
    vertices, count = frontier_array(c_a, c_b, k_a, k_b, lo, hi)
    return [vertices[g, :m] for g, m in enumerate(count.tolist())]


def frontier_array(c_a: np.ndarray, c_b: np.ndarray, k_a: np.ndarray, k_b: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`frontier` of G utility pairs at once, as one padded array.

    The flips are ordered for all G by one stable sort along the issue axis (the issues that no flip moves
    last), and the packages after each flip are one array ``(G, n + 1, n)``.

    Returns:
        ``(vertices, count)``: ``(G, n + 1, 2)``, of which a pair's first ``count[g]`` rows (1 + its opposed
        issues) are its frontier's vertices, the same numbers as :func:`frontier`'s.
    """
    c_a, c_b = np.asarray(c_a, float), np.asarray(c_b, float)
    lo, hi = np.broadcast_to(lo, c_a.shape), np.broadcast_to(hi, c_a.shape)
    a_pick = np.where(c_a > 0, hi, lo)
    b_pick = np.where(c_b > 0, hi, np.where(c_b < 0, lo, a_pick))
    a_pick = np.where(c_a == 0, b_pick, a_pick)
    opposed = a_pick != b_pick
    gain_a = c_a * (a_pick - b_pick)
    loss_b = -c_b * (a_pick - b_pick)
    total = loss_b + gain_a
    ratio = np.divide(loss_b, total, out=np.zeros_like(total), where=total > 0)
    ratio[~opposed] = np.inf  # after every opposed issue, which keep their order (stable)
    rank = np.argsort(np.argsort(ratio, axis=1, kind="stable"), axis=1, kind="stable")
    u_a, u_b = _dots(rank, a_pick.astype(float), b_pick.astype(float), c_a, c_b)
    u_a, u_b = u_a + np.asarray(k_a, float)[None, :], u_b + np.asarray(k_b, float)[None, :]
    return np.stack((u_a.T, u_b.T), axis=-1), opposed.sum(axis=1) + 1


def _dots(rank: np.ndarray, a_pick: np.ndarray, b_pick: np.ndarray, c_a: np.ndarray, c_b: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """``c_a @ x`` and ``c_b @ x`` of each group's package ``x`` after each number of flips, ``(n + 1, G)`` each.

    After ``v`` flips issue j is at ``a_pick`` if its rank is below ``v``, else at ``b_pick``; the products are
    summed issue by issue in order, as ``c @ x`` of one package, with the groups on the last (contiguous) axis.
    """
    flips = np.arange(rank.shape[1] + 1)[:, None]
    rank_t = np.ascontiguousarray(rank.T)
    products = [np.ascontiguousarray((pick * c).T) for c in (c_a, c_b) for pick in (a_pick, b_pick)]
    totals = [None, None]
    for j in range(rank.shape[1]):
        flipped = rank_t[j] < flips
        for side, (at_a, at_b) in enumerate((products[:2], products[2:])):
            term = np.where(flipped, at_a[j], at_b[j])
            totals[side] = term if totals[side] is None else totals[side] + term
    return totals[0], totals[1]


def rational_part(vertices: np.ndarray, d: tuple[float, float]) -> np.ndarray:
    """The part of the frontier where ``u_A >= d_A`` and ``u_B >= d_B`` (empty if there is none)."""
    out = []
    d_a, d_b = d
    for p, q in zip(vertices[:-1], vertices[1:], strict=True):
        lo_s, hi_s = 0.0, 1.0
        for axis, bound in ((0, d_a), (1, d_b)):  # keep the s in [0, 1] with p + s (q - p) >= bound
            delta = q[axis] - p[axis]
            if abs(delta) < EPS:
                if p[axis] < bound - EPS:
                    lo_s, hi_s = 1.0, 0.0
            elif delta > 0:
                lo_s = max(lo_s, (bound - p[axis]) / delta)
            else:
                hi_s = min(hi_s, (bound - p[axis]) / delta)
        if lo_s <= hi_s + EPS:
            a, b = p + lo_s * (q - p), p + min(max(hi_s, lo_s), 1.0) * (q - p)
            if not out or np.abs(out[-1] - a).max() > EPS:
                out.append(a)
            out.append(b)
    if len(vertices) == 1 and vertices[0][0] >= d_a - EPS and vertices[0][1] >= d_b - EPS:
        out = [vertices[0]]
    return np.array(out).reshape(-1, 2)


def nash_point(rational: np.ndarray, d: tuple[float, float], weight: float = 0.5) -> np.ndarray:
    """The Nash bargaining solution on the rational frontier (NaN if it is empty).

    Maximises ``(u_A - d_A)^w (u_B - d_B)^(1 - w)``: the symmetric solution for ``w = 1/2``, the
    generalised (asymmetric) one otherwise (Nash 1950). On a segment ``p + s (q - p)`` the first-order
    condition is linear in ``s``, so the maximum is found exactly.
    """
    if len(rational) == 0:
        return np.full(2, np.nan)
    best, best_value = rational[0], -np.inf
    segments = list(zip(rational[:-1], rational[1:], strict=True)) or [(rational[0], rational[0])]
    for p, q in segments:
        a, b = p[0] - d[0], q[0] - p[0]  # u_A - d_A = a + b s
        c, e = p[1] - d[1], q[1] - p[1]  # u_B - d_B = c + e s
        candidates = [0.0, 1.0]
        if b * e < 0:  # w b (c + e s) + (1 - w) e (a + b s) = 0
            candidates.append(min(max(-(weight * b * c + (1 - weight) * e * a) / (b * e), 0.0), 1.0))
        for s in candidates:
            gain_a, gain_b = max(a + b * s, 0.0), max(c + e * s, 0.0)
            value = gain_a**weight * gain_b ** (1 - weight)
            if value > best_value + EPS:
                best, best_value = p + s * (q - p), value
    return np.asarray(best, dtype=float)


def pareto_indices(u: np.ndarray) -> np.ndarray:
    """Indices of the Pareto-optimal rows of a finite set of utility pairs, shape ``(N, 2)``.

    For discrete outcome spaces (enumeration): sort by the first utility, best first, and keep each
    point that beats every point before it on the second.
    """
    u = np.asarray(u, dtype=float)
    order = np.lexsort((-u[:, 1], -u[:, 0]))
    keep, best = [], -np.inf
    for i in order:
        if u[i, 1] > best + EPS:
            keep.append(i)
            best = u[i, 1]
    return np.array(keep, dtype=int)


def nash_discrete(u: np.ndarray, d: tuple[float, float]) -> np.ndarray:
    """The Nash point of a finite outcome set: the rational Pareto point with the largest Nash product."""
    u = np.asarray(u, dtype=float)
    front = u[pareto_indices(u)]
    front = front[(front[:, 0] >= d[0] - EPS) & (front[:, 1] >= d[1] - EPS)]
    if len(front) == 0:
        return np.full(2, np.nan)
    return front[np.argmax((front[:, 0] - d[0]) * (front[:, 1] - d[1]))]


def kalai_point(rational: np.ndarray, d: tuple[float, float]) -> np.ndarray:
    """The Kalai–Smorodinsky point on the rational frontier (NaN if it is empty)."""
    if len(rational) == 0:
        return np.full(2, np.nan)
    d = np.asarray(d, dtype=float)
    ideal = np.array([rational[:, 0].max(), rational[:, 1].max()])
    direction = ideal - d
    if np.all(np.abs(direction) < EPS):
        return rational[0].astype(float)
    # the frontier point p + s (q - p) on the ray d + t direction: cross((point - d), direction) = 0
    for p, q in zip(rational[:-1], rational[1:], strict=True):
        f_p = (p[0] - d[0]) * direction[1] - (p[1] - d[1]) * direction[0]
        f_q = (q[0] - d[0]) * direction[1] - (q[1] - d[1]) * direction[0]
        if f_p == 0 or f_p * f_q < 0 or f_q == 0:
            s = 0.0 if f_p == f_q else f_p / (f_p - f_q)
            return p + s * (q - p)
    return rational[0].astype(float) if len(rational) == 1 else np.full(2, np.nan)


def distance_to_polyline(points: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Euclidean distance from each point (shape ``(W, 2)``) to the nearest point of a polyline."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(vertices) == 0:
        return np.full(len(points), np.nan)
    if len(vertices) == 1:
        return np.linalg.norm(points - vertices[0], axis=1)
    p, q = vertices[:-1], vertices[1:]  # segments, shape (S, 2)
    seg = q - p
    length2 = np.maximum((seg**2).sum(axis=1), EPS)
    rel = points[:, None, :] - p[None, :, :]  # (W, S, 2)
    s = np.clip((rel * seg[None]).sum(axis=2) / length2[None], 0.0, 1.0)
    nearest = p[None] + s[..., None] * seg[None]
    return np.linalg.norm(points[:, None, :] - nearest, axis=2).min(axis=1)
