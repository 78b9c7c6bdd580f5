"""The run store: the layout of a run folder, its manifest, and reading and writing its Parquet parts.

A run folder holds the negotiations of one run, cut into chunks (see :mod:`sim.run.runner`):

* ``outcomes/part-NNNNNN.parquet``: one row per negotiation of chunk ``NNNNNN``;
* ``rounds/part-NNNNNN.parquet``: the recorded offers of that chunk (only when it recorded any);
* ``manifest.json``: the config that made the parts, and per finished chunk the SHA-256 digest of
  each of its parts and the code version (package version and git commit) that computed it;
* ``outcomes.parquet``, ``rounds.parquet``: the parts merged with fixed-size row groups once every
  chunk is done, byte-identical however the run was split into chunks or workers.

A chunk counts as done only when the manifest lists it and every part it lists is on disk with its
recorded digest, so a run killed between two parts, or a part damaged later, is recomputed on resume
rather than silently used. Every file is written under a temporary name and renamed into place
(:func:`sim.run.outputs.atomic_write`); temporary files left by a killed write are removed on resume.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import importlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config import ConfigError
from sim.config.sweep import Plan, column_name
from sim.engine.inputs import Structure
from sim.run.outputs import _UMASK, atomic_write, git_commit

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "KINDS",
    "MANIFEST",
    "RUN_ONLY",
    "DamagedPart",
    "DiskFull",
    "Manifest",
    "MergeStream",
    "RunDirError",
    "check_resume",
    "clean_temporary",
    "code_version",
    "config_fingerprint",
    "file_digest",
    "load_run",
    "merge",
    "part_path",
    "part_table",
    "read_manifest",
    "read_outcomes",
    "verify_parts",
    "write_manifest",
    "write_part",
]

log = logging.getLogger("sim")

MANIFEST = "manifest.json"
FORMAT = 2
KINDS = ("outcomes", "rounds")
ROW_GROUP = 65_536  # rows per row group of the merged files, whatever the chunking

# Keys that change how a run executes, not what it computes: they may differ on resume.
RUN_ONLY = ("run.workers", "run.executor", "run.dask_address", "run.plot", "run.progress", "run.force_resume",
            "run.figure_formats", "run.verbose")


class DamagedPart(Exception):
    """A part whose bytes no longer match the digest recorded when it was written."""

    def __init__(self, index: int, path: Path) -> None:
        super().__init__(f"{path}: damaged (its SHA-256 differs from the one recorded in {MANIFEST})")
        self.index, self.path = index, path


class DiskFull(Exception):
    """The disk of the run folder is full; what was written before is intact."""

    def __init__(self, folder: Path, needed_bytes: int | None) -> None:
        free = shutil.disk_usage(folder).free if folder.exists() else 0
        need = f"about {_mb(needed_bytes)} more is needed to finish this run" if needed_bytes else "more is needed"
        super().__init__(f"no space left on the device of {folder}: {need} ({_mb(free)} free); "
                         "the chunks finished so far are kept: free some space and run the same command "
                         "again to resume")
        self.folder, self.needed_bytes = folder, needed_bytes


def _mb(n: int | None) -> str:
    return f"{(n or 0) / 1e6:,.1f} MB"


def is_disk_full(err: OSError) -> bool:
    """Whether ``err`` says the device or the user's quota is full."""
    # pyarrow reports a full disk as an OSError whose errno may be unset, with the system's message
    return err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)) or "No space left" in str(err)


# -- layout ----------------------------------------------------------------------------------------


def part_path(out_dir: Path, kind: str, index: int) -> Path:
    """Path of chunk ``index``'s part of ``kind`` (``outcomes`` or ``rounds``)."""
    return Path(out_dir) / kind / f"part-{index:06d}.parquet"


def clean_temporary(out_dir: Path) -> list[Path]:
    """Remove the temporary files a killed write left in ``out_dir`` and its part and figure folders.

    Only names :func:`sim.run.outputs.atomic_write` makes (``.NAME.XXXX.tmp``) are touched.
    """
    out_dir = Path(out_dir)
    removed = []
    for folder in (out_dir, *(out_dir / k for k in KINDS), out_dir / "figures"):
        if not folder.is_dir():
            continue
        for stale in folder.glob(".*.tmp"):
            if stale.is_file():
                stale.unlink()
                removed.append(stale)
    return removed


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- code version ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The version of the code computing a chunk: ``sim VERSION @ COMMIT``.

    A checkout with uncommitted changes appends ``+dirty`` and a digest of the diff, so two different
    uncommitted states differ too.
    """
    try:
        version = metadata.version("sim")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit = git_commit() or "no git checkout"
    if commit.endswith("+dirty"):
        root = Path(__file__).resolve().parent.parent.parent
        try:
            diff = subprocess.run(["git", "-C", str(root), "diff", "HEAD"], capture_output=True, timeout=10,
                                  check=False).stdout
            commit += "." + hashlib.sha256(diff).hexdigest()[:12]
        except (OSError, subprocess.SubprocessError):
            pass
    return f"sim {version} @ {commit}"


# -- config fingerprint ----------------------------------------------------------------------------


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for k, v in tree.items():
            out |= _flatten(v, f"{prefix}{k}.")
        return out
    return {prefix.rstrip("."): tree}


def config_fingerprint(cfg: dict) -> dict[str, Any]:
    """The flattened config that determines a run's results (JSON-safe)."""
    flat = _flatten({k: v for k, v in cfg.items() if k != "hydra"})
    return json.loads(json.dumps({k: v for k, v in sorted(flat.items()) if k not in RUN_ONLY}, default=str))


# -- manifest --------------------------------------------------------------------------------------


class Manifest:
    """The record of a run folder: its config and, per finished chunk, its parts' digests and code.

    Attributes:
        chunks: Number of chunks of the run.
        config: The config fingerprint (:func:`config_fingerprint`).
        parts: Per finished chunk: ``{"outcomes": sha256, "rounds": sha256 or None, "code": version}``.
    """

    def __init__(self, chunks: int, config: dict[str, Any], parts: dict[int, dict[str, Any]] | None = None):
        self.chunks, self.config, self.parts = chunks, config, dict(parts or {})

    @property
    def done(self) -> set[int]:
        """The chunks recorded as finished."""
        return set(self.parts)

    def to_json(self) -> str:
        """The manifest as JSON (``done`` is kept for readers of the format-1 manifest)."""
        return json.dumps({"format": FORMAT, "chunks": self.chunks, "done": sorted(self.parts),
                           "parts": {str(k): self.parts[k] for k in sorted(self.parts)}, "config": self.config},
                          default=str)


def _damaged_manifest(path: Path, reason: str) -> ConfigError:
    return ConfigError("hydra.run.dir", f"{path} is damaged ({reason}), so the config that made the parts in "
                                        f"{path.parent} is unknown; refusing to adopt them. Run into a new folder, "
                                        f"or delete {MANIFEST}, outcomes/ and rounds/ there to start over")


def read_manifest(out_dir: Path) -> Manifest | None:
    """The manifest of ``out_dir``, or None if it has none.

    Raises:
        ConfigError: the manifest is empty, truncated, or of an older format (one line).
    """
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        return None
    try:
        body = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return _raise(_damaged_manifest(path, "empty" if path.stat().st_size == 0 else
                                        f"not valid JSON: {' '.join(str(err).split())}"))
    if not isinstance(body, dict):
        return _raise(_damaged_manifest(path, "not a JSON object"))
    if body.get("format") == 1:
        raise ConfigError("hydra.run.dir", f"{path} was written by an older sim without part checksums; its parts "
                                           "cannot be verified. Run into a new folder")
    try:
        parts = {int(k): dict(v) for k, v in body["parts"].items()}
        for entry in parts.values():
            if not isinstance(entry.get("outcomes"), str):
                raise TypeError("a part without its outcomes digest")
        return Manifest(int(body["chunks"]), dict(body["config"]), parts)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        return _raise(_damaged_manifest(path, f"missing or malformed field: {err}"))


def _raise(err: Exception):
    raise err


def write_manifest(out_dir: Path, manifest: Manifest) -> None:
    """Write ``manifest.json`` atomically."""
    text = manifest.to_json()
    atomic_write(Path(out_dir) / MANIFEST, lambda p: p.write_text(text))


def _has_parts(out_dir: Path) -> bool:
    return any(any((Path(out_dir) / k).glob("part-*.parquet")) for k in KINDS) or \
        (Path(out_dir) / "outcomes.parquet").exists()


def check_resume(out_dir: Path, fingerprint: dict[str, Any], code: str | None = None,
                 force: bool = False) -> Manifest | None:
    """Check that a run may continue in ``out_dir``; return its manifest (None for a fresh folder).

    Writes nothing, so it can run before Hydra touches the folder.

    Args:
        out_dir: The run folder.
        fingerprint: The config fingerprint of the run about to start.
        code: The code version about to compute the remaining chunks (default: this one).
        force: Resume even though finished chunks were computed by another code version.

    Raises:
        ConfigError: parts without a manifest, a damaged manifest, another config, or another code
            version (unless ``force``); one line naming the keys that differ.
    """
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    if manifest is None:
        if _has_parts(out_dir):
            raise ConfigError("hydra.run.dir", f"{out_dir} holds outcome parts but no {MANIFEST}, so the config "
                                               "that made them is unknown; refusing to adopt them. Run into a new "
                                               "folder, or delete outcomes/ and rounds/ there to start over")
        return None
    before, now = manifest.config, json.loads(json.dumps(fingerprint, default=str))
    differ = sorted(k for k in set(before) | set(now) if before.get(k, "<absent>") != now.get(k, "<absent>"))
    if differ:
        shown = ", ".join(f"{k} ({before.get(k, '<absent>')!r} -> {now.get(k, '<absent>')!r})" for k in differ[:6])
        more = f" and {len(differ) - 6} more" if len(differ) > 6 else ""
        raise ConfigError("hydra.run.dir", f"{out_dir} holds a sweep made by a different config; refusing to mix "
                                           f"results. Keys that differ: {shown}{more}")
    code = code or code_version()
    other = sorted({entry.get("code", "unknown") for entry in manifest.parts.values()} - {code})
    if other and not force:
        raise ConfigError("run.force_resume", f"{out_dir} holds chunks computed by {other[0]!r}, but this is "
                                              f"{code!r}; resuming would mix results of two code versions. Run "
                                              "into a new folder, or add run.force_resume=true to mix them anyway")
    return manifest


def verify_parts(out_dir: Path, manifest: Manifest) -> list[int]:
    """Chunks recorded as done whose parts are missing or damaged (their digests differ)."""
    bad = []
    for index, entry in sorted(manifest.parts.items()):
        for kind in KINDS:
            digest = entry.get(kind)
            if digest is None:
                continue
            path = part_path(out_dir, kind, index)
            if not path.is_file() or file_digest(path) != digest:
                bad.append(index)
                break
    return bad


# -- parts -----------------------------------------------------------------------------------------


def __getattr__(name: str):
    """``pa``, ``pq`` and ``pd`` on first use: reading a manifest or checking a resume needs neither
    PyArrow nor pandas, so the command line's checks and error paths stay light."""
    modules = {"pa": "pyarrow", "pq": "pyarrow.parquet", "pd": "pandas"}
    if name in modules:
        return importlib.import_module(modules[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def part_table(columns: dict[str, np.ndarray], fields: dict[str, dict[str, str]] | None = None) -> pa.Table:
    """One chunk's columns as an Arrow table, each field with its metadata (unit, meaning)."""
    import pyarrow as pa

    arrays = {k: pa.array(v) for k, v in columns.items()}
    fields = fields or {}
    schema = pa.schema([pa.field(k, a.type, metadata=fields.get(k)) for k, a in arrays.items()])
    return pa.table(arrays, schema=schema)


def write_part(out_dir: Path, kind: str, index: int, columns: dict[str, np.ndarray] | pa.Table,
               fields: dict[str, dict[str, str]] | None = None) -> str:
    """Write one chunk's part atomically and return its SHA-256.

    Args:
        out_dir: The run folder.
        kind: ``outcomes`` or ``rounds``.
        index: The chunk.
        columns: The part's columns, in order (or the table :func:`part_table` made of them).
        fields: Per column, Parquet field metadata (unit, meaning; see :mod:`sim.report.codebook`).
    """
    import pyarrow.parquet as pq

    table = columns if not isinstance(columns, dict) else part_table(columns, fields)
    digest = ""

    def write(tmp: Path) -> None:
        nonlocal digest
        pq.write_table(table, tmp)
        digest = file_digest(tmp)

    atomic_write(part_path(out_dir, kind, index), write)
    return digest


def _read_verified(path: Path, digest: str | None, index: int) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = path.read_bytes()
    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        raise DamagedPart(index, path)
    try:
        return pq.read_table(pa.BufferReader(data))
    except pa.ArrowException:
        raise DamagedPart(index, path) from None


class MergeStream:
    """``KIND.parquet`` written once, while the sweep runs: each chunk's table, in world order, as it is done.

    The chunks computed in this invocation are handed over from memory (:meth:`add`); those done before
    (a resume) are read from their parts, checked against their digests, when their turn comes. Chunks
    that finish early wait in memory for the ones before them. The rows go into a temporary file next to
    ``KIND.parquet`` with the same fixed-size row groups as :func:`merge`, so the file is byte-identical
    to a merge of the parts; :meth:`finish` renames it into place once every chunk is in. The parts are
    still written first, as the record a resume starts from. If anything goes wrong (a damaged part, a
    stop), :meth:`abort` removes the temporary file and :func:`merge` makes the file from the parts.
    """

    def __init__(self, out_dir: Path, kind: str, manifest: Manifest) -> None:
        self.out_dir, self.kind, self.manifest = Path(out_dir), kind, manifest
        self.next, self.waiting = 0, {}
        self.tmp: Path | None = None
        self.writer = None
        self.pending: list[pa.Table] = []
        self.size = self.rows = 0
        self.broken = False

    def add(self, index: int, table: pa.Table | None) -> None:
        """Hand over chunk ``index``'s table (``None``: the chunk has no part of this kind)."""
        if self.broken:
            return
        self.waiting[index] = table
        try:
            while self.next < self.manifest.chunks:
                if self.next in self.waiting:
                    table = self.waiting.pop(self.next)
                elif self.next in self.manifest.parts and self.next not in self.waiting:
                    digest = self.manifest.parts[self.next].get(self.kind)
                    path = part_path(self.out_dir, self.kind, self.next)
                    table = None if digest is None else _read_verified(path, digest, self.next)
                else:
                    break
                if table is not None:
                    self._write(table)
                self.next += 1
        except DamagedPart:
            self.abort()  # merge() meets the same part, and the runner computes it again

    def _write(self, table: pa.Table) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.writer is None:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.kind}.parquet.", suffix=".tmp", dir=self.out_dir)
            os.close(fd)
            self.tmp = Path(tmp)
            self.writer = pq.ParquetWriter(self.tmp, table.schema)
        self.pending.append(table)
        self.size += table.num_rows
        while self.size >= ROW_GROUP:
            merged = pa.concat_tables(self.pending)
            self.writer.write_table(merged.slice(0, ROW_GROUP), row_group_size=ROW_GROUP)
            rest = merged.slice(ROW_GROUP)
            self.pending, self.size = [rest], rest.num_rows
            self.rows += ROW_GROUP

    @property
    def complete(self) -> bool:
        """Whether every chunk is in (and nothing went wrong)."""
        return not self.broken and self.next == self.manifest.chunks and not self.waiting

    def finish(self) -> int:
        """Write the last row group and rename the file into place; return its rows (0: no file)."""
        import pyarrow as pa

        if self.writer is None:
            return 0
        try:
            if self.size:
                self.writer.write_table(pa.concat_tables(self.pending), row_group_size=ROW_GROUP)
                self.rows += self.size
            self.writer.close()
            self.writer = None
            os.chmod(self.tmp, 0o666 & ~_UMASK)
            os.replace(self.tmp, self.out_dir / f"{self.kind}.parquet")
        except BaseException:
            self.abort()
            raise
        return self.rows

    def abort(self) -> None:
        """Give up: close and remove the temporary file."""
        self.broken = True
        self.waiting.clear()
        self.pending = []
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:  # noqa: BLE001, S110 - the file is removed next whatever went wrong
                pass
            self.writer = None
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


def merge(out_dir: Path, kind: str, manifest: Manifest, stream: MergeStream | None = None) -> int:
    """Make ``KIND.parquet`` from the parts listed in ``manifest``, with fixed-size row groups.

    With a complete ``stream`` the file was written while the sweep ran and is only put in place;
    otherwise the parts are streamed into it, each checked against its digest as it is read.

    Returns:
        The number of rows written (0, and no file, when no chunk has a part of this kind).

    Raises:
        DamagedPart: a part's bytes differ from its recorded digest.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if stream is not None:
        if stream.complete:
            return stream.finish()
        stream.abort()
    out_dir = Path(out_dir)
    parts = [(i, part_path(out_dir, kind, i), manifest.parts[i].get(kind)) for i in sorted(manifest.parts)
             if manifest.parts[i].get(kind) is not None]
    if not parts:
        return 0
    rows = 0

    def write(tmp: Path) -> None:
        nonlocal rows
        first = _read_verified(parts[0][1], parts[0][2], parts[0][0])
        with pq.ParquetWriter(tmp, first.schema) as writer:
            pending: list[pa.Table] = []
            size = 0
            for i, path, digest in parts:
                table = first if i == parts[0][0] else _read_verified(path, digest, i)
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
    import pyarrow.parquet as pq

    run_dir = Path(run_dir)
    merged = run_dir / "outcomes.parquet"
    source = merged if merged.exists() else run_dir / "outcomes"
    return pq.read_table(source, columns=columns)


def guard_disk(folder: Path, needed: Callable[[], int | None]):
    """A context manager turning a full-disk ``OSError`` into :class:`DiskFull` (``needed()`` estimates bytes)."""
    return _DiskGuard(Path(folder), needed)


class _DiskGuard:
    def __init__(self, folder: Path, needed: Callable[[], int | None]) -> None:
        self.folder, self.needed = folder, needed

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, err, tb) -> bool:
        if isinstance(err, OSError) and is_disk_full(err):
            raise DiskFull(self.folder, self.needed()) from None
        return False


# -- reading a run folder back ---------------------------------------------------------------------


class RunDirError(Exception):
    """A run folder that cannot be read, with a one-line reason."""


# columns every outcomes table written by ``python -m sim run`` has and the figures rely on ({party}: each
# party of the run's scenario)
REQUIRED_OUTCOMES = ("world", "{party}_strategy", "deal", "end_round", "end_reason", "final_deadline",
                     "{party}_utility", "{party}_reservation_utility")


def required_outcomes(parties: list[tuple[str, str]]) -> list[str]:
    """The columns an outcomes table between ``parties`` must have."""
    return [c.replace("{party}", pid) for c in REQUIRED_OUTCOMES for pid, _ in (parties if "{party}" in c
                                                                                   else parties[:1])]


def _read_table(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as err:
        reason = " ".join(str(err).split())
        raise RunDirError(f"{path}: cannot read this Parquet file; it is partial or corrupt ({reason})") from None


def _finished_parts(run_dir: Path, kind: str) -> list[Path]:
    """The parts of the chunks the manifest records as finished (all parts found, without a usable manifest)."""
    try:
        manifest = read_manifest(run_dir)
    except ConfigError:
        manifest = None
    if manifest is None:
        return sorted((run_dir / kind).glob("part-*.parquet"))
    return [part_path(run_dir, kind, i) for i in sorted(manifest.parts) if manifest.parts[i].get(kind)
            and part_path(run_dir, kind, i).exists()]


def load_run(run_dir: Path):
    """Read ``run_dir`` back: its plan, outcomes and rounds, for plotting or analysis.

    Returns:
        A :class:`RunData`, and a notice if the sweep in it is unfinished (else None).

    Raises:
        RunDirError: the folder is not a run folder, or one of its files cannot be read or is not
            what ``python -m sim run`` writes (one line naming the file).
    """
    import pandas as pd
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from sim.config import plan

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such folder")
    config_path = run_dir / "config_resolved.yaml"
    merged, parts = run_dir / "outcomes.parquet", _finished_parts(run_dir, "outcomes")
    if not config_path.is_file() or not (merged.exists() or parts):
        raise RunDirError(f"{run_dir} is not a run folder: it needs config_resolved.yaml and outcomes.parquet "
                          "(written by python -m sim run)")
    try:
        container = OmegaConf.to_container(OmegaConf.load(config_path), resolve=True)
        if not isinstance(container, dict):
            raise ConfigError("config", "is not a mapping of config keys")
        the_plan = plan(container)
    except (ConfigError, OmegaConfBaseException, yaml.YAMLError, UnicodeDecodeError, ValueError) as err:
        reason = " ".join(str(err).split())[:300]
        raise RunDirError(f"{config_path}: cannot be used to re-make the run ({reason})") from None
    notice = None
    if merged.exists():
        outcomes, source = _read_table(merged), merged
    else:
        outcomes, source = pd.concat([_read_table(p) for p in parts], ignore_index=True), run_dir / "outcomes"
        notice = (f"the sweep in {run_dir} is unfinished: plotting the {len(parts)} chunks done so far "
                  f"({len(outcomes)} of {the_plan.n_worlds} negotiations)")
    # a run folder written before swept keys had identifier columns holds them under the dotted key
    outcomes = outcomes.rename(columns={key: column_name(key) for key in the_plan.swept_keys})
    missing = [c for c in (*required_outcomes(the_plan.parties), *the_plan.swept_columns) if c not in outcomes.columns]
    if missing:
        raise RunDirError(f"{source}: lacks the column(s) {', '.join(missing)}; it is not an outcomes table "
                          "written by python -m sim run for this config")
    if outcomes.empty:
        raise RunDirError(f"{source}: has no rows; there is nothing to plot")
    rounds_path = run_dir / "rounds.parquet"
    if rounds_path.exists():
        rounds = _read_table(rounds_path)
    else:
        round_parts = _finished_parts(run_dir, "rounds")
        rounds = pd.concat([_read_table(p) for p in round_parts], ignore_index=True) if round_parts else pd.DataFrame()
    rounds = rounds.rename(columns={key: column_name(key) for key in the_plan.swept_keys})
    return RunData(outcomes=outcomes, rounds=rounds, plan=the_plan), notice


@dataclass
class RunData:
    """What the figures are drawn from.

    Attributes:
        outcomes: One row per negotiation.
        rounds: Recorded rounds (may be empty).
        plan: The run's plan, re-made from its resolved config.
    """

    outcomes: pd.DataFrame
    rounds: pd.DataFrame
    plan: Plan

    @property
    def structure(self) -> Structure:
        """Structure of the first grid point (calendar, issues)."""
        return self.plan.points[0].structure

    @property
    def deals(self) -> pd.DataFrame:
        """The negotiations that ended in a deal."""
        return self.outcomes[self.outcomes["deal"]]

    @property
    def numeric_keys(self) -> list[str]:
        """Swept keys (config keys; their columns: :func:`~sim.config.sweep.column_name`) with numeric values
        and more than one value."""
        import pandas as pd

        columns = {k: self.outcomes[column_name(k)] for k in self.plan.swept_keys}
        return [k for k, c in columns.items() if pd.api.types.is_numeric_dtype(c)
                and not pd.api.types.is_bool_dtype(c) and c.nunique() > 1]

    @property
    def pairs(self) -> pd.Series:
        """Strategy pair label per negotiation: 'first party's strategy vs second party's strategy'."""
        return pair_labels(self.outcomes)

    @property
    def party_ids(self) -> tuple[str, str]:
        """The parties' ids, in scenario order (the column prefixes)."""
        return party_ids(self.outcomes)

    @property
    def party_names(self) -> dict[str, str]:
        """Display name of each party id (from the scenario)."""
        names = dict(self.plan.parties)
        return {pid: names.get(pid, pid) for pid in self.party_ids}

    @property
    def versus(self) -> str:
        """'first party vs second party', by display name (for legends and axis titles)."""
        first, second = self.party_ids
        return f"{self.party_names[first]} vs {self.party_names[second]}"


def party_ids(frame: pd.DataFrame) -> tuple[str, str]:
    """The two parties' ids, from the ``<party>_strategy`` columns (the first two, in scenario order)."""
    first, second = [c[: -len("_strategy")] for c in frame.columns if c.endswith("_strategy")][:2]
    return first, second


def pair_labels(frame: pd.DataFrame) -> pd.Series:
    """Strategy pair label per row: 'first party's strategy vs second party's strategy'."""
    first, second = party_ids(frame)
    return frame[f"{first}_strategy"] + " vs " + frame[f"{second}_strategy"]
