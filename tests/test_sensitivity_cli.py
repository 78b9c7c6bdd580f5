"""End to end: a tiny Sobol' run, then ``python -m sim analyze`` and ``python -m sim compare`` as subprocesses.

The tiny design: n = 2 Saltelli base points over 3 parameters = 2 x (2 x 3 + 2) = 16 design rows,
2 seeds each. What is checked is the shape of what the verbs write (one ST and one S1 per parameter
and outcome, a PRIM box whose coverage and density agree with a direct count), the refusals (one line,
exit 2, nothing written) and that the run folder records the design it ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import __main__ as entry
from sim import api
from sim.config import CONF_DIR as CONF
from sim.config.sweep import column_name

ROOT = Path(__file__).resolve().parent.parent
RANGES = {"scenario.escalation": [0, 15], "scenario.deadline.round": [8, 20], "scenario.breakdown_risk": [0, 0.05]}


def _sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def sobol_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sobol") / "run"
    api.run(overrides=["sweep.sample.method=sobol", "sweep.sample.n=2", "run.seeds=2", "run.plot=false",
                       *(f"+sweep.sample.ranges.{k}=[{lo},{hi}]" for k, (lo, hi) in RANGES.items())], out_dir=out)
    return out


@pytest.mark.slow
def test_analyze_and_compare_from_the_command_line(sobol_run, tmp_path):
    meta = json.loads((sobol_run / "design.json").read_text())
    assert meta["method"] == "sobol" and meta["rows"] == 16 and [p["key"] for p in meta["parameters"]] == list(RANGES)
    (sobol_run / "sensitivity.csv").unlink()  # written by the run; analyze writes it again
    done = _sim("analyze", str(sobol_run), "--prim", "deal", "--no-figures", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "leading parameters per outcome, by Sobol' total index ST" in done.stdout
    table = pd.read_csv(sobol_run / "sensitivity.csv")
    computed = table.dropna(subset=["value"])
    assert set(computed["method"]) == {"sobol"} and set(computed["index"]) == {"S1", "ST"}
    for _, part in computed.groupby("outcome"):
        assert sorted(part["parameter"]) == sorted(list(RANGES) * 2)
    box = pd.read_csv(sobol_run / "prim_box.csv").set_index("parameter")
    outcomes = pd.read_parquet(sobol_run / "outcomes.parquet")
    inside = np.logical_and.reduce([outcomes[column_name(k)].between(box.loc[k, "low"], box.loc[k, "high"])
                                    for k in RANGES])
    assert box["coverage"].iloc[0] == pytest.approx(outcomes["deal"][inside].sum() / outcomes["deal"].sum())
    assert box["density"].iloc[0] == pytest.approx(outcomes["deal"][inside].mean())

    second = tmp_path / "second"
    api.run(overrides=["run.seeds=4", "run.plot=false"], out_dir=second)
    done = _sim("compare", str(sobol_run), str(second), "--out", str(tmp_path / "cmp"), "--no-figures", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    per_run = pd.read_csv(tmp_path / "cmp" / "comparison_runs.csv")
    assert per_run["runs"].tolist() == [32, 4]
    assert column_name("sweep.sample.method") in per_run.columns  # the runs differ in their sweep


@pytest.mark.parametrize("args, words", [
    (["--method", "morris"], "--method morris: this run has a sobol design"),
    (["--outcome", "nope"], "--outcome nope: no such outcome column"),
    (["--prim", "reciprocal is high"], "a condition is no_deal, deal, or OUTCOME OP NUMBER"),
])
def test_analyze_refuses_in_one_line_before_writing(sobol_run, monkeypatch, capsys, args, words):
    before = sorted(p.name for p in sobol_run.iterdir())
    monkeypatch.setattr(sys, "argv", ["sim", "analyze", str(sobol_run), *args])
    with pytest.raises(SystemExit) as stop:
        entry.main()
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith("error: ") and words in err and err.count("\n") == 1
    assert sorted(p.name for p in sobol_run.iterdir()) == before


def test_analyze_a_folder_that_is_not_a_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["sim", "analyze", str(tmp_path)])
    with pytest.raises(SystemExit) as stop:
        entry.main()
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "is not a run folder" in err and err.count("\n") == 1


def test_a_sobol_design_beyond_the_limit_exits_2_before_any_folder(tmp_path, monkeypatch, capsys):
    # D parameters in the experiment: 2D + 2 rows per base point; 8192 x (2D + 2) > 200,000 grid points
    import yaml

    d = len(yaml.safe_load((CONF / "experiment" / "sensitivity.yaml").read_text())["sweep"]["sample"]["ranges"])
    monkeypatch.setattr(sys, "argv", ["sim", "run", "+experiment=sensitivity", "sweep.sample.n=8192",
                                      f"hydra.run.dir={tmp_path / 'run'}"])
    with pytest.raises(SystemExit) as stop:
        entry.main()
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: sweep.sample.n: a sobol design of n = 8,192 over D = {d} parameters has "
                          f"n x (2D + 2) = {8192 * (2 * d + 2):,} rows")
    assert not (tmp_path / "run").exists()
