"""compare: several run folders joined, labelled by the config values that differ, checked against the files."""

from __future__ import annotations

import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim import __main__ as entry
from sim import api
from sim.analysis.compare import CompareError, compare, differing_config, run_folders
from sim.config.sweep import column_name


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("compare")
    for escalation in (0, 14):
        api.run(overrides=["run.seeds=20", "run.plot=false", f"scenario.escalation={escalation}"],
                out_dir=base / "multi" / f"escalation_{escalation}")
    return base


def test_the_differing_key_is_the_only_config_column(two_runs):
    runs = run_folders([two_runs / "multi"])  # a folder of run folders stands for its jobs
    assert [r.name for r in runs] == ["escalation_0", "escalation_14"]
    config = differing_config(runs)
    assert config.attrs["keys"] == ["scenario.escalation"]
    assert list(config.columns) == [column_name("scenario.escalation")]
    assert config[column_name("scenario.escalation")].tolist() == [0.0, 14.0]


def test_per_run_outcomes_match_the_outcomes_files(two_runs):
    runs = run_folders([two_runs / "multi"])
    points, per_run = compare(runs)
    for run, row in zip(runs, per_run.itertuples(), strict=True):
        deal = np.array(pq.read_table(run / "outcomes.parquet")["deal"].to_pylist())
        assert row.runs == 20 and row.deals == deal.sum() and row.deal_rate == pytest.approx(deal.mean())
        assert row.deal_rate_low <= row.deal_rate <= row.deal_rate_high
    # one summary row per run (one grid point each), labelled by run and escalation
    assert points["run"].tolist() == [r.name for r in runs]
    assert points["deals"].tolist() == per_run["deals"].tolist()


def test_compare_verb_writes_the_tables_and_figure(two_runs, monkeypatch, capsys):
    out = two_runs / "cmp"
    monkeypatch.setattr(sys, "argv", ["sim", "compare", str(two_runs / "multi"), "--out", str(out)])
    with pytest.raises(SystemExit) as stop:
        entry.main()
    assert stop.value.code == 0
    assert {p.name for p in out.iterdir()} >= {"comparison.csv", "comparison_runs.csv", "comparison.png"}


def test_not_a_run_folder_is_one_line_and_exit_2(two_runs, tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    monkeypatch.setattr(sys, "argv", ["sim", "compare", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit) as stop:
        entry.main()
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith("error: ") and "is not a run folder" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
    with pytest.raises(CompareError, match="at least two run folders"):
        run_folders([two_runs / "multi" / "escalation_0"])


def test_the_comparison_names_parties_draws_medians_as_points_and_gives_n(two_runs, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from sim.analysis.compare import figure

    runs = run_folders([two_runs / "multi"])
    _, per_run = compare(runs)
    assert per_run.attrs["party_names"] == {"us": "United States", "japan": "Japan"}  # the scenario's own names
    for run, row in zip(runs, per_run.itertuples(), strict=True):
        table = pq.read_table(run / "outcomes.parquet").to_pandas()
        rounds = np.sort(table.loc[table["deal"], "end_round"].to_numpy())
        assert row.median_round_low <= row.median_round <= row.median_round_high
        assert row.median_round_low in rounds and row.median_round_high in rounds  # order statistics
    drawn = {}
    monkeypatch.setattr(plt, "close", lambda fig=None: drawn.setdefault("fig", fig))
    figure(per_run, per_run.attrs["keys"], tmp_path)
    fig = drawn["fig"]
    median_axis, utility_axis = fig.axes[1], fig.axes[2]
    assert not median_axis.patches  # no bar from round 0: a point with its interval
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["United States", "Japan"]
    assert utility_axis.get_legend() is None  # the legend stands above the panels, over no bar
    assert all("(n = 20)" in t.get_text() for t in fig.axes[0].get_xticklabels())
