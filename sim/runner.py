"""Run a validated plan: group worlds into batches, advance each batch, collect the tables.

Worlds that share a :class:`~sim.config.Structure` (the same strategy pair, outcome space, opener
and calendar) are advanced together by one :class:`~sim.model.NegotiationModel`, at most
``run.batch_size`` at a time. Each world's identity is its grid point and seed index:
``world = point_index * seeds + seed_index``, and the output is sorted by it.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sim.config import Plan, stack
from sim.model import END_REASONS, NegotiationModel
from sim.streams import point_key, world_seeds

__all__ = ["RunResult", "execute"]

RESPONSES = {0: "counter", 1: "accept", 2: "walk-away", 4: "deadline", 5: "breakdown"}


@dataclass
class RunResult:
    """The tables a run produces.

    Attributes:
        outcomes: One row per negotiation.
        rounds: One row per recorded round of a traced negotiation (may be empty).
    """

    outcomes: pd.DataFrame
    rounds: pd.DataFrame


def execute(plan: Plan, progress: bool | None = None) -> RunResult:
    """Run every world of ``plan``.

    Args:
        plan: The validated plan (see :func:`sim.config.plan`).
        progress: Show a progress bar; ``None`` shows one only on a terminal.

    Returns:
        The outcome and round tables, sorted by world.
    """
    groups: dict[object, list[int]] = defaultdict(list)
    for k, point in enumerate(plan.points):
        groups[point.structure].append(k)

    outcome_parts, round_parts = [], []
    disable = not sys.stderr.isatty() if progress is None else not progress
    with tqdm(total=plan.n_worlds, unit="neg", desc="negotiations", disable=disable) as bar:
        for structure, point_ids in groups.items():
            point_params = stack([plan.points[k].params for k in point_ids])
            # worlds of this group: (point, seed index), in world order
            local_point = np.repeat(np.arange(len(point_ids)), plan.seeds)
            seed_index = np.tile(np.arange(plan.seeds), len(point_ids))
            for start in range(0, len(local_point), plan.batch_size):
                sl = slice(start, start + plan.batch_size)
                outcomes, rounds = _run_batch(plan, structure, point_ids, point_params, local_point[sl],
                                              seed_index[sl])
                outcome_parts.append(outcomes)
                round_parts.append(rounds)
                bar.update(len(outcomes))

    outcomes = pd.concat(outcome_parts, ignore_index=True).sort_values("world", kind="stable", ignore_index=True)
    rounds = pd.concat(round_parts, ignore_index=True)
    if len(rounds):
        rounds = rounds.sort_values(["world", "round"], kind="stable", ignore_index=True)
    return RunResult(outcomes=outcomes, rounds=rounds)


def _run_batch(plan, structure, point_ids, point_params, local_point, seed_index):
    """Build one model for a slice of worlds, run it to the end, and return its tables."""
    params = {k: v[local_point] for k, v in point_params.items()}
    global_point = np.asarray(point_ids)[local_point]
    keys = None
    if not plan.common_random_numbers:
        keys = np.array([point_key(plan.points[p].coordinates) for p in global_point], dtype=np.int64)
    seeds = world_seeds(plan.root_seed, seed_index, keys)
    if plan.record_rounds == "all":
        traced = np.arange(len(seeds))
    elif plan.record_rounds == "none":
        traced = None
    else:
        traced = np.flatnonzero(seed_index < int(plan.record_rounds))

    model = NegotiationModel(structure, params, seeds, record_rounds=traced, rng=int(seeds[0] >> np.uint64(1)))
    model.run_model()

    world = global_point * plan.seeds + seed_index
    coords = pd.DataFrame([plan.points[p].coordinates for p in global_point])
    result = model.outcomes()
    table = pd.DataFrame({"world": world, "seed": seeds, "seed_index": seed_index})
    table = pd.concat([table, coords], axis=1)
    table = table.assign(**{k: v for k, v in result.items() if k != "end_reason"})
    table.insert(table.columns.get_loc("end_round") + 1, "end_date", structure.round_date(result["end_round"]))
    table.insert(table.columns.get_loc("end_date") + 1, "end_reason",
                 pd.Categorical.from_codes(result["end_reason"] - 1, categories=list(END_REASONS.values())))

    rounds = pd.DataFrame(model.round_table())
    if len(rounds):
        idx = rounds.pop("world_index").to_numpy()
        rounds.insert(0, "world", world[idx])
        rounds.insert(2, "date", structure.round_date(rounds["round"].to_numpy()))
        rounds["response"] = rounds["response"].map(RESPONSES)
    return table, rounds
