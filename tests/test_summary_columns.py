"""The summary of a run read a few columns at a time (as ``python -m sim run`` reads a million negotiations'
table) equals the summary of the whole table read at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim.config import plan
from sim.report.summary import by_point, lead, report, summary_columns
from sim.run.readback import OutcomeColumns, read_outcomes, to_frame
from sim.run.runner import execute
from tests.conftest import compose_config

GRID = ["+experiment=deadline_pressure", "run.seeds=15", "run.plot=false", "run.record_rounds=none",
        "run.workers=1", "run.chunk_size=100"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    cfg = OmegaConf.to_container(compose_config(*GRID), resolve=True)
    cfg.pop("hydra", None)
    the_plan = plan(cfg)
    out = tmp_path_factory.mktemp("grid")
    execute(the_plan, out, cfg, progress=False)
    return the_plan, out


def test_the_summary_read_a_few_columns_at_a_time_equals_the_whole_tables(run):
    the_plan, out = run
    keys = {column: key for key, column in the_plan.columns.items() if key != "constraints"}
    space = the_plan.points[0].structure.space
    columns = summary_columns(list(keys), space, [pid for pid, _ in the_plan.parties])
    whole = to_frame(read_outcomes(out, columns, categories=True))
    parts = OutcomeColumns.from_run(out, columns)
    assert parts.path is not None and len(parts) == len(whole) == 4 * 16 * 15
    for rounded in (True, False):
        pd.testing.assert_frame_equal(by_point(whole, list(keys), space, rounded),
                                      by_point(parts, list(keys), space, rounded), check_exact=True)
    names = dict(the_plan.parties)
    assert report(whole, space, 1.0, names) == report(parts, space, 1.0, names)
    structure = the_plan.points[0].structure
    text = lead(parts, keys, structure)
    assert text.startswith("by ") and text == lead(whole, keys, structure)


def test_the_medians_read_column_by_column_are_those_of_each_grid_point_by_hand(run):
    """Against numbers computed here, group by group, from the whole table: the deals, the median agreement
    round over the deals and the median utility over all negotiations."""
    the_plan, out = run
    keys = [column for key, column in the_plan.columns.items() if key != "constraints"]
    space = the_plan.points[0].structure.space
    table = by_point(OutcomeColumns.from_run(out), keys, space, rounded=False)
    whole = to_frame(read_outcomes(out))
    assert len(table) == 4 * 16 and table["deals"].sum() == whole["deal"].sum()
    first = the_plan.parties[0][0]
    for _, row in table.iterrows():
        mask = np.logical_and.reduce([whole[k].to_numpy() == row[k] for k in keys])
        deals = mask & whole["deal"].to_numpy(dtype=bool)
        assert row["runs"] == mask.sum() and row["deals"] == deals.sum()
        expected = np.median(whole["end_round"].to_numpy()[deals]) if deals.any() else np.nan
        assert row["median_round"] == expected or (np.isnan(expected) and np.isnan(row["median_round"]))
        assert row[f"median_{first}_utility"] == np.median(whole[f"{first}_utility"].to_numpy()[mask])
