"""A chunk's worlds played in batches by the last round each can reach (``sim.run.runner._batches``): the split is
the cheapest partition (against enumerating every partition), and it changes no result, outcome or round."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest

import sim.run.batches as runner
from sim.config import plan
from sim.run.batches import batches as _batches
from sim.run.runner import _task, make_chunks, run_chunk
from tests.conftest import compose_config


def _cost(last: np.ndarray, first_round: int, groups: list[np.ndarray]) -> float:
    """The batches' cost in world-rounds, written out from its definition: each batch plays all its worlds until
    its latest last round."""
    return sum(runner.BATCH_COST + (len(g) + runner.ROUND_COST) * max(int(last[g].max()) - first_round + 1, 1)
               for g in groups)


def _every_split(last: np.ndarray) -> list[list[np.ndarray]]:
    """Every way to cut the sorted distinct last rounds into consecutive runs, as groups of worlds."""
    rounds = np.unique(last)
    splits = []
    for cuts in itertools.product((False, True), repeat=len(rounds) - 1):
        groups, start = [], 0
        for i, cut in enumerate((*cuts, True)):
            if cut:
                groups.append(np.flatnonzero(np.isin(last, rounds[start:i + 1])))
                start = i + 1
        splits.append(groups)
    return splits


@pytest.mark.parametrize("seed", range(40))
def test_the_split_is_the_cheapest_of_every_partition_and_covers_each_world_once_in_order(seed):
    rng = np.random.default_rng(seed)
    first_round = int(rng.integers(1, 4))
    n = int(rng.choice([3, 40, 900, 20_000]))
    rounds = rng.choice(np.arange(1, 30), size=int(rng.integers(1, 7)), replace=False)
    last = rng.choice(rounds, size=n, p=rng.dirichlet(np.ones(len(rounds))))
    groups = _batches(last, first_round)
    joined = np.concatenate(groups)
    assert sorted(joined.tolist()) == list(range(n))  # every world once
    assert all(np.all(np.diff(g) > 0) for g in groups)  # in its order
    spans = [(last[g].min(), last[g].max()) for g in groups]
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))  # runs of consecutive last rounds
    cheapest = min(_cost(last, first_round, split) for split in _every_split(last))
    assert _cost(last, first_round, groups) == cheapest


def test_one_last_round_is_one_batch():
    assert [g.tolist() for g in _batches(np.full(5, 13), 1)] == [[0, 1, 2, 3, 4]]


def _chunk_results(monkeypatch, overrides: list[str], split: bool):
    """Every chunk's outcomes and rounds, as a worker makes them, with the worlds split into as many batches as
    they have last rounds (``split``) or all in one batch."""
    monkeypatch.setattr(runner, "BATCH_COST", 0 if split else 10**18)
    monkeypatch.setattr(runner, "ROUND_COST", 0)
    p = plan(compose_config(*overrides))
    return [run_chunk(pickle.loads(pickle.dumps(_task(p, c))))[1:] for c in make_chunks(p)]


@pytest.mark.parametrize("overrides", [
    # an ensemble: each world its own prior draw (and deadline extension), every round recorded
    ["sweep.sample.method=prior", "sweep.sample.n=300", "run.seeds=1", "run.common_random_numbers=false",
     "run.record_rounds=all", "run.chunk_size=150"],
    # stage by stage (partial deals, locked stages), one seed in three recorded
    ["protocol=sequential", "run.seeds=240", "run.record_rounds=80"],
    # alternating meetings on a calendar
    ["protocol=meeting", "run.seeds=200", "run.record_rounds=all"],
])
def test_playing_in_batches_changes_no_outcome_and_no_round(monkeypatch, overrides):
    split = _chunk_results(monkeypatch, overrides, split=True)
    whole = _chunk_results(monkeypatch, overrides, split=False)
    assert any(len(np.unique(out["final_deadline"])) > 1 for out, _ in split)  # there was something to split
    for (out_a, rounds_a), (out_b, rounds_b) in zip(split, whole, strict=True):
        assert out_a.keys() == out_b.keys() and rounds_a.keys() == rounds_b.keys()
        for key in out_a:
            assert out_a[key].dtype == out_b[key].dtype
            assert np.array_equal(out_a[key], out_b[key], equal_nan=out_a[key].dtype.kind == "f"), key
        assert rounds_a, "rounds were recorded"
        for key in rounds_a:
            assert np.array_equal(rounds_a[key], rounds_b[key], equal_nan=rounds_a[key].dtype.kind == "f"), key
