"""Argument handling of the verbs (``python -m sim run --help``, ``plot``, ``validate``), in process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from sim import __main__ as entry


def _main(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["sim", *args])
    with pytest.raises(SystemExit) as stop:
        entry.main()
    return stop.value.code


@pytest.mark.parametrize("verb", ["validate", "plot", "run"])
def test_help_of_each_verb_prints_usage_and_exits_0(monkeypatch, capsys, verb):
    assert _main(monkeypatch, verb, "--help") == 0
    out = capsys.readouterr()
    assert out.out.startswith("usage: ") and "error" not in out.err


@pytest.mark.parametrize("args, words", [
    (["plot"], "RUN_DIR"),
    (["plot", "x", "--format", "gif"], "unknown format 'gif'"),
    (["plot", "x", "--figures", "pressure,nope"], "unknown figure 'nope'"),
    (["plot", "x", "--dpi", "0"], "from 20 to"),
    (["plot", "x", "--scale", "abc"], "a number from"),
    (["validate", "--out"], "expected one argument"),
    (["validate", "nope"], "unknown validation case 'nope'"),
])
def test_bad_arguments_get_one_line_and_exit_2(monkeypatch, capsys, args, words):
    assert _main(monkeypatch, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and err.count("\n") == 1


def _refused_before_any_case_runs(monkeypatch, capsys, out: Path) -> str:
    import sim.validation

    def boom(*_args, **_kwargs):
        raise AssertionError("a validation case ran before --out was checked")

    monkeypatch.setattr(sim.validation, "run_all", boom)
    assert _main(monkeypatch, "validate", "--out", str(out)) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: --out ") and captured.err.count("\n") == 1
    return captured.err


def test_validate_out_to_an_existing_file_is_refused_before_running(monkeypatch, capsys, tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("keep me")
    assert "is a file" in _refused_before_any_case_runs(monkeypatch, capsys, target)
    assert target.read_text() == "keep me"


def test_validate_out_under_a_file_is_refused_before_running(monkeypatch, capsys, tmp_path):
    (tmp_path / "file").write_text("")
    assert "is a file" in _refused_before_any_case_runs(monkeypatch, capsys, tmp_path / "file" / "sub" / "dir")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write in a read-only folder")
def test_validate_out_to_an_unwritable_folder_is_refused_before_running(monkeypatch, capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert "cannot write" in _refused_before_any_case_runs(monkeypatch, capsys, locked / "out")
    finally:
        locked.chmod(0o700)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs a read-only file system such as /proc")
def test_validate_out_on_a_read_only_file_system_is_refused_before_running(monkeypatch, capsys):
    assert "cannot write" in _refused_before_any_case_runs(monkeypatch, capsys, Path("/proc/sim-validation-out"))
