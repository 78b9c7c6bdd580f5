"""The run's summary is computed from a column subset with text read as categories (to keep a large sweep's
memory small): it must equal the summary of the whole table read as strings, and match hand counts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from sim.config import plan
from sim.report.summary import by_point, format_points, lead, report, summary_columns
from sim.run.columns import table_entries
from sim.run.readback import read_outcomes, to_frame
from tests.conftest import compose_config


def _summaries(frame: pd.DataFrame, the_plan, keys: dict[str, str]) -> tuple[str, str, str, str]:
    space = the_plan.points[0].structure.space
    names = dict(the_plan.parties)
    table = by_point(frame, list(keys), space)
    return (table.to_csv(index=False), report(frame, space, 1.0, names), format_points(table, keys, names=names),
            lead(frame, keys, the_plan.points[0].structure))


def _keys(the_plan) -> dict[str, str]:
    return {column: key for key, column in the_plan.columns.items()}


def test_summary_from_its_columns_as_categories_equals_the_summary_of_the_whole_table(small_run):
    from omegaconf import OmegaConf

    the_plan = plan(OmegaConf.to_container(compose_config("+experiment=smoke", "run.plot=false"), resolve=True))
    keys = _keys(the_plan)
    space = the_plan.points[0].structure.space
    columns = [c for c in summary_columns(list(keys), space, [p for p, _ in the_plan.parties])
               if c in table_entries(the_plan)["outcomes"]]
    whole = to_frame(read_outcomes(small_run))
    view = to_frame(read_outcomes(small_run, columns, categories=True))
    assert len(view.columns) < len(whole.columns)  # a subset: the per-world metrics are not read
    assert isinstance(view["end_reason"].dtype, pd.CategoricalDtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)  # no fragmented frame either way
        assert _summaries(view, the_plan, keys) == _summaries(whole, the_plan, keys)


def test_by_point_counts_by_hand_with_categorical_text_and_no_fragmentation_warning():
    space = plan(compose_config()).points[0].structure.space
    reasons = ["agreement", "deadline", "agreement", "walk-away", "breakdown", "agreement", "deadline", "agreement"]
    frame = pd.DataFrame({
        "us_strategy": pd.Categorical(["boulware"] * 4 + ["conceder"] * 4),
        "japan_strategy": pd.Categorical(["conceder"] * 8),
        "deal": [r == "agreement" for r in reasons],
        "end_reason": pd.Categorical(reasons, categories=[*sorted(set(reasons)), "refused protocol"]),
        "end_round": [2, 9, 4, 3, 5, 6, 9, 8],
        "us_utility": np.linspace(0, 0.7, 8), "japan_utility": np.linspace(0.7, 0, 8),
        "us_payoff": np.arange(8.0), "japan_payoff": -np.arange(8.0), "welfare": np.full(8, 0.7),
        **{name: np.where([r == "agreement" for r in reasons], 1.0, np.nan) for name in space.names},
    })
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        table = by_point(frame, ["us_strategy", "japan_strategy"], space).set_index("us_strategy")
        text = report(frame, space, 1.0, {"us": "US", "japan": "Japan"})
    assert list(table.index) == ["boulware", "conceder"]  # in order of first appearance, as with strings
    assert (table.loc["boulware", "deals"], table.loc["conceder", "deals"]) == (2, 2)
    assert table.loc["boulware", "median_round"] == 3  # deals in rounds 2 and 4
    assert table.loc["conceder", "median_round"] == 7  # deals in rounds 6 and 8
    assert (table.loc["boulware", "ended_walk_away"], table.loc["conceder", "ended_breakdown"]) == (1, 1)
    assert table["ended_refused_protocol"].tolist() == [0, 0]
    # a category no negotiation has is not listed among the endings
    assert "ended by: agreement 4, walk-away 1, deadline 2, breakdown 1;" in text and "refused" not in text


@pytest.mark.parametrize("missing", ["zopa", "partial_deal"])
def test_summary_columns_names_what_the_summary_reads(missing):
    space = plan(compose_config()).points[0].structure.space
    columns = summary_columns(["agenda"], space, ["us", "japan"])
    assert missing in columns and "agenda" in columns and "us_strategy" in columns
    assert set(space.names) <= set(columns) and "welfare" in columns and "japan_payoff" in columns
    assert "world" not in columns and "nash_dist" not in columns  # nor what it does not read
