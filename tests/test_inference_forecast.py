"""``forecast.source=posterior``: the ensemble's fitted keys come from a calibration folder (read as data), the
others from their priors; a posterior dated after the vantage date, or a folder that is not one, is refused."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim.config.compose import compose_config
from sim.config.sweep import plan
from sim.config.values import ConfigError

KEY = "scenario.payoff.us.revenue_weight"


def _folder(tmp_path, as_of="2025-06-26", weights=(0.0, 1.0)):
    pd.DataFrame({"payoff_us_revenue_weight": [0.6, 1.4], "payoff_uk_lost_sales_margin": [0.2, 0.3],
                  "weight": list(weights)}).to_parquet(tmp_path / "posterior.parquet")
    (tmp_path / "diagnostics.json").write_text(json.dumps({"as_of": as_of, "parameters": [
        {"column": "payoff_us_revenue_weight", "keys": {"us_uk_2025": KEY, "us_china_2025": KEY}},
        {"column": "payoff_uk_lost_sales_margin", "keys": {"us_uk_2025": "scenario.payoff.uk.lost_sales_margin"}}]}))
    return tmp_path


def _cfg(*overrides):
    cfg = OmegaConf.to_container(compose_config("scenario=us_japan_2025", "+experiment=forecast", "sweep.sample.n=40",
                                                *overrides), resolve=True)
    cfg.pop("hydra", None)
    return cfg


def _columns(the_plan, key):
    from sim.config.sweep import column_name

    return np.concatenate([b.coordinates[key] for b in the_plan.points.blocks]), column_name(key)


def test_posterior_replaces_the_fitted_keys_only(tmp_path):
    folder = _folder(tmp_path)
    prior_plan = plan(_cfg("scenario.as_of=2025-06-26"))
    post_plan = plan(_cfg("scenario.as_of=2025-06-26", "forecast.source=posterior", f"forecast.calibration={folder}"))
    prior_w, _ = _columns(prior_plan, KEY)
    post_w, _ = _columns(post_plan, KEY)
    assert np.all(post_w == 1.4)  # the only particle with weight
    assert len(np.unique(prior_w)) == 40  # drawn from U[0.5, 1.5] as before
    other = "scenario.payoff.pass_through"  # not fitted by this posterior: the same prior draws
    np.testing.assert_array_equal(_columns(prior_plan, other)[0], _columns(post_plan, other)[0])


def test_posterior_resamples_by_weight(tmp_path):
    folder = _folder(tmp_path, weights=(0.25, 0.75))
    post_w, _ = _columns(plan(_cfg("scenario.as_of=2025-06-26", "forecast.source=posterior",
                                   f"forecast.calibration={folder}", "sweep.sample.n=200")), KEY)
    share = float(np.mean(post_w == 1.4))
    assert set(np.unique(post_w)) == {0.6, 1.4}
    assert abs(share - 0.75) < 4 * np.sqrt(0.75 * 0.25 / 200)  # binomial, 4 standard errors


def test_posterior_refused(tmp_path):
    late = _folder(tmp_path, as_of="2025-07-15")
    with pytest.raises(ConfigError, match="after the forecast's vantage date"):
        plan(_cfg("scenario.as_of=2025-06-26", "forecast.source=posterior", f"forecast.calibration={late}"))
    with pytest.raises(ConfigError, match="forecast.calibration.*no posterior.parquet"):
        plan(_cfg("scenario.as_of=2025-06-26", "forecast.source=posterior", f"forecast.calibration={tmp_path / 'x'}"))
    with pytest.raises(ConfigError, match="forecast.source"):
        plan(_cfg("forecast.source=posteriors"))


def test_posterior_refused_when_a_swept_vantage_date_is_earlier(tmp_path):
    """The check reads the grid's dates when the grid sweeps scenario.as_of, not the base scenario.as_of."""
    folder = _folder(tmp_path, as_of="2025-06-26")
    post = ("forecast.source=posterior", f"forecast.calibration={folder}")
    with pytest.raises(ConfigError, match=r"forecast.calibration.*sweep.grid.scenario.as_of=2025-05-03"):
        plan(_cfg("scenario.as_of=2025-07-15", "+sweep.grid.scenario.as_of=[2025-05-03,2025-07-15]", *post))
    # every swept date on or after the calibration's: accepted, whatever the base date
    ok = plan(_cfg("scenario.as_of=2025-05-03", "+sweep.grid.scenario.as_of=[2025-06-26,2025-07-15]", *post))
    assert np.all(_columns(ok, KEY)[0] == 1.4)


def test_posterior_refused_on_the_command_line_before_anything_is_written(tmp_path):
    import subprocess
    import sys

    (tmp_path / "cal").mkdir()
    folder = _folder(tmp_path / "cal", as_of="2025-06-26")
    runs = tmp_path / "runs"
    done = subprocess.run([sys.executable, "-m", "sim", "run", "scenario=us_japan_2025", "+experiment=forecast",
                           "+sweep.grid.scenario.as_of=[2025-05-03,2025-07-15]", "forecast.source=posterior", f"forecast.calibration={folder}", "sweep.sample.n=10",
                           f"hydra.run.dir={runs / 'x'}"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "forecast.calibration" in lines[0] and "2025-05-03" in lines[0]
    assert not runs.exists()
