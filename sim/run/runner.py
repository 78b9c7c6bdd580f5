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
process) and recorded in ``manifest.json`` through :mod:`sim.run.store` (the run-folder layout,
manifest, digests and merge); re-running into the same folder skips the chunks done, after checking
that the folder was made by the same config and code version. The main process streams each chunk's
rows, in world order, into ``outcomes.parquet`` and ``rounds.parquet`` as the chunks finish (written
once, not re-read from the parts), byte-identical however the sweep was split into chunks or workers. Ctrl-C or SIGTERM stops the
workers and leaves a resumable folder.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.config import ConfigError, Plan
from sim.domain.bargaining import outcome_metrics
from sim.engine.inputs import Structure, WorldInputs, joint_box, stack, take, utility_coefficients
from sim.engine.protocols import END_REASONS
from sim.engine.streams import point_key, world_seeds
from sim.report.codebook import field_metadata, table_entries
from sim.run.store import (
    KINDS,
    DamagedPart,
    Manifest,
    MergeStream,
    check_resume,
    clean_temporary,
    code_version,
    config_fingerprint,
    guard_disk,
    merge,
    part_path,
    part_table,
    read_outcomes,
    verify_parts,
    write_manifest,
    write_part,
)
from sim.run.workers import ahead as workers_started_ahead
from sim.run.workers import context as worker_context

__all__ = ["Chunk", "Interrupted", "execute", "make_chunks", "read_outcomes", "run_chunk", "simulate"]

log = logging.getLogger("sim")

RESPONSES = np.array(["counter", "accept", "walk-away", "", "deadline", "breakdown"])
REASONS = np.array(list(END_REASONS.values()))
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
    point_inputs: WorldInputs  # stacked inputs of the chunk's points
    point_coords: dict[str, np.ndarray]  # typed coordinate columns of the chunk's points
    local_point: np.ndarray  # per world: index into the chunk's points
    seed_index: np.ndarray
    world: np.ndarray
    point_key: np.ndarray | None  # per world, when seeds differ per grid point
    root_seed: int
    record: str | int


def _task(plan: Plan, chunk: Chunk) -> ChunkTask:
    block = plan.blocks[chunk.block]
    world = np.arange(chunk.start, chunk.stop, dtype=np.int64)
    global_point, seed_index = np.divmod(world, plan.seeds)
    first = int(global_point[0])
    local = global_point - first
    rows = np.arange(first, int(global_point[-1]) + 1) - block.start  # the chunk's points, within the block
    keys = None
    if not plan.common_random_numbers:
        columns = {k: block.coordinates[k][rows].tolist() for k in block.coordinates}
        keys = np.array([point_key({k: col[i] for k, col in columns.items()}) for i in range(len(rows))],
                        dtype=np.int64)[local]
    coords = {plan.columns[k]: _typed(block.coordinates[k][rows], dtype) for k, dtype in plan.coordinate_dtypes.items()}
    return ChunkTask(index=chunk.index, structure=block.structure, point_inputs=take(block.inputs, rows),
                     point_coords=coords, local_point=local, seed_index=seed_index, world=world, point_key=keys,
                     root_seed=plan.root_seed, record=plan.record_rounds)


def _typed(column: np.ndarray, dtype: str) -> np.ndarray:
    """A coordinate column in the plan's dtype for it."""
    return np.array(column.tolist(), dtype=dtype) if column.dtype == object else column.astype(dtype)


def run_chunk(task: ChunkTask) -> tuple[int, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run one chunk to the end (in a worker) and return its outcome and round columns."""
    from sim.engine.model import (
        NegotiationModel,  # Mesa: in the workers (preloaded), not in the main process
    )

    inputs = take(task.point_inputs, task.local_point)
    seeds = world_seeds(task.root_seed, task.seed_index, task.point_key)
    if task.record == "all":
        traced = np.arange(len(seeds))
    elif task.record == "none":
        traced = None
    else:
        traced = np.flatnonzero(task.seed_index < int(task.record))
    model = NegotiationModel(task.structure, inputs, seeds, record_rounds=traced, rng=int(seeds[0] >> np.uint64(1)))
    model.run_model()
    result = model.outcomes()

    labels = [int(k) for k in np.unique(task.local_point)]
    coefficients = {k: utility_coefficients(take(task.point_inputs, k)) for k in labels}
    boxes = {k: joint_box(take(task.point_inputs, k)) for k in labels}
    result |= outcome_metrics(task.local_point, coefficients, boxes, result, task.structure.party_ids)

    out: dict[str, np.ndarray] = {"world": task.world.astype(np.int64), "seed": seeds,
                                  "seed_index": task.seed_index.astype(np.int64)}
    out |= {k: v[task.local_point] for k, v in task.point_coords.items()}
    for key, value in result.items():
        if key == "end_reason":
            out["end_date"] = task.structure.round_date(result["end_round"])
            out["end_reason"] = REASONS[value - 1]
        else:
            out[key] = value
    rounds = model.round_table()
    if rounds:
        idx = rounds.pop("world_index")
        order = np.lexsort((rounds["round"], idx))
        rounds = _round_columns(task, idx[order], {k: v[order] for k, v in rounds.items()})
    return task.index, out, rounds


def _round_columns(task: ChunkTask, idx: np.ndarray, rounds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    cols = {"world": task.world[idx].astype(np.int64)}
    # the grid point's coordinates (strategy pair, swept keys), so the table needs no join
    cols |= {k: v[task.local_point[idx]] for k, v in task.point_coords.items()}
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


# -- progress ------------------------------------------------------------------------------------


class Progress:
    """A tqdm bar on a terminal; plain log lines (every 10 % or 30 s) otherwise."""

    def __init__(self, total: int, done: int, show: bool | None) -> None:
        self.total, self.done, self.start, self.start_done = total, done, time.perf_counter(), done
        self.tty = sys.stderr.isatty() if show is None else show
        self._last_log, self._next_share = self.start, 0.1
        self.bar = None
        if self.tty:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=done, unit="neg", desc="negotiations", smoothing=0.1)

    def update(self, n: int) -> None:
        """Count ``n`` more negotiations done."""
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.perf_counter()
        if self.done / self.total >= self._next_share or now - self._last_log >= 30 or self.done == self.total:
            rate = (self.done - self.start_done) / max(now - self.start, 1e-9)
            eta = (self.total - self.done) / rate if rate > 0 else float("inf")
            log.info("progress: %d/%d negotiations (%.0f%%), %.0f/s, ETA %.0f s", self.done, self.total,
                     100 * self.done / self.total, rate, eta)
            self._last_log = now
            while self._next_share <= self.done / self.total:
                self._next_share += 0.1

    def close(self) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()


# -- executors -----------------------------------------------------------------------------------


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a process pool now: cancel what is queued and terminate the workers, so none is orphaned."""
    pool.shutdown(wait=False, cancel_futures=True)
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.join(timeout=5)
    pool.shutdown(wait=True)


def worker_init() -> None:
    """In a worker: leave Ctrl-C to the main process, which stops the pool (no traceback per worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _local(tasks: Iterator[ChunkTask], workers: int, in_flight: int, out_dir: Path,
           fields: dict[str, dict[str, dict[str, str]]]):
    """Yield chunk results from a process pool whose workers also write the parts (in-process for one worker)."""
    if workers == 1:
        for task in tasks:
            yield run_and_store(task, None, fields)
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(), initializer=worker_init)
    pending = set()
    try:
        for task in tasks:
            pending.add(pool.submit(run_and_store, task, out_dir, fields))
            if len(pending) >= in_flight:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in finished)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in finished)
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


DASK_CONNECT_SECONDS = 8.0  # a hard bound on reaching a scheduler (Client's own 5 s timeout can hang)


def dask_client(address: str | None, workers: int):
    """A Dask client: to the scheduler at ``address``, or to a local cluster of ``workers`` processes.

    Reaching ``address`` is bounded by :data:`DASK_CONNECT_SECONDS`, also when it accepts the
    connection but never answers, or answers but is not a Dask scheduler.

    Raises:
        ConfigError: (``run.dask_address``) the address is not a reachable Dask scheduler.
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("run.executor", "dask needs the dask extra: pip install -e '.[dask]'") from None
    if address:
        import threading

        box: dict[str, Any] = {}

        def connect() -> None:
            try:
                box["client"] = Client(address, timeout="5s")
            except BaseException as err:  # noqa: BLE001 - any failure to connect is reported in one line
                box["error"] = err

        thread = threading.Thread(target=connect, daemon=True, name="dask-connect")
        thread.start()
        thread.join(DASK_CONNECT_SECONDS)
        if thread.is_alive():
            raise ConfigError("run.dask_address", f"no Dask scheduler answered at {address!r} within "
                                                  f"{DASK_CONNECT_SECONDS:g} s (a scheduler listens at "
                                                  "tcp://HOST:8786 by default, not at its dashboard)")
        if "error" in box:
            err = box["error"]
            reason = " ".join(str(err).split())[:200] or type(err).__name__
            if isinstance(err, MemoryError):
                reason = "it answered with data that is not the Dask protocol"
            raise ConfigError("run.dask_address", f"cannot reach a Dask scheduler at {address!r} ({reason})")
        return box["client"]
    # no dashboard; the scheduler's own HTTP server (health checks) on a free loopback port, not on 8787, which
    # another cluster on this machine may hold (Dask would warn, then pick another port anyway)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    return Client(cluster)


def dask_in_flight(client) -> int:
    """Chunks to keep submitted to a Dask cluster: two per thread of its workers (``client.nthreads()``),
    sized from the cluster, not from the submitting machine's cores."""
    return 2 * max(1, sum(client.nthreads().values()))


def _dask(tasks: Iterator[ChunkTask], address: str | None, workers: int, used: list[int],
          fields: dict[str, dict[str, dict[str, str]]]):
    """Yield chunk results computed on a Dask cluster (this process writes the parts: the cluster's
    machines may not see the run folder); ``used`` receives the cluster's thread count."""
    from dask.distributed import as_completed

    client = dask_client(address, workers)
    try:
        in_flight = dask_in_flight(client)
        used.append(in_flight // 2)
        futures = as_completed()
        queued = 0
        for task in tasks:
            futures.add(client.submit(run_and_store, task, None, fields, pure=False))
            queued += 1
            if queued >= in_flight:
                yield next(futures).result()
                queued -= 1
        for future in futures:
            yield future.result()
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None and not address:
            cluster.close()


class sigterm_as_interrupt:
    """Within the block, SIGTERM stops the run like Ctrl-C (a KeyboardInterrupt in the main thread)."""

    def __enter__(self) -> None:
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._handle)

    @staticmethod
    def _handle(signum, frame) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc) -> bool:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


# -- the sweep -----------------------------------------------------------------------------------


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


def _fields(plan: Plan) -> dict[str, dict[str, dict[str, str]]]:
    return {table: field_metadata(entries) for table, entries in table_entries(plan).items()}


def execute(plan: Plan, out_dir: Path, cfg: dict, progress: bool | None = None) -> SweepResult:
    """Run every chunk of ``plan`` not yet done in ``out_dir``, then merge the parts.

    A chunk is done when ``manifest.json`` lists it and each of its parts is on disk with the recorded
    SHA-256; a missing or damaged part makes its chunk run again, on resume and at the merge.

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
    start = time.perf_counter()
    out_dir = Path(out_dir)
    fingerprint = config_fingerprint(cfg)
    force = bool((cfg.get("run") or {}).get("force_resume", False))
    code = code_version()
    chunks = make_chunks(plan)
    manifest = check_resume(out_dir, fingerprint, code, force) or Manifest(len(chunks), fingerprint)
    for kind in KINDS:
        (out_dir / kind).mkdir(parents=True, exist_ok=True)
    for stale in clean_temporary(out_dir):
        log.info("removed %s, left by an interrupted write", stale)
    recomputed = verify_parts(out_dir, manifest)
    for index in recomputed:
        log.warning("chunk %d: a part is missing or damaged (its SHA-256 differs from manifest.json); "
                    "computing it again", index)
        del manifest.parts[index]
    resumed = len(manifest.parts)
    if resumed:
        log.info("resuming: %d of %d chunks already done in %s", resumed, len(chunks), out_dir)
    fields = _fields(plan)
    by_index = {c.index: c for c in chunks}
    written = {"bytes": 0, "chunks": 0}

    def needed() -> int | None:
        """Bytes still to write: the remaining parts (at the mean part size so far) and the merged files."""
        sizes = [part_path(out_dir, k, i).stat().st_size for i in manifest.parts for k in KINDS
                 if manifest.parts[i].get(k) and part_path(out_dir, k, i).exists()]
        if not sizes:
            return None
        per_chunk = sum(sizes) / max(len(manifest.parts), 1)
        return int(per_chunk * (len(chunks) - len(manifest.parts)) + per_chunk * len(chunks))

    with guard_disk(out_dir, needed):
        write_manifest(out_dir, manifest)
    total_workers: list[int] = []

    def run(remaining: list[Chunk]) -> None:
        todo = (_task(plan, c) for c in remaining)
        bar = Progress(plan.n_worlds, plan.n_worlds - sum(c.n_worlds for c in remaining), progress)
        workers = max(1, min(plan.workers, len(remaining)))  # no pool start-up for a one-chunk run
        if plan.workers_auto and plan.executor == "local" and not workers_started_ahead():
            # starting the workers' fork server costs about as much time as simulating WORKER_PAYS_OFF
            # negotiations; once the run verb has started it ahead, a worker costs a fork
            workers = max(1, min(workers, sum(c.n_worlds for c in remaining) // WORKER_PAYS_OFF))
        if plan.executor == "dask":
            results = _dask(todo, plan.dask_address, workers, total_workers, fields)
        else:
            total_workers.append(workers)
            results = _local(todo, workers, 2 * workers, out_dir, fields)
        streams.update({kind: MergeStream(out_dir, kind, manifest) for kind in KINDS})
        try:
            with guard_disk(out_dir, needed):
                for index, tables, digests in results:
                    if digests is None:  # computed here or on a Dask cluster: the parts are written here
                        digests = {k: write_part(out_dir, k, index, t) if t is not None else None
                                   for k, t in tables.items()}
                    # the chunk is done only now, with every part on disk and its digest recorded
                    manifest.parts[index] = {**digests, "code": code}
                    write_manifest(out_dir, manifest)
                    for kind in KINDS:  # and its rows go on into the merged files, in world order
                        streams[kind].add(index, tables[kind])
                    written["chunks"] += 1
                    bar.update(by_index[index].n_worlds)
        except BaseException as stop:
            for stream in streams.values():
                stream.abort()
            if isinstance(stop, KeyboardInterrupt):
                raise Interrupted(len(manifest.parts), len(chunks)) from None
            raise
        finally:
            bar.close()
            if hasattr(results, "close"):
                results.close()

    streams: dict[str, MergeStream] = {}
    for attempt in range(3):
        remaining = [c for c in chunks if c.index not in manifest.parts]
        streams.clear()
        if remaining:
            run(remaining)
        try:
            with guard_disk(out_dir, needed):
                rows = merge(out_dir, "outcomes", manifest, streams.get("outcomes"))
                merge(out_dir, "rounds", manifest, streams.get("rounds"))
            break
        except BaseException as failed:
            for stream in streams.values():
                stream.abort()  # no temporary merged file is left behind
            if not isinstance(failed, DamagedPart):
                raise
            damaged = failed
            if attempt == 2:
                raise
            log.warning("%s; computing chunk %d again", damaged, damaged.index)
            del manifest.parts[damaged.index]
            recomputed.append(damaged.index)
            write_manifest(out_dir, manifest)
    if rows != plan.n_worlds:
        raise RuntimeError(f"merged {rows} outcome rows for {plan.n_worlds} negotiations in {out_dir}")
    versions = sorted({e.get("code", "unknown") for e in manifest.parts.values()})
    return SweepResult(n_worlds=rows, n_chunks=len(chunks), resumed=resumed, seconds=time.perf_counter() - start,
                       workers=max(total_workers, default=0), code_versions=versions, recomputed=sorted(recomputed))


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
