"""Ranked tournament: means, intervals, pairwise tests and Holm's correction against hand calculations."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sim.report.ranking import NotATournament, holm, not_a_tournament, pairwise, ranking, write

PARTIES = ["us", "japan"]
# mean advantage of the row strategy against each opponent (A, B, C), playing as the US / as Japan
AS_US = {"A": (0.5, 0.4, 0.3), "B": (0.3, 0.3, 0.3), "C": (0.1, 0.0, -0.1)}
AS_JAPAN = {"A": (0.3, 0.3, 0.3), "B": (0.6, 0.5, 0.4), "C": (0.0, 0.0, 0.0)}
SPREAD = {"A": 0.1, "B": 0.1, "C": 0.0}  # each pairing: two negotiations at mean + spread and mean - spread
T_975 = {3: 3.182446305284263, 6: 2.446911851144969}  # Student's t quantiles (tables)


def _outcomes() -> pd.DataFrame:
    """Every strategy against every strategy, two negotiations each; US advantages vary by +/- 0.1 around
    the US strategy's mean against that opponent, Japan's by SPREAD of the Japanese strategy."""
    rows = []
    names = ["A", "B", "C"]
    for us, jp in itertools.product(names, names):
        for sign in (1, -1):
            rows.append({"us_strategy": us, "japan_strategy": jp,
                         "us_advantage": AS_US[us][names.index(jp)] + sign * 0.1,
                         "japan_advantage": AS_JAPAN[jp][names.index(us)] + sign * SPREAD[jp],
                         "deal": not (us == "C" and jp == "C")})
    return pd.DataFrame(rows)


def test_holm_matches_a_hand_computed_example():
    # sorted: 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> kept at 0.06)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([0.02]) == pytest.approx([0.02])  # one test: unadjusted
    out = holm([0.01, np.nan, 0.02])  # NaN stays NaN and does not count: m = 2
    assert np.isnan(out[1]) and out[[0, 2]] == pytest.approx([0.02, 0.02])


def test_ranking_of_a_synthetic_tournament_matches_hand_calculation():
    table = ranking(_outcomes(), PARTIES).set_index("strategy")
    # pooled: B (0.9 + 1.5) / 6 = 0.4, A (1.2 + 0.9) / 6 = 0.35, C 0
    assert list(table.index) == ["B", "A", "C"]
    assert list(table["rank"]) == [1, 2, 3]
    assert table["mean_advantage"].to_numpy() == pytest.approx([0.4, 0.35, 0.0])
    assert table["as_us_mean_advantage"].to_numpy() == pytest.approx([0.3, 0.4, 0.0])
    assert table["as_japan_mean_advantage"].to_numpy() == pytest.approx([0.5, 0.3, 0.0])
    # A as the US: three opponents, each s^2 = 0.02 over n = 2, so SE = sqrt(3 * 0.01) / 3 and
    # Welch-Satterthwaite df = 0.03^2 / (3 * 0.01^2 / 1) = 3
    half = T_975[3] * np.sqrt(0.03) / 3
    assert (table.loc["A", "as_us_ci_low"], table.loc["A", "as_us_ci_high"]) == pytest.approx((0.4 - half, 0.4 + half))
    # A pooled: six strata, SE = sqrt(6 * 0.01) / 6, df = 0.06^2 / (6 * 0.01^2) = 6
    half = T_975[6] * np.sqrt(0.06) / 6
    assert (table.loc["A", "ci_low"], table.loc["A", "ci_high"]) == pytest.approx((0.35 - half, 0.35 + half))
    # C as Japan has no spread: the interval is the mean; pooled, only its US strata vary (df = 3)
    assert (table.loc["C", "as_japan_ci_low"], table.loc["C", "as_japan_ci_high"]) == (0.0, 0.0)
    half = T_975[3] * np.sqrt(0.03) / 6
    assert (table.loc["C", "ci_low"], table.loc["C", "ci_high"]) == pytest.approx((-half, half))
    assert table.loc["C", "deal_rate"] == pytest.approx(8 / 12)  # C vs C (both roles) has no deal
    assert table.loc["A", "negotiations"] == 12 and table.loc["A", "as_us_negotiations"] == 6


def test_the_ranking_reads_the_party_ids_of_the_scenario():
    renamed = _outcomes().rename(columns=lambda c: c.replace("us_", "north_").replace("japan_", "south_"))
    table = ranking(renamed, ["north", "south"]).set_index("strategy")
    assert table["as_north_mean_advantage"].to_numpy() == pytest.approx([0.3, 0.4, 0.0])
    assert table["as_south_mean_advantage"].to_numpy() == pytest.approx([0.5, 0.3, 0.0])


def test_pairwise_test_statistic_by_hand_and_holm_within_each_role():
    from scipy import stats

    pairs = pairwise(_outcomes(), PARTIES)
    assert len(pairs) == 3 * 3  # three pairs, pooled and per role
    # B - A pooled: 0.4 - 0.35 = 0.05; each has six strata with s^2 = 0.02 over n = 2, so each squared
    # SE is 6 * 0.01 / 36 and the difference's SE is sqrt(0.12) / 6: t = 0.3 / sqrt(0.12) = 0.866;
    # df = (12 a)^2 / (12 a^2 / 1) = 12
    row = pairs[(pairs.role == "pooled") & (pairs.strategy_a == "B") & (pairs.strategy_b == "A")].iloc[0]
    assert row["difference"] == pytest.approx(0.05)
    assert row["t"] == pytest.approx(0.3 / np.sqrt(0.12))
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(0.3 / np.sqrt(0.12), 12))
    # as Japan, C has no variance and A has three strata with s^2 = 0.02: SE = sqrt(0.03) / 3, t = 0.3 / SE
    row = pairs[(pairs.role == "japan") & (pairs.strategy_a == "A") & (pairs.strategy_b == "C")].iloc[0]
    assert row["t"] == pytest.approx(0.3 / (np.sqrt(0.03) / 3))
    for _, family in pairs.groupby("role"):
        assert family["p_holm"].to_numpy() == pytest.approx(holm(family["p_value"].to_numpy()))
        assert (family["significant"] == (family["p_holm"] <= 0.05)).all()


def test_what_is_not_a_tournament_and_the_files_written(tmp_path):
    o = _outcomes()
    assert not_a_tournament(o, PARTIES) is None
    assert "at least 3 strategies" in not_a_tournament(o[o.us_strategy != "C"], PARTIES)
    missing = o[~((o.us_strategy == "A") & (o.japan_strategy == "B"))]
    assert "8 of the 9" in not_a_tournament(missing, PARTIES)
    with pytest.raises(NotATournament):
        write(o[o.us_strategy != "C"], [("us", "United States"), ("japan", "Japan")], tmp_path)
    assert not any(tmp_path.iterdir())  # nothing written for a run that is not a tournament
    written = write(o, [("us", "United States"), ("japan", "Japan")], tmp_path)
    assert {p.name for p in written} == {"ranking.csv", "pairwise.csv", "ranking.png", "ranking.svg"}
    assert list(pd.read_csv(tmp_path / "ranking.csv")["strategy"]) == ["B", "A", "C"]
    with Image.open(tmp_path / "figures" / "ranking.png") as image:
        assert image.info["dpi"][0] >= 149.9 and image.size[0] >= 600



@pytest.fixture
def only_the_ranking(monkeypatch):
    """``draw_all`` with only the ranking registered (the other figures have their own tests)."""
    import sim.report.plots

    monkeypatch.setattr(sim.report.plots, "FIGURES", {"ranking": sim.report.plots.FIGURES["ranking"]})


def _run(tmp_path, *overrides):
    from sim.cli import run_experiment
    from tests.conftest import compose_config

    cfg = compose_config("run.workers=1", "run.progress=false", "run.plot=false", *overrides)
    run_experiment(cfg, tmp_path)


def test_plot_writes_the_ranking_of_a_tournament_run(tmp_path, capsys, only_the_ranking):
    from sim.cli import plot

    names = ["boulware", "conceder", "hardliner"]
    pairs = ",".join(f"[{a},{b}]" for a, b in itertools.product(names, names))
    _run(tmp_path, "run.seeds=4", f"sweep.pairs=[{pairs}]")
    assert not (tmp_path / "ranking.csv").exists()
    assert plot(tmp_path) == 0  # the same draw_all as at the end of a run
    assert "ranking" in capsys.readouterr().out.splitlines()[0]  # listed among the figures drawn
    table = pd.read_csv(tmp_path / "ranking.csv")
    assert sorted(table["strategy"]) == names
    assert (table["negotiations"] == 2 * 3 * 4).all()  # both roles x three opponents x four seeds
    assert (tmp_path / "pairwise.csv").exists() and (tmp_path / "figures" / "ranking.png").exists()


def test_a_run_that_is_not_a_tournament_says_why_it_has_no_ranking(tmp_path, capsys, only_the_ranking):
    from sim.cli import plot

    _run(tmp_path, "run.seeds=2")
    assert plot(tmp_path) == 0
    assert "skipped ranking: a tournament needs at least 3 strategies on each side" in capsys.readouterr().out
    assert not (tmp_path / "ranking.csv").exists()


def test_samples_without_variance_differ_surely_unless_equal():
    from sim.report.ranking import stratified_test

    zeros, ones = [np.zeros(3), np.zeros(4)], [np.ones(3), np.ones(2)]
    assert stratified_test(zeros, ones) == (-np.inf, 0.0)
    assert stratified_test(zeros, zeros) == (0.0, 1.0)
    assert all(np.isnan(stratified_test([np.zeros(1)], ones)))  # one negotiation: no variance estimate
