"""The plan's check of laid-out points against the rules the compiler checks across keys, and the per-chunk
layout's shortcuts: each compared with the full layout or the per-value reference it replaces.

The check lays out only what the rules read (the leaves they read, each party's payoff extremes); these tests
show that what it reads equals the full layout's numbers bit for bit, that a point breaking a rule deep inside a
large plan is still refused with the compiler's own message, and that the shortcuts give the values of the
per-value code they replace.
"""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

import sim.config.layout_vector as layout_vector
from sim.config import ConfigError, plan
from sim.config.leafwise import _one_point
from sim.config.points import LazyColumn, cut_rows
from sim.config.priors import draw_columns, lazy_columns
from sim.config.scenario import compile_point
from sim.config.values import copy_on_write, fmt
from sim.run.runner import _typed
from tests.conftest import compose_config

ENSEMBLE = ["sweep.sample.method=prior", "run.seeds=1", "run.common_random_numbers=false"]
# what the rules read, per point: the talks' leaves and each party's
TALKS = ("issue_lo", "issue_hi", "status_quo", "escalation", "deadline", "extension_rounds")
PARTY = ("red_lo", "red_hi", "p_min", "p_max")


def _bits(x) -> bytes:
    return np.ascontiguousarray(np.asarray(x, dtype=float)).tobytes()


def test_what_the_check_reads_equals_the_full_layout_bit_for_bit(monkeypatch):
    """Slice by slice, the leaves the rules read and the payoff extremes the check lays out equal those rows of
    the points laid out in full (every leaf, constituencies and utilities included), and the points it finds
    doubtful are those the rules find in the full layout."""
    monkeypatch.setattr(layout_vector, "SLICE", 97)  # several slices, the last one short
    seen, recipes = [], []
    doubtful = layout_vector._doubtful

    def recorded(recipe, inputs, numbers):
        found = doubtful(recipe, inputs, numbers)
        recipes.append(recipe)
        seen.append(({f: getattr(inputs, f) for f in TALKS}, [{f: getattr(p, f) for f in PARTY}
                                                              for p in inputs.parties], found))
        return found

    monkeypatch.setattr(layout_vector, "_doubtful", recorded)
    p = plan(compose_config(*ENSEMBLE, "sweep.sample.n=400"))
    lazy = p.blocks[0].inputs
    assert isinstance(lazy, layout_vector.LaidOut) and len(seen) == 5  # 400 points: slices of 97
    full = lazy.take(np.arange(400))
    starts = np.arange(0, 400, 97)
    columns = {k: np.asarray(c) for k, c in lazy.columns.items()}
    want = doubtful(recipes[0], full, layout_vector._numbers(recipes[0], columns))
    got = np.concatenate([start + found for start, (_, _, found) in zip(starts, seen, strict=True)])
    assert np.array_equal(got, want)
    for start, (talks, parties, _) in zip(starts, seen, strict=True):
        rows = slice(start, start + len(talks["deadline"]))
        for f in TALKS:
            assert _bits(talks[f]) == _bits(np.asarray(getattr(full, f))[rows]), f
        for party, whole in zip(parties, full.parties, strict=True):
            for f in PARTY:
                assert _bits(party[f]) == _bits(np.asarray(getattr(whole, f))[rows]), f


def _config(n: int) -> dict:
    cfg = OmegaConf.to_container(compose_config(*ENSEMBLE, f"sweep.sample.n={n}"), resolve=True)
    cfg.pop("hydra", None)
    return cfg


def _compile_message(cfg: dict, row: dict) -> str:
    point_cfg, put = copy_on_write(cfg)
    for key, value in row.items():
        put(key, value)
    with pytest.raises(ConfigError) as refused:
        compile_point(point_cfg)
    return str(refused.value)


PURCHASES = [f"scenario.issues.{name}.max" for name in ("agriculture", "energy", "aircraft", "defence")]
RED_LINE = "scenario.positions.japan_agriculture.value"


@pytest.mark.parametrize("broken", [
    # purchase maxima above the surplus (the issues' ranges against a number that moves no input)
    {"first": {"scenario.stakes.surplus_usd_bn": 70.0, **dict.fromkeys(PURCHASES, 6.0)},
     "deep": {"scenario.stakes.surplus_usd_bn": 50.0, PURCHASES[0]: 25.0, PURCHASES[1]: 20.0}},
])
def test_a_point_breaking_a_rule_deep_inside_a_large_plan_is_refused_with_the_compilers_line(broken):
    """One point of a large ensemble breaks a rule the compiler checks across keys by a combination of its values
    (each within what the probes try with the first point's), in a late slice of the check: the plan is refused
    before any run, in one line, with the compiler's own message for that point."""
    n = 3 * layout_vector.SLICE + 500
    cfg = _config(n)
    columns = draw_columns(cfg, n, 0, set())
    deep = n - 123
    for row, values in ((0, broken["first"]), (deep, broken["deep"])):
        for key, value in values.items():
            columns[key][row] = value
    message = _compile_message(cfg, {k: c[deep].item() for k, c in columns.items()})
    with pytest.raises(ConfigError) as refused:
        plan(cfg, samples=columns)
    assert str(refused.value).startswith(message + " at sweep point {") and "\n" not in str(refused.value)
    without = {k: np.delete(c, deep) for k, c in columns.items()}
    cfg["sweep"]["sample"]["n"] = n - 1
    assert len(plan(cfg, samples=without).points) == n - 1  # the other points break no rule


def test_rows_of_some_lazy_columns_are_those_of_all_columns():
    cfg = _config(50)
    columns = lazy_columns(cfg, 3000, 5, set())
    keys = list(columns)[3:9] + list(columns)[-2:]
    for start, stop in ((0, 3000), (1234, 1240), (2999, 3000)):
        every = cut_rows(columns, start, stop)
        some = cut_rows(columns | {"plain": np.arange(3000)}, start, stop, [*keys, "plain"])
        assert list(some) == [*keys, "plain"] and np.array_equal(some["plain"], np.arange(start, stop))
        for key in keys:
            assert some[key].dtype == every[key].dtype and some[key].tobytes() == every[key].tobytes()


def test_values_written_in_one_pass_are_those_fmt_writes():
    values = [0.1, -0.0, 0.0, 2.0, -3.0, 1e16, 1.5e16, 1e-5, 123456.789, float("inf"), float("-inf"), float("nan"),
              7, -12, 2**60, 0.7621497843695808]
    assert layout_vector._written_values(np.array(values, dtype=object)) == [fmt(v) for v in values]
    floats = np.array([v for v in values if isinstance(v, float)]
                      + np.random.default_rng(3).normal(scale=1e3, size=500).round(1).tolist())
    assert floats.dtype == np.float64
    assert layout_vector._written_values(floats) == [fmt(v) for v in floats.tolist()]


def test_a_text_column_is_typed_as_before():
    """A column of Python strings is kept as it is, with the values of the fixed-width copy it replaces; any other
    object column (a number, ``None`` among texts) is converted as before."""
    texts = np.empty(3, dtype=object)
    texts[:] = ["a red line", "", "b (holds with probability 0.5)"]
    kept = _typed(texts, "str")
    assert kept.tolist() == np.array(texts.tolist(), dtype="str").tolist()
    assert all(type(v) is str for v in kept.tolist())
    mixed = np.empty(3, dtype=object)
    mixed[:] = ["a", None, 1.5]
    assert _typed(mixed, "str").tolist() == ["a", "None", "1.5"]
    numbers = np.empty(2, dtype=object)
    numbers[:] = [1, 2]
    assert _typed(numbers, "int64").dtype == np.int64
    lazy = cut_rows({"c": LazyColumn(layout_vector._Texts(["x=", ";"], ["k"], {"k": np.array([1.0, 0.25])}),
                                     "constraints")}, 0, 2)["c"]
    assert _typed(lazy, "str").tolist() == ["x=1;", "x=0.25;"]


@pytest.mark.parametrize("leaf", [
    np.broadcast_to(np.array([[1.0, np.nan]]), (4, 2)),
    np.array([[1.0, np.nan]] * 4),
    np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 3.0]]),
    np.array([[1.0, 2.0], [1.5, 2.0], [1.0, 2.0]]),
    np.array([5.0]),
    np.array([0.0, -0.0, 0.0]),
])
def test_a_leaf_is_one_points_exactly_when_every_point_equals_the_first(leaf):
    want = len(leaf) > 1 and np.array_equal(leaf, np.broadcast_to(leaf[:1], leaf.shape), equal_nan=True)
    assert _one_point(leaf) == want



def test_a_red_line_beyond_its_drawn_range_is_laid_out_as_the_compiler_clips_it():
    """A red line drawn beyond its issue's drawn range is clipped to it by the compiler, not refused: the plan is
    made, and its points (that one among them) equal their own compiles, bit for bit."""
    n = 40
    cfg = _config(n)
    columns = draw_columns(cfg, n, 3, set())
    for row, values in ((0, {RED_LINE: 1.0, PURCHASES[0]: 12.0}), (29, {RED_LINE: 5.5, PURCHASES[0]: 5.0})):
        for key, value in values.items():
            columns[key][row] = value
    p = plan(cfg, samples=columns)
    for i in (0, 28, 29):
        point = p.points[i]
        point_cfg, put = copy_on_write(cfg)
        for key, column in columns.items():
            put(key, column[i].item())
        compiled = compile_point(point_cfg)
        for got, want in zip(point.inputs.parties, compiled.inputs.parties, strict=True):
            assert _bits(got.red_hi) == _bits(want.red_hi) and _bits(got.p_max) == _bits(want.p_max)
