"""Issue 26, items 4 to 7: one run per folder, digests checked on every read, bad input refused before anything is
written, and a signal or a limit of the system is one line, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.__main__ import _run
from sim.cli import plot, run_experiment
from tests.conftest import compose_config, sim_in_process

ROOT = Path(__file__).resolve().parent.parent


def _sim(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout, check=False)


def _one_line(err: str, *words: str) -> None:
    # progress lines share stderr with the error (stdout is the summary alone); the error itself is one line
    err = "".join(line for line in err.splitlines(keepends=True) if " - progress: " not in line)
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)


def _files(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


# -- 4. one run at a time in a folder ----------------------------------------------------------------


def test_a_second_run_into_a_folder_in_use_is_refused_naming_the_holder(copy, capsys):
    from sim.run.lock import RunLock

    before = _files(copy)
    with RunLock(copy):  # a live run holds the folder (this process, through another open file)
        assert _run(["+experiment=smoke", "run.plot=false", f"hydra.run.dir={copy}"]) == 2
        _one_line(capsys.readouterr().err, "is in use by another run", f"pid {os.getpid()}", "started")
        with pytest.raises(ValueError, match="in use by another run"):  # the same through the API
            from sim import api

            api.run(["+experiment=smoke", "run.plot=false"], out_dir=copy)
    assert {p: b for p, b in _files(copy).items() if p.name != ".run.lock"} == \
        {p: b for p, b in before.items() if p.name != ".run.lock"}


def test_a_lock_left_by_a_dead_run_does_not_block(copy, capsys):
    # a run killed with SIGKILL leaves its lock file; the kernel released its lock with the process
    dead = subprocess.Popen([sys.executable, "-c", "import sys, time; from sim.run.lock import RunLock; "
                             f"RunLock({str(copy)!r}).__enter__(); print('locked', flush=True); time.sleep(60)"],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert dead.stdout.readline().strip() == "locked"
    from sim.run.lock import holder

    assert f"pid {dead.pid}" in holder(copy)
    dead.kill()
    dead.wait()
    assert (copy / ".run.lock").exists() and holder(copy) is None
    assert _run(["+experiment=smoke", "run.plot=false", "run.progress=false", f"hydra.run.dir={copy}"]) == 0
    assert "resumed" in capsys.readouterr().out


@pytest.mark.slow
def test_two_runs_started_into_one_folder_one_is_refused_and_the_other_finishes(tmp_path):
    run = tmp_path / "run"
    args = ["run", "+experiment=smoke", "run.seeds=1500", "run.chunk_size=100", "run.workers=1", "run.plot=false",
            "run.record_rounds=none", f"hydra.run.dir={run}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen([sys.executable, "-m", "sim", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=tmp_path, env=env)
    deadline = time.time() + 120
    while not (run / "manifest.json").exists() and time.time() < deadline:
        assert first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = _sim(*args, cwd=tmp_path)
    out, err = first.communicate(timeout=300)
    assert second.returncode == 2, second.stderr
    _one_line(second.stderr, "in use by another run", f"pid {first.pid}")
    assert first.returncode == 0, err
    import pandas as pd

    from sim.config import plan

    expected = plan(compose_config("+experiment=smoke", "run.seeds=1500")).n_worlds
    assert len(pd.read_parquet(run / "outcomes.parquet")) == expected


# -- 5. digests of the merged tables, checked on every read ------------------------------------------


def _flip(path: Path, at: int = 2000, n: int = 64) -> None:
    """Bytes changed in place (the file may no longer parse)."""
    data = bytearray(path.read_bytes())
    data[at:at + n] = bytes(b ^ 0x01 for b in data[at:at + n])
    path.write_bytes(bytes(data))


def _tamper(path: Path) -> None:
    """A valid Parquet file with one value changed: read without a digest, nothing would notice."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    column = table.column_names[-1]
    values = table.column(column).to_pylist()
    values[0] = (values[0] or 0) + 1 if not isinstance(values[0], str) else values[0] + "x"
    table = table.set_column(table.column_names.index(column), column, pa.array(values, table.schema.field(column).type))
    pq.write_table(table, path)


def test_the_manifest_records_the_merged_tables_digests(small_run):
    import hashlib

    merged = json.loads((small_run / "manifest.json").read_text())["merged"]
    for kind in ("outcomes", "rounds"):
        assert merged[kind] == hashlib.sha256((small_run / f"{kind}.parquet").read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", ["outcomes", "rounds"])
def test_a_damaged_merged_table_is_one_line_for_plot_and_the_api(copy, capsys, kind):
    from sim import api

    _tamper(copy / f"{kind}.parquet")
    assert plot(copy) == 2
    _one_line(capsys.readouterr().err, f"{kind}.parquet", "damaged")
    with pytest.raises(ValueError, match="damaged"):
        api.load(copy)


def test_a_damaged_merged_table_is_one_line_for_analyze_and_compare(copy, small_run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _tamper(copy / "outcomes.parquet")
    for args in (["analyze", str(copy), "--no-figures"],
                 ["compare", str(copy), str(small_run), "--no-figures", "--out", str(tmp_path / "cmp")]):
        done = sim_in_process(monkeypatch, capsys, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        _one_line(done.stderr, "outcomes.parquet", "damaged")
    assert not (copy / "sensitivity.csv").exists() and not (tmp_path / "cmp").exists()


def test_the_api_s_outcomes_are_checked_too(copy):
    from sim import api

    run = api.Run(path=copy)
    _flip(copy / "outcomes.parquet")
    with pytest.raises(ValueError, match="damaged"):
        run.outcomes  # noqa: B018


def test_a_run_resumed_after_damage_rebuilds_the_merged_table(copy, small_run, capsys):
    _flip(copy / "outcomes.parquet")
    assert _run(["+experiment=smoke", "run.plot=false", "run.progress=false", "run.workers=1",
                 f"hydra.run.dir={copy}"]) == 0
    assert (copy / "outcomes.parquet").read_bytes() == (small_run / "outcomes.parquet").read_bytes()


def test_an_interrupted_sweep_is_plotted_loaded_and_compared_from_its_parts(tmp_path, small_run, monkeypatch,
                                                                            capsys):
    import sim.run.runner
    from sim import api
    from sim.run.runner import Interrupted

    real, calls = sim.run.runner.write_part, []

    def stop_after_three(*args, **kwargs):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.run.runner, "write_part", stop_after_three)
    run = tmp_path / "run"
    with pytest.raises(Interrupted):
        run_experiment(compose_config("+experiment=smoke", "run.seeds=400", "run.chunk_size=100", "run.workers=1",
                                      "run.plot=false", "run.progress=false", "run.record_rounds=none"), run)
    assert not (run / "outcomes.parquet").exists() and (run / "config_resolved.yaml").exists()
    assert plot(run, formats=["png"], only=["deal_rate"]) == 0
    assert "unfinished" in capsys.readouterr().out
    assert len(api.load(run).outcomes) == 300  # three chunks of 100
    from sim.analysis.compare import compare

    _, per_run = compare([run, small_run])
    assert per_run["finished"].tolist() == [False, True] and per_run["runs"].tolist()[0] == 300


# -- 6. bad input that would change results, refused before anything is written ----------------------


@pytest.mark.parametrize("override, words", [
    ("+sweep.grid.scenario.deadline.round=[5,5]", ["sweep.grid.scenario.deadline.round", "more than once"]),
    ("+sweep.grid.scenario.breakdown_risk=[0,0.02,0.0]", ["sweep.grid.scenario.breakdown_risk", "more than once"]),
    ("scenario.stages=sectr", ["scenario.stages", "'sectr'", "sector"]),
    ("run.name=", ["run.name", "is empty"]),
    ("hydra.run.dir=", ["hydra.run.dir", "is empty"]),
    ("run.name=..", ["run.name"]),
])
def test_bad_input_is_one_line_before_anything_is_written(tmp_path, monkeypatch, capsys, override, words):
    monkeypatch.chdir(tmp_path)
    assert _run(["+experiment=smoke", "protocol=sequential", override]) == 2
    _one_line(capsys.readouterr().err, *words)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("override, key", [
    ("run.name=" + "n" * 300, "run.name"),
    ("hydra.run.dir=out/" + "d" * 300, "hydra.run.dir"),
])
def test_a_folder_name_too_long_for_the_file_system_is_one_line(tmp_path, monkeypatch, capsys, override, key):
    monkeypatch.chdir(tmp_path)
    assert _run(["+experiment=smoke", override]) == 2
    _one_line(capsys.readouterr().err, key, "at most")
    assert list(tmp_path.iterdir()) == []


def test_a_long_key_in_a_multirun_job_folder_name_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    long = "x" * 300
    assert _run(["-m", "+experiment=smoke", f"run.name=a,{long}"]) == 2
    _one_line(capsys.readouterr().err, "at most")


def test_a_scenario_file_that_is_not_yaml_is_one_line(tmp_path, monkeypatch, capsys):
    import sim.config.compose

    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    (conf / "scenario" / "broken.yaml").write_text("parties:\n  - id: a\n   name: [unclosed\n")
    monkeypatch.setattr(sim.config.compose, "CONF_DIR", conf)
    assert _run(["scenario=broken", f"hydra.run.dir={tmp_path / 'run'}"]) == 2
    _one_line(capsys.readouterr().err, "broken.yaml", "not valid YAML", "line 3")
    assert not (tmp_path / "run").exists()


# -- 7. one line and exit 2 (130 for a signal) ---------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    (["--dpi", "100000"], ["--dpi", "1200"]),
    (["--dpi", "0"], ["--dpi"]),
    (["--scale", "inf"], ["--scale", "4"]),
    (["--scale", "1e6"], ["--scale"]),
    (["--scale", "nan"], ["--scale"]),
    (["--dpi", "600", "--scale", "3"], ["--dpi 600", "--scale 3"]),
])
def test_plot_resolution_and_scale_are_bounded(copy, monkeypatch, capsys, args, words):
    monkeypatch.chdir(copy.parent)
    done = sim_in_process(monkeypatch, capsys, "plot", str(copy), *args)
    assert done.returncode == 2
    _one_line(done.stderr, *words)
    assert not (copy / "figures").exists()


def test_analyze_with_a_negative_seed_names_the_option(copy, monkeypatch, capsys):
    monkeypatch.chdir(copy.parent)
    done = sim_in_process(monkeypatch, capsys, "analyze", str(copy), "--seed", "-1")
    assert done.returncode == 2
    _one_line(done.stderr, "--seed")


def test_analyze_on_a_folder_it_cannot_write_is_one_line(copy, monkeypatch, capsys):
    from sim.__main__ import _analyze

    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == copy else real(path, mode))
    assert _analyze([str(copy), "--no-figures"]) == 2
    _one_line(capsys.readouterr().err, str(copy), "cannot be written")


def test_a_system_error_no_verb_foresaw_is_one_line(monkeypatch, capsys):
    import errno

    from sim.guard import one_line

    def main():
        raise OSError(errno.EROFS, "Read-only file system", "/some/where/summary.csv")

    with pytest.raises(SystemExit) as stop:
        one_line(main)()
    assert stop.value.code == 2
    _one_line(capsys.readouterr().err, "Read-only file system", "summary.csv")


def test_compare_of_runs_between_different_parties_is_one_line(copy, tmp_path):
    other = tmp_path / "korea"
    run_experiment(compose_config("+experiment=smoke", "scenario=us_korea_2025", "run.plot=false",
                                  "run.progress=false", "run.workers=1"), other)
    done = _sim("compare", str(copy), str(other), "--no-figures", "--out", str(tmp_path / "cmp"), cwd=tmp_path)
    assert done.returncode == 2
    _one_line(done.stderr, "different parties")


@pytest.mark.parametrize("overrides, out_dir, words", [
    ("+experiment=smoke", None, ["list of strings"]),
    (["+experiment=smoke", 3], None, ["must be a string", "int"]),
    (["+experiment=smoke"], "FILE", ["is a file"]),
])
def test_the_api_refuses_wrong_types_with_a_value_error(tmp_path, overrides, out_dir, words):
    from sim import api

    if out_dir == "FILE":
        out_dir = tmp_path / "a-file"
        out_dir.write_text("not a folder")
    with pytest.raises(ValueError) as err:
        api.run(overrides, out_dir=out_dir)
    for word in words:
        assert word in str(err.value)


def test_a_file_size_limit_is_handled_as_a_full_disk(tmp_path):
    # ulimit -f: writing past it fails with EFBIG (Python ignores SIGXFSZ); the finished chunks are kept
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "sim", "run", "+experiment=smoke", "run.seeds=2000", "run.plot=false",
               f"hydra.run.dir={run}"]
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
                          preexec_fn=limit, check=False)
    assert done.returncode == 1, done.stderr
    _one_line(done.stderr, "ulimit -f", "resume")


@pytest.mark.slow
@pytest.mark.parametrize("how, delay", [("SIGINT", 0.3), ("SIGINT", 1.0), ("SIGINT", 1.6), ("SIGTERM", 0.5),
                                        ("SIGTERM", 1.5)])
def test_a_signal_while_the_command_starts_is_one_line_and_130(tmp_path, how, delay):
    command = [sys.executable, "-m", "sim", "run", "+experiment=smoke", "run.seeds=3000", "run.workers=2",
               "run.chunk_size=200", f"hydra.run.dir={tmp_path / 'run'}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env=env, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(delay)
    if how == "SIGINT":
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C goes to the whole foreground group
    else:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert len([line for line in err.splitlines() if line.strip() and "INFO" not in line]) <= 3, err


# -- 8. what a sweep will cost, before it starts ---------------------------------------------------------


def test_a_sweep_that_would_not_fit_on_the_disk_is_refused(tmp_path, monkeypatch, capsys):
    import sim.preflight

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sim.preflight, "free_bytes", lambda folder: (tmp_path, 50_000_000))  # 50 MB free
    assert _run(["+experiment=smoke", "run.seeds=1000000", "run.record_rounds=none"]) == 2
    _one_line(capsys.readouterr().err, "would not fit on the disk", "4,000,000 negotiations", "50.0 MB")
    assert list(tmp_path.iterdir()) == []


def test_the_disk_a_multirun_needs_is_summed_over_its_jobs(tmp_path, monkeypatch, capsys):
    import sim.preflight
    from sim.config import plan
    from sim.run.estimate import estimate

    one_job = estimate(plan(compose_config("+experiment=smoke", "run.seeds=20000", "run.record_rounds=none"))).bytes
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sim.preflight, "free_bytes", lambda folder: (tmp_path, int(1.5 * one_job)))
    from sim.preflight import check

    assert check(["+experiment=smoke", "run.seeds=20000", "run.record_rounds=none"], multirun=False) == []  # one fits
    assert _run(["-m", "+experiment=smoke", "run.seeds=20000", "run.record_rounds=none",
                 "scenario.escalation=0,14", f"hydra.sweep.dir={tmp_path / 'multi'}"]) == 2
    _one_line(capsys.readouterr().err, "would not fit on the disk")


def test_a_sweep_over_an_hour_asks_for_run_confirm_when_not_on_a_terminal(tmp_path, monkeypatch, capsys):
    from sim.preflight import UsageError, check

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    long = ["+experiment=smoke", "run.seeds=30000000", "run.record_rounds=none"]
    with pytest.raises(UsageError, match=r"run\.confirm: this sweep is long: 120,000,000 negotiations: about [\d.]+ h"):
        check(long, multirun=False)
    assert check([*long, "run.confirm=true"], multirun=False) == []  # confirmed: checked, nothing claimed
    with pytest.raises(UsageError, match="run.confirm: must be true or false"):
        check([*long, "run.confirm=maybe"], multirun=False)
    assert list(tmp_path.iterdir()) == []


def test_a_stop_hidden_by_an_error_raised_while_it_unwound_is_still_one_line_and_130():
    """A library that cleans up after Ctrl-C may raise an error of its own from inside the interrupt (OmegaConf
    did, while Hydra imported: an AttributeError whose context is the KeyboardInterrupt); the command still ends
    as a stop. Checked in a child process, since the guard ends its process at once."""
    from sim.guard import interrupted

    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise AttributeError("'NoneType' object has no attribute '_invalidate_flags_cache'") from None
    except AttributeError as err:
        assert interrupted(err)  # from None hides the context from the traceback, not from the chain
    assert not interrupted(ValueError("a bug"))
    code = ("from sim.guard import one_line\n"
            "def main():\n"
            "    try:\n"
            "        raise KeyboardInterrupt\n"
            "    except KeyboardInterrupt:\n"
            "        raise AttributeError('half-built')\n"
            "one_line(main)()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "interrupted"
    bug = subprocess.run([sys.executable, "-c", "from sim.guard import one_line\n"
                          "def main():\n    raise ValueError('a bug')\none_line(main)()\n"],
                         capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         check=False)
    assert bug.returncode == 1 and "Traceback" in bug.stderr  # a bug still shows its traceback
