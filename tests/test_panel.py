"""The panel of 2025 US arrangements (issue 21, items 5-7): each case runs, records its arrangement as dated data
with a source, uses only facts dated on or before its cut, and its individual-rationality share is a direct count
of the hand-computed gains over the same prior draws."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.config import plan
from sim.config.priors import draw
from sim.config.values import flatten
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds
from sim.report.panel import rationality
from tests.conftest import compose_config

ROOT = Path(__file__).resolve().parent.parent
# case -> (fact sheet, the last date a fact may carry: the arrangement's day, or 15 Jul for the forecast case)
CASES = {
    "us_uk_2025": ("us_uk.md", "2025-05-08"),
    "us_vietnam_2025": ("us_vietnam.md", "2025-07-02"),
    "us_indonesia_2025": ("us_indonesia.md", "2025-07-15"),
    "us_eu_2025": ("us_eu.md", "2025-07-15"),
    "us_china_2025": ("us_china.md", "2025-05-12"),
}


def _cfg(case: str, *overrides: str) -> dict:
    return OmegaConf.to_container(compose_config(f"scenario={case}", *overrides), resolve=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_case_runs_and_has_its_fact_sheet_and_gallery_page(case):
    point = plan(compose_config(f"scenario={case}")).points[0]
    model = NegotiationModel(point.structure, stack([point.inputs] * 8), world_seeds(3, np.arange(8)))
    model.run_model()
    assert len(model.outcomes()["deal"]) == 8
    sheet, _ = CASES[case]
    assert (ROOT / "docs" / "cases" / sheet).is_file()
    assert (ROOT / "experiments" / sheet).is_file()  # the gallery page has the fact sheet's name


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_dated_fact_is_on_or_before_the_cut(case):
    _, cut = CASES[case]
    scenario = _cfg(case)["scenario"]
    dates = [scenario["calendar"]["start_date"]]
    dates += [v["known"] for values in scenario.get("facts", {}).get("tariffs", {}).values() for v in values]
    dates += [d["known"] for d in scenario.get("facts", {}).get("deadlines", [])]
    dates += [e["announced"] for e in scenario.get("schedule") or []]
    assert dates and max(dt.date.fromisoformat(d) for d in dates) <= dt.date.fromisoformat(cut)


@pytest.mark.parametrize("case", ["us_uk_2025", "us_vietnam_2025", "us_indonesia_2025", "us_china_2025"])
def test_the_arrangement_is_recorded_as_dated_data_with_its_source(case):
    scenario = _cfg(case)["scenario"]
    arrangement = scenario["evidence"]["arrangement"]
    assert arrangement["date"] == CASES[case][1] and arrangement["source"]
    assert set(arrangement["terms"]) <= set(scenario["issues"])
    for name, term in arrangement["terms"].items():  # a term lies in its issue's range, with a note
        issue = scenario["issues"][name]
        assert issue["min"] <= term["value"] <= issue["max"] and term["note"], name
    assert arrangement["not_represented"]  # what the model cannot represent is listed, not forced


def test_the_forecast_case_records_no_outcome_and_cuts_to_the_letter_of_12_july():
    cfg = _cfg("us_eu_2025")
    assert "arrangement" not in cfg["scenario"].get("evidence", {})
    point = plan(compose_config("scenario=us_eu_2025", "scenario.as_of=2025-07-15")).points[0]
    # from 15 Jul: the deadline is 1 Aug with the letter's 30 % (20 pp over the baseline); 7 Apr + 16 weeks = 28 Jul
    # is the last round on or before 1 Aug
    assert float(point.inputs.escalation) == 20.0 and float(point.inputs.deadline) == 17
    before = plan(compose_config("scenario=us_eu_2025", "scenario.as_of=2025-05-26")).points[0]
    assert float(before.inputs.escalation) == 40.0  # the 50 % threat postponed to 9 Jul on 25 May


def _vietnam_gain(v: dict[str, float], terms: tuple[float, float, float], none: tuple[float, float, float]):
    """Both sides' gains of the terms (reciprocal, Vietnam's tariff, farm purchases) over no deal, by the payoff's
    formula (sim/domain/payoffs/tariffs.py docstring), from the values of one draw."""
    phi, eps = v["scenario.payoff.pass_through"], v["scenario.stakes.elasticity.other_goods"]
    big, small = v["scenario.stakes.exports_usd_bn.other_goods"], 13.1

    def pay(t, a, y):
        s_t, s_a = (1 + phi * t / 100) ** -eps, (1 + phi * a / 100) ** -eps
        bill_t, bill_a = t / 100 * big * s_t, a / 100 * small * s_a
        d = v["scenario.payoff.pledges.purchase_intentions.delivery"]
        us = ((v["scenario.payoff.us.revenue_weight"] - v["scenario.payoff.us.consumer_cost_weight"] * phi) * bill_t
              - v["scenario.payoff.us.market_access_weight"]
              * ((1 - phi) * bill_a + v["scenario.payoff.us.lost_sales_margin"] * small * (1 - s_a))
              + (v["scenario.payoff.us.purchase_value"] * d + v["scenario.payoff.us.headline_value"]) * y)
        vn = (-(1 - phi) * bill_t - v["scenario.payoff.vietnam.lost_sales_margin"] * big * (1 - s_t)
              + (v["scenario.payoff.vietnam.revenue_weight"] - v["scenario.payoff.vietnam.consumer_cost_weight"] * phi)
              * bill_a - v["scenario.payoff.vietnam.purchase_cost.agriculture"] * d * y)
        return us, vn

    (us1, vn1), (us0, vn0) = pay(*terms), pay(*none)
    return us1 - us0, vn1 - vn0


def test_the_rationality_share_is_the_direct_count_of_hand_computed_gains():
    """US-Vietnam: terms 20 %, 0 %, $2 bn/yr against no deal at 46 % (10 + 36), Vietnam's tariff in force, no
    purchases; the share where each side gains, counted over the same 200 draws as the module draws."""
    cfg = _cfg("us_vietnam_2025")
    found = rationality(cfg, draws=200, seed=11)
    defaults = {k: v for k, v in flatten(cfg["scenario"], "scenario").items() if isinstance(v, (int, float))}
    us_ok = vn_ok = both = 0
    for point in draw(cfg, 200, 11, set()):
        v = {**defaults, **point}
        sq = v["scenario.issues.vn_tariff.status_quo"]
        g_us, g_vn = _vietnam_gain(v, (20.0, 0.0, 2.0), (10.0 + v["scenario.escalation"], sq, 0.0))
        us_ok += g_us >= 0
        vn_ok += g_vn >= 0
        both += g_us >= 0 and g_vn >= 0
    assert found.share == {"us": us_ok / 200, "vietnam": vn_ok / 200}
    assert found.both == both / 200
    assert found.draws == 200

