"""A merged file checked against its digest once per command: its digest taken as it is written, one real
check before the parts are dropped, and no second hash while the file is unchanged; a file changed after it
was checked is still refused in one line (issue 24)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

import sim.run.manifest
import sim.run.readback
import sim.run.runner
import sim.run.store
from sim.cli import run_experiment
from sim.run.manifest import file_digest, remembering
from sim.run.readback import RunDirError, _read_checked
from tests.conftest import compose_config

SMOKE = ["+experiment=smoke", "run.plot=false", "run.workers=1", "run.record_rounds=none"]


class _Counted:
    """``hashlib`` with a count of the SHA-256 objects made (one per file hashed)."""

    def __init__(self) -> None:
        self.made = 0

    def sha256(self, *args):
        self.made += 1
        return hashlib.sha256(*args)


@pytest.fixture
def counted(monkeypatch) -> _Counted:
    spy = _Counted()
    monkeypatch.setattr(sim.run.manifest, "hashlib", spy)
    return spy


def _settled(path: Path, data: bytes) -> Path:
    """``data`` written to ``path``, left long enough that a hash of it may be remembered."""
    path.write_bytes(data)
    time.sleep(2 * sim.run.manifest.SETTLED_NS / 1e9)
    return path


def _flip(path: Path) -> None:
    """A byte changed, the size kept and the modification time put back as it was."""
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_settled_file_is_hashed_once_within_a_command_and_again_in_the_next(tmp_path, counted):
    path = _settled(tmp_path / "table.parquet", os.urandom(3 << 20))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with remembering():
        assert [file_digest(path) for _ in range(3)] == [digest] * 3
        assert counted.made == 1
    assert file_digest(path) == digest and counted.made == 2  # outside: checked again
    with remembering():  # the next command does not trust what the last one saw
        assert file_digest(path) == digest and counted.made == 3


def test_a_file_edited_after_it_was_remembered_is_hashed_again_and_refused(tmp_path, counted):
    path = _settled(tmp_path / "table.parquet", os.urandom(1 << 20))
    recorded = hashlib.sha256(path.read_bytes()).hexdigest()
    with remembering():
        assert file_digest(path) == recorded
        _flip(path)  # same size, same modification time: the change time still moves
        assert file_digest(path) == hashlib.sha256(path.read_bytes()).hexdigest() != recorded
        assert counted.made == 2
        with pytest.raises(RunDirError) as refused:
            _read_checked(path, recorded, None)
    message = str(refused.value)
    assert "\n" not in message and str(path) in message and "damaged" in message


def test_a_file_hashed_right_after_it_changed_is_not_remembered(tmp_path, counted):
    path = tmp_path / "table.parquet"
    path.write_bytes(os.urandom(1 << 16))
    with remembering():
        file_digest(path)  # its time stamps are too fresh to rule out an edit that keeps them
        file_digest(path)
    assert counted.made == 2


def test_a_merged_table_damaged_after_the_verified_merge_is_refused_by_the_summary(tmp_path, monkeypatch):
    """The run's own check before the parts are dropped is remembered; a change after it is caught when the
    summary reads the table, in the same command."""
    real_drop = sim.run.runner.drop_parts
    seen = {}

    def drop_then_damage(out_dir, manifest):
        time.sleep(2 * sim.run.manifest.SETTLED_NS / 1e9)  # so that the check is remembered
        dropped = real_drop(out_dir, manifest)
        seen["remembered"] = dict(sim.run.manifest._remembered or {})
        _flip(Path(out_dir) / "outcomes.parquet")
        return dropped

    monkeypatch.setattr(sim.run.runner, "drop_parts", drop_then_damage)
    run = tmp_path / "run"
    with pytest.raises(RunDirError) as refused:
        run_experiment(compose_config(*SMOKE), run)
    assert any(key[0] == str(run / "outcomes.parquet") for key in seen["remembered"])  # the check was remembered
    message = str(refused.value)
    assert "\n" not in message and "outcomes.parquet: damaged" in message
    assert not (run / "summary.csv").exists()


def test_the_merged_tables_digest_is_taken_as_it_is_written_and_the_file_checked_twice_at_most(tmp_path,
                                                                                                 monkeypatch):
    """The recorded digest, taken as the bytes were written (no read of the file), is the file's; the file is
    then checked before the parts are dropped and when the summary and the forecast read it (once for both)."""
    hashed = []
    real = sim.run.manifest.file_digest

    def spy(path):
        hashed.append(Path(path).name)
        return real(path)

    for module in (sim.run.manifest, sim.run.store, sim.run.readback):
        monkeypatch.setattr(module, "file_digest", spy)
    run = tmp_path / "run"
    run_experiment(compose_config(*SMOKE), run)
    merged = sim.run.manifest.read_manifest(run).merged
    assert merged["outcomes"] == hashlib.sha256((run / "outcomes.parquet").read_bytes()).hexdigest()
    # the check before the parts are dropped, then the summary's read (remembered, when the file had settled)
    assert hashed.count("outcomes.parquet") == 2

