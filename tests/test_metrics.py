"""Pareto frontier, Nash and Kalai–Smorodinsky points on small domains derived by hand, and by brute force."""

from __future__ import annotations

import numpy as np
import pytest

from sim.domain.bargaining import (
    distance_to_polyline,
    frontier,
    kalai_point,
    nash_point,
    rational_part,
)

# Two issues on [0, 1]: u_US = (x1 + 2 x2) / 3, u_JP = (2 (1 - x1) + (1 - x2)) / 3.
C_US, K_US = np.array([1 / 3, 2 / 3]), 0.0
C_JP, K_JP = np.array([-2 / 3, -1 / 3]), 1.0
LO, HI = np.zeros(2), np.ones(2)


def test_two_issue_frontier_by_hand():
    # Japan's ideal (0, 0) gives (0, 1). Japan loses least per unit the US gains on issue 2
    # (ratio 1/3 against 2/3), so it flips first: (0, 1) -> (2/3, 2/3); then issue 1: -> (1, 0).
    vertices = frontier(C_US, C_JP, K_US, K_JP, LO, HI)
    assert vertices == pytest.approx(np.array([[0, 1], [2 / 3, 2 / 3], [1, 0]]))


def test_nash_and_kalai_by_hand():
    vertices = frontier(C_US, C_JP, K_US, K_JP, LO, HI)
    # d = (0, 0): on (0,1)-(2/3,2/3) the product (2s/3)(1 - s/3) rises up to s = 1; on (2/3,2/3)-(1,0)
    # it falls from s = 0, so Nash is the kink (2/3, 2/3); the ideal point is (1, 1), and the diagonal
    # from the origin meets the frontier at the same kink.
    d = (0.0, 0.0)
    rational = rational_part(vertices, d)
    assert nash_point(rational, d) == pytest.approx([2 / 3, 2 / 3])
    assert kalai_point(rational, d) == pytest.approx([2 / 3, 2 / 3])
    # d = (0.5, 0): rational part is (0.5, 0.75)-(2/3, 2/3)-(1, 0). On the last segment
    # (2/3 + s/3 - 1/2)(2/3 - 2s/3) = (1/6 + s/3)(2/3)(1 - s) peaks at s = 1/4: (3/4, 1/2), product 1/8,
    # above the kink's (1/6)(2/3) = 1/9. Ideal point (1, 0.75); the ray from (0.5, 0) in direction
    # (0.5, 0.75) meets u_JP = 2 - 2 u_US at t: 0.75 t = 2 - 2 (0.5 + 0.5 t) -> t = 4/7: (11/14, 3/7).
    d = (0.5, 0.0)
    rational = rational_part(vertices, d)
    assert rational == pytest.approx(np.array([[0.5, 0.75], [2 / 3, 2 / 3], [1, 0]]))
    assert nash_point(rational, d) == pytest.approx([0.75, 0.5])
    assert kalai_point(rational, d) == pytest.approx([11 / 14, 3 / 7])


def test_symmetric_split_gives_the_even_split():
    # one issue: the US share x of a pie; u_US = x, u_JP = 1 - x
    vertices = frontier(np.array([1.0]), np.array([-1.0]), 0.0, 1.0, np.zeros(1), np.ones(1))
    assert nash_point(rational_part(vertices, (0, 0)), (0, 0)) == pytest.approx([0.5, 0.5])
    assert kalai_point(rational_part(vertices, (0, 0)), (0, 0)) == pytest.approx([0.5, 0.5])
    # asymmetric disagreement point: Nash splits the surplus 1 - 0.2 - 0.4 equally
    assert nash_point(rational_part(vertices, (0.2, 0.4)), (0.2, 0.4)) == pytest.approx([0.4, 0.6])


def test_no_rational_outcome_gives_nan():
    vertices = frontier(C_US, C_JP, K_US, K_JP, LO, HI)
    rational = rational_part(vertices, (0.9, 0.9))
    assert len(rational) == 0
    assert np.isnan(nash_point(rational, (0.9, 0.9))).all()


@pytest.mark.parametrize("seed", range(5))
def test_random_domains_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 4
    c_us, c_jp = rng.normal(size=n), rng.normal(size=n)
    lo, hi = np.zeros(n), rng.uniform(1, 3, size=n)
    vertices = frontier(c_us, c_jp, 0.0, 0.0, lo, hi)
    # every corner of the box lies on or below the frontier (no package dominates it)
    corners = np.array(np.meshgrid(*[[a, b] for a, b in zip(lo, hi, strict=True)])).reshape(n, -1).T
    u = np.c_[corners @ c_us, corners @ c_jp]
    for point in u:
        on_or_below = any((v >= point - 1e-9).all() for v in _dense(vertices))
        assert on_or_below
    # the Nash point maximises the Nash product over a fine sampling of the rational frontier
    d = (float(np.quantile(u[:, 0], 0.3)), float(np.quantile(u[:, 1], 0.3)))
    rational = rational_part(vertices, d)
    if len(rational):
        dense = _dense(rational)
        products = (dense[:, 0] - d[0]) * (dense[:, 1] - d[1])
        nash = nash_point(rational, d)
        assert (nash[0] - d[0]) * (nash[1] - d[1]) >= products.max() - 1e-9


def _dense(vertices: np.ndarray, k: int = 400) -> np.ndarray:
    if len(vertices) == 1:
        return vertices
    s = np.linspace(0, 1, k)[:, None]
    return np.vstack([p + s * (q - p) for p, q in zip(vertices[:-1], vertices[1:], strict=True)])


def test_distance_to_polyline():
    vertices = np.array([[0.0, 1.0], [2 / 3, 2 / 3], [1.0, 0.0]])
    points = np.array([[0.0, 0.0], [2 / 3, 2 / 3], [1.0, 1.0]])
    dist = distance_to_polyline(points, vertices)
    # origin to the segment (0,1)-(2/3,2/3): the line x + 2y = 2 is 2/sqrt(5) away
    assert dist[0] == pytest.approx(2 / np.sqrt(5))
    assert dist[1] == pytest.approx(0.0)
    # (1, 1) is nearest to the kink (2/3, 2/3): sqrt(2)/3
    assert dist[2] == pytest.approx(np.sqrt(2) / 3)
