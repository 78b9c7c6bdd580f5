"""The per-point table (summary.csv), the terminal summary and the Wilson interval, against hand counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from sim.config import plan
from sim.report.summary import by_point, format_points, report, wilson_interval
from tests.conftest import compose_config

SPACE = plan(compose_config()).points[0].structure.space


def test_wilson_interval_matches_scipy_binomtest_on_many_pairs():
    ks, ns = [], []
    for n in [*range(1, 41), 57, 100, 999, 10_000]:
        for k in sorted({0, 1, 2, n // 7, n // 3, n // 2, n - 2, n - 1, n}):
            if 0 <= k <= n:
                ks.append(k)
                ns.append(n)
    for level in (0.9, 0.95, 0.99):
        low, high = wilson_interval(np.array(ks), np.array(ns), level)
        for k, n, lo, hi in zip(ks, ns, low, high, strict=True):
            ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
            assert lo == pytest.approx(ci.low, abs=1e-12) and hi == pytest.approx(ci.high, abs=1e-12), (k, n)
    assert np.isnan(wilson_interval([0], [0])).all()


def _outcomes() -> pd.DataFrame:
    """Two grid points (deadline 5 and 9) of 6 negotiations each, with hand-countable endings."""
    rows = []
    endings = {5: ["agreement", "agreement", "deadline", "deadline", "breakdown", "walk-away"],
               9: ["agreement"] * 5 + ["deadline"]}
    for deadline, ends in endings.items():
        for k, end in enumerate(ends):
            deal = end == "agreement"
            rows.append({"us_strategy": "boulware", "japan_strategy": "boulware", "deadline_round": deadline,
                         "deal": deal, "partial_deal": end == "deadline" and k == 2, "end_reason": end,
                         "end_round": 3 + k, "us_utility": 0.1 * k, "japan_utility": 0.9 - 0.1 * k,
                         "us_payoff": 10.0 + k, "japan_payoff": -20.0 - k, "welfare": 0.9,
                         **{name: (1.0 + k if deal else np.nan) for name in SPACE.names}})
    return pd.DataFrame(rows)


def test_summary_counts_endings_partial_deals_and_gives_medians():
    table = by_point(_outcomes(), ["us_strategy", "japan_strategy", "deadline_round"], SPACE)
    first = table.set_index("deadline_round").loc[5]
    assert (first["runs"], first["deals"]) == (6, 2)
    assert (first["ended_agreement"], first["ended_deadline"], first["ended_breakdown"],
            first["ended_walk_away"], first["ended_refused_protocol"]) == (2, 2, 1, 1, 0)
    assert first["partial_deals"] == 1
    assert first["median_round"] == 3.5  # deals end in rounds 3 and 4
    assert first["median_cars"] == 1.5  # deals at 1 and 2 pp
    assert first["median_us_utility"] == 0.25  # utilities 0, .1, ..., .5 over all six negotiations
    assert first["median_japan_payoff"] == -22.5
    assert first["median_welfare"] == 0.9
    # rounded to what the numbers mean: 4 decimals for shares
    low = first["deal_rate_low"]
    assert low == round(low, 4) and low == pytest.approx(wilson_interval([2], [6])[0][0], abs=5e-5)


def test_terminal_summary_names_both_strategies_and_the_deadline_round():
    outcomes = _outcomes()
    names = {"us": "US", "japan": "Japan"}  # the parties' display names, from the scenario
    text = report(outcomes, SPACE, 0.1, names)
    assert "boulware (US) vs boulware (Japan)" in text  # also for a single strategy pair
    assert "ended by: agreement 7, walk-away 1, deadline 3, breakdown 1; partial deals" in text
    assert "median utility US" in text and "joint welfare" in text
    coords = {"us_strategy": "us_strategy", "japan_strategy": "japan_strategy",
              "deadline_round": "scenario.deadline.round"}  # column -> its config key
    points = format_points(by_point(outcomes, list(coords), SPACE), coords, names=names)
    header = points.splitlines()[1]
    assert "US strategy" in header and "Japan strategy" in header  # not dropped when they are equal
    assert "deadline (round)" in header and " round " not in header.replace("agreement round", "")


def test_headings_never_show_a_bare_round():
    from sim.report.labels import heading

    assert heading("scenario.deadline.round") == "deadline (round)"
    # per-party keys: the registry's label, with the party's display name when it is known
    assert heading("scenario.sides.japan.deadline", {"japan": "Japan"}) == "Japan deadline (round)"
    assert heading("scenario.ratification.japan.threshold") == "japan ratification threshold (approval)"
    assert heading("some.other.round") == "other (round)"
