"""A chunk's worlds played to the end in one batched model, the worlds that have ended dropped on the way.

A batched model plays every world in every round until the last one has ended. The worlds of an ensemble each
draw their own deadline extension, and most strike their deal or time out well before the latest of them, so
without more the worlds that ended in round 11 would be carried, masked, to round 21. Once enough have ended
(:func:`~sim.engine.compaction.worth_compacting`), their outcomes are read and the model carries on with the
worlds still talking only (:meth:`~sim.engine.model.NegotiationModel.keep`). A world's results are the same
either way: its draws come from its own seed, never from its batch-mates, and nothing it reads changes once it
has ended (``tests/test_compaction.py`` checks every outcome and round against the batch played whole).
"""

from __future__ import annotations

import numpy as np

__all__ = ["play"]


def play(structure, inputs, seeds: np.ndarray, traced: np.ndarray | None,
         compact: bool = True) -> tuple[dict, dict]:
    """Play a chunk's worlds to the end: each world's outcomes, and the rounds of the ``traced`` worlds (by index
    into the chunk, ``world_index``). Ended worlds are dropped where that pays (``compact=False``: every world is
    played to the end, for comparison)."""
    from sim.engine.compaction import worth_compacting  # Mesa: in the workers (preloaded)
    from sim.engine.model import NegotiationModel

    model = NegotiationModel(structure, inputs, seeds, record_rounds=traced, rng=int(seeds[0] >> np.uint64(1)))
    last = int(min(model.deadlines.final_deadline.max(initial=0), model.max_rounds))
    ended = []  # (rows in the chunk, their outcomes) of the worlds dropped
    while model.running:
        model.step()
        t = model.steps + model.first_round - 1
        talking = int(np.count_nonzero(model.active))
        if compact and model.running and worth_compacting(model.n_worlds, talking, last - t):
            done = ~model.active
            ended.append((model.rows[done], {key: column[done] for key, column in model.outcomes().items()}))
            model.keep(np.flatnonzero(model.active))
    outcomes = model.outcomes()
    if ended:
        ended.append((model.rows, outcomes))
        outcomes = {key: np.empty((len(seeds), *column.shape[1:]), column.dtype) for key, column in outcomes.items()}
        for rows, part in ended:
            for key, column in part.items():
                outcomes[key][rows] = column
    return outcomes, model.round_table()
