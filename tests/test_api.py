"""The Python API: sim.api.run goes through the command line's checks and run, and reads the folder back."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from sim import api


def test_run_returns_outcomes_summary_and_figures(tmp_path):
    run = api.run(overrides=["run.seeds=8", "run.plot=false", "scenario.escalation=7"], out_dir=tmp_path / "r")
    assert run.path == tmp_path / "r"
    outcomes = run.outcomes
    assert len(outcomes) == 8 and sorted(outcomes["seed_index"]) == list(range(8))
    # the same rows as the file on disk, read without the API
    assert outcomes["deal"].tolist() == pq.read_table(run.path / "outcomes.parquet")["deal"].to_pylist()
    summary = run.summary
    assert summary["runs"].tolist() == [8] and summary["deals"].tolist() == [int(outcomes["deal"].sum())]
    assert run.config["scenario"]["escalation"] == 7
    assert "deal rate" in run.report
    figures = run.plot()
    assert figures and all(p.exists() and p.parent == run.path / "figures" and p.suffix == ".png" for p in figures)
    assert api.load(run.path).outcomes.equals(outcomes)


def test_bad_override_is_one_line_naming_the_key_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError) as err:
        api.run(overrides=["scenario.escalation=-5"], out_dir=tmp_path / "r")
    assert str(err.value).startswith("scenario.escalation") and "\n" not in str(err.value)
    assert not (tmp_path / "r").exists()


def test_hydra_overrides_and_non_run_folders_are_refused(tmp_path):
    with pytest.raises(ValueError, match="pass out_dir="):
        api.run(overrides=["hydra.run.dir=x"])
    with pytest.raises(ValueError, match="cannot hold ="):
        api.run(overrides=["run.seeds=1"], out_dir=tmp_path / "a=b")
    with pytest.raises(ValueError, match="is not a run folder"):
        api.load(tmp_path)
