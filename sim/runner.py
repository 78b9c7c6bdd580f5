"""The batch runner: run a validated plan in chunks, in parallel, resumably.

The worlds of a plan are numbered ``world = point_index * seeds + seed_index`` and cut, in that
order, into *chunks* of at most ``run.chunk_size`` consecutive worlds that share a
:class:`~sim.config.Structure` (the same strategy pair, outcome space and calendar). A chunk is one
batched :class:`~sim.model.NegotiationModel` run and one Parquet part. Chunks run on an executor:

* ``local``: processes from :class:`concurrent.futures.ProcessPoolExecutor` (in-process when
  ``run.workers=1``);
* ``dask``: a Dask distributed cluster, at ``run.dask_address`` or a local one started for the run.

The main process writes each finished chunk as ``outcomes/part-NNNNNN.parquet`` (and
``rounds/part-NNNNNN.parquet``) under a temporary name and renames it into place, then records it in
``manifest.json``. Re-running into the same folder skips the chunks whose parts exist, after checking
that the folder was made by the same config. When every chunk is done, the parts are streamed into
``outcomes.parquet`` and ``rounds.parquet`` with fixed-size row groups, so the files are
byte-identical however the sweep was split into chunks or workers.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.config import ConfigError, Plan
from sim.domain.utility import normalised
from sim.engine.inputs import Structure, WorldInputs, stack, take
from sim.engine.model import END_REASONS, NegotiationModel
from sim.engine.streams import point_key, world_seeds
from sim.metrics import outcome_metrics
from sim.outputs import atomic_write

__all__ = ["Chunk", "Interrupted", "execute", "make_chunks", "read_outcomes", "run_chunk", "simulate"]

log = logging.getLogger("sim")

ROW_GROUP = 65_536  # rows per row group of the merged files, whatever the chunking
RESPONSES = np.array(["counter", "accept", "walk-away", "", "deadline", "breakdown"])
REASONS = np.array(list(END_REASONS.values()))
MANIFEST = "manifest.json"
WORKER_PAYS_OFF = 50_000


class Interrupted(Exception):
    """The sweep was stopped (Ctrl-C); finished chunks are on disk."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"{done} of {total} chunks done")
        self.done, self.total = done, total


@dataclass(frozen=True)
class Chunk:
    """Consecutive worlds of one structure: spans of (point, first seed index, stop seed index)."""

    index: int
    spans: tuple[tuple[int, int, int], ...]

    @property
    def n_worlds(self) -> int:
        """Number of worlds in the chunk."""
        return sum(stop - start for _, start, stop in self.spans)


def make_chunks(plan: Plan) -> list[Chunk]:
    """Cut the plan's worlds, in world order, into chunks of one structure and at most chunk_size worlds."""
    chunks: list[Chunk] = []
    spans: list[tuple[int, int, int]] = []
    size, current = 0, None

    def flush() -> None:
        nonlocal spans, size
        if spans:
            chunks.append(Chunk(len(chunks), tuple(spans)))
        spans, size = [], 0

    for p, point in enumerate(plan.points):
        if current is not None and point.structure != current:
            flush()
        current = point.structure
        start = 0
        while start < plan.seeds:
            take = min(plan.seeds - start, plan.chunk_size - size)
            spans.append((p, start, start + take))
            size += take
            start += take
            if size == plan.chunk_size:
                flush()
    flush()
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
    points = sorted({p for p, _, _ in chunk.spans})
    where = {p: k for k, p in enumerate(points)}
    local = np.concatenate([np.full(stop - start, where[p]) for p, start, stop in chunk.spans])
    seed_index = np.concatenate([np.arange(start, stop) for _, start, stop in chunk.spans])
    global_point = np.asarray(points)[local]
    keys = None
    if not plan.common_random_numbers:
        keys = np.array([point_key(plan.points[p].coordinates) for p in points], dtype=np.int64)[local]
    inputs = stack([plan.points[p].inputs for p in points])
    coords = {k: np.array([plan.points[p].coordinates[k] for p in points], dtype=dtype)
              for k, dtype in plan.coordinate_dtypes.items()}
    return ChunkTask(index=chunk.index, structure=plan.points[points[0]].structure, point_inputs=inputs,
                     point_coords=coords, local_point=local, seed_index=seed_index,
                     world=global_point * plan.seeds + seed_index, point_key=keys, root_seed=plan.root_seed,
                     record=plan.record_rounds)


def run_chunk(task: ChunkTask) -> tuple[int, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run one chunk to the end (in a worker) and return its outcome and round columns."""
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


def utility_coefficients(inputs: WorldInputs) -> tuple:
    """``(c_1, c_2, k_1, k_2)`` of both parties' normalised utilities ``u = c @ x + k`` in one world's inputs."""
    (c1, k1), (c2, k2) = (normalised(p.payoff_a, p.payoff_b, p.p_min, p.p_max) for p in inputs.parties)
    return c1, c2, k1, k2


def joint_box(inputs: WorldInputs) -> tuple[np.ndarray, np.ndarray]:
    """The packages both parties can agree to in one world: both parties' own bounds intersected."""
    first, second = inputs.parties
    return np.maximum(first.red_lo, second.red_lo), np.minimum(first.red_hi, second.red_hi)


def _round_columns(task: ChunkTask, idx: np.ndarray, rounds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    cols = {"world": task.world[idx].astype(np.int64), "round": rounds.pop("round").astype(np.int32)}
    cols["date"] = task.structure.round_date(cols["round"])
    cols["proposer"] = rounds.pop("proposer")
    cols["response"] = RESPONSES[rounds.pop("response")]
    return cols | rounds


# -- files ---------------------------------------------------------------------------------------


def _part(out_dir: Path, kind: str, index: int) -> Path:
    return out_dir / kind / f"part-{index:06d}.parquet"


def _write_part(out_dir: Path, kind: str, index: int, columns: dict[str, np.ndarray]) -> None:
    table = pa.table({k: pa.array(v) for k, v in columns.items()})
    atomic_write(_part(out_dir, kind, index), lambda p: pq.write_table(table, p))


def _valid_part(path: Path) -> bool:
    try:
        pq.read_metadata(path)
    except (OSError, pa.ArrowException):
        return False
    return True


def _merge(out_dir: Path, kind: str, n_chunks: int) -> int:
    """Stream the parts into one file with fixed-size row groups; return the number of rows."""
    parts = [_part(out_dir, kind, i) for i in range(n_chunks) if _part(out_dir, kind, i).exists()]
    if not parts:
        return 0
    schema = pq.read_schema(parts[0])
    rows = 0

    def write(tmp: Path) -> None:
        nonlocal rows
        with pq.ParquetWriter(tmp, schema) as writer:
            pending: list[pa.Table] = []
            size = 0
            for path in parts:
                table = pq.read_table(path)
                pending.append(table)
                size += table.num_rows
                while size >= ROW_GROUP:
                    merged = pa.concat_tables(pending)
                    writer.write_table(merged.slice(0, ROW_GROUP), row_group_size=ROW_GROUP)
                    rest = merged.slice(ROW_GROUP)
                    pending, size = [rest], rest.num_rows
                    rows += ROW_GROUP
            if size:
                writer.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP)
                rows += size

    atomic_write(out_dir / f"{kind}.parquet", write)
    return rows


def read_outcomes(run_dir: Path, columns: list[str] | None = None) -> pa.Table:
    """Read a run's outcomes: the merged file, or the parts finished so far."""
    run_dir = Path(run_dir)
    merged = run_dir / "outcomes.parquet"
    source = merged if merged.exists() else run_dir / "outcomes"
    return pq.read_table(source, columns=columns)


# -- manifest and resume -----------------------------------------------------------------------


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for k, v in tree.items():
            out |= _flatten(v, f"{prefix}{k}.")
        return out
    return {prefix.rstrip("."): tree}


# Keys that change how a sweep runs, not what it computes: they may differ on resume.
RUN_ONLY = ("run.workers", "run.executor", "run.dask_address", "run.plot", "run.progress", "run.figure_formats")


def config_fingerprint(cfg: dict) -> dict[str, Any]:
    """The flattened config that determines a sweep's results (JSON-safe)."""
    flat = _flatten({k: v for k, v in cfg.items() if k != "hydra"})
    return {k: v for k, v in sorted(flat.items()) if k not in RUN_ONLY}


def check_resume(out_dir: Path, fingerprint: dict[str, Any]) -> set[int]:
    """Chunks already done in ``out_dir``; raise if the folder was made by a different config."""
    manifest_path = Path(out_dir) / MANIFEST
    if not manifest_path.exists():
        return set()
    manifest = json.loads(manifest_path.read_text())
    before = manifest["config"]
    now = json.loads(json.dumps(fingerprint, default=str))
    differ = sorted(k for k in set(before) | set(now) if before.get(k, "<absent>") != now.get(k, "<absent>"))
    if differ:
        shown = ", ".join(f"{k} ({before.get(k, '<absent>')!r} -> {now.get(k, '<absent>')!r})" for k in differ[:6])
        more = f" and {len(differ) - 6} more" if len(differ) > 6 else ""
        raise ConfigError("hydra.run.dir", f"{out_dir} holds a sweep made by a different config; refusing to mix "
                                           f"results. Keys that differ: {shown}{more}")
    return set(manifest["done"])


def _write_manifest(out_dir: Path, fingerprint: dict, n_chunks: int, done: set[int]) -> None:
    body = {"format": 1, "chunks": n_chunks, "done": sorted(done), "config": fingerprint}
    atomic_write(out_dir / MANIFEST, lambda p: p.write_text(json.dumps(body, default=str)))


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


def _local(tasks: Iterator[ChunkTask], workers: int, in_flight: int):
    """Yield chunk results from a process pool (or in-process for one worker)."""
    if workers == 1:
        for task in tasks:
            yield run_chunk(task)
        return
    # spawn: safe with the threads Hydra, tqdm or pyarrow may have started in the parent
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        pending = set()
        try:
            for task in tasks:
                pending.add(pool.submit(run_chunk, task))
                if len(pending) >= in_flight:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (f.result() for f in finished)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in finished)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def dask_client(address: str | None, workers: int):
    """A Dask client: to the scheduler at ``address``, or to a local cluster of ``workers`` processes."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("run.executor", "dask needs the dask extra: pip install -e '.[dask]'") from None
    if address:
        try:
            return Client(address, timeout="5s")
        except (OSError, TimeoutError) as err:
            raise ConfigError("run.dask_address", f"cannot reach a Dask scheduler at {address!r} ({err})") from None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster)


def _dask(tasks: Iterator[ChunkTask], address: str | None, workers: int, in_flight: int):
    """Yield chunk results computed on a Dask cluster."""
    from dask.distributed import as_completed

    client = dask_client(address, workers)
    try:
        futures = as_completed()
        queued = 0
        for task in tasks:
            futures.add(client.submit(run_chunk, task, pure=False))
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


# -- the sweep -----------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """What a finished sweep wrote.

    Attributes:
        n_worlds: Rows of ``outcomes.parquet``.
        n_chunks: Number of chunks.
        resumed: Chunks found done at the start.
        seconds: Wall time of the run (this invocation).
    """

    n_worlds: int
    n_chunks: int
    resumed: int
    seconds: float


def execute(plan: Plan, out_dir: Path, cfg: dict, progress: bool | None = None) -> SweepResult:
    """Run every chunk of ``plan`` not yet done in ``out_dir``, then merge the parts.

    Args:
        plan: The validated plan.
        out_dir: The run folder.
        cfg: The resolved config as a plain dict (for the manifest and the resume check).
        progress: Show a bar; ``None`` shows one only on a terminal (plain log lines otherwise).

    Raises:
        ConfigError: if ``out_dir`` holds a sweep made by a different config.
        Interrupted: on Ctrl-C, after the finished chunks are safely on disk.
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    fingerprint = config_fingerprint(cfg)
    chunks = make_chunks(plan)
    done = check_resume(out_dir, fingerprint)
    for kind in ("outcomes", "rounds"):
        (out_dir / kind).mkdir(parents=True, exist_ok=True)
        for stale in (out_dir / kind).glob(".*.tmp"):  # left by a killed write
            stale.unlink()
    # a part renamed into place before a kill, but not yet in the manifest, is done too
    done |= {c.index for c in chunks if c.index not in done and _valid_part(_part(out_dir, "outcomes", c.index))}
    done = {i for i in done if _part(out_dir, "outcomes", i).exists()}
    resumed = len(done)
    if resumed:
        log.info("resuming: %d of %d chunks already done in %s", resumed, len(chunks), out_dir)
    _write_manifest(out_dir, fingerprint, len(chunks), done)

    remaining = [c for c in chunks if c.index not in done]
    todo = (_task(plan, c) for c in remaining)
    bar = Progress(plan.n_worlds, sum(c.n_worlds for c in chunks if c.index in done), progress)
    workers = max(1, min(plan.workers, len(remaining)))  # no pool start-up for a one-chunk run
    if plan.workers_auto and plan.executor == "local":
        # starting a worker process costs about as much time as simulating WORKER_PAYS_OFF negotiations
        workers = max(1, min(workers, sum(c.n_worlds for c in remaining) // WORKER_PAYS_OFF))
    in_flight = 2 * workers
    results = (_dask(todo, plan.dask_address, workers, in_flight) if plan.executor == "dask"
               else _local(todo, workers, in_flight))
    try:
        for index, outcomes, rounds in results:
            _write_part(out_dir, "outcomes", index, outcomes)
            if rounds:
                _write_part(out_dir, "rounds", index, rounds)
            done.add(index)
            _write_manifest(out_dir, fingerprint, len(chunks), done)
            bar.update(len(outcomes["world"]))
    except KeyboardInterrupt:
        raise Interrupted(len(done), len(chunks)) from None
    finally:
        bar.close()
        if hasattr(results, "close"):
            results.close()

    rows = _merge(out_dir, "outcomes", len(chunks))
    _merge(out_dir, "rounds", len(chunks))
    if rows != plan.n_worlds:
        raise RuntimeError(f"merged {rows} outcome rows for {plan.n_worlds} negotiations in {out_dir}")
    return SweepResult(n_worlds=rows, n_chunks=len(chunks), resumed=resumed, seconds=time.perf_counter() - start)


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
