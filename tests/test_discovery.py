"""PRIM scenario discovery recovers a planted box, and conditions parse as documented.

The planted box: 4,000 points uniform on the unit cube in three dimensions; a point is a case with
probability 0.95 inside [0.2, 0.6] x [0.5, 0.9] (x3 free) and 0.05 outside. Asked for density 0.9, PRIM
must return that box within 0.05 on each limit (stated before measuring), leave x3 unrestricted, and
report coverage and density that match a direct count in the box it returns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.discovery import parse_condition, prim

BOX = {"x1": (0.2, 0.6), "x2": (0.5, 0.9)}
TOLERANCE = 0.05


def _planted(seed: int = 3, n: int = 4000) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, 3)), columns=["x1", "x2", "x3"])
    inside = np.logical_and.reduce([(x[k] >= lo) & (x[k] <= hi) for k, (lo, hi) in BOX.items()])
    y = rng.random(n) < np.where(inside, 0.95, 0.05)
    return x, y


def test_prim_recovers_the_planted_box():
    x, y = _planted()
    result = prim(x, y, threshold=0.9, condition="case")
    limits = result.limits.set_index("parameter")
    for k, (lo, hi) in BOX.items():
        assert limits.loc[k, "low"] == pytest.approx(lo, abs=TOLERANCE), k
        assert limits.loc[k, "high"] == pytest.approx(hi, abs=TOLERANCE), k
        assert limits.loc[k, "restricted"]
    assert not limits.loc["x3", "restricted"]
    # lifting either planted restriction would make the box's cases very unlikely at the relaxed density
    assert limits.loc["x1", "qp"] < 1e-6 and limits.loc["x2", "qp"] < 1e-6 and limits.loc["x3", "qp"] == 1
    # coverage, density and mass agree with a direct count of the points in the reported box
    box = np.logical_and.reduce([(x[k] >= limits.loc[k, "low"]) & (x[k] <= limits.loc[k, "high"]) for k in x])
    chosen = result.box
    assert chosen["coverage"] == pytest.approx(y[box].sum() / y.sum())
    assert chosen["density"] == pytest.approx(y[box].mean())
    assert chosen["mass"] == pytest.approx(box.mean())
    assert chosen["density"] >= 0.9


def test_trajectory_starts_from_everything_and_never_grows():
    x, y = _planted(seed=5, n=1500)
    t = prim(x, y).trajectory
    assert t["mass"].iloc[0] == 1.0 and t["coverage"].iloc[0] == 1.0
    assert t["density"].iloc[0] == pytest.approx(y.mean())
    assert (np.diff(t["mass"]) < 0).all()  # each step peels something
    assert (t["mass"] >= 0.05 - 1e-12).all()  # never below mass_min


def test_conditions():
    frame = pd.DataFrame({"deal": [True, False, True], "reciprocal": [15.0, np.nan, 10.0]})
    text, holds = parse_condition("no_deal", frame.columns)
    assert text == "no deal" and holds(frame).tolist() == [False, True, False]
    _, holds = parse_condition("reciprocal>=15", frame.columns)
    assert holds(frame).tolist() == [True, False, False]  # no value without a deal
    with pytest.raises(ValueError, match="no outcome column 'tariff'"):
        parse_condition("tariff>=15", frame.columns)
    with pytest.raises(ValueError, match="a condition is no_deal, deal, or OUTCOME OP NUMBER"):
        parse_condition("reciprocal is high", frame.columns)


def test_no_case_is_an_error():
    x, _ = _planted(n=100)
    with pytest.raises(ValueError, match="no negotiation meets the condition"):
        prim(x, np.zeros(100, dtype=bool))
