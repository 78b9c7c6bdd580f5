"""A chunk's steps timed one by one, for worlds drawn from the priors against worlds of the default values.

Usage: python benchmarks/bench_chunk.py [--worlds 60000] [--chunk-size 10000]

Where an ensemble's extra time goes in the workers: each chunk of the plan is cut into its task, pickled and
unpickled (as the pool sends it), and then put through :func:`sim.run.runner.run_chunk`'s steps in turn: the inputs
laid out from the plan's recipe, the worlds' inputs taken, the coordinate columns typed (an ensemble's drawn
columns and constraints' texts are made here), the point keys and seeds, the play, the bargaining metrics, and the
part's Arrow table, written as the worker writes its part (Parquet, digest, file), pickled and unpickled (as the
pool returns it). Milliseconds per chunk, the mean over all chunks but the first (a warm-up), in this one process,
with the workers' allocator settings when this script is started with them (``MALLOC_MMAP_THRESHOLD_=33554432
MALLOC_TRIM_THRESHOLD_=268435456``, as ``sim.run.workers.REUSED_MEMORY`` sets them for the workers). The two
workloads are those of ``bench_sweep.py --ensemble``.
Timings are whatever this machine gives; never assert them in a test.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir

from sim.config import CONF_DIR, plan
from sim.config.points import laid_out
from sim.engine.inputs import take
from sim.engine.streams import point_keys, world_seeds
from sim.run.bargaining_columns import bargaining_columns
from sim.run.columns import field_metadata, plain_drawn, table_entries
from sim.run.play import play
from sim.run.runner import _task, _typed, make_chunks, outcome_columns
from sim.run.store import part_table, write_part

COMMON = ["run.record_rounds=none", "run.common_random_numbers=false"]


def _steps(the_plan, chunk, fields, out_dir: Path) -> dict[str, float]:
    """One chunk's steps, in seconds each, and the task's and the table's pickled sizes (in bytes)."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = now - clock
        clock = now

    task = _task(the_plan, chunk)
    step("cut the task")
    blob = pickle.dumps(task)
    task = pickle.loads(blob)
    step("task pickled and unpickled")
    inputs = laid_out(task.point_inputs)
    step("inputs laid out")
    worlds = take(inputs, task.local_point)
    step("worlds' inputs taken")
    coords = {key: _typed(column, dtype) for key, (column, dtype) in task.point_coords.items()}
    step("coordinates typed (draws, texts)")
    keys = None if task.key_coordinates is None else point_keys(
        {key: np.asarray(value) for key, value in task.key_coordinates.items()})[task.local_point]
    seeds = world_seeds(task.root_seed, task.seed_index, keys)
    step("point keys and seeds")
    result, _ = play(task.structure, worlds, seeds, None)
    step("play")
    result |= bargaining_columns(inputs, task.local_point, result, task.structure.party_ids)
    step("bargaining metrics")
    table = part_table(outcome_columns(task, seeds, coords, result), fields["outcomes"])
    step("part table")
    write_part(out_dir, "outcomes", task.index, table)  # as the worker writes it: Parquet, its digest, the file
    step("part written")
    sent = pickle.dumps(table)
    pickle.loads(sent)
    step("table pickled and unpickled")
    return seconds | {"task bytes": len(blob), "table bytes": len(sent)}


def workload(overrides: list[str]) -> dict[str, float]:
    """The mean of each step over the plan's chunks but the first."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[*COMMON, *overrides])
    the_plan = plan(cfg)
    fields = {table: plain_drawn(field_metadata(entries), the_plan)
              for table, entries in table_entries(the_plan).items()}
    chunks = make_chunks(the_plan)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "outcomes").mkdir()
        _steps(the_plan, chunks[0], fields, Path(tmp))  # warm-up
        runs = [_steps(the_plan, chunk, fields, Path(tmp)) for chunk in chunks[1:]]
    return {key: float(np.mean([run[key] for run in runs])) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=60_000)
    parser.add_argument("--chunk-size", type=int, default=10_000)
    args = parser.parse_args()
    size = [f"run.chunk_size={args.chunk_size}"]
    prior = workload(["sweep.sample.method=prior", f"sweep.sample.n={args.worlds}", "run.seeds=1", *size])
    default = workload([f"run.seeds={args.worlds}", *size])
    print(f"a chunk of {args.chunk_size:,} worlds ({args.worlds:,} worlds each, the first chunk a warm-up), "
          "ms per chunk: prior draws / default values")
    for key in prior:
        if key.endswith("bytes"):
            print(f"  {key:34s} {prior[key] / 1e6:8.2f} / {default[key] / 1e6:8.2f} MB")
        else:
            print(f"  {key:34s} {prior[key] * 1e3:8.2f} / {default[key] * 1e3:8.2f}")
    steps = [key for key in prior if not key.endswith("bytes")]
    total = {name: sum(run[k] for k in steps) * 1e3 for name, run in (("prior", prior), ("default", default))}
    print(f"  {'all steps':34s} {total['prior']:8.2f} / {total['default']:8.2f}")


if __name__ == "__main__":
    main()
