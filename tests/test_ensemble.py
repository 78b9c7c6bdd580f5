"""Ensembles at sweep speed: sampled points laid out as per-world arrays, many of them in one chunk.

The layout is checked against the compiler point by point, planning counts compiles (never seconds), and
an ensemble's worlds are shown to come out the same whatever chunk they run in and whoever shares it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

import sim.config.layout as layout
import sim.config.layout_vector as layout_vector
import sim.config.sweep as sweep
from sim.config import plan
from sim.config.points import LazyInputs, laid_out
from sim.config.scenario import compile_point
from sim.config.values import copy_on_write
from sim.engine.inputs import leaves, shape
from sim.run.runner import make_chunks, simulate
from tests.conftest import compose_config

# keys that only set their own inputs (direct), and one that moves a payoff (coupled)
DIRECT = ["+sweep.sample.ranges.scenario.deadline.round=[6,20]",
          "+sweep.sample.ranges.scenario.sides.us.concession_noise=[0,0.1]",
          "+sweep.sample.ranges.us.offering.beta=[0.2,5]",
          "+sweep.sample.ranges.scenario.breakdown_risk=[0,0.02]"]
COUPLED = ["+sweep.sample.ranges.scenario.payoff.pass_through=[0.3,1.0]"]
# an ensemble from the default scenario's priors: payoffs, issue ranges and red lines differ between worlds
ENSEMBLE = ["sweep.sample.method=prior", "run.seeds=1", "run.common_random_numbers=false", "run.record_rounds=all"]


def _count_compiles(monkeypatch) -> list[int]:
    calls = [0]

    def counted(cfg):
        calls[0] += 1
        return compile_point(cfg)

    monkeypatch.setattr(sweep, "compile_point", counted)
    return calls


def _compiled(cfg: dict, coordinates: dict):
    point_cfg, put = copy_on_write(cfg)
    for key, value in coordinates.items():
        put(key, value)
    return compile_point(point_cfg)


def _same_leaves(first, second) -> bool:
    return all(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
               for a, b in zip(leaves(first), leaves(second), strict=True))


def test_a_design_over_direct_keys_is_planned_with_a_handful_of_compiles(monkeypatch):
    calls = _count_compiles(monkeypatch)
    p = plan(compose_config("sweep.sample.method=lhs", "sweep.sample.n=5000", "run.seeds=1", *DIRECT))
    assert len(p.points) == 5000 and len(p.blocks) == 1
    # the first point, two probes per key, two corners and four checked points: never one per point
    assert calls[0] <= 1 + 2 * len(DIRECT) + 2 + 4
    # and the chunks hold many points each
    assert [c.n_worlds for c in make_chunks(p)] == [p.chunk_size] * (5000 // p.chunk_size) + (
        [5000 % p.chunk_size] if 5000 % p.chunk_size else [])


def test_a_key_that_moves_the_payoffs_is_laid_out_without_a_compile_per_point(monkeypatch):
    calls = _count_compiles(monkeypatch)
    p = plan(compose_config("sweep.sample.method=lhs", "sweep.sample.n=400", "run.seeds=1", *DIRECT, *COUPLED))
    distinct = {pt.coordinates["scenario.payoff.pass_through"] for pt in p.points}
    assert len(distinct) == 400
    # the first point, two probes per key (and two more for the coupled one), the checked points
    assert calls[0] <= 1 + 2 * 5 + 2 + layout_vector.CHECKED_POINTS


def test_without_the_payoff_arrays_a_coupled_key_is_compiled_once_per_distinct_value(monkeypatch):
    monkeypatch.setattr(layout, "vector_runs", lambda *args: None)
    calls = _count_compiles(monkeypatch)
    p = plan(compose_config("sweep.sample.method=lhs", "sweep.sample.n=40", "run.seeds=1", *DIRECT, *COUPLED))
    distinct = {pt.coordinates["scenario.payoff.pass_through"] for pt in p.points}
    assert len(distinct) == 40
    assert 40 <= calls[0] <= 40 + 2 * 5 + 2 + 4


def _all_leaves(p) -> tuple[list[np.ndarray], np.ndarray]:
    """Every leaf of a plan's inputs over all its points (bits), and the constraints column."""
    blocks = p.points.blocks
    joined = [np.concatenate([np.asarray(leaf) for leaf in parts]) for parts in zip(*(leaves(laid_out(b.inputs)) for b in blocks),
                                                                                   strict=True)]
    return ([leaf.view(np.uint64) if leaf.dtype == np.float64 else leaf for leaf in joined],
            np.concatenate([b.coordinates["constraints"] for b in blocks]))


@pytest.mark.parametrize("as_of", ["2025-05-03", "2025-06-26", None])
def test_the_payoff_arrays_equal_the_compile_of_each_point_bit_for_bit(monkeypatch, as_of):
    """An independent check of the vectorised compile: the same prior draws planned with the payoff arrays and
    with a compile per draw (the earlier path) give identical leaves, bit for bit, and identical constraints."""
    vantage = [f"scenario.as_of={as_of}"] if as_of else []
    cfg = compose_config(*ENSEMBLE, "sweep.sample.n=300", *vantage)
    used = []
    monkeypatch.setattr(layout, "vector_runs", lambda *a: used.append(1) or layout_vector.vector_runs(*a))
    fast = plan(cfg)
    assert used and len(fast.points.blocks) == 1
    monkeypatch.setattr(layout, "vector_runs", lambda *args: None)
    slow = plan(cfg)
    (fast_leaves, fast_text), (slow_leaves, slow_text) = _all_leaves(fast), _all_leaves(slow)
    assert all(np.array_equal(a, b) for a, b in zip(fast_leaves, slow_leaves, strict=True))
    assert (fast_text == slow_text).all() and len(set(fast_text)) > 1  # red-line strengths written per world
    # the payoffs really differ between the draws
    assert len({tuple(row) for row in laid_out(fast.points.blocks[0].inputs).parties[0].payoff_a}) == 300


@pytest.mark.parametrize("overrides", [["sweep.sample.method=lhs", "sweep.sample.n=30", *DIRECT, *COUPLED],
                                       [*ENSEMBLE, "sweep.sample.n=30"]], ids=["lhs", "priors"])
def test_every_laid_out_point_equals_the_compiler_on_its_own_config(overrides):
    cfg = OmegaConf.to_container(compose_config("run.seeds=1", *overrides), resolve=True)
    cfg.pop("hydra", None)
    p = plan(cfg)
    swept = set(p.swept_keys)
    for point in p.points:
        compiled = _compiled(cfg, {k: v for k, v in point.coordinates.items() if k in swept})
        assert point.structure == compiled.structure
        assert point.coordinates["constraints"] == compiled.constraints
        own = type(point.inputs)(**{**point.inputs.__dict__, "issue_lo": None, "issue_hi": None})
        assert _same_leaves(own, compiled.inputs)


def test_an_ensemble_with_different_issue_ranges_runs_in_one_chunk():
    p = plan(compose_config(*ENSEMBLE, "sweep.sample.n=40"))
    ranges = {pt.structure.space for pt in p.points}
    assert len(ranges) == 40  # every world has its own issue ranges (drawn maxima) ...
    assert len({shape(pt.structure) for pt in p.points}) == 1  # ... and one shape
    assert len(make_chunks(p)) == 1


def test_a_worlds_outcome_depends_on_its_parameters_and_seed_only(monkeypatch):
    """Not on its chunk (alone, or with 39 others) nor on its batch-mates (a smaller ensemble's first worlds
    are the same draws, run beside other worlds), with the draws' payoffs laid out as arrays."""
    drawn = len(plan(compose_config(*ENSEMBLE, "sweep.sample.n=2")).prior_keys)
    calls = _count_compiles(monkeypatch)
    together, rounds_together = simulate(plan(compose_config(*ENSEMBLE, "sweep.sample.n=40")))
    # its payoffs, ranges and red lines laid out for all draws at once, not compiled per draw: the first point,
    # two probes per drawn key and the checked points
    assert calls[0] <= 1 + 2 * drawn + layout_vector.CHECKED_POINTS  # a compile per draw: at least 40 more
    alone, rounds_alone = simulate(plan(compose_config(*ENSEMBLE, "sweep.sample.n=40", "run.chunk_size=1")))
    fewer, _ = simulate(plan(compose_config(*ENSEMBLE, "sweep.sample.n=15", "run.chunk_size=4")))
    assert len(together) == 40 and together["deal"].nunique() == 2  # a real mix of outcomes
    pd.testing.assert_frame_equal(alone, together)
    pd.testing.assert_frame_equal(rounds_alone, rounds_together)
    pd.testing.assert_frame_equal(fewer, together.iloc[:15].reset_index(drop=True))
    # the worlds really differ in their parameters, not only in their seeds
    assert together["payoff_pass_through"].nunique() == 40


def test_a_folder_cut_into_another_number_of_chunks_is_not_resumed(tmp_path, monkeypatch):
    """Another code version may cut the same run otherwise (an ensemble once took a chunk per draw): a forced
    resume must not mix its parts with this version's."""
    import sim.run.runner as runner
    from sim.config import ConfigError

    cfg = OmegaConf.to_container(compose_config(*ENSEMBLE, "sweep.sample.n=6", "run.workers=1", "run.plot=false",
                                                "run.force_resume=true"), resolve=True)
    p = plan(cfg)
    runner.execute(p, tmp_path, cfg, progress=False)
    manifest_before = (tmp_path / "manifest.json").read_bytes()
    halves = [runner.Chunk(0, 0, 0, 3, 1), runner.Chunk(1, 0, 3, 6, 1)]
    monkeypatch.setattr(runner, "make_chunks", lambda _plan: halves)
    with pytest.raises(ConfigError, match="cut into 1 chunks, but this version cuts it into 2"):
        runner.execute(p, tmp_path, cfg, progress=False)
    assert (tmp_path / "manifest.json").read_bytes() == manifest_before


def test_a_chunk_of_a_lazy_layout_equals_those_points_of_the_whole_bit_for_bit():
    """The plan keeps the draws and the recipe; a chunk's inputs are laid out when it runs. Laying out any rows
    (one point alone, a chunk of 7, the rest) gives the very numbers of those rows laid out all together."""
    p = plan(compose_config(*ENSEMBLE, "sweep.sample.n=300"))
    lazy = p.blocks[0].inputs
    assert isinstance(lazy, LazyInputs) and len(lazy) == 300
    whole = [np.asarray(leaf) for leaf in leaves(laid_out(lazy))]
    for rows in (np.array([0]), np.array([299]), np.arange(5, 12), np.arange(12, 300)):
        alone = [np.asarray(leaf) for leaf in leaves(laid_out(lazy.subset(rows)))]
        for part, full in zip(alone, whole, strict=True):
            expected = full[rows] if full.ndim else full
            assert part.dtype == expected.dtype
            assert np.ascontiguousarray(part).tobytes() == np.ascontiguousarray(expected).tobytes()


def test_an_ensembles_rows_are_the_same_whatever_its_chunks_and_workers(tmp_path):
    """Each world's outcome row is the same, value for value, with the ensemble in one chunk in this process and
    cut into chunks of 7 on two worker processes (each chunk's inputs laid out in its own worker)."""
    import pyarrow.parquet as pq

    from sim.run.runner import execute

    tables = []
    for how in (["run.workers=1", "run.chunk_size=10000"], ["run.workers=2", "run.chunk_size=7"]):
        cfg = OmegaConf.to_container(compose_config(*ENSEMBLE, "sweep.sample.n=60", "run.plot=false",
                                                    "run.record_rounds=none", *how), resolve=True)
        cfg.pop("hydra", None)
        out = tmp_path / how[1].replace("=", "_")
        the_plan = plan(cfg)
        assert len(make_chunks(the_plan)) == (1 if "10000" in how[1] else 9)
        execute(the_plan, out, cfg, progress=False)
        tables.append(pq.read_table(out / "outcomes.parquet").to_pandas())
    assert len(tables[0]) == 60 and tables[0]["deal"].nunique() == 2
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)


def test_the_draws_made_a_block_of_rows_at_a_time_are_those_of_one_matrix(monkeypatch):
    """The priors are drawn a block of rows at a time (memory); the draws are those of the whole matrix of uniform
    numbers drawn at once from the sampler's stream and put through each prior's quantile, bit for bit."""
    import sim.config.priors as priors

    cfg = OmegaConf.to_container(compose_config("sweep.sample.method=prior"), resolve=True)
    monkeypatch.setattr(priors, "DRAW_ROWS", 1000)
    n, found = 2500, priors.drawn(cfg)
    got = priors.draw_columns(cfg, n, 7, set())
    unit = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(2**32 - 1,))).random((n, len(found)))
    for k, p in enumerate(found):
        want = np.asarray(p.prior.quantile(unit[:, k], p.integer)).astype(np.int64 if p.integer else np.float64)
        assert got[p.key].dtype == want.dtype and got[p.key].tobytes() == want.tobytes()


def test_a_chunks_draws_made_alone_are_those_rows_of_the_whole_draw_matrix(monkeypatch):
    """A plan keeps how to draw the priors, not the draws: any rows drawn alone (the stream advanced to their first
    number) are those rows of the whole matrix of uniform numbers drawn at once and put through each prior's
    quantile, bit for bit, whichever rows were drawn before; the bounds found by a scan are the whole columns'."""
    import sim.config.points as points
    import sim.config.priors as priors

    cfg = OmegaConf.to_container(compose_config("sweep.sample.method=prior"), resolve=True)
    monkeypatch.setattr(priors, "DRAW_ROWS", 1000)
    monkeypatch.setattr(points, "SCAN_ROWS", 700)
    n, found = 2500, priors.drawn(cfg)
    unit = np.random.default_rng(np.random.SeedSequence(11, spawn_key=(2**32 - 1,))).random((n, len(found)))
    want = {p.key: np.asarray(p.prior.quantile(unit[:, k], p.integer)).astype(np.int64 if p.integer else np.float64)
            for k, p in enumerate(found)}
    columns = priors.lazy_columns(cfg, n, 11, set())
    assert list(columns) == [p.key for p in found]
    for rows in (np.arange(1999, 2500), np.array([0]), np.arange(3, 1004), np.array([2499]), np.arange(1000, 2000)):
        for key, column in columns.items():
            got = column[rows]
            assert got.dtype == want[key].dtype and got.tobytes() == want[key][rows].tobytes()
    for key, column in columns.items():
        assert column[1234].item() == want[key][1234].item() and len(column[100:300]) == 200
        assert np.asarray(column[100:300]).tobytes() == want[key][100:300].tobytes()
        assert (column.min(), column.max()) == (want[key].min(), want[key].max())


def test_an_ensembles_plan_holds_no_draw_and_no_text_per_world():
    """The plan of a prior ensemble keeps its draws and its constraints' texts as recipes (lazy columns); a
    chunk's task carries them as recipes too (its rows of the lazy columns, small when pickled), and the worker
    makes the chunk's own values, equal to those the whole columns give."""
    import pickle

    from sim.config.points import LazyColumn
    from sim.run.runner import _task, _typed, run_chunk

    p = plan(compose_config(*ENSEMBLE, "sweep.sample.n=50", "run.chunk_size=20"))
    block = p.blocks[0]
    assert all(isinstance(block.coordinates[k], LazyColumn) for k in (*p.prior_keys, "constraints"))
    whole = {k: np.asarray(block.coordinates[k]) for k in (*p.prior_keys, "constraints")}
    assert len(set(whole["constraints"].tolist())) > 1  # each world's own text (its drawn numbers in it)
    sent = _task(p, make_chunks(p)[1])
    assert all(isinstance(sent.point_coords[p.columns[k]][0], LazyColumn) for k in whole)
    task = pickle.loads(pickle.dumps(sent))  # as a worker gets it: the recipe, no value made
    assert not any("_last" in column.source.__dict__ for column, _ in task.point_coords.values()
                   if isinstance(column, LazyColumn))
    for key, values in whole.items():
        column, dtype = task.point_coords[p.columns[key]]
        assert _typed(column, dtype).tolist() == values[20:40].tolist()
    _, out, _ = run_chunk(pickle.loads(pickle.dumps(sent)))  # the worker's path: drawn there, as the plan's rows
    for key in p.prior_keys:
        assert out[p.columns[key]].tobytes() == whole[key][20:40].astype(p.coordinate_dtypes[key]).tobytes()
    assert out["constraints"].tolist() == whole["constraints"][20:40].tolist()


@pytest.mark.parametrize("n", [1, 7, 70_000, 140_001])
def test_the_draws_bounds_from_the_uniforms_alone_equal_the_lowest_and_highest_draw(n):
    """The planner's probes read each drawn key's lowest and highest value from the extreme uniform numbers of each
    piece of its quantile (no quantile of every row): equal, value and type, to the min and max of all the draws
    (several blocks of rows; uniform and triangular priors, modes at either end and inside, integer keys)."""
    from sim.config.parameters import Parameter, Prior
    from sim.config.priors import Draws

    shapes = [("uniform", 0.0, 1.0, None, False), ("uniform", 2.0, 9.0, None, True),
              ("triangular", -3.0, 5.0, 1.0, False), ("triangular", 0.0, 1.0, 0.0, False), ("triangular", 0.0, 1.0, 1.0, False),
              ("triangular", 1.0, 30.0, 28.0, True), ("triangular", 0.1, 0.9, 0.1 + 1e-12, False)]
    params = tuple(Parameter(key=f"k{i}", label="", unit="", description="", prior=Prior(dist, lo, hi, mode),
                             kind="integer" if integer else "number")
                   for i, (dist, lo, hi, mode, integer) in enumerate(shapes))
    whole = Draws(params, n, 5).make(0, n)
    fresh = Draws(params, n, 5)
    for key, values in whole.items():
        low, high = fresh.bounds(key)
        assert (type(low), type(high)) == (type(values.min()), type(values.max()))
        assert (low, high) == (values.min(), values.max())


def test_in_the_workers_path_a_worlds_outcome_does_not_depend_on_its_chunk():
    """Each chunk's task pickled and unpickled as a worker gets it (its draws and texts made there, from the recipe
    and its row range): the same table, world by world, whether the 40 worlds run in chunks of 7 or in one."""
    import pickle

    from sim.run.runner import _task, run_chunk

    tables = []
    for size in (7, 40):
        p = plan(compose_config(*ENSEMBLE, "sweep.sample.n=40", f"run.chunk_size={size}"))
        chunks = make_chunks(p)
        assert len(chunks) == -(-40 // size)
        parts = [run_chunk(pickle.loads(pickle.dumps(_task(p, c))))[1] for c in chunks]
        tables.append(pd.concat([pd.DataFrame(part) for part in parts]).sort_values("world").reset_index(drop=True))
    assert len(tables[0]) == 40 and len(set(tables[0]["constraints"])) > 1
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)
