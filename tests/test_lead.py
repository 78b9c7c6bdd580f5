"""The terminal summary leads with the result the run exists for, and labels utilities over deals and over all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import plan
from sim.report.summary import lead, median_interval, report, wilson_interval
from tests.conftest import compose_config


@pytest.fixture(scope="module")
def structure():
    return plan(compose_config("run.seeds=1")).points[0].structure


def _outcomes() -> pd.DataFrame:
    # deadline 5: 10 worlds, 4 deals (3 in the deadline round); deadline 9: 10 worlds, 8 deals (2 in it)
    rows = []
    for deadline, deals, last in ((5, 4, 3), (9, 8, 2)):
        for k in range(10):
            deal = k < deals
            rows.append({"us_strategy": "boulware", "japan_strategy": "boulware", "deadline_round": deadline,
                         "deal": deal, "final_deadline": deadline,
                         "end_round": deadline if k < last else deadline - 2,
                         "reciprocal": 10.0 + k if deal else np.nan})
    return pd.DataFrame(rows)


def test_the_lead_gives_rates_and_medians_with_their_intervals_by_hand(structure):
    text = lead(_outcomes(), {"deadline_round": "scenario.deadline.round", "us_strategy": "strategy@us"},
                structure)
    lo, hi = wilson_interval(4, 10)
    assert f"40% [{float(lo):.0%}, {float(hi):.0%}]" in text  # deadline 5: 4 of 10 deals
    lo, hi = wilson_interval(3, 4)
    assert f"75% [{float(lo):.0%}, {float(hi):.0%}]" in text  # 3 of its 4 deals in the deadline round
    m, lo, hi = median_interval([10.0 + k for k in range(8)])  # deadline 9: the 8 agreed tariffs 10..17
    assert m == 13.5 and f"{m:.1f} [{lo:.1f}, {hi:.1f}]" in text
    assert text.startswith("by scenario.deadline.round")


def test_no_lead_without_a_swept_number(structure):
    outcomes = _outcomes().drop(columns="deadline_round")
    assert lead(outcomes, {"us_strategy": "strategy@us"}, structure) == ""


def test_utilities_are_given_over_the_deals_and_over_all_negotiations_labelled(structure):
    o = _outcomes()
    for name in structure.space.names:
        if name not in o:
            o[name] = np.where(o["deal"], 1.0, np.nan)
    o = o.assign(us_utility=lambda f: np.where(f["deal"], 0.5, 0.1),
                           japan_utility=lambda f: np.where(f["deal"], 0.9, 0.7),
                           partial_deal=False, end_reason="deadline", us_payoff=1.0, japan_payoff=-1.0, welfare=1.0)
    text = report(o, structure.space, 1.0, {"us": "US", "japan": "JP"})
    assert "median utility over the deals: US 0.50, JP 0.90" in text
    # 12 of 20 worlds agree: the mean over all is 0.6 * 0.5 + 0.4 * 0.1 = 0.34 for US
    assert "median utility US (deals)" in text and "mean utility US (all)" in text
    row = next(line for line in text.splitlines() if line.startswith("boulware (US)"))
    assert row.split()[-4:] == ["0.50", "0.34", "0.90", "0.82"]


def test_a_run_without_deals_says_so_instead_of_failing(structure):
    outcomes = _outcomes().assign(deal=False, reciprocal=np.nan)
    text = lead(outcomes, {"deadline_round": "scenario.deadline.round"}, structure)
    assert "deal rate [95% CI]" in text and "0% [" in text
    assert "deals struck in the deadline round [95% CI]: no deals" in text
