"""End to end through ``python -m sim``: the main command, multirun and bad input (in a subprocess, but for
the bad-input cases, which go through the same entry point in process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def _sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, check=False)


def test_main_command_writes_a_complete_run_folder(tmp_path):
    run_dir = tmp_path / "run"
    done = _sim("run", "+experiment=deadline_pressure", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    outcomes = pd.read_parquet(run_dir / "outcomes.parquet")
    assert len(outcomes) == 4 * 4 * 4 * 100
    assert outcomes["deal"].any() and not outcomes["deal"].all()
    assert outcomes["world"].tolist() == list(range(len(outcomes)))
    for col in ("seed", "us_strategy", "japan_strategy", "deadline_round", "escalation",
                "end_round", "end_date", "end_reason", "cars", "reciprocal", "us_payoff", "japan_utility"):
        assert col in outcomes.columns
    assert (run_dir / "rounds.parquet").exists()
    assert (run_dir / ".hydra" / "config.yaml").exists() and (run_dir / "config_resolved.yaml").exists()
    meta = json.loads((run_dir / "metadata.json").read_text())
    assert meta["versions"]["sim"] and meta["root_seed"] == 20250416 and meta["negotiations"] == len(outcomes)
    # the 4 strategy pairs fill 4 of the 12 cells of the US x Japan table: no heatmap, and the summary says why
    assert "skipped strategy_heatmap: only 4 of the 12 cells" in done.stdout
    for name in ("concession_paths", "utility_plane", "deal_rate", "timing", "terms", "pressure"):
        assert (run_dir / "figures" / f"{name}.png").stat().st_size > 10_000
    assert {p.suffix for p in (run_dir / "figures").iterdir()} == {".png"}  # SVG, PDF are opt-in (run.figure_formats)
    assert "deal rate" in done.stdout and "median agreement round" in done.stdout


@pytest.mark.parametrize("override", ["strategy@us=nope", "scenario.deadline.round=99", "run.seeds=abc"])
def test_bad_input_exits_2_with_one_line_and_no_run_folder(tmp_path, override, monkeypatch, capsys):
    # in process, through the same entry point as `python -m sim` (one subprocess below checks the real exit)
    from sim import __main__ as entry

    run_dir = tmp_path / "run"
    monkeypatch.setattr(sys, "argv", ["sim", "run", override, f"hydra.run.dir={run_dir}"])
    with pytest.raises(SystemExit) as stop:
        entry.main()
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not run_dir.exists()


def test_help_lists_verbs_groups_and_options(tmp_path):
    done = _sim("--help", cwd=tmp_path)
    assert done.returncode == 0
    for word in ("run", "scenario", "us_japan_2025", "strategy", "boulware", "tit_for_tat", "deadline_pressure"):
        assert word in done.stdout
    done = _sim("run", "--help", cwd=tmp_path)
    assert done.returncode == 0 and "scenario.deadline.round = 13" in done.stdout


def test_the_readme_multirun_example_repeats_the_experiment_per_value(tmp_path):
    # README "Across runs", with fewer seeds and no figures (10 seeds: with common random numbers, 2 or 5 seeds
    # happen to draw no breakdown at 2 % a round); also the test that multirun runs one whole batch per job
    done = _sim("run", "-m", "+experiment=deadline_pressure", "scenario.breakdown_risk=0,0.02", "run.seeds=10",
                "run.plot=false", f"hydra.sweep.dir={tmp_path / 'multi'}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    without, with_risk = (pd.read_parquet(tmp_path / "multi" / name / "outcomes.parquet")  # named by overrides
                          for name in ("0_run.seeds=10,scenario.breakdown_risk=0", "1_run.seeds=10,scenario.breakdown_risk=0.02"))
    assert len(without) == len(with_risk) == 4 * 4 * 4 * 10  # the whole experiment in each job
    assert (without["end_reason"] != "breakdown").all()  # no breakdown without a breakdown risk
    assert (with_risk["end_reason"] == "breakdown").any()
    assert not without.equals(with_risk)


def test_a_value_the_experiment_sweeps_is_refused_before_anything_runs(tmp_path):
    done = _sim("run", "-m", "+experiment=deadline_pressure", "scenario.escalation=0,14",
                f"hydra.sweep.dir={tmp_path / 'multi'}", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: scenario.escalation: ")
    assert done.stderr.count("\n") == 1 and not (tmp_path / "multi").exists()
