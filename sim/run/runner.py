"""The batch runner: run a validated plan in chunks, in parallel, resumably.

The worlds of a plan are numbered ``world = point_index * seeds + seed_index`` and cut, in that
order, into *chunks* of at most ``run.chunk_size`` consecutive worlds that share a
:class:`~sim.config.Structure` (the same strategy pair, outcome space and calendar). A chunk is one
batched :class:`~sim.model.NegotiationModel` run and one Parquet part. Chunks run on an executor:

* ``local``: processes from :class:`concurrent.futures.ProcessPoolExecutor`, forked from a fork server
  that has imported the engine (:mod:`sim.run.workers`), each writing its chunks' parts (in-process
  when ``run.workers=1``);
* ``dask``: a Dask distributed cluster, at ``run.dask_address`` or a local one started for the run.

Each finished chunk's parts are written (by the local worker that computed it, else by the main
process) and recorded in ``manifest.json`` (:mod:`sim.run.store`); re-running into the same folder
skips the chunks done, after checking that the folder was made by the same config and code version.
The main process streams each chunk's rows, in world order, into ``outcomes.parquet`` and
``rounds.parquet`` as the chunks finish, byte-identical however the sweep was split; once they check
against their digests the parts are dropped (unless ``run.keep_parts``). Ctrl-C or SIGTERM stops the
workers and leaves a resumable folder.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.config import ConfigError, Plan
from sim.config.points import LazyInputs, chunk_rows, inputs_for_chunk, laid_out
from sim.engine.codes import EndReason, Response
from sim.engine.inputs import Structure, WorldInputs, take
from sim.engine.streams import point_keys, world_seeds
from sim.run.bargaining_columns import bargaining_columns
from sim.run.play import play
from sim.run.columns import field_metadata, plain_drawn, table_entries
from sim.run.manifest import (
    KINDS,
    DamagedPart,
    Manifest,
    check_resume,
    clean_temporary,
    code_version,
    config_fingerprint,
    part_path,
    verify_parts,
    write_manifest,
)
from sim.run.readback import read_outcomes
from sim.run.store import (MergeStream, drop_parts, give_back_freed_memory, guard_disk, merge, merged_intact, merged_rows, part_table,
                           write_part)
from sim.run.executors import dask_results, local_results
from sim.run.progress import Progress
from sim.run.outputs import write_config
from sim.run.workers import ahead as workers_started_ahead

__all__ = ["Chunk", "Interrupted", "execute", "make_chunks", "read_outcomes", "run_chunk", "simulate"]

log = logging.getLogger("sim")

RESPONSES = np.array([r.label for r in Response])  # label by code
REASONS = np.array([r.label for r in EndReason])
WORKER_PAYS_OFF = 50_000


class Interrupted(Exception):
    """The sweep was stopped (Ctrl-C or SIGTERM); finished chunks are on disk."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"{done} of {total} chunks done")
        self.done, self.total = done, total


@dataclass(frozen=True)
class Chunk:
    """Consecutive worlds of one block of the plan (one structure shape): worlds ``start`` to ``stop - 1``.

    Attributes:
        index: Its number (its parts' names).
        block: Index of the plan's block that holds its worlds (:attr:`sim.config.Plan.blocks`).
        start, stop: Its first world and the world after its last, in world order.
        seeds: Replications per grid point (``world = point * seeds + seed index``).
    """

    index: int
    block: int
    start: int
    stop: int
    seeds: int

    @property
    def n_worlds(self) -> int:
        """Number of worlds in the chunk."""
        return self.stop - self.start

    @property
    def spans(self) -> tuple[tuple[int, int, int], ...]:
        """Its worlds as (point, first seed index, stop seed index) spans."""
        out = []
        world = self.start
        while world < self.stop:
            point, first = divmod(world, self.seeds)
            stop = min(self.seeds, first + self.stop - world)
            out.append((point, first, stop))
            world += stop - first
        return tuple(out)


def make_chunks(plan: Plan) -> list[Chunk]:
    """Cut the plan's worlds, in world order, into chunks of one block (one structure shape) and at most
    chunk_size worlds each."""
    chunks: list[Chunk] = []
    for b, block in enumerate(plan.blocks):
        first, end = block.start * plan.seeds, (block.start + len(block)) * plan.seeds
        for start in range(first, end, plan.chunk_size):
            chunks.append(Chunk(len(chunks), b, start, min(start + plan.chunk_size, end), plan.seeds))
    return chunks


@dataclass
class ChunkTask:
    """Everything a worker needs to run one chunk (small and picklable)."""

    index: int
    structure: Structure
    point_inputs: WorldInputs | LazyInputs  # stacked inputs of the chunk's points, or their recipe and values
    point_coords: dict[str, tuple[Any, str]]  # coordinate columns of the chunk's points (lazy or not), their dtype
    local_point: np.ndarray  # per world: index into the chunk's points
    seed_index: np.ndarray
    world: np.ndarray
    key_coordinates: dict[str, np.ndarray] | None  # the points' coordinates as planned, when seeds differ per point
    root_seed: int
    record: str | int


def _task(plan: Plan, chunk: Chunk) -> ChunkTask:
    block = plan.blocks[chunk.block]
    world = np.arange(chunk.start, chunk.stop, dtype=np.int64)
    global_point, seed_index = np.divmod(world, plan.seeds)
    first = int(global_point[0])
    local = global_point - first
    rows = np.arange(first, int(global_point[-1]) + 1) - block.start  # the chunk's points, within the block
    # each column cut once and shared (a task pickles each draw once): the typed coordinates, the seeds' point
    # keys (computed in the worker from these columns alone), the lazy inputs
    # drawn columns stay lazy (a slice of their recipe): the worker makes its chunk's draws and texts
    cut = {k: chunk_rows(block.coordinates[k], rows) for k in block.coordinates}
    keyed = None if plan.common_random_numbers else cut
    columns = plan.columns  # a property: its names made once a task, not once a key
    coords = {columns[k]: (cut[k], dtype) for k, dtype in plan.coordinate_dtypes.items()}
    return ChunkTask(index=chunk.index, structure=block.structure, point_inputs=inputs_for_chunk(block.inputs, rows, cut),
                     point_coords=coords, local_point=local, seed_index=seed_index, world=world, key_coordinates=keyed,
                     root_seed=plan.root_seed, record=plan.record_rounds)


def _typed(column: Any, dtype: str) -> np.ndarray:
    """A coordinate column (an array, or a lazy column made now) in the plan's dtype for it; a text column of Python
    strings (an ensemble's constraints) as it is (a fixed-width copy would only slow Arrow's writing them)."""
    column = np.asarray(column)
    if column.dtype != object:
        return column.astype(dtype, copy=False)
    values = column.tolist()
    keep = np.dtype(dtype).kind == "U" and set(map(type, values)) == {str}
    return column if keep else np.array(values, dtype=dtype)


def run_chunk(task: ChunkTask) -> tuple[int, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run one chunk to the end (in a worker) and return its outcome and round columns. A world's seed depends on
    the root seed, its seed index and (without common random numbers) its coordinates only, never on its chunk."""
    point_inputs = laid_out(task.point_inputs)  # a lazy layout's chunk laid out here, in the worker
    inputs = take(point_inputs, task.local_point)
    coords = {k: _typed(column, dtype) for k, (column, dtype) in task.point_coords.items()}  # drawn ones made here
    keyed = None if task.key_coordinates is None else {k: np.asarray(v) for k, v in task.key_coordinates.items()}
    keys = None if keyed is None else point_keys(keyed)[task.local_point]
    seeds = world_seeds(task.root_seed, task.seed_index, keys)
    if task.record == "all":
        traced = np.arange(len(seeds))
    elif task.record == "none":
        traced = None
    else:
        traced = np.flatnonzero(task.seed_index < int(task.record))
    result, rounds = play(task.structure, inputs, seeds, traced)

    result |= bargaining_columns(point_inputs, task.local_point, result, task.structure.party_ids)
    out = outcome_columns(task, seeds, coords, result)
    if rounds:
        idx = rounds.pop("world_index")
        order = np.lexsort((rounds["round"], idx))
        rounds = _round_columns(task, coords, idx[order], {k: v[order] for k, v in rounds.items()})
    return task.index, out, rounds


def outcome_columns(task: ChunkTask, seeds: np.ndarray, coords: dict, result: dict) -> dict[str, np.ndarray]:
    """A chunk's outcome columns in table order: the world, its seed, its coordinates, then what the play and the
    metrics gave (the end reason as its name, after the end date)."""
    out: dict[str, np.ndarray] = {"world": task.world.astype(np.int64), "seed": seeds,
                                  "seed_index": task.seed_index.astype(np.int64)}
    out |= {k: v[task.local_point] for k, v in coords.items()}
    for key, value in result.items():
        if key == "end_reason":
            out["end_date"] = task.structure.round_date(result["end_round"])
            out["end_reason"] = REASONS[value]
        else:
            out[key] = value
    return out


def _round_columns(task: ChunkTask, coords: dict[str, np.ndarray], idx: np.ndarray,
                   rounds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    cols = {"world": task.world[idx].astype(np.int64)}
    # the grid point's coordinates (strategy pair, swept keys), so the table needs no join
    cols |= {k: v[task.local_point[idx]] for k, v in coords.items()}
    cols["round"] = rounds.pop("round").astype(np.int32)
    cols["date"] = task.structure.round_date(cols["round"])
    cols["proposer"] = rounds.pop("proposer")
    cols["response"] = RESPONSES[rounds.pop("response")]
    return cols | rounds


def run_and_store(task: ChunkTask, out_dir: Path | None,
                  fields: dict[str, dict[str, dict[str, str]]]) -> tuple[int, dict[str, Any], dict[str, str] | None]:
    """Run one chunk and make its tables; with ``out_dir``, also write its parts there (in the worker).

    Returns:
        The chunk's index, its Arrow table per kind (``None`` for a kind it has no rows of), and the
        SHA-256 of each part written (``None`` when ``out_dir`` is ``None``: the caller writes them).
    """
    index, outcomes, rounds = run_chunk(task)
    tables = {"outcomes": part_table(outcomes, fields["outcomes"]),
              "rounds": part_table(rounds, fields["rounds"]) if rounds else None}
    if out_dir is None:
        return index, tables, None
    return index, tables, {k: write_part(out_dir, k, index, t) if t is not None else None for k, t in tables.items()}


@dataclass
class SweepResult:
    """What a finished sweep wrote.

    Attributes:
        n_worlds: Rows of ``outcomes.parquet``.
        n_chunks: Number of chunks.
        resumed: Chunks found done at the start.
        seconds: Wall time of this invocation's simulation, writing and merging (not plotting).
        workers: Processes (local) or Dask threads that computed chunks; 1 when it stayed in-process,
            0 when every chunk was already done.
        code_versions: The code versions that computed the chunks (more than one only after a forced
            resume across versions).
        recomputed: Chunks found damaged or incomplete and computed again.
    """

    n_worlds: int
    n_chunks: int
    resumed: int
    seconds: float
    workers: int = 1
    code_versions: list[str] | None = None
    recomputed: list[int] | None = None


def execute(plan: Plan, out_dir: Path, cfg: dict, progress: bool | None = None) -> SweepResult:
    """Run every chunk of ``plan`` not yet done in ``out_dir``, then merge the parts.

    A chunk is done when ``manifest.json`` lists it and each of its parts is on disk with the recorded
    SHA-256; a missing or damaged part makes its chunk run again, on resume and at the merge. Each merged
    file's SHA-256 goes into the manifest before the file is put in place.

    Args:
        plan: The validated plan.
        out_dir: The run folder.
        cfg: The resolved config as a plain dict (for the manifest and the resume check).
        progress: Show a bar; ``None`` shows one only on a terminal (plain log lines otherwise).

    Raises:
        ConfigError: if ``out_dir`` holds parts of another config or code version, or no manifest for them.
        Interrupted: on Ctrl-C or SIGTERM, after the finished chunks are safely on disk.
        sim.run.store.DiskFull: when the disk fills; the chunks finished before are intact.
    """
    return _Sweep(plan, Path(out_dir), cfg, progress).execute()


class _Sweep:
    """One invocation of :func:`execute`: the run folder's record, the chunks to run, and the merge."""

    def __init__(self, plan: Plan, out_dir: Path, cfg: dict, progress: bool | None) -> None:
        self.start = time.perf_counter()
        self.plan, self.out_dir, self.cfg, self.progress = plan, out_dir, cfg, progress
        self.code = code_version()
        self.chunks = make_chunks(plan)
        self.by_index = {c.index: c for c in self.chunks}
        self.fields = {table: plain_drawn(field_metadata(entries), plan) for table, entries in table_entries(plan).items()}
        self.streams: dict[str, MergeStream] = {}
        self.workers: list[int] = []

    def execute(self) -> SweepResult:
        """Prepare the folder, run what remains (again for a part found damaged at the merge), merge."""
        self.prepare()
        for attempt in range(3):
            if self.manifest.dropped:  # finished, its parts dropped: the checked merged files are the record
                self.rows = merged_rows(self.out_dir)
                break
            remaining = [c for c in self.chunks if c.index not in self.manifest.parts]
            self.streams.clear()
            if remaining:
                self.run(remaining)
            if self.merged(last=attempt == 2):
                break
        if self.rows != self.plan.n_worlds:
            raise RuntimeError(f"merged {self.rows} outcome rows for {self.plan.n_worlds} negotiations in "
                               f"{self.out_dir}")
        if not (self.cfg.get("run") or {}).get("keep_parts", False) and not self.manifest.dropped:
            drop_parts(self.out_dir, self.manifest)  # after checking the merged files against their digests
        versions = sorted({e.get("code", "unknown") for e in self.manifest.parts.values()})
        return SweepResult(n_worlds=self.rows, n_chunks=len(self.chunks), resumed=self.resumed,
                           seconds=time.perf_counter() - self.start, workers=max(self.workers, default=0),
                           code_versions=versions, recomputed=sorted(self.recomputed))

    def prepare(self) -> None:
        """Check the folder may be resumed, drop what a killed write left, re-check the parts done."""
        out_dir, cfg = self.out_dir, self.cfg
        fingerprint = config_fingerprint(cfg)
        force = bool((cfg.get("run") or {}).get("force_resume", False))
        self.manifest = check_resume(out_dir, fingerprint, self.code, force) or Manifest(len(self.chunks), fingerprint)
        if self.manifest.chunks != len(self.chunks):  # a forced resume across versions that cut the run otherwise
            raise ConfigError("run.force_resume", f"{out_dir} holds a run cut into {self.manifest.chunks} chunks, but "
                                                  f"this version cuts it into {len(self.chunks)}; its parts cannot be "
                                                  "mixed. Run into a new folder")
        if self.manifest.dropped and not merged_intact(out_dir, self.manifest):
            log.warning("%s: a merged file is missing or damaged and the parts were dropped after the merge; "
                        "computing the whole run again", out_dir)
            self.manifest = Manifest(len(self.chunks), fingerprint)
        for kind in KINDS:
            (out_dir / kind).mkdir(parents=True, exist_ok=True)
        for stale in clean_temporary(out_dir):
            log.info("removed %s, left by an interrupted write", stale)
        self.recomputed = [] if self.manifest.dropped else verify_parts(out_dir, self.manifest)
        for index in self.recomputed:
            log.warning("chunk %d: a part is missing or damaged (its SHA-256 differs from manifest.json); "
                        "computing it again", index)
            del self.manifest.parts[index]
        self.resumed = len(self.manifest.parts)
        if self.resumed:
            log.info("resuming: %d of %d chunks already done in %s", self.resumed, len(self.chunks), out_dir)
        with guard_disk(out_dir, self.needed):
            write_manifest(out_dir, self.manifest)
            write_config(out_dir, cfg)  # so an unfinished sweep can be plotted and loaded from its parts

    def needed(self) -> int | None:
        """Bytes still to write: the remaining parts (at the mean part size so far) and the merged files."""
        parts = self.manifest.parts
        sizes = [part_path(self.out_dir, k, i).stat().st_size for i in parts for k in KINDS
                 if parts[i].get(k) and part_path(self.out_dir, k, i).exists()]
        if not sizes:
            return None
        per_chunk = sum(sizes) / max(len(parts), 1)
        return int(per_chunk * (len(self.chunks) - len(parts)) + per_chunk * len(self.chunks))

    def results(self, remaining: list[Chunk]):
        """The chunk results, from the executor the plan names."""
        plan = self.plan
        todo = (_task(plan, c) for c in remaining)
        workers = max(1, min(plan.workers, len(remaining)))  # no pool start-up for a one-chunk run
        if plan.workers_auto and plan.executor == "local" and not workers_started_ahead():
            # starting the workers' fork server costs about as much time as simulating WORKER_PAYS_OFF
            # negotiations; once the run verb has started it ahead, a worker costs a fork
            workers = max(1, min(workers, sum(c.n_worlds for c in remaining) // WORKER_PAYS_OFF))
        if plan.executor == "dask":
            return dask_results(run_and_store, todo, plan.dask_address, workers, self.workers, None, self.fields)
        self.workers.append(workers)
        return local_results(run_and_store, todo, workers, 2 * workers, self.out_dir if workers > 1 else None,
                             self.fields)

    def run(self, remaining: list[Chunk]) -> None:
        """Run ``remaining``; record each chunk once its parts are on disk, and stream its rows on."""
        out_dir, manifest = self.out_dir, self.manifest
        bar = Progress(self.plan.n_worlds, self.plan.n_worlds - sum(c.n_worlds for c in remaining), self.progress)
        results = self.results(remaining)
        self.streams.update({kind: MergeStream(out_dir, kind, manifest) for kind in KINDS})
        try:
            with guard_disk(out_dir, self.needed):
                for index, tables, digests in results:
                    if digests is None:  # computed here or on a Dask cluster: the parts are written here
                        digests = {k: write_part(out_dir, k, index, t) if t is not None else None
                                   for k, t in tables.items()}
                    # the chunk is done only now, with every part on disk and its digest recorded
                    manifest.parts[index] = {**digests, "code": self.code}
                    write_manifest(out_dir, manifest)
                    for kind in KINDS:  # and its rows go on into the merged files, in world order
                        self.streams[kind].add(index, tables[kind])
                    del tables
                    give_back_freed_memory()
                    bar.update(self.by_index[index].n_worlds)
        except BaseException as stop:
            for stream in self.streams.values():
                stream.abort()
            if isinstance(stop, KeyboardInterrupt):
                raise Interrupted(len(manifest.parts), len(self.chunks)) from None
            raise
        finally:
            bar.close()
            if hasattr(results, "close"):
                results.close()

    def record(self, kind: str):
        """A callback putting a merged file's SHA-256 into the manifest (before the file is put in place)."""

        def put(digest: str) -> None:
            self.manifest.merged[kind] = digest
            write_manifest(self.out_dir, self.manifest)

        return put

    def merged(self, last: bool) -> bool:
        """Merge the parts (or finish the streams); False when a damaged part must be computed again."""
        try:
            with guard_disk(self.out_dir, self.needed):
                self.rows = merge(self.out_dir, "outcomes", self.manifest, self.streams.get("outcomes"),
                                  self.record("outcomes"))
                if not merge(self.out_dir, "rounds", self.manifest, self.streams.get("rounds"), self.record("rounds")):
                    self.manifest.merged.pop("rounds", None)
            return True
        except BaseException as failed:
            for stream in self.streams.values():
                stream.abort()  # no temporary merged file is left behind
            if not isinstance(failed, DamagedPart) or last:
                raise
            log.warning("%s; computing chunk %d again", failed, failed.index)
            del self.manifest.parts[failed.index]
            self.recomputed.append(failed.index)
            write_manifest(self.out_dir, self.manifest)
            return False


def simulate(plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run a plan in this process and return its outcome and round tables, writing nothing.

    For notebooks and tests; the same chunks and the same :func:`run_chunk` as :func:`execute`.
    """
    outcomes, rounds = [], []
    for chunk in make_chunks(plan):
        _, out, rnd = run_chunk(_task(plan, chunk))
        outcomes.append(pa.table({k: pa.array(v) for k, v in out.items()}))
        if rnd:
            rounds.append(pa.table({k: pa.array(v) for k, v in rnd.items()}))
    to_frame = lambda tables: pa.concat_tables(tables).to_pandas() if tables else pd.DataFrame()  # noqa: E731
    return to_frame(outcomes), to_frame(rounds)
