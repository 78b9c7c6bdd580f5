"""Argument handling of the verbs (``python -m sim run --help``, ``plot``, ``validate``), in process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sim import __main__ as entry
from sim.help import run_help
from tests.conftest import compose_config


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


def _leaves(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def test_run_help_lists_every_parameter_with_its_default_and_meaning():
    text = run_help(width=100)
    cfg = OmegaConf.to_container(compose_config(), resolve=False)
    cfg.pop("hydra", None)
    missing = []
    for key in _leaves({k: v for k, v in cfg.items() if k in ("run", "sweep", "scenario", "protocol")}):
        parts = key.split(".")
        if key in ("scenario.name", "protocol.name") or parts[-1] == "_target_":  # names and classes, not parameters
            continue
        if parts[:2] == ["scenario", "calibration"]:  # sources and priors, one line: docs/calibration.md has them
            key = "scenario.calibration"
        if parts[:2] == ["scenario", "parties"]:  # one line per party: its id and display name
            key = ".".join(parts[:3])
        shown = key if parts[:2] != ["scenario", "issues"] else ".".join(parts[:3])  # one line per issue
        if parts[:3] == ["scenario", "ratification", "us"] or parts[:3] == ["scenario", "ratification", "japan"]:
            shown = ".".join(parts[:5]) if "constituencies" in parts else key
        if parts[0] == "scenario" and parts[1] in ("facts", "positions", "calibration", "evidence"):  # records
            shown = ".".join(parts[:2])
        if f"  {shown} " not in text and not text.count(f"  {shown}\n"):
            missing.append(key)
    assert not missing, missing
    # a default and its description, from the YAML comment
    line = next(li for li in text.splitlines() if li.startswith("  scenario.deadline.round = 13"))
    assert "US deadline" in line  # the scenario's own comment
    assert "run.figure_formats = [png]" in text
    for strategy in ("boulware", "tit_for_tat", "deadline_aware"):
        assert f"\n    {strategy}" in text and f"\n  {strategy} " in text  # as an option and with its parameters


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


def test_run_help_is_fast_because_it_imports_nothing_heavy(tmp_path):
    """``run --help`` took 9.7 s when Hydra composed the config to print it; it now reads the YAML files and
    the registry only. In a fresh interpreter: none of the heavy libraries is imported."""
    import subprocess

    probe = ("import sys; sys.argv = ['sim', 'run', '--help']\n"
             "from sim import __main__ as entry\n"
             "try:\n    entry.main()\nexcept SystemExit as stop:\n    assert stop.code in (0, None)\n"
             "heavy = ('numpy', 'pandas', 'pyarrow', 'hydra', 'omegaconf', 'matplotlib', 'mesa', 'scipy')\n"
             "print(*[m for m in heavy if m in sys.modules], sep=',', file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert done.returncode == 0 and "scenario.deadline.round" in done.stdout
    assert done.stderr.strip() == "", f"run --help imported {done.stderr.strip()}"
