"""Published no-deal loss estimates as dated observations, and the model's no-deal loss, by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from sim.inference.losses import estimate_date, loss_observations, model_loss_pct


@pytest.mark.parametrize("source, day", [("Winchester (AUT) model, ≈4 Apr 2025 (VN §6)", dt.date(2025, 4, 4)),
                                         ("Maybank, ≈4-7 Apr 2025 (VN §6)", dt.date(2025, 4, 7)),
                                         ("VNDIRECT, ≈Apr 2025 (VN §6)", dt.date(2025, 4, 30)),
                                         ("Can Van Luc, 10 May 2025", dt.date(2025, 5, 10)),
                                         ("Nikkei estimate (DOMAIN §4a, [UNCERTAIN])", None)])
def test_estimate_date_is_the_latest_day_the_source_allows(source, day):
    assert estimate_date(source) == day


def test_vietnam_loss_by_hand():
    from sim.inference.ensemble import case_config

    cfg = case_config("us_vietnam_2025", dt.date(2025, 7, 1), {"max_rounds": 60})
    obs = loss_observations("us_vietnam_2025", cfg)
    assert [o.value for o in obs] == [0.99, 1.0, 2.5, 2.0, 5.5, 7.25]  # the middles of the recorded ranges
    assert max(o.date for o in obs) == dt.date(2025, 5, 10)
    # without volume effects (elasticity 0) the loss is the absorbed share of the bill at the no-deal tariff:
    # reciprocal 10 % + the 36 pp escalation of 9 Jul = 46 % on $136.8 bn, (1 - 0.6) x 0.46 x 136.8 = 25.17 bn,
    # over GDP $505 bn (0.505 tn at a rate of 1) = 4.984 %
    point = {"scenario.stakes.elasticity.other_goods": 0.0, "scenario.payoff.pass_through": 0.6}
    (got,) = model_loss_pct(cfg, [point])
    assert got == pytest.approx(100 * 0.4 * 0.46 * 136.8 / 505.0, rel=1e-9)
