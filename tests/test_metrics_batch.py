"""The chunk-wide (vectorised) bargaining metrics and seed keys against the per-world computation they replace."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim.domain import bargaining_batch
from sim.domain.bargaining import distance_to_polyline, frontier, kalai_point, nash_point, rational_part
from sim.domain.bargaining_batch import all_distinct, kalai_points, nash_points, polyline_distances, rational_parts
from sim.domain.utility import LinearPayoff, normalised, ordered_dot
from sim.run import bargaining_columns as columns_module
from sim.run.bargaining_columns import bargaining_columns


def _points(rng: np.random.Generator, n_points: int, issues: int, shared: bool = True) -> SimpleNamespace:
    """Random stacked inputs of ``n_points`` points: payoffs with zeros and shared signs, some flat payoffs,
    some narrow or empty joint boxes, and (if ``shared``) duplicated points (shared frontiers)."""
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
    copies = rng.integers(0, n_points, n_points // 4 if shared else 0)  # points sharing another's payoffs, bounds
    for party_inputs in inputs.parties:
        for name in vars(party_inputs):
            getattr(party_inputs, name)[copies] = getattr(party_inputs, name)[0]
    return inputs


def _normalised_rows(inputs, p):
    """The normalised utilities' ``(c_a, k_a), (c_b, k_b)`` and the joint box ``(lo, hi)`` of point ``p``."""
    one, two = inputs.parties
    coefficients = [normalised(q.payoff_a[p], q.payoff_b[p], q.p_min[p], q.p_max[p]) for q in (one, two)]
    return coefficients, (np.maximum(one.red_lo[p], two.red_lo[p]), np.minimum(one.red_hi[p], two.red_hi[p]))


def _frontier_of(inputs, p) -> np.ndarray:
    """Point ``p``'s frontier by the one-pair function (no vertices if its joint box is empty)."""
    ((c_a, k_a), (c_b, k_b)), (lo, hi) = _normalised_rows(inputs, p)
    return frontier(c_a, c_b, k_a, k_b, lo, hi) if np.all(lo <= hi + 1e-12) else np.empty((0, 2))


def _per_world(inputs, local_point, outcomes) -> dict[str, np.ndarray]:
    """Every metric as computed before, one world at a time: its own point's utilities, box and frontier, then
    the one-pair functions (the distances' norms over ``axis=1``, as the per-key code took them)."""
    u = np.c_[outcomes["a_utility"], outcomes["b_utility"]]
    d = np.c_[outcomes["a_reservation_utility"], outcomes["b_reservation_utility"]]
    out = {name: np.full(len(u), np.nan) for name in ("pareto_dist", "nash_dist", "kalai_dist", "a_advantage",
                                                       "b_advantage", "welfare", "agreement_time")}
    out["individually_rational"] = np.zeros(len(u), bool)
    for w, p in enumerate(local_point):
        disagreement = (float(d[w, 0]), float(d[w, 1]))
        vertices = _frontier_of(inputs, p)
        rational = rational_part(vertices, disagreement) if len(vertices) else vertices
        out["pareto_dist"][w] = distance_to_polyline(u[w:w + 1], rational)[0]
        out["nash_dist"][w] = np.linalg.norm(u[w:w + 1] - nash_point(rational, disagreement), axis=1)[0]
        out["kalai_dist"][w] = np.linalg.norm(u[w:w + 1] - kalai_point(rational, disagreement), axis=1)[0]
        out["a_advantage"][w], out["b_advantage"][w] = u[w, 0] - d[w, 0], u[w, 1] - d[w, 1]
        out["welfare"][w] = u[w, 0] + u[w, 1]
        deal = bool(outcomes["deal"][w])
        if deal:
            out["agreement_time"][w] = outcomes["end_round"][w] / outcomes["final_deadline"][w]
        out["individually_rational"][w] = deal and u[w, 0] >= d[w, 0] - 1e-9 and u[w, 1] >= d[w, 1] - 1e-9
    return out


def _outcomes(rng: np.random.Generator, inputs, n_points: int, n_worlds: int, own: bool = False
              ) -> tuple[np.ndarray, dict]:
    """Worlds on random points, with disagreement points shared by several worlds (each world on a point of its
    own and with its own disagreement point if ``own``) and some on a tie: at a frontier vertex, level with one on
    one axis, above the ideal (an empty rational part), at a vertex's midpoint with its neighbour; utilities
    random, on a vertex, at the disagreement point, or NaN."""
    n_keys = n_worlds if own else n_worlds // 3
    key_point = rng.permutation(n_points)[:n_worlds] if own else rng.integers(0, n_points, n_keys)
    key_d = rng.choice([0.0, 0.2, 0.5], size=(n_keys, 2))
    for k, p in enumerate(key_point):
        vertices, kind = _frontier_of(inputs, p), rng.integers(0, 6)
        if len(vertices) and kind <= 3:
            v = vertices[rng.integers(0, len(vertices))]
            if kind == 0:
                key_d[k] = v  # the rational part is one vertex, or starts there
            elif kind == 1:
                key_d[k, 0] = v[0]
            elif kind == 2:
                key_d[k] = (v + vertices[min(len(vertices) - 1, 1)]) / 2
            else:
                key_d[k] = v - 1e-13  # within the tolerance
        elif kind == 4:
            key_d[k] = 1.5  # above every utility: nothing is rational
    key = np.arange(n_worlds) if own else rng.integers(0, n_keys, n_worlds)
    local_point, d = key_point[key], key_d[key]
    u = rng.uniform(-0.2, 1.2, (n_worlds, 2))
    on_d = rng.random(n_worlds) < 0.1
    u[on_d] = d[on_d]
    for w in np.flatnonzero(rng.random(n_worlds) < 0.1):
        vertices = _frontier_of(inputs, local_point[w])
        if len(vertices):
            u[w] = vertices[rng.integers(0, len(vertices))]
    u[rng.random(n_worlds) < 0.02, rng.integers(0, 2)] = np.nan
    outcomes = {"a_utility": u[:, 0], "b_utility": u[:, 1], "a_reservation_utility": d[:, 0],
                "b_reservation_utility": d[:, 1], "deal": rng.random(n_worlds) < 0.7,
                "end_round": rng.integers(1, 10, n_worlds), "final_deadline": np.full(n_worlds, 10)}
    return local_point, outcomes


@pytest.mark.parametrize("issues", [1, 2, 6, 9])
def test_chunk_metrics_equal_per_world_metrics(issues, monkeypatch):
    rng = np.random.default_rng(10 + issues)
    n_points, n_worlds = 150, 900
    inputs = _points(rng, n_points, issues)
    local_point, outcomes = _outcomes(rng, inputs, n_points, n_worlds)
    fallbacks = []
    monkeypatch.setattr(bargaining_batch, "nash_point", lambda *args: fallbacks.append(args) or nash_point(*args))
    got = bargaining_columns(inputs, local_point, outcomes, ("a", "b"))
    want = _per_world(inputs, local_point, outcomes)
    assert np.isfinite(want["pareto_dist"]).sum() > n_worlds // 3  # many worlds have a rational frontier ...
    assert np.isnan(want["pareto_dist"]).sum() > n_worlds // 10  # ... and many none
    assert len(fallbacks) < n_worlds // 100  # the Nash points are found by the batched scan, not one by one
    assert set(got) == set(want)
    for name, column in want.items():
        assert np.array_equal(got[name], column, equal_nan=True), name  # bit for bit, NaN in the same places


def _hand_made() -> list[tuple[np.ndarray, tuple[float, float]]]:
    """Frontiers and disagreement points with the one-pair functions' edge cases."""
    line = np.array([[0.0, 1.0], [1.0, 0.0]])
    kinked = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    repeated = np.array([[0.0, 1.0], [0.0, 1.0], [0.4, 0.8], [0.4, 0.8], [1.0, 0.0]])  # flips that change nothing
    tiny = np.array([[0.0, 1.0], [0.3, 1.0 - 1e-13], [0.3 + 1e-13, 0.2], [1.0, 0.0]])  # flat within the tolerance
    return [(line, (0.0, 0.0)),  # symmetric: the Nash point is the segment's turning point
            (line, (1.0, 1.0)), (line, (0.5, 0.5)), (line, (0.25, 0.0)), (line, (2.0, -1.0)),
            (kinked, (0.5, 0.5)),  # the rational part is the kink alone
            (kinked, (0.0, 0.0)), (kinked, (0.5, 0.0)), (kinked, (0.5 + 1e-13, 0.5 - 1e-13)),
            (repeated, (0.0, 0.0)), (repeated, (0.0, 0.8)), (repeated, (0.4, 0.8)), (repeated, (0.2, 0.9)),
            (tiny, (0.1, 0.1)), (tiny, (0.3, 0.2)), (tiny, (0.0, 1.0)),
            (np.array([[0.3, 0.6]]), (0.3, 0.6)), (np.array([[0.3, 0.6]]), (0.31, 0.0)),  # one vertex
            (np.array([[0.3, 0.6]]), (0.0, 0.0)), (np.empty((0, 2)), (0.0, 0.0))]


@pytest.mark.parametrize("slack", [None, np.inf])
def test_batched_solutions_equal_one_pair_functions(slack, monkeypatch):
    """The hand-made cases, and (``slack = inf``) every Nash point handed to the one-pair function."""
    if slack is not None:
        monkeypatch.setattr(bargaining_batch, "_POWER_SLACK", slack)
    cases = _hand_made()
    width = max(len(v) for v, _ in cases)
    vertices, count = np.zeros((len(cases), width, 2)), np.array([len(v) for v, _ in cases])
    for k, (v, _) in enumerate(cases):
        vertices[k, :len(v)] = v
    d = np.array([dd for _, dd in cases])
    rational, n_rational = rational_parts(vertices, count, d)
    nash, kalai = nash_points(rational, n_rational, d), kalai_points(rational, n_rational, d)
    points = np.random.default_rng(5).uniform(-0.5, 1.5, (400, 2))
    pair = np.arange(400) % len(cases)
    distances = polyline_distances(points, pair, rational, n_rational)
    for k, (v, dd) in enumerate(cases):
        want = rational_part(v, dd) if len(v) else v
        assert np.array_equal(rational[k, :n_rational[k]], want), k
        assert np.array_equal(nash[k], nash_point(want, dd), equal_nan=True), k
        assert np.array_equal(kalai[k], kalai_point(want, dd), equal_nan=True), k
        assert np.array_equal(distances[pair == k], distance_to_polyline(points[pair == k], want), equal_nan=True)
    assert np.array_equal(nash[0], [0.5, 0.5]) and np.array_equal(nash[5], [0.5, 0.5])  # by hand
    assert n_rational[1] == 0 and np.isnan(nash[1]).all() and np.all(rational[5, :n_rational[5]] == 0.5)


def test_a_chunk_without_worlds_has_empty_columns():
    inputs = _points(np.random.default_rng(6), 5, 3)
    outcomes = {name: np.zeros(0) for name in ("a_utility", "b_utility", "a_reservation_utility",
                                               "b_reservation_utility", "end_round", "final_deadline")}
    got = bargaining_columns(inputs, np.zeros(0, int), outcomes | {"deal": np.zeros(0, bool)}, ("a", "b"))
    assert len(got) == 8 and all(column.shape == (0,) for column in got.values())


def _assert_equal_per_world(inputs, local_point, outcomes) -> None:
    """Every column of :func:`bargaining_columns` equal, bit for bit, to the per-world computation's."""
    got, want = bargaining_columns(inputs, local_point, outcomes, ("a", "b")), _per_world(inputs, local_point, outcomes)
    assert set(got) == set(want)
    for name, column in want.items():
        assert np.array_equal(got[name], column, equal_nan=True), name
        assert got[name].dtype == column.dtype, name


def _paths(monkeypatch) -> list[str]:
    """Record which way the worlds' keys are formed: ``own`` (each world its own pair) or ``shared``."""
    taken = []
    for name in ("_own_keys", "_shared_keys"):
        function = getattr(bargaining_batch, name)
        monkeypatch.setattr(bargaining_batch, name,
                            lambda *args, _f=function, _n=name: taken.append(_n.strip("_").split("_")[0]) or _f(*args))
    return taken


@pytest.mark.parametrize("issues", [1, 2, 6, 9])
@pytest.mark.parametrize("block", [7, 2048])
def test_distinct_points_and_worlds_equal_per_world_metrics(issues, block, monkeypatch):
    """Every point distinct (as prior draws are) and every world on a point of its own: no grouping, each world
    its own key, in blocks of ``block`` pairs (7: blocks of different widths) or one block."""
    rng = np.random.default_rng(40 + issues)
    inputs = _points(rng, 400, issues, shared=False)
    local_point, outcomes = _outcomes(rng, inputs, 400, 300, own=True)
    assert columns_module._frontier_groups(inputs, 400) == (None, None)
    monkeypatch.setattr(bargaining_batch, "_BLOCK", block)
    taken = _paths(monkeypatch)
    _assert_equal_per_world(inputs, local_point, outcomes)
    assert taken == ["own"]


@pytest.mark.parametrize("issues", [2, 9])
def test_shared_points_with_own_disagreement_points_equal_per_world_metrics(issues, monkeypatch):
    """Points that share payoffs and bounds (grouped by a sort), worlds that share points but each with a
    disagreement point of its own: each world its own key, on its group's frontier."""
    rng = np.random.default_rng(50 + issues)
    inputs = _points(rng, 120, issues)
    local_point, outcomes = _outcomes(rng, inputs, 120, 500)
    outcomes["a_reservation_utility"] = rng.uniform(-0.2, 0.8, 500)  # distinct: no two worlds share a key
    assert columns_module._frontier_groups(inputs, 120)[0] is not None
    monkeypatch.setattr(bargaining_batch, "_BLOCK", 64)
    taken = _paths(monkeypatch)
    _assert_equal_per_world(inputs, local_point, outcomes)
    assert taken == ["own"]


def test_frontier_groups_join_exactly_the_points_with_equal_inputs():
    """Brute force: two points share a group if and only if all their payoffs and bounds are equal."""
    inputs = _points(np.random.default_rng(8), 60, 3)
    group, first = columns_module._frontier_groups(inputs, 60)
    assert group is not None and len(first) < 60  # the copies are seen
    rows = np.column_stack([np.reshape(getattr(party, name), (60, -1)) for party in inputs.parties
                            for name in columns_module._FIELDS])
    for i in range(60):
        assert np.array_equal(rows[first[group[i]]], rows[i])
        for j in range(60):
            assert (group[i] == group[j]) == bool(np.all(rows[i] == rows[j]))


def test_shared_keys_still_equal_per_world_metrics(monkeypatch):
    """Worlds that share their point and disagreement point (default values: one point): the shared-key path."""
    rng = np.random.default_rng(9)
    inputs = _points(rng, 1, 4)
    _, outcomes = _outcomes(rng, inputs, 1, 300)
    taken = _paths(monkeypatch)
    _assert_equal_per_world(inputs, np.zeros(300, int), outcomes)
    assert taken == ["shared"]


def test_all_distinct_compares_as_equality_does():
    """Brute force over small arrays with signed zeros, infinities and NaN."""
    rng = np.random.default_rng(3)
    pool = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-300, 2.5])
    for _ in range(500):
        values = rng.choice(pool, size=rng.integers(0, 6))
        pairs = [(i, j) for i in range(len(values)) for j in range(i + 1, len(values))]
        assert all_distinct(values) == (not any(values[i] == values[j] for i, j in pairs)), values


@pytest.mark.parametrize("issues", [1, 2, 5, 9, 33])
def test_a_package_s_payoff_adds_its_issues_in_order_on_every_processor(issues):
    # by hand: Python floats, one product and one sum at a time, issue by issue (IEEE double like NumPy's
    # elementwise operations); the BLAS dot product fuses or reorders these on some processors (AVX-512)
    rng = np.random.default_rng(issues)
    x, a = rng.normal(size=(300, issues)), rng.normal(size=(300, issues)) * 10.0 ** rng.integers(-3, 4, (300, issues))
    by_hand = []
    for row_x, row_a in zip(x.tolist(), a.tolist(), strict=True):
        total = row_x[0] * row_a[0]
        for xi, ai in zip(row_x[1:], row_a[1:], strict=True):
            total = total + xi * ai
        by_hand.append(total)
    assert np.array_equal(ordered_dot(x, a), np.array(by_hand))  # many packages at once
    assert [ordered_dot(x[i], a[i]) for i in range(len(x))] == by_hand  # one at a time
    payoff = LinearPayoff(a=a[0], b=0.5, p_min=-1.0, p_max=1.0)
    assert payoff.payoff(x[0]) == by_hand[0] + 0.5
