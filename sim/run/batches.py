"""A chunk's worlds played in batches by the last round each can be talking in.

A batched model plays every world of its batch in every round until the batch's last world has ended. The worlds
of an ensemble each draw their own deadline extension (and the protocol's horizon caps them all), so in one batch
the worlds whose talks must end early would be carried through the rounds only the latest need. Their last
rounds are known before the talks start (:func:`~sim.engine.model.last_rounds`, from each world's own seed), so
a chunk is split, where that is cheaper, into batches of consecutive last rounds. A world's results are the same
in any batch: its draws come from its own seed, never from its batch-mates (``tests/test_batches.py`` checks
every outcome and round against one batch).
"""

from __future__ import annotations

import numpy as np

from sim.engine.inputs import take

__all__ = ["batches", "play"]

# what a batch costs besides its world-rounds, in world-rounds (see :func:`batches`): a rough model from the default
# scenario on one machine (a round 0.55 ms + 0.9 to 1.7 us a world, a model 1 ms + 1.1 us a world, its outcomes)
ROUND_COST = 300
BATCH_COST = 2_000


def batches(last: np.ndarray, first_round: int) -> list[np.ndarray]:
    """A chunk's worlds split into batches by the last round each can be talking in (:func:`last_rounds`), where
    that is cheaper: a batch plays every world in every round until its last world has ended, so worlds whose
    deadline comes early (an ensemble's worlds each draw their own extension) cost less in a batch of their own.
    The split minimises the cost in world-rounds (:data:`ROUND_COST`, :data:`BATCH_COST`) over the partitions of
    the sorted last rounds into runs (by dynamic programming; a handful of distinct rounds). Each batch's worlds
    keep their order."""
    rounds, counts = np.unique(last, return_counts=True)
    if len(rounds) == 1:
        return [np.arange(len(last))]
    played = np.maximum(rounds - first_round + 1, 1).tolist()
    upto = np.concatenate([[0], np.cumsum(counts)]).tolist()
    best, cut = [0.0] + [float("inf")] * len(rounds), [0] * (len(rounds) + 1)
    for j in range(1, len(rounds) + 1):
        for i in range(j):
            cost = best[i] + BATCH_COST + (upto[j] - upto[i] + ROUND_COST) * played[j - 1]
            if cost < best[j]:
                best[j], cut[j] = cost, i
    runs, j = [], len(rounds)
    while j > 0:
        runs.append((cut[j], j))
        j = cut[j]
    return [np.flatnonzero((last >= rounds[i]) & (last <= rounds[j - 1])) for i, j in reversed(runs)]


def play(structure, inputs, seeds: np.ndarray, traced: np.ndarray | None) -> tuple[dict, dict]:
    """Play a chunk's worlds to the end: each world's outcomes, and the rounds of the ``traced`` worlds (by index
    into the chunk, ``world_index``), in batches by the last round they can reach (:func:`batches`). A world's
    results are the same in any batch (its draws come from its own seed)."""
    from sim.engine.model import NegotiationModel, last_rounds  # Mesa: in the workers (preloaded)

    groups = batches(last_rounds(structure, inputs, seeds), int(structure.first_round))
    parts = [inputs] if len(groups) == 1 else [take(inputs, rows) for rows in groups]
    played = []
    for rows, part in zip(groups, parts, strict=True):
        mine = traced if len(groups) == 1 or traced is None else np.flatnonzero(np.isin(rows, traced))
        model = NegotiationModel(structure, part, seeds[rows], record_rounds=mine,
                                 rng=int(seeds[rows[0]] >> np.uint64(1)))
        model.run_model()
        played.append((model.outcomes(), model.round_table()))
    if len(groups) == 1:
        return played[0]
    result = {key: np.empty((len(seeds), *column.shape[1:]), column.dtype) for key, column in played[0][0].items()}
    for rows, (outcomes, _) in zip(groups, played, strict=True):
        for key, column in outcomes.items():
            result[key][rows] = column
    logged = [(rows, r) for rows, (_, r) in zip(groups, played, strict=True) if r]
    rounds = {key: np.concatenate([rows[r[key]] if key == "world_index" else r[key] for rows, r in logged])
              for key in logged[0][1]} if logged else {}
    return result, rounds
