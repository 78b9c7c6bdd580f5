"""Writing a run folder: each chunk's Parquet parts, and the merged files streamed in world order.

The layout and the record (``manifest.json``, digests, the resume check) are :mod:`sim.run.manifest`;
reading a run folder back is :mod:`sim.run.readback`. Each merged file's SHA-256 is taken as its bytes are
written (:class:`HashingFile`) and recorded in the manifest before the file is renamed into place, so that every
later read can check it; the first such check is :func:`merged_intact`, before the parts are dropped.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import importlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.run.columns import dictionary_columns
from sim.run.manifest import KINDS, DamagedPart, Manifest, file_digest, part_path, read_verified, write_manifest
from sim.run.outputs import _UMASK, atomic_write

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ROW_GROUP", "DiskFull", "HashingFile", "MergeStream", "drop_parts", "give_back_freed_memory", "guard_disk", "is_disk_full",
           "merge", "merged_intact", "merged_rows", "part_table", "write_part"]

ROW_GROUP = 65_536  # rows per row group of the merged files, whatever the chunking

_MOVED = {**dict.fromkeys(("KINDS", "MANIFEST", "RUN_ONLY", "DamagedPart", "Manifest", "check_resume",
                           "clean_temporary", "code_version", "config_fingerprint", "file_digest",
                           "read_manifest", "verify_parts", "write_manifest"), "sim.run.manifest"),
          **dict.fromkeys(("RunData", "RunDirError", "load_run", "pair_labels", "party_ids", "read_outcomes",
                           "required_outcomes"), "sim.run.readback")}


class DiskFull(Exception):
    """The disk of the run folder is full; what was written before is intact."""

    def __init__(self, folder: Path, needed_bytes: int | None, size_limit: bool = False) -> None:
        free = shutil.disk_usage(folder).free if folder.exists() else 0
        need = f"about {_mb(needed_bytes)} more is needed to finish this run" if needed_bytes else "more is needed"
        if size_limit:
            super().__init__(f"a file in {folder} reached the largest size this process may write (ulimit -f); the "
                             "chunks finished so far are kept: raise the limit and run the same command again to "
                             "resume")
        else:
            super().__init__(f"no space left on the device of {folder}: {need} ({_mb(free)} free); "
                             "the chunks finished so far are kept: free some space and run the same command "
                             "again to resume")
        self.folder, self.needed_bytes = folder, needed_bytes


def _mb(n: int | None) -> str:
    return f"{(n or 0) / 1e6:,.1f} MB"


def is_disk_full(err: OSError) -> bool:
    """Whether ``err`` says the device or the user's quota is full."""
    # pyarrow reports a full disk as an OSError whose errno may be unset, with the system's message
    # EFBIG: the file-size limit of this process (ulimit -f) is reached, which a resume after raising it mends
    return err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG) or \
        "No space left" in str(err) or "File too large" in str(err)


# -- parts -----------------------------------------------------------------------------------------


def __getattr__(name: str):
    """``pa``, ``pq`` and ``pd`` on first use: reading a manifest or checking a resume needs neither
    PyArrow nor pandas, so the command line's checks and error paths stay light."""
    modules = {"pa": "pyarrow", "pq": "pyarrow.parquet", "pd": "pandas"}
    if name in modules:
        return importlib.import_module(modules[name])
    if name in _MOVED:  # the names this module held before it was split (for code written against them)
        return getattr(importlib.import_module(_MOVED[name]), name)
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
        with HashingFile(tmp) as sink:  # the digest taken as the bytes are written, not read back
            pq.write_table(table, sink, use_dictionary=dictionary_columns(table.schema))
        digest = sink.hexdigest()

    atomic_write(part_path(out_dir, kind, index), write)
    return digest


def give_back_freed_memory() -> None:
    """Hand the heap's freed pages back to the system (glibc's ``malloc_trim``; nothing elsewhere). Each chunk's
    tables reach the main process as bytes unpickled in the pool's thread; freed, they stayed in its heap: a run of
    40,000 prior draws in chunks of 4,000 grew the main process by 62 MB without this, 32 MB with it."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


try:
    _LIBC = ctypes.CDLL("libc.so.6")
except OSError:  # not Linux with glibc
    _LIBC = None


class HashingFile:
    """A file written once, front to back, and the SHA-256 of the bytes written to it, taken as they go by
    (so a merged file's digest needs no second read of it). A Parquet writer writes to it as to a file.
    """

    def __init__(self, path: Path) -> None:
        self.file = open(path, "wb")  # noqa: SIM115 - closed by the writer that writes to it, or by close()
        self.sha = hashlib.sha256()

    def write(self, data) -> int:
        """Write ``data`` (bytes or a buffer) and hash it."""
        self.sha.update(data)
        return self.file.write(data)

    def tell(self) -> int:
        """Bytes written so far."""
        return self.file.tell()

    def flush(self) -> None:
        """Flush the file."""
        self.file.flush()

    def close(self) -> None:
        """Close the file (again: nothing)."""
        self.file.close()

    @property
    def closed(self) -> bool:
        """Whether the file is closed."""
        return self.file.closed

    def writable(self) -> bool:
        """A file to write."""
        return True

    def hexdigest(self) -> str:
        """The SHA-256 of the bytes written, in hex."""
        return self.sha.hexdigest()

    def __enter__(self) -> HashingFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
        self.sink: HashingFile | None = None
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
                    table = None if digest is None else read_verified(path, digest, self.next)
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
            self.sink = HashingFile(self.tmp)  # the digest taken as the rows are written
            self.writer = pq.ParquetWriter(self.sink, table.schema, use_dictionary=dictionary_columns(table.schema))
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

    def finish(self, record: Callable[[str], None] | None = None) -> int:
        """Write the last row group and rename the file into place; return its rows (0: no file).

        ``record`` gets the file's SHA-256 before the rename (to put it in the manifest first).
        """
        import pyarrow as pa

        if self.writer is None:
            return 0
        try:
            if self.size:
                self.writer.write_table(pa.concat_tables(self.pending), row_group_size=ROW_GROUP)
                self.rows += self.size
            self.writer.close()
            self.writer = None
            self.sink.close()
            os.chmod(self.tmp, 0o666 & ~_UMASK)
            if record is not None:
                record(self.sink.hexdigest())
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
        if self.sink is not None:
            self.sink.close()
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


def merge(out_dir: Path, kind: str, manifest: Manifest, stream: MergeStream | None = None,
          record: Callable[[str], None] | None = None) -> int:
    """Make ``KIND.parquet`` from the parts listed in ``manifest``, with fixed-size row groups.

    With a complete ``stream`` the file was written while the sweep ran and is only put in place;
    otherwise the parts are streamed into it, each checked against its digest as it is read.
    ``record`` gets the file's SHA-256 before it is renamed into place.

    Returns:
        The number of rows written (0, and no file, when no chunk has a part of this kind).

    Raises:
        DamagedPart: a part's bytes differ from its recorded digest.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if stream is not None:
        if stream.complete:
            return stream.finish(record)
        stream.abort()
    out_dir = Path(out_dir)
    parts = [(i, part_path(out_dir, kind, i), manifest.parts[i].get(kind)) for i in sorted(manifest.parts)
             if manifest.parts[i].get(kind) is not None]
    if not parts:
        return 0
    rows = 0

    def write(tmp: Path) -> None:
        nonlocal rows
        first = read_verified(parts[0][1], parts[0][2], parts[0][0])
        sink = HashingFile(tmp)  # the digest taken as the rows are written
        with sink, pq.ParquetWriter(sink, first.schema, use_dictionary=dictionary_columns(first.schema)) as writer:
            pending: list[pa.Table] = []
            size = 0
            for i, path, digest in parts:
                table = first if i == parts[0][0] else read_verified(path, digest, i)
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
        if record is not None:
            record(sink.hexdigest())

    atomic_write(out_dir / f"{kind}.parquet", write)
    return rows


def merged_intact(out_dir: Path, manifest: Manifest) -> bool:
    """Whether every chunk is done and every merged file is on disk with the SHA-256 the manifest recorded."""
    return len(manifest.parts) == manifest.chunks and "outcomes" in manifest.merged and all(
        (Path(out_dir) / f"{kind}.parquet").is_file() and file_digest(Path(out_dir) / f"{kind}.parquet") == digest
        for kind, digest in manifest.merged.items())


def merged_rows(out_dir: Path) -> int:
    """Rows of ``outcomes.parquet`` (from its footer)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(Path(out_dir) / "outcomes.parquet").metadata.num_rows


def drop_parts(out_dir: Path, manifest: Manifest) -> int:
    """Delete the parts of a finished run once its merged files check against their recorded digests.

    The manifest records the drop (``parts_dropped``) before any part is deleted, so a stop half-way leaves
    a folder whose merged files are its record either way. Nothing is deleted unless every chunk is done and
    each merged file's bytes match its digest.

    Returns:
        The number of part files deleted.
    """
    out_dir = Path(out_dir)
    if not merged_intact(out_dir, manifest):
        return 0
    manifest.dropped = True
    write_manifest(out_dir, manifest)
    deleted = 0
    for index, entry in manifest.parts.items():
        for kind in KINDS:
            path = part_path(out_dir, kind, index)
            if entry.get(kind) and path.exists():
                path.unlink()
                deleted += 1
    for kind in KINDS:
        try:
            (out_dir / kind).rmdir()  # only when empty: a file someone put there stays, with its folder
        except OSError:
            pass
    return deleted


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
            raise DiskFull(self.folder, self.needed(), size_limit=err.errno == errno.EFBIG) from None
        return False
