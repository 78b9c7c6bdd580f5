"""The chunk-wide (vectorised) bargaining metrics and seed keys against the per-world computation they replace."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim.domain.bargaining import distance_to_polyline, frontier, frontiers, kalai_point, nash_point, rational_part
from sim.domain.utility import normalised
from sim.engine.streams import _GAMMA, _mix, point_key, point_keys, world_seeds
from sim.run.bargaining_columns import bargaining_columns


def _points(rng: np.random.Generator, n_points: int, issues: int) -> SimpleNamespace:
    """Random stacked inputs of ``n_points`` points: payoffs with zeros and shared signs, some flat payoffs,
    some narrow or empty joint boxes, and duplicated points (shared frontiers)."""
    base_lo = rng.uniform(-5, 0, (n_points, issues))

    def party():
        a = rng.normal(size=(n_points, issues)) * rng.uniform(0.1, 10, (n_points, 1))
        a[rng.random(a.shape) < 0.2] = 0.0
        red_lo = base_lo + rng.uniform(-0.5, 0.5, (n_points, issues))  # the sides' boxes mostly overlap
        red_hi = red_lo + np.where(rng.random((n_points, issues)) < 0.02, 0.0, rng.uniform(1, 5, (n_points, issues)))
        b = rng.normal(size=n_points)
        p_min = b + np.minimum(a * red_lo, a * red_hi).sum(axis=1)  # the payoff's range over its own box
        p_max = b + np.maximum(a * red_lo, a * red_hi).sum(axis=1)
        return SimpleNamespace(payoff_a=a, payoff_b=b, p_min=p_min, p_max=p_max, red_lo=red_lo, red_hi=red_hi)

    inputs = SimpleNamespace(parties=(party(), party()), deadline=np.zeros(n_points))
    copies = rng.integers(0, n_points, n_points // 4)  # points that share another's payoffs and bounds
    for party_inputs in inputs.parties:
        for name in vars(party_inputs):
            getattr(party_inputs, name)[copies] = getattr(party_inputs, name)[0]
    return inputs


def _per_world(inputs, local_point, u, d) -> dict[str, np.ndarray]:
    """The distances as computed before, one world at a time: its own point's utilities, box and frontier."""
    out = {name: np.full(len(u), np.nan) for name in ("pareto_dist", "nash_dist", "kalai_dist")}
    for w, p in enumerate(local_point):
        (c_a, k_a), (c_b, k_b) = (normalised(q.payoff_a[p], q.payoff_b[p], q.p_min[p], q.p_max[p])
                                  for q in inputs.parties)
        one, two = inputs.parties
        lo, hi = np.maximum(one.red_lo[p], two.red_lo[p]), np.minimum(one.red_hi[p], two.red_hi[p])
        vertices = frontier(c_a, c_b, k_a, k_b, lo, hi) if np.all(lo <= hi + 1e-12) else np.empty((0, 2))
        disagreement = (float(d[w, 0]), float(d[w, 1]))
        rational = rational_part(vertices, disagreement) if len(vertices) else vertices
        out["pareto_dist"][w] = distance_to_polyline(u[w:w + 1], rational)[0]
        out["nash_dist"][w] = np.linalg.norm(u[w] - nash_point(rational, disagreement))
        out["kalai_dist"][w] = np.linalg.norm(u[w] - kalai_point(rational, disagreement))
    return out


@pytest.mark.parametrize("issues", [1, 2, 5, 9])
def test_frontiers_equal_frontier_of_each(issues):
    rng = np.random.default_rng(issues)
    inputs = _points(rng, 300, issues)
    one, two = inputs.parties
    c_a, c_b = (np.array([normalised(q.payoff_a[g], q.payoff_b[g], q.p_min[g], q.p_max[g])[0] for g in range(300)])
                for q in (one, two))
    k_a, k_b = (np.array([normalised(q.payoff_a[g], q.payoff_b[g], q.p_min[g], q.p_max[g])[1] for g in range(300)])
                for q in (one, two))
    got = frontiers(c_a, c_b, k_a, k_b, one.red_lo, two.red_hi)
    for g in range(300):
        want = frontier(c_a[g], c_b[g], k_a[g], k_b[g], one.red_lo[g], two.red_hi[g])
        np.testing.assert_array_equal(got[g], want)  # the same numbers, bit for bit


@pytest.mark.parametrize("issues", [2, 6])
def test_chunk_metrics_equal_per_world_metrics(issues):
    rng = np.random.default_rng(10 + issues)
    n_points, n_worlds = 200, 600
    inputs = _points(rng, n_points, issues)
    local_point = rng.integers(0, n_points, n_worlds)
    u = rng.uniform(-0.2, 1.2, (n_worlds, 2))
    d = rng.choice([0.0, 0.2, 0.5], size=(n_worlds, 2))  # a few disagreement points per point, shared
    outcomes = {"a_utility": u[:, 0], "b_utility": u[:, 1], "a_reservation_utility": d[:, 0],
                "b_reservation_utility": d[:, 1], "deal": rng.random(n_worlds) < 0.7,
                "end_round": rng.integers(1, 10, n_worlds), "final_deadline": np.full(n_worlds, 10)}
    got = bargaining_columns(inputs, local_point, outcomes, ("a", "b"))
    want = _per_world(inputs, local_point, u, d)
    assert np.isfinite(want["pareto_dist"]).sum() > n_worlds // 2  # most worlds have a rational frontier
    for name, column in want.items():
        np.testing.assert_array_equal(got[name], column, err_msg=name)


def test_point_keys_equal_point_key_of_each():
    rng = np.random.default_rng(3)
    objects = np.empty(10, dtype=object)
    objects[:] = [0.0, -0.0, 1.5, 1.5, float("nan"), 2, True, None, "a", (1, -0.0)]
    columns = {"scenario.x": objects, "prior.draw": rng.normal(size=10) * 10.0 ** rng.integers(-20, 20, 10),
               "a_strategy": np.array(["x", "x", "y's", "z", "x", "x", "y's", "", "x", "x"], dtype=object),
               "deadline": rng.integers(-5, 30, 10), "flag": rng.random(10) < 0.5,
               "edge": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-320, 1e300, 0.1, -2.5, 3.0])}
    want = [point_key({k: c[i].item() if isinstance(c[i], np.generic) else c[i] for k, c in columns.items()})
            for i in range(10)]
    assert point_keys(columns).tolist() == want


def test_world_seeds_equal_one_seed_sequence_per_key():
    rng = np.random.default_rng(4)
    index, keys = np.arange(3000) % 7, rng.integers(0, 2**32, 3000) // 2**22  # repeated keys, in no order
    bases = np.array([np.random.SeedSequence(entropy=9, spawn_key=(int(k),)).generate_state(1, dtype=np.uint64)[0]
                      for k in keys], dtype=np.uint64)
    want = _mix(bases + (index.astype(np.uint64) + np.uint64(1)) * _GAMMA)
    np.testing.assert_array_equal(world_seeds(9, index, keys), want)
