"""Ended worlds dropped from a batch (``sim.engine.compaction``, ``sim.run.play``): every outcome and recorded round
equals the batch played whole, for an ensemble, the sequential protocol, the meetings calendar, two-level games
and learning opponent models; the walk takes the rows of every per-world array and leaves the caller's inputs
alone; and the rule for when to compact, by hand."""

from __future__ import annotations

import dataclasses
import functools
import pickle

import numpy as np
import pytest

import sim.engine.compaction as compaction
import sim.run.runner as runner
from sim.config import plan
from sim.engine.inputs import leaves
from sim.run.play import play
from sim.run.runner import _task, make_chunks, run_chunk
from tests.conftest import compose_config


def _chunk_results(overrides: list[str]):
    """Every chunk's outcomes and rounds, as a worker makes them."""
    p = plan(compose_config(*overrides))
    return [run_chunk(pickle.loads(pickle.dumps(_task(p, c))))[1:] for c in make_chunks(p)]


CASES = {
    # an ensemble: each world its own prior draw (and deadline extension), every round recorded
    "ensemble": ["sweep.sample.method=prior", "sweep.sample.n=400", "run.seeds=1", "run.common_random_numbers=false",
                 "run.record_rounds=all", "run.chunk_size=400"],
    # stage by stage (partial deals, locked stages), one seed in three recorded
    "sequential": ["protocol=sequential", "run.seeds=240", "run.record_rounds=80"],
    # alternating meetings on a calendar
    "meeting": ["protocol=meeting", "run.seeds=200", "run.record_rounds=all"],
    # constituencies that must ratify, win-sets known
    "two-level": ["+experiment=two_level", "run.seeds=120", "run.record_rounds=none"],
    # learning opponent models: a Bayesian posterior over 64 hypotheses, and tit for tat
    "opponents": ["opponent@us=bayesian", "strategy@japan=tit_for_tat", "run.seeds=300",
                  "run.record_rounds=all"],
    # every shipped strategy, and the other acceptance strategies and opponent model
    "strategies": ["sweep.pairs=[[boulware,stahl],[rubinstein,random],[hardheaded,nice_tit_for_tat],"
                   "[tradeoff_boulware,deadline_aware],[linear,hardliner],[conceder,tit_for_tat]]",
                   "run.seeds=60", "run.record_rounds=20"],
    "acceptance": ["acceptance@us=ac_combi", "acceptance@japan=ac_time", "opponent@japan=frequency",
                   "run.seeds=150", "run.record_rounds=none"],
    "constant acceptance": ["acceptance@us=ac_const", "run.seeds=100", "run.record_rounds=none"],
}


@pytest.mark.parametrize("case", CASES)
def test_dropping_ended_worlds_changes_no_outcome_and_no_round(monkeypatch, case):
    kept = []

    def keep_rows(model, rows):
        kept.append((len(model.active), len(rows)))
        original(model, rows)

    original = compaction.keep_rows
    monkeypatch.setattr("sim.engine.model.keep_rows", keep_rows)
    monkeypatch.setattr(compaction, "MIN_WORLDS", 24)  # small batches, compacted whenever a world has ended
    monkeypatch.setattr(compaction, "worth_compacting", lambda n, talking, left: n >= 24 and talking < n)
    dropped = _chunk_results(CASES[case])
    monkeypatch.setattr(runner, "play", functools.partial(play, compact=False))
    whole = _chunk_results(CASES[case])
    assert len(kept) >= 3 and any(before > after for before, after in kept)  # worlds were dropped, often
    for (out_a, rounds_a), (out_b, rounds_b) in zip(dropped, whole, strict=True):
        assert out_a.keys() == out_b.keys() and rounds_a.keys() == rounds_b.keys()
        for key in out_a:
            assert out_a[key].dtype == out_b[key].dtype
            assert np.array_equal(out_a[key], out_b[key], equal_nan=out_a[key].dtype.kind == "f"), key
        for key in rounds_a:
            assert np.array_equal(rounds_a[key], rounds_b[key], equal_nan=rounds_a[key].dtype.kind == "f"), key
    if case not in ("two-level", "acceptance", "constant acceptance"):
        assert any(rounds for _, rounds in dropped), "rounds were recorded"


@dataclasses.dataclass
class _Record:
    values: np.ndarray
    shared: np.ndarray
    scalar: float


class _State:
    """A stand-in for a model's mutable objects."""


# the walk enters the simulator's own objects only
_Record.__module__ = _State.__module__ = "sim.engine.stand_in"


def test_the_walk_takes_each_per_world_array_once_and_copies_records(monkeypatch):
    monkeypatch.setattr(compaction, "MIN_WORLDS", 4)
    n, rows = 6, np.array([1, 4, 5])
    shared = np.arange(n) * 10.0
    record = _Record(values=np.arange(n * 2).reshape(n, 2), shared=shared, scalar=2.5)
    inner, state = _State(), _State()
    inner.back, inner.same = state, shared  # a cycle, and an array held twice
    state.__dict__.update(
        active=np.ones(n, bool), n_worlds=n, shared=shared, record=record, inner=inner, issues=np.arange(3),
        cache={2: shared + 1}, planned=(3, np.arange(n)), broadcast=np.broadcast_to(np.array([7.0, 8.0]), (n, 2)),
        _trace=np.arange(n), _hypotheses=np.ones((n, 3)))
    compaction.keep_rows(state, rows)
    assert state.n_worlds == 3
    assert state.shared.tolist() == [10.0, 40.0, 50.0] and state.inner.same is state.shared
    assert state.inner.back is state
    assert state.record is not record and state.record.values.tolist() == [[2, 3], [8, 9], [10, 11]]
    assert state.record.shared is state.shared and state.record.scalar == 2.5
    assert record.values.shape == (6, 2) and record.shared is shared  # the caller's record as it was
    assert state.issues.tolist() == [0, 1, 2]  # not of the batch's length
    assert state.cache[2].tolist() == [11.0, 41.0, 51.0] and state.planned[0] == 3
    assert state.planned[1].tolist() == [1, 4, 5]
    assert state.broadcast.shape == (3, 2) and state.broadcast.strides[0] == 0
    assert state._trace.shape == (6,) and state._hypotheses.shape == (6, 3)  # named as not per world


def test_a_read_only_array_stays_read_only_and_a_writable_one_writable(monkeypatch):
    """A party's frozen bounds (read-only, owning their memory) are taken as frozen copies, so a kept trade-off order
    or box still knows them without comparing their numbers; the rows are those of ``a[rows]``."""
    monkeypatch.setattr(compaction, "MIN_WORLDS", 4)
    rows = np.array([0, 2, 5])
    frozen, writable = np.arange(12.0).reshape(6, 2), np.arange(6.0)
    frozen.setflags(write=False)
    state = _State()
    state.__dict__.update(active=np.ones(6, bool), frozen=frozen, writable=writable)
    compaction.keep_rows(state, rows)
    assert state.frozen.tolist() == frozen[rows].tolist() and state.writable.tolist() == writable[rows].tolist()
    assert not state.frozen.flags.writeable and state.frozen.flags.owndata
    assert state.writable.flags.writeable


def test_rows_are_those_of_indexing_in_its_memory_order():
    """``rows_of`` against ``a[rows]``: the same numbers and strides for arrays of one to three axes in C, Fortran,
    broadcast, strided and permuted layouts; a boolean mask is refused rather than read as rows 0 and 1."""
    from sim.engine.inputs import rows_of, take

    rows = np.array([3, 1, 4, 1, 5])
    base, cube = np.arange(60.0).reshape(6, 10), np.arange(120.0).reshape(6, 5, 4)
    for a in (np.arange(6.0), np.arange(12.0)[::2], base, np.asfortranarray(base), base[:, ::2],
              np.broadcast_to(base[0], (6, 10)), cube, np.asfortranarray(cube), cube.transpose(0, 2, 1),
              np.broadcast_to(cube[:1], (6, 5, 4))):
        got, want = rows_of(a, rows), a[rows]
        assert got.strides == want.strides and np.array_equal(got, want)
    with pytest.raises(TypeError, match="integer rows"):
        take(base, np.zeros(6, dtype=bool))
    state = _State()
    state.active = np.ones(compaction.MIN_WORLDS, bool)
    with pytest.raises(TypeError, match="integer rows"):
        compaction.keep_rows(state, np.ones(compaction.MIN_WORLDS, dtype=bool))


def test_a_batch_too_small_is_refused():
    state = _State()
    state.active = np.ones(compaction.MIN_WORLDS - 1, bool)
    with pytest.raises(ValueError, match="too small"):
        compaction.keep_rows(state, np.arange(3))


@pytest.mark.parametrize(("n", "talking", "left", "worth"), [
    (1000, 1000, 20, False),  # nothing ended
    (1000, 900, 20, False),  # 100 ended x 20 rounds = 2,000 world-rounds < 3,000
    (1000, 850, 20, True),  # 150 x 20 = 3,000: as much as the compaction costs
    (1000, 0, 2, False),  # all ended, 1,000 x 2 < 3,000
    (1000, 500, 6, True),
    (100, 0, 50, False),  # below MIN_WORLDS
])
def test_when_to_compact_by_hand(n, talking, left, worth):
    assert compaction.worth_compacting(n, talking, left) is worth


def test_the_callers_inputs_are_left_alone():
    p = plan(compose_config("sweep.sample.method=prior", "sweep.sample.n=600", "run.seeds=1",
                            "run.common_random_numbers=false", "run.record_rounds=none", "run.chunk_size=600"))
    task = _task(p, make_chunks(p)[0])
    from sim.config.points import laid_out
    from sim.engine.inputs import take
    from sim.engine.streams import point_keys, world_seeds

    inputs = take(laid_out(task.point_inputs), task.local_point)
    before = [np.array(leaf, copy=True) for leaf in leaves(inputs)]
    seeds = world_seeds(task.root_seed, task.seed_index,
                        point_keys({k: np.asarray(v) for k, v in task.key_coordinates.items()})[task.local_point])
    play(task.structure, inputs, seeds, None)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(before, leaves(inputs), strict=True))


def test_a_world_s_offer_does_not_depend_on_a_batch_mate_being_scaled_back():
    """The scale-back toward the fallback moves the worlds that are short only: the others keep their offers bit for
    bit, although ``base + 1.0 * (offer - base)`` is not always ``offer`` (0.7 + (0.1 - 0.7) = 0.09999999999999998).
    Otherwise a world's offer would depend on whether a batch-mate (perhaps one whose talks had ended) was short."""
    from sim.engine.agents import _scale_back

    offer, base = np.array([[0.1, 2.0], [0.1, 2.0]]), np.array([[0.7, 25.0], [0.7, 25.0]])
    assert 0.7 + 1.0 * (0.1 - 0.7) != 0.1  # the rounding the other worlds must not see
    alone = _scale_back(offer[1:], base[1:], np.array([False]), np.ones(1), np.full(1, 0.5))
    with_mate = _scale_back(offer, base, np.array([True, False]), np.ones(2), np.full(2, 0.5))
    assert alone.tobytes() == offer[1:].tobytes() and with_mate[1].tobytes() == offer[1].tobytes()
    assert with_mate[0].tolist() == [0.7 + 0.5 * (0.1 - 0.7), 25.0 + 0.5 * (2.0 - 25.0)]  # halfway back


@pytest.mark.parametrize("case", ["opponents", "ensemble"])
def test_a_world_alone_plays_as_in_a_batch(case):
    # every world in a chunk of its own (a batch of one, where a BLAS product takes another path) against the same
    # worlds in one chunk: the same outcomes and offers bit for bit. (The Bayesian model's products once gave a
    # world alone other last bits, which changed no offer here: tests/test_tradeoffs.py compares the beliefs.)
    overrides = [o for o in CASES[case] if not o.startswith(("run.seeds", "run.chunk_size", "sweep.sample.n"))]
    size = ["run.seeds=40"] if case == "opponents" else ["sweep.sample.n=40", "run.seeds=1"]
    together = _chunk_results([*overrides, *size, "run.chunk_size=40"])
    alone = _chunk_results([*overrides, *size, "run.chunk_size=1"])
    assert len(together) == 1 and len(alone) == 40
    for key, column in together[0][0].items():
        joined = np.concatenate([out[key] for out, _ in alone])
        assert np.array_equal(joined, column, equal_nan=column.dtype.kind == "f"), key
    rounds = together[0][1]
    order = np.lexsort((rounds["round"], rounds["world"]))
    for key, column in rounds.items():  # every offer, in world order (a chunk's recorded rounds: round by round)
        joined = np.concatenate([r[key] for _, r in alone])
        assert np.array_equal(joined, column[order], equal_nan=column.dtype.kind == "f"), key
