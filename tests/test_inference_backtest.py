"""The backtest's scores (sim/inference/backtest.py), by hand: the interval score, the band rows, the summary."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim.inference.backtest import _rows, interval_score, scores
from sim.inference.observations import Observation


def test_interval_score_by_hand():
    # inside: the width; below by 2: width + (2 / 0.2) x 2; above by 1: width + 10 x 1
    np.testing.assert_allclose(interval_score(np.array([1.0, 1.0, 1.0]), np.array([3.0, 3.0, 3.0]),
                                              np.array([2.0, -1.0, 4.0])), [2.0, 22.0, 12.0])


def test_rows_by_hand():
    start = dt.date(2025, 5, 7)
    obs = [Observation("c", "cars", 10.0, 0.0, 100.0, start, "")]
    # eleven deals at 0, 10, ..., 100 and one world without a deal (left out of a term's quantiles)
    out = pd.DataFrame({"deal": [True] * 11 + [False], "cars": [*np.arange(0.0, 101.0, 10.0), np.nan],
                        "end_date": ["2025-05-10"] * 12})
    (row,) = _rows(obs, out, start, "posterior")
    assert (row["p10"], row["p50"], row["p90"]) == pytest.approx((10.0, 50.0, 90.0))
    assert row["inside80"] and not row["inside50"]  # 10 lies in [10, 90], not in [25, 75]
    assert row["band_share"] == pytest.approx(0.8)
    assert row["interval_score"] == pytest.approx(0.8)  # inside: the width, on the scale of 100


def test_scores_by_hand():
    table = pd.DataFrame({"source": ["posterior", "posterior", "prior"], "term": ["a", "b", "a"],
                          "inside80": [True, False, True], "inside50": [False, False, True],
                          "interval_score": [1.0, 3.0, 5.0], "band_share": [0.2, 0.4, 0.9]})
    got = scores(table).set_index("source")
    assert got.loc["posterior", "coverage80"] == 0.5 and got.loc["posterior", "interval_score"] == 2.0
    assert got.loc["prior", "coverage50"] == 1.0 and got.loc["prior", "observations"] == 1
