"""The forecast's tables and the summary's medians taken over groups numbered once equal the same numbers taken
group by group (a vantage date's worlds, a grid point's negotiations) with a plain loop over the groups."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim.domain.calendar import round_date
from sim.report.forecast import BANDS, deal_by_date, forecast_table
from sim.report.summary import by_pair, by_point

ISSUES = [("tariff", "pp"), ("purchases", "USD bn")]
START = dt.date(2025, 4, 2)


def _worlds(n: int, vantages: list[str], seed: int, no_deal_at: str | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vantage = rng.choice(vantages, n)
    deal = rng.random(n) < 0.6
    if no_deal_at is not None:
        deal[vantage == no_deal_at] = False
    end_round = rng.integers(1, 30, n)
    return pd.DataFrame({
        "as_of": pd.Categorical(vantage), "deal": deal, "end_round": end_round.astype(np.int32),
        "end_date": [d.astype(dt.date) for d in round_date(end_round, START, 7)],
        "tariff": rng.normal(15, 5, n).round(3), "purchases": rng.exponential(100, n)})


def _reference_forecast(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per vantage date, its worlds and their deals taken out, then each term's percentiles."""
    vantage = outcomes["as_of"].astype(str)
    rows = []
    for v in sorted(vantage.unique()):
        o = outcomes[vantage == v]
        deals = o[o["deal"]]
        base = {"vantage": v, "worlds": len(o), "deals": len(deals), "deal_rate": round(len(deals) / len(o), 4)}
        for name, unit in ISSUES:
            values = deals[name].to_numpy(dtype=float)
            q = np.quantile(values, list(BANDS.values())) if len(values) else [np.nan] * len(BANDS)
            rows.append(base | {"term": name, "unit": unit} | {k: round(float(x), 2) for k, x in zip(BANDS, q)})
        days = np.array([d.toordinal() - dt.date(1970, 1, 1).toordinal() for d in deals["end_date"]])
        q = np.quantile(days, list(BANDS.values()), method="inverted_cdf") if len(days) else None
        dates = {k: "" if q is None else (dt.date(1970, 1, 1) + dt.timedelta(days=int(x))).isoformat()
                 for k, x in zip(BANDS, q if q is not None else [0] * len(BANDS))}
        rows.append(base | {"term": "agreement_date", "unit": "date"} | dates)
    return pd.DataFrame(rows, columns=["vantage", "term", "unit", "worlds", "deals", "deal_rate", *BANDS])


@pytest.mark.parametrize("dates_as", ["objects", "datetime64"])
def test_the_forecast_table_equals_the_percentiles_taken_date_by_date(dates_as):
    outcomes = _worlds(3000, ["2025-06-26", "2025-05-01", "2025-07-03"], 1, no_deal_at="2025-07-03")
    expected = _reference_forecast(outcomes)
    if dates_as == "datetime64":
        outcomes["end_date"] = pd.to_datetime(outcomes["end_date"])
    table = forecast_table(outcomes, ISSUES, {})
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    assert (table.loc[table["vantage"] == "2025-07-03", "median"] == "").sum() == 1  # no deal: empty dates


def test_one_vantage_date_without_a_column_is_the_runs_own():
    outcomes = _worlds(500, ["2025-06-26"], 2).drop(columns="as_of")
    table = forecast_table(outcomes, ISSUES, {"scenario": {"as_of": "2025-06-26"}})
    expected = _reference_forecast(outcomes.assign(as_of="2025-06-26"))
    pd.testing.assert_frame_equal(table, expected, check_exact=True)


def test_deal_by_date_counts_the_worlds_agreed_by_each_round():
    outcomes = _worlds(2000, ["2025-06-26", "2025-05-01"], 3)
    firsts = {"2025-06-26": 13, "2025-05-01": 5}
    meetings = {"2025-05-01": (dt.date(2025, 4, 9), dt.date(2025, 4, 20))}
    table = deal_by_date(outcomes, {}, START, 7, firsts, 30, meetings)
    rows = []
    for v in ["2025-05-01", "2025-06-26"]:  # by hand: per round, the share of the date's worlds agreed by then
        o = outcomes[outcomes["as_of"].astype(str) == v]
        for r in range(firsts[v], 31):
            day = round_date(np.array([r]), START, 7, meetings.get(v, ()))[0].astype(dt.date)
            share = sum(bool(d) and e <= r for d, e in zip(o["deal"], o["end_round"])) / len(o)
            rows.append({"vantage": v, "round": r, "date": day.isoformat(), "p_deal_by": round(share, 4)})
    pd.testing.assert_frame_equal(table, pd.DataFrame(rows), check_exact=True)


def _negotiations(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    us = rng.choice(["boulware", "conceder", "tit_for_tat"], n)
    deal = rng.random(n) < 0.5
    deal[us == "tit_for_tat"] = False  # a strategy without a deal: its medians over the deals are empty
    escalation = rng.choice([0.0, 14.0, np.nan], n)  # a missing key is a group of its own
    return pd.DataFrame({
        "us_strategy": pd.Categorical(us), "other_strategy": pd.Categorical(rng.choice(["boulware", "linear"], n)),
        "escalation": escalation, "deal": deal, "zopa": rng.random(n) < 0.8, "partial_deal": rng.random(n) < 0.1,
        "end_reason": pd.Categorical(np.where(deal, "agreement", "deadline")),
        "end_round": rng.integers(1, 20, n).astype(np.int32), "tariff": rng.normal(10, 3, n),
        "purchases": rng.normal(50, 9, n), "us_utility": rng.random(n), "other_utility": rng.random(n),
        "us_payoff": rng.normal(0, 5, n), "other_payoff": rng.normal(0, 5, n), "welfare": rng.random(n) * 2})


class _Space:
    names = ["tariff", "purchases"]
    issues = [type("I", (), {"name": n, "unit": u})() for n, u in ISSUES]


def _by_hand(frame: pd.DataFrame, keys: list[str], row: pd.Series) -> pd.DataFrame:
    mask = np.logical_and.reduce([(frame[k].astype(object) == row[k]).to_numpy() if pd.notna(row[k])
                                  else frame[k].isna().to_numpy() for k in keys])
    return frame[mask]


def test_the_medians_per_grid_point_are_each_points_own():
    frame = _negotiations(4000, 4)
    keys = ["us_strategy", "other_strategy", "escalation"]
    table = by_point(frame, keys, _Space(), rounded=False)
    assert len(table) == 3 * 2 * 3 and table["runs"].sum() == len(frame)
    for _, row in table.iterrows():
        group = _by_hand(frame, keys, row)
        deals = group[group["deal"]]
        assert row["runs"] == len(group) and row["deals"] == len(deals)
        for column, over in (("median_round", deals["end_round"]), ("median_tariff", deals["tariff"]),
                             ("median_purchases", deals["purchases"]), ("median_us_utility", group["us_utility"]),
                             ("median_welfare", group["welfare"])):
            expected = float(np.median(over.to_numpy(dtype=float))) if len(over) else np.nan
            assert row[column] == expected or (np.isnan(expected) and np.isnan(row[column])), column


def test_the_medians_and_means_per_strategy_pair_are_each_pairs_own():
    frame = _negotiations(3000, 5)
    table = by_pair(frame, _Space())
    keys = ["us_strategy", "other_strategy"]
    assert len(table) == 6
    for index, row in table.iterrows():
        group = _by_hand(frame, keys, pd.Series(dict(zip(keys, index))))
        deals = group[group["deal"]]
        assert row["runs"] == len(group)
        assert row["us_utility"] == float(np.median(group["us_utility"]))
        assert row["us_utility_mean"] == pytest.approx(group["us_utility"].mean(), rel=1e-12)
        expected = float(np.median(deals["tariff"])) if len(deals) else np.nan
        assert row["tariff"] == expected or (np.isnan(expected) and np.isnan(row["tariff"]))
