"""The record of a run folder: its layout, ``manifest.json`` with the digest of every file, and the resume check.

A run folder holds the negotiations of one run, cut into chunks (see :mod:`sim.run.runner`):

* ``outcomes/part-NNNNNN.parquet``: one row per negotiation of chunk ``NNNNNN``;
* ``rounds/part-NNNNNN.parquet``: the recorded offers of that chunk (only when it recorded any);
* ``manifest.json``: the config that made the parts; per finished chunk the SHA-256 digest of each of
  its parts and the code version (package version and git commit) that computed it; and the SHA-256
  of the merged files once they are written;
* ``outcomes.parquet``, ``rounds.parquet``: the parts merged with fixed-size row groups once every
  chunk is done, byte-identical however the run was split into chunks or workers. Once they are
  written and checked against their digests, the parts are deleted (unless ``run.keep_parts=true``)
  and the manifest says so (``parts_dropped``): the merged files are then the record a resume checks.

A chunk counts as done only when the manifest lists it and every part it lists is on disk with its
recorded digest, so a run killed between two parts, or a part damaged later, is recomputed on resume
rather than silently used; a merged file is checked against its digest whenever it is read
(:mod:`sim.run.readback`; within one command, once while it is unchanged: :func:`remembering`). Every file
is written under a temporary name and renamed into place (:func:`sim.run.outputs.atomic_write`); temporary
files left by a killed write are removed on resume.
Writing the parts and merging them is :mod:`sim.run.store`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config import ConfigError
from sim.resources import source_root
from sim.run.outputs import atomic_write, git_commit

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "KINDS",
    "MANIFEST",
    "RUN_ONLY",
    "DamagedPart",
    "Manifest",
    "check_resume",
    "clean_temporary",
    "code_version",
    "config_fingerprint",
    "file_digest",
    "part_path",
    "read_manifest",
    "read_verified",
    "remembering",
    "verify_parts",
    "write_manifest",
]

MANIFEST = "manifest.json"
FORMAT = 2
KINDS = ("outcomes", "rounds")

# Keys that change how a run executes, not what it computes: they may differ on resume.
RUN_ONLY = ("run.workers", "run.executor", "run.dask_address", "run.plot", "run.progress", "run.force_resume",
            "run.figure_formats", "run.confirm", "run.verbose", "run.keep_parts")


class DamagedPart(Exception):
    """A part whose bytes no longer match the digest recorded when it was written."""

    def __init__(self, index: int, path: Path) -> None:
        super().__init__(f"{path}: damaged (its SHA-256 differs from the one recorded in {MANIFEST})")
        self.index, self.path = index, path


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


# a file changed this long after it was hashed gets a later change time on any local file system (their time
# stamps are at worst a clock tick, 1-10 ms, coarse); a file hashed sooner after its last change is not remembered
SETTLED_NS = 100_000_000
_remembered: dict[tuple, str] | None = None  # (path, device, inode, size, mtime, ctime) -> SHA-256, in one command


def _identity(path: Path, stat: os.stat_result) -> tuple:
    return str(Path(path).absolute()), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


@contextlib.contextmanager
def remembering() -> Iterator[None]:
    """Within one command: a file :func:`file_digest` hashed is not hashed again while it is unchanged.

    Unchanged means the same path, device, inode, size, modification and change times (to the nanosecond)
    as when it was hashed; only a file whose last change came at least :data:`SETTLED_NS` before its hash
    ended is remembered, so that a later edit cannot keep its time stamps. What was remembered is forgotten
    when the block ends: another command checks the bytes again.
    """
    global _remembered
    outer, _remembered = _remembered, ({} if _remembered is None else _remembered)
    try:
        yield
    finally:
        _remembered = outer


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, in hex (inside :func:`remembering`, a file unchanged since it was hashed
    is not read again)."""
    memo = _remembered
    with open(path, "rb") as f:
        before = os.fstat(f.fileno())
        if memo is not None and (known := memo.get(_identity(path, before))) is not None:
            return known
        h = hashlib.sha256()
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
        after = os.fstat(f.fileno())
    digest = h.hexdigest()
    settled = time.time_ns() - max(after.st_mtime_ns, after.st_ctime_ns) >= SETTLED_NS
    if memo is not None and settled and _identity(path, before) == _identity(path, after):
        memo[_identity(path, after)] = digest
    return digest


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
    root = source_root()
    if commit.endswith("+dirty") and root is not None:
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
        merged: Per merged file written (``outcomes``, ``rounds``): its SHA-256, recorded before the file
            is renamed into place.
        dropped: The parts were deleted after the merged files were checked against ``merged`` (the run is
            finished; the parts' digests stay as the record of what was merged).
    """

    def __init__(self, chunks: int, config: dict[str, Any], parts: dict[int, dict[str, Any]] | None = None,
                 merged: dict[str, str] | None = None, dropped: bool = False):
        self.chunks, self.config, self.parts = chunks, config, dict(parts or {})
        self.merged = dict(merged or {})
        self.dropped = dropped

    @property
    def done(self) -> set[int]:
        """The chunks recorded as finished."""
        return set(self.parts)

    def to_json(self) -> str:
        """The manifest as JSON (``done`` is kept for readers of the format-1 manifest)."""
        return json.dumps({"format": FORMAT, "chunks": self.chunks, "done": sorted(self.parts),
                           "parts": {str(k): self.parts[k] for k in sorted(self.parts)}, "merged": self.merged,
                           "parts_dropped": self.dropped, "config": self.config}, default=str)


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
        merged = {str(k): v for k, v in dict(body.get("merged") or {}).items() if isinstance(v, str)}
        return Manifest(int(body["chunks"]), dict(body["config"]), parts, merged, body.get("parts_dropped") is True)
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


def read_verified(path: Path, digest: str | None, index: int) -> pa.Table:
    """A part (or merged file) read whole, after checking its bytes against ``digest`` (``None``: unchecked).

    Raises:
        DamagedPart: the bytes differ from the digest, or are not a Parquet file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = path.read_bytes()
    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        raise DamagedPart(index, path)
    try:
        return pq.read_table(pa.BufferReader(data))
    except pa.ArrowException:
        raise DamagedPart(index, path) from None
