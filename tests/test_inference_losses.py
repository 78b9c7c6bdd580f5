"""Published no-deal loss estimates as dated observations, and the model's no-deal loss, by hand."""

from __future__ import annotations

import calendar
import datetime as dt
import re

import pytest
import yaml

from sim.inference.losses import estimate_date, loss_observations, model_loss_pct


# The dates were read out of the source strings by regular expressions before they were recorded as typed ISO dates
# (issue 20: no regex over YAML text in sim/). This is that reading, kept here only to show that the recorded
# dates are the same days: the latest day each source's text allows ("Apr 2025" -> 30 April, "4-7 Apr" -> 7 April).
_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
_DAY = re.compile(r"(\d{1,2})(?:\s*[-–]\s*(\d{1,2}))?\s+(" + "|".join(_MONTHS) + r")[a-z]*\.?\s+(20\d\d)")
_MONTH = re.compile(r"\b(" + "|".join(_MONTHS) + r")[a-z]*\.?\s+(20\d\d)")


def _old_reading(source: str) -> dt.date | None:
    found = _DAY.search(source)
    if found:
        return dt.date(int(found[4]), _MONTHS[found[3]], int(found[2] or found[1]))
    found = _MONTH.search(source)
    if found:
        year, month = int(found[2]), _MONTHS[found[1]]
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return None


@pytest.mark.parametrize("source, day", [("Winchester (AUT) model, ≈4 Apr 2025 (VN §6)", dt.date(2025, 4, 4)),
                                         ("Maybank, ≈4-7 Apr 2025 (VN §6)", dt.date(2025, 4, 7)),
                                         ("VNDIRECT, ≈Apr 2025 (VN §6)", dt.date(2025, 4, 30)),
                                         ("Can Van Luc, 10 May 2025", dt.date(2025, 5, 10)),
                                         ("KIET, Nov 2024 (DOMAIN_us_korea §4a)", dt.date(2024, 11, 30)),
                                         ("Nikkei estimate (DOMAIN §4a, [UNCERTAIN])", None)])
def test_the_old_reading_by_hand(source, day):
    assert _old_reading(source) == day


def _estimates():
    """Every recorded loss estimate of every scenario, read as plain YAML."""
    from sim.resources import conf_dir

    for path in sorted((conf_dir() / "scenario").glob("*.yaml")):
        node = ((yaml.safe_load(path.read_text()) or {}).get("evidence") or {}).get("no_deal_gdp") or {}
        for e in node.get("estimates") or []:
            yield path.stem, e


def test_typed_dates_are_the_days_the_sources_allow():
    estimates = list(_estimates())
    assert {case for case, _ in estimates} >= {"us_vietnam_2025"}  # the panel case with loss estimates
    for case, e in estimates:
        assert estimate_date(e) == _old_reading(e["source"]), (case, e["source"])
        assert e.get("date") is None or isinstance(e["date"], str)  # quoted: the same text whatever the loader


def test_a_bad_date_is_named():
    with pytest.raises(ValueError, match="date '4 Apr' of 'X'"):
        estimate_date({"source": "X", "date": "4 Apr"})


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
