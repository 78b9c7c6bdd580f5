"""Sensitivity designs and indices, checked against the Ishigami function's closed-form indices.

Ishigami (1990): f(x) = sin x1 + a sin^2 x2 + b x3^4 sin x1, each x_i uniform on [-pi, pi], a = 7,
b = 0.1. Its variance decomposition is known in closed form (Saltelli et al. 2008, "Global Sensitivity
Analysis: The Primer", section 1.2.4):

    V1 = (1 + b pi^4 / 5)^2 / 2,   V2 = a^2 / 8,   V13 = 8 b^2 pi^8 / 225,   V3 = V12 = V23 = V123 = 0,
    V  = a^2 / 8 + b pi^4 / 5 + b^2 pi^8 / 18 + 1 / 2,
    S_i = V_i / V,  ST1 = (V1 + V13) / V,  ST2 = V2 / V,  ST3 = V13 / V.

Morris mu* is checked against the brute-force mean of |elementary effect| over every grid cell a
4-level Morris trajectory can step through (each equally likely). Tolerances are stated before
measuring: 0.03 (Sobol', N = 8192 base points), 0.05 (FAST, 1,000 points per parameter), 10 %
relative (Morris mu*, 1,000 trajectories).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sim.analysis.sensitivity import Design, indices, load_design, row_means, write_design
from sim.config import ConfigError
from sim.config.designs import design_rows, unit_design
from sim.config.sweep import MAX_GRID_POINTS, column_name, plan

A, B = 7.0, 0.1
PI = math.pi
V1 = (1 + B * PI**4 / 5) ** 2 / 2
V2 = A**2 / 8
V13 = 8 * B**2 * PI**8 / 225
V = A**2 / 8 + B * PI**4 / 5 + B**2 * PI**8 / 18 + 0.5
S1 = {"x1": V1 / V, "x2": V2 / V, "x3": 0.0}
ST = {"x1": (V1 + V13) / V, "x2": V2 / V, "x3": V13 / V}


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def _design(method: str, n: int, seed: int = 1) -> Design:
    unit = unit_design(method, 3, n, np.random.default_rng(seed))
    return Design(method=method, n=n, keys=["x1", "x2", "x3"], low=[-PI] * 3, high=[PI] * 3,
                  integer=[False] * 3, values=-PI + unit * 2 * PI, seeds=1)


def _by(records: list[dict], index: str) -> dict[str, float]:
    return {r["parameter"]: r["value"] for r in records if r["index"] == index}


def test_closed_form_adds_up():
    # the partial variances of the Ishigami function sum to its variance (no other terms)
    assert V1 + V2 + V13 == pytest.approx(V, rel=1e-12)


@pytest.mark.parametrize(("method", "n", "rows"), [("sobol", 8, 8 * (2 * 3 + 2)), ("morris", 5, 5 * 4),
                                                   ("fast", 65, 65 * 3)])
def test_design_rows_are_what_salib_draws(method, n, rows):
    assert design_rows(method, 3, n) == rows
    assert unit_design(method, 3, n, np.random.default_rng(0)).shape == (rows, 3)


def test_sobol_indices_match_ishigami():
    design = _design("sobol", 2**13)
    records, used, note = indices(design, ishigami(design.values), seed=0)
    assert used == 2**13 * 8 and note == ""
    for k in ("x1", "x2", "x3"):
        assert _by(records, "S1")[k] == pytest.approx(S1[k], abs=0.03), k
        assert _by(records, "ST")[k] == pytest.approx(ST[k], abs=0.03), k


def test_fast_indices_match_ishigami():
    design = _design("fast", 1000)
    records, _, _ = indices(design, ishigami(design.values), seed=0)
    for k in ("x1", "x2", "x3"):
        assert _by(records, "S1")[k] == pytest.approx(S1[k], abs=0.05), k
        assert _by(records, "ST")[k] == pytest.approx(ST[k], abs=0.05), k


def test_morris_mu_star_matches_brute_force():
    # 4 levels on [-pi, pi]; a step is 2/3 of the range. The moved input starts at level 0 or 1
    # (and ends at 2 or 3); every other input is at any of the 4 levels, all equally likely.
    levels = -PI + np.array([0, 1, 2, 3]) / 3 * 2 * PI
    step = 2 / 3 * 2 * PI
    expected = {}
    for i, k in enumerate(("x1", "x2", "x3")):
        effects = []
        for start in levels[:2]:
            for others in itertools.product(levels, repeat=2):
                x = np.insert(np.array(others, dtype=float), i, start)[None, :]
                moved = x.copy()
                moved[0, i] += step
                effects.append(abs(ishigami(moved)[0] - ishigami(x)[0]) / (2 / 3))
        expected[k] = float(np.mean(effects))
    design = _design("morris", 1000)
    records, _, _ = indices(design, ishigami(design.values), seed=0)
    for k, value in expected.items():
        assert _by(records, "mu_star")[k] == pytest.approx(value, rel=0.10), k


def test_rows_without_value_drop_whole_base_points():
    design = _design("sobol", 64)
    y = ishigami(design.values)
    y[3 * 8 + 5] = np.nan  # one row of the fourth base point
    records, used, note = indices(design, y, seed=0)
    assert used == 63 * 8 and note.startswith("1 of 64 base points dropped")
    assert records


def test_row_means_average_each_rows_seeds():
    import pandas as pd

    design = Design(method="sobol", n=2, keys=["k"], low=[0.0], high=[1.0], integer=[False],
                    values=np.zeros((8, 1)), seeds=3)
    world = np.arange(8 * 3)
    deal = (world % 3 == 0)  # one deal of three at every row
    term = np.where(deal, world.astype(float), np.nan)
    frame = pd.DataFrame({"world": world, "deal": deal, "cars": term})
    assert np.allclose(row_means(frame, "deal", design), 1 / 3)
    assert np.allclose(row_means(frame, "cars", design)[0], np.arange(8) * 3)  # the mean over the deals only


def _sobol_config(n: int, seeds: int = 1) -> dict:
    from omegaconf import OmegaConf

    from sim.config.compose import compose_config

    cfg = OmegaConf.to_container(compose_config(
        "sweep.sample.method=sobol", f"sweep.sample.n={n}", f"run.seeds={seeds}",
        "+sweep.sample.ranges.scenario.escalation=[0,15]", "+sweep.sample.ranges.scenario.deadline.round=[8,20]"),
        resolve=True)
    return cfg


def test_sobol_plan_counts_n_times_2d_plus_2_rows_and_records_the_design(tmp_path):
    cfg = _sobol_config(4, seeds=2)
    the_plan = plan(cfg)
    assert len(the_plan.points) == 4 * (2 * 2 + 2)
    rounds = [p.coordinates["scenario.deadline.round"] for p in the_plan.points]
    assert all(isinstance(r, int) and 8 <= r <= 20 for r in rounds)
    design = write_design(tmp_path, cfg, the_plan)
    again = load_design(tmp_path)
    assert again.rows == design.rows == 24 and again.seeds == 2 and again.keys == design.keys
    assert np.array_equal(again.values, design.values)  # written with 17 significant digits
    # the recorded unrounded values floor to the rounds the plan runs
    assert [int(v) for v in np.floor(again.values[:, again.keys.index("scenario.deadline.round")])] == rounds


def test_sobol_design_beyond_the_planning_limit_is_refused_naming_its_size():
    n = 2 ** math.ceil(math.log2(MAX_GRID_POINTS / 6))  # 2 parameters: 6 rows per base point
    assert n * 6 > MAX_GRID_POINTS
    with pytest.raises(ConfigError) as err:
        plan(_sobol_config(n))
    message = str(err.value)
    assert message.startswith("sweep.sample.n:") and f"{n * 6:,} rows" in message and "\n" not in message


def test_sobol_size_must_be_a_power_of_two():
    with pytest.raises(ConfigError, match=r"^sweep.sample.n: must be a power of 2"):
        plan(_sobol_config(6))


def test_feature_scoring_ranks_the_one_parameter_the_deal_depends_on():
    import pandas as pd

    from sim.analysis.sensitivity import analyze

    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"world": np.arange(2000), "us_strategy": "boulware", "japan_strategy": "boulware",
                          column_name("scenario.escalation"): rng.uniform(0, 15, 2000),
                          column_name("scenario.breakdown_risk"): rng.uniform(0, 0.02, 2000)})
    frame["deal"] = frame[column_name("scenario.escalation")] < 5  # the deal depends on the escalation alone
    table = analyze(frame, None, ["scenario.escalation", "scenario.breakdown_risk"], ["deal"], seed=0)
    scores = table.set_index("parameter")["value"]
    assert set(table["method"]) == {"extra_trees"} and set(table["index"]) == {"importance"}
    assert scores.sum() == pytest.approx(1.0)
    assert scores["scenario.escalation"] > 0.9


@pytest.mark.parametrize("method, n", [("sobol", 64), ("fast", 70), ("morris", 20)])
def test_intervals_are_the_same_every_time_with_seed_0(method, n):
    # SALib treats seed=0 as "no seed"; the bootstrap must still be deterministic
    design = _design(method, n)
    first, _, _ = indices(design, ishigami(design.values), seed=0)
    np.random.seed(12345)  # FAST's bootstrap draws from NumPy's global stream: moving it must not matter
    second, _, _ = indices(design, ishigami(design.values), seed=0)
    assert np.array_equal([r["conf"] for r in first], [r["conf"] for r in second], equal_nan=True)
    assert not np.isnan([r["conf"] for r in first if r["index"] in ("S1", "ST", "mu_star")]).any()


def test_an_outcome_with_most_base_points_dropped_is_not_estimable_and_not_ranked():
    design = _design("sobol", 16)
    y = ishigami(design.values)
    block = design_rows("sobol", 3, 1)
    y_most = y.copy().reshape(-1, block)
    y_most[:9, 0] = np.nan  # 9 of 16 base points without a value: fewer than half are left
    records, used, note = indices(design, y_most.ravel(), seed=1)
    assert records == [] and used == 7 * block
    assert note.startswith("not estimable: 9 of 16 base points dropped") and "not ranked" in note
    y_some = y.copy().reshape(-1, block)
    y_some[:8, 0] = np.nan  # exactly half left: still estimated, with the count in the note
    records, _, note = indices(design, y_some.ravel(), seed=1)
    assert records and note.startswith("8 of 16 base points dropped")


def test_an_index_outside_0_1_beyond_its_interval_is_flagged_and_not_ranked():
    import pandas as pd

    from sim.analysis.sensitivity import outside_unit, top_parameters

    assert outside_unit(6.15, 0.5) and outside_unit(-0.4, 0.2) and not outside_unit(1.1, 0.2)
    assert not outside_unit(0.5, float("nan"))
    flag = "ST 6.15 ± 0.50 is outside [0, 1] beyond its 95 % interval: too few design rows; not ranked"
    table = pd.DataFrame([
        {"group": "all", "outcome": "deal", "method": "sobol", "parameter": "a", "index": "ST", "value": 6.15,
         "conf": 0.5, "rows_used": 8, "note": flag},
        {"group": "all", "outcome": "deal", "method": "sobol", "parameter": "b", "index": "ST", "value": 0.4,
         "conf": 0.1, "rows_used": 8, "note": ""},
        {"group": "all", "outcome": "cars", "method": "sobol", "parameter": "", "index": "", "value": float("nan"),
         "conf": float("nan"), "rows_used": 8, "note": "not estimable: 13 of 16 base points dropped; not ranked"},
    ])
    top = top_parameters(table).set_index("outcome")
    assert top.loc["deal", "top1"] == "b (0.40 ± 0.10)" and pd.isna(top.loc["deal"].get("top2"))
    assert top.loc["cars", "top1"] == "not estimable: 13 of 16 base points dropped"


def test_the_figure_of_sobol_indices_has_bounded_axes(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    import pandas as pd

    from sim.analysis import sensitivity
    from sim.report import style

    kept = {}
    monkeypatch.setattr(style, "save", lambda fig, out_dir, name: kept.setdefault(name, fig) and [])
    rows = [{"group": "all", "outcome": "deal", "method": "sobol", "parameter": p, "index": i, "value": v,
             "conf": 0.1, "rows_used": 8, "note": ""}
            for p, i, v in (("a", "S1", 0.2), ("a", "ST", 6.15), ("b", "S1", -0.3), ("b", "ST", 0.1))]
    sensitivity.figure(pd.DataFrame(rows), tmp_path)
    ax = kept["sensitivity"].axes[0]
    assert ax.get_xlim() == (-0.1, 1.1)
    assert any(t.get_text() == "6.2" for t in ax.texts)  # the value beyond the axis is written at its edge
    plt.close("all")
