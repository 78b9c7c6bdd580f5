"""What the terminal shows: stdout the result, stderr the rest; short errors with a suggestion; quiet pipes;
``--help`` on every verb; the ``latest`` link and experiment names for ``plot``, ``analyze``, ``compare``."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sim import __main__ as entry
from sim.console import STDERR, did_you_mean, error_line, route_logs
from sim.latest import RunNotFound, find_run, link_latest

ROOT = Path(__file__).resolve().parent.parent


def _main(monkeypatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["sim", *args])
    with pytest.raises(SystemExit) as stop:
        entry.main()
    return stop.value.code


@pytest.mark.parametrize("verb", list(entry.VERBS))
def test_help_of_every_verb_exits_0_with_its_usage_on_stdout(monkeypatch, capsys, verb):
    assert _main(monkeypatch, verb, "--help") == 0
    out = capsys.readouterr()
    assert "usage" in out.out.lower() and not out.err


def test_the_usage_lists_every_verb_of_the_table(monkeypatch, capsys):
    assert _main(monkeypatch, "--help") == 0
    text = capsys.readouterr().out
    assert all(f"\n  {name} " in text for name in entry.VERBS)


def test_a_misspelt_verb_gets_the_closest_one(monkeypatch, capsys):
    assert _main(monkeypatch, "anlyze") == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 2 and "did you mean 'analyze'?" in err


@pytest.mark.parametrize(("override", "key", "meant"), [
    ("strategy@us=bulware", "strategy@us=bulware", "'boulware'"),
    ("scenario.deadlin.round=3", "scenario.deadlin.round", "'scenario.deadline.round'"),
    ("run.seds=4", "run.seds", "'run.seeds'"),
])
def test_a_misspelt_name_is_refused_in_two_lines_naming_the_key_and_the_closest_name(monkeypatch, capsys, override,
                                                                                      key, meant):
    assert _main(monkeypatch, "run", override) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"error: {key}") and lines[1] == f"  did you mean {meant}?"


def test_a_name_close_to_none_gets_no_suggestion():
    assert did_you_mean("zzzz", ["boulware", "conceder"]) == ""
    assert did_you_mean("Boulware", ["boulware", "conceder"]) == "did you mean 'boulware'?"


def test_a_long_list_of_choices_is_cut_and_counted():
    options = [f"option_{i:03d}" for i in range(200)]
    text = error_line(f"key=x: unknown thing; choose one of {', '.join(options)} (see --help)", "did you mean 'y'?")
    first, second = text.splitlines()
    assert len(first) <= 400 and first.startswith("key=x: unknown thing; choose one of option_000, ")
    shown = first.split("choose one of ")[1].split(", ...")[0].split(", ")
    assert f"({200 - len(shown)} more) (see --help)" in first and second == "  did you mean 'y'?"


@pytest.mark.parametrize("plugin", ["hydra/launcher=joblib", "hydra/sweeper=optuna"])
def test_an_unsupported_hydra_plugin_is_one_line_and_exit_2(monkeypatch, capsys, plugin):
    assert _main(monkeypatch, "run", "-m", plugin, "run.seeds=1,2") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {plugin}: not supported")


def test_broken_pipe_is_quiet():
    for _ in range(3):  # it used to fail 5 times in 6
        proc = subprocess.Popen([sys.executable, "-m", "sim", "--help"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=ROOT)
        proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
        assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_log_lines_move_to_stderr_and_other_libraries_keep_quiet(monkeypatch):
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stdout)
    root.addHandler(handler)
    monkeypatch.delenv("DASK_LOGGING__DISTRIBUTED", raising=False)
    try:
        route_logs(verbose=False)
        assert handler.stream is STDERR  # writes to sys.stderr as it is at each write
        assert logging.getLogger("distributed").level == logging.WARNING
        assert os.environ["DASK_LOGGING__DISTRIBUTED"] == "warning"
        route_logs(verbose=True)
        assert logging.getLogger("distributed").level == logging.INFO
    finally:
        root.removeHandler(handler)
        logging.getLogger("distributed").setLevel(logging.NOTSET)


def test_pytest_reports_why_a_test_was_skipped():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    assert "-rs" in options


# -- the latest link -------------------------------------------------------------------------------------------


def test_latest_points_at_the_newest_run_and_an_experiment_name_finds_it(tmp_path):
    results = tmp_path / "results"
    first, second = results / "smoke" / "2026-01-01_00-00-00-000001", results / "smoke" / "2026-01-01_00-00-00-000002"
    for run in (first, second):
        run.mkdir(parents=True)
        link = link_latest(run, "smoke")
        assert link == results / "smoke" / "latest" and link.resolve() == run.resolve()
    assert os.readlink(results / "smoke" / "latest") == second.name  # relative: the folder may move
    assert find_run("smoke", results).resolve() == second.resolve()
    assert find_run(str(first), results) == first
    with pytest.raises(RunNotFound, match="did you mean 'smoke'"):
        find_run("smok", results)


def test_a_multirun_links_its_sweep_folder_and_a_folder_named_by_hand_gets_no_link(tmp_path):
    job = tmp_path / "results" / "dp" / "multirun_2026-01-01" / "0_scenario.escalation=0"
    job.mkdir(parents=True)
    assert link_latest(job, "dp").resolve() == job.parent.resolve()
    mine = tmp_path / "results" / "my_run"
    mine.mkdir()
    assert link_latest(mine, "smoke") is None and not (tmp_path / "results" / "latest").exists()


@pytest.mark.slow
def test_a_run_prints_its_summary_on_stdout_and_progress_on_stderr_and_plot_finds_it_by_name(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "sim", "run", "+experiment=smoke", "run.plot=false"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "progress:" in done.stderr and "progress" not in done.stdout
    assert done.stdout.startswith("by deadline (round)")  # the result the run exists for comes first
    assert "\n20 negotiations in " in done.stdout
    latest = tmp_path / "results" / "smoke" / "latest"
    assert latest.is_symlink() and (latest / "outcomes.parquet").is_file()
    done = subprocess.run([sys.executable, "-m", "sim", "plot", "smoke", "--figures", "deal_rate"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert (latest / "figures" / "deal_rate.png").is_file()


@pytest.mark.slow
def test_a_multirun_whose_jobs_give_identical_tables_says_so_with_the_likely_cause(tmp_path):
    # with common random numbers, 5 seeds never draw a 1 % breakdown: the two jobs simulate the same talks
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "sim", "run", "-m", "+experiment=smoke",
                           "scenario.breakdown_risk=0,0.01", "run.plot=false"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    jobs = sorted((tmp_path / "results" / "smoke" / "latest").iterdir())
    tables = [(job / "summary.csv").read_bytes() for job in jobs if (job / "summary.csv").is_file()]
    assert len(tables) == 2 and tables[0] == tables[1]  # the premise, checked on disk
    notes = [line for line in done.stdout.splitlines() if line.startswith("note: this job's table is identical")]
    assert len(notes) == 1 and "0_scenario.breakdown_risk=0" in notes[0] and "raise run.seeds" in notes[0]
    assert "[HYDRA]" not in done.stdout and "Launching 2 jobs" in done.stderr  # Hydra's log lines on stderr too


def test_a_job_with_a_different_table_gets_no_note(tmp_path):
    from sim.cli import same_table_note

    sweep = tmp_path / "multirun_x"
    for name, text in (("0_a=1", "x\n1\n"), ("1_a=2", "x\n2\n"), ("2_a=3", "x\n1\n")):
        (sweep / name).mkdir(parents=True)
        (sweep / name / "summary.csv").write_text(text)
    earlier = {}
    assert same_table_note(sweep / "0_a=1", 5, earlier) is None
    assert same_table_note(sweep / "1_a=2", 5, earlier) is None
    assert "identical to that of job 0_a=1" in same_table_note(sweep / "2_a=3", 5, earlier)
