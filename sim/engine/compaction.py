"""A batch's ended worlds dropped, so that later rounds are played by the worlds still talking only.

A batched model plays every world of its batch in every round until the last one has ended: a world that struck
its deal in round 8 is carried, masked, through the rounds its batch-mates still need. Its outcome is fixed when
it ends (its end round, terms, payoffs and utilities are read from state that no later round changes), so once
enough worlds have ended the batch keeps the rows of those still talking and carries on with them alone.

Which arrays hold one row per world is read from their shape: every array reachable from the model's own
objects (its negotiators, constituencies, protocol, no-deal path, deadlines, random streams, their inputs and
caches) whose leading axis has the batch's length. Batches this small or smaller are never compacted
(:data:`MIN_WORLDS`), so that an axis of issues, stages or hypotheses is never taken for one of worlds. A
world's draws are addressed by its own seed and the round (:class:`~sim.engine.streams.RandomStreams`), so
they do not depend on its batch-mates; ``tests/test_compaction.py`` checks every outcome and recorded round
against the same batch played whole.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sim.engine.inputs import rows_of

__all__ = ["MIN_WORLDS", "keep_rows", "worth_compacting"]

# the fewest worlds a batch must have to be compacted (and more than any other axis of its arrays)
MIN_WORLDS = 256
# attributes that are not a row per world although their leading axis may have the batch's length: the traced
# worlds (renumbered by the model) and their rounds so far, a Bayesian opponent model's hypotheses (up to
# 4,096), the stages' issues
_NOT_PER_WORLD = frozenset({"_trace", "round_log", "_hypotheses", "stage_mask"})


def worth_compacting(n_worlds: int, talking: int, rounds_left: int) -> bool:
    """Whether dropping the ended worlds pays: it costs about as much as three rounds of the whole batch (its
    outcomes are read once more, its arrays copied), and saves a round of each ended world per round left."""
    return n_worlds >= MIN_WORLDS and (n_worlds - talking) * rounds_left >= 3 * n_worlds


def keep_rows(model: Any, rows: np.ndarray) -> None:
    """Keep the worlds ``rows`` of ``model`` (in place), in that order, and drop the others."""
    _Rows(len(model.active), rows).into(model)


class _Rows:
    """The walk over a model's objects that takes ``rows`` of every per-world array, once per object."""

    def __init__(self, n: int, rows: np.ndarray) -> None:
        if n < MIN_WORLDS:
            raise ValueError(f"a batch of {n} worlds is too small to compact (at least {MIN_WORLDS})")
        self.n, self.rows, self.memo = n, np.asarray(rows), {}
        if self.rows.dtype.kind not in "iu":
            raise TypeError(f"worlds are kept by their integer rows, not by an array of {self.rows.dtype}")

    def into(self, obj: Any) -> None:
        """Take the rows of the arrays held by ``obj``, a mutable object of the model's, attribute by attribute."""
        if id(obj) in self.memo:
            return
        self.memo[id(obj)] = obj
        for name, value in list(vars(obj).items()):
            if name in _NOT_PER_WORLD:
                continue
            if name == "n_worlds" and value == self.n:
                setattr(obj, name, len(self.rows))
                continue
            new = self.value(value)
            if new is not value:
                setattr(obj, name, new)

    def value(self, value: Any) -> Any:
        """``value`` with the rows taken: a new array, tuple, list, dict or record (dataclass) where one changed
        (the model's inputs stay the caller's); any other object of the model's changed in place; anything else
        as it is."""
        if id(value) in self.memo:
            return self.memo[id(value)]
        if isinstance(value, np.ndarray):
            new = self._array(value)
        elif isinstance(value, (tuple, list)):
            items = [self.value(v) for v in value]
            changed = any(a is not b for a, b in zip(items, value, strict=True))
            new = (type(value)(items) if not hasattr(value, "_fields") else type(value)(*items)) if changed else value
        elif isinstance(value, dict):
            items = {k: self.value(v) for k, v in value.items()}
            new = items if any(items[k] is not v for k, v in value.items()) else value
        elif not type(value).__module__.startswith("sim."):
            new = self._agent_set(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):  # a record, perhaps the caller's too
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.init}
            taken = {k: self.value(v) for k, v in fields.items()}
            new = dataclasses.replace(value, **taken) if any(taken[k] is not v for k, v in fields.items()) else value
        elif hasattr(value, "__dict__"):
            self.into(value)
            new = value
        else:
            new = value
        self.memo[id(value)] = new
        return new

    def _array(self, a: np.ndarray) -> np.ndarray:
        if a.ndim == 0 or a.shape[0] != self.n:
            return a
        if a.strides[0] == 0:  # one row shared by every world (a grid's inputs): still one row
            return np.broadcast_to(a[0], (len(self.rows), *a.shape[1:]))
        taken = rows_of(a, self.rows)
        taken.setflags(write=a.flags.writeable)  # a read-only array stays read-only (a frozen one stays frozen)
        return taken

    def _agent_set(self, value: Any) -> Any:
        """An :class:`mesa.agent.AgentSet` of the model's agents: each agent changed in place."""
        from mesa.agent import AgentSet

        if isinstance(value, AgentSet):
            for agent in value:
                self.into(agent)
        return value
