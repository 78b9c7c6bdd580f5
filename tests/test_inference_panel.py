"""Calibration on the panel (sim/inference): which observations a date selects, their scales, the summaries by
hand, and a small calibration's files and determinism (wiring: the numbers of a real calibration are in
docs/calibrate.md, not asserted)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.inference.observations import Observation, observations
from sim.inference.summaries import gaps

SETTINGS = {"max_rounds": 60}


@pytest.fixture(scope="module")
def configs():
    from sim.inference.ensemble import case_config

    return {case: case_config(case, None, SETTINGS)
            for case in ("us_uk_2025", "us_china_2025", "us_vietnam_2025", "us_indonesia_2025")}


def test_observations_by_date(configs):
    cases = lambda day, **kw: sorted({o.case for o in observations(configs, day, **kw)})  # noqa: E731
    assert cases(dt.date(2025, 5, 7)) == []
    assert cases(dt.date(2025, 5, 8)) == ["us_uk_2025"]
    assert cases(dt.date(2025, 5, 8), before=True) == []
    assert cases(dt.date(2025, 6, 26)) == ["us_china_2025", "us_uk_2025"]
    assert cases(dt.date(2025, 7, 15)) == ["us_china_2025", "us_indonesia_2025", "us_uk_2025", "us_vietnam_2025"]
    assert cases(dt.date(2025, 7, 15), before=True) == ["us_china_2025", "us_uk_2025", "us_vietnam_2025"]


def test_observation_scales_by_hand(configs):
    obs = {o.term: o for o in observations(configs, dt.date(2025, 5, 8))}
    # the UK's cars: 10 % on the range [2.5, 27.5] (conf/scenario/us_uk_2025.yaml)
    assert obs["cars"].scaled == pytest.approx((10 - 2.5) / 25)
    assert obs["uk_farm_tariff"].scaled == 0.0
    assert obs["deal"].value == 1.0 and obs["deal"].date == dt.date(2025, 5, 8)
    # date: one day after the origin (7 May); the horizon is 24 Mar 2025 + 60 weeks (420 days) = 18 May 2026,
    # 365 + 11 = 376 days after 7 May
    assert obs["date"].value == 1.0 and obs["date"].high == 376


def test_gaps_by_hand():
    start = dt.date(2025, 5, 7)
    observed = [Observation("c", "cars", 10.0, 0.0, 20.0, start, ""),
                Observation("c", "deal", 1.0, 0.0, 1.0, start, ""),
                Observation("c", "date", 1.0, 0.0, 100.0, start, "")]
    out = pd.DataFrame({"deal": [True, False], "cars": [15.0, np.nan], "end_date": ["2025-05-17", "2025-06-01"]})
    g = gaps(observed, out, start)
    # a deal at 15 on [0, 20] against 10: +0.25; no deal: the far end of the range from 0.5, i.e. 1 - 0.5 = +0.5
    np.testing.assert_allclose(g[:, 0], [0.25, 0.5])
    np.testing.assert_allclose(g[:, 1], [0.0, -1.0])
    # 10 days after the origin against 1: +0.09; no deal: the horizon, (100 - 1) / 100
    np.testing.assert_allclose(g[:, 2], [0.09, 0.99])


def test_small_calibration_files_and_determinism(configs, tmp_path):
    from sim.inference.calibrate import calibrate, load_settings
    from sim.inference.ensemble import case_config
    from sim.inference.observations import origin
    from sim.inference.posterior import read, write

    settings = load_settings({"cases": ["us_uk_2025"], "particles": 12, "generations": 1, "moves": 1})
    uk = {"us_uk_2025": case_config("us_uk_2025", origin(configs["us_uk_2025"]), settings)}
    first = calibrate(dt.date(2025, 6, 26), settings, configs=dict(uk))
    write(first, tmp_path / "a", figures=False)
    second = calibrate(dt.date(2025, 6, 26), settings, configs=dict(uk))
    write(second, tmp_path / "b", figures=False)
    assert (tmp_path / "a" / "posterior.parquet").read_bytes() == (tmp_path / "b" / "posterior.parquet").read_bytes()
    post, diag = read(tmp_path / "a")
    assert list(post.columns) == [p["column"] for p in diag["parameters"]] + ["weight"]
    assert "payoff_us_revenue_weight" in post and "payoff_uk_lost_sales_margin" in post
    assert post["weight"].sum() == pytest.approx(1.0)
    assert {o["case"] for o in diag["observations"]} == {"us_uk_2025"}
    assert diag["simulations"] == 12 + 6  # the prior sample, then half the particles moved once
    ppc = pd.read_csv(tmp_path / "a" / "ppc.csv")
    assert list(ppc.columns) == ["case", "term", "observed", "p10", "p50", "p90", "inside"]
    assert len(ppc) == len(diag["observations"])
    ok = ppc.dropna()
    assert ((ok["p10"] <= ok["p50"]) & (ok["p50"] <= ok["p90"])).all()
    assert (ok["inside"] == ((ok["p10"] <= ok["observed"]) & (ok["observed"] <= ok["p90"]))).all()


@pytest.mark.parametrize("args, key", [(["scenario.as_of=2025-02-30"], "scenario.as_of"),
                                       ([], "scenario.as_of: required"),
                                       (["scenario.as_of=2025-06-26", "calibrate.particles=0"], "calibrate.particles"),
                                       (["scenario.as_of=2025-06-26", "calibrate.bogus=1"], "calibrate.bogus")])
def test_calibrate_bad_input_one_line_exit_2(args, key, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "sim", "calibrate", *args, "--out", str(out)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and key in lines[0]
    assert not out.exists()


def test_read_refuses_what_is_not_a_posterior(tmp_path):
    from sim.inference.posterior import read

    with pytest.raises(ValueError, match="no posterior.parquet"):
        read(tmp_path)
    pd.DataFrame({"a": [1.0], "weight": [-1.0]}).to_parquet(tmp_path / "posterior.parquet")
    (tmp_path / "diagnostics.json").write_text('{"parameters": [{"column": "a"}]}')
    with pytest.raises(ValueError, match="weights"):
        read(tmp_path)


def test_nothing_observed_posterior_is_the_prior_sample(configs):
    from sim.inference.abc import BoxPrior
    from sim.inference.calibrate import calibrate, load_settings

    settings = load_settings({"cases": ["us_uk_2025"], "particles": 12, "generations": 2, "moves": 1})
    cal = calibrate(dt.date(2025, 5, 1), settings, configs={"us_uk_2025": configs["us_uk_2025"]})
    assert cal.observed == [] and cal.ppc.empty
    assert all(g.threshold == 0.0 for g in cal.result.generations)
    # the prior sample of abc_smc: uniforms of the seed's generator through the prior's inverse distribution function
    params = cal.simulator.params
    u = np.random.default_rng(int(settings["seed"])).random((12, len(params)))
    prior = BoxPrior(np.array([p.lo for p in params]), np.array([p.hi for p in params]),
                     np.array([p.mode for p in params]))
    np.testing.assert_allclose(cal.result.theta, prior.ppf(u), rtol=1e-9)
