"""The Python API's analysis returns the PRIM box it found, and a run prints as one short line."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import api


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "run"
    return api.run(overrides=["+experiment=smoke", "run.plot=false", "run.workers=1"], out_dir=out)


def test_a_run_prints_as_one_short_line_whatever_its_report(run):
    assert len(run.report) > 500
    text = repr(run)
    assert "\n" not in text and len(text) < 200 + len(str(run.path))
    run.outcomes  # noqa: B018  (read them: the line then counts negotiations and deals)
    assert repr(run).endswith(f"negotiations={len(run.outcomes)}, deals={int(run.outcomes['deal'].sum())})")


def test_analyze_with_a_condition_returns_the_box_written_to_prim_box_csv(run):
    result = run.analyze(prim="no_deal", figures=False)
    assert result.box is not None and result.prim is not None
    on_disk = pd.read_csv(run.path / "prim_box.csv")
    pd.testing.assert_frame_equal(result.box.reset_index(drop=True), on_disk, check_dtype=False)
    assert list(result.box["parameter"]) == ["scenario.deadline.round"]  # the one numeric key smoke sweeps
    assert "sensitivity rows" in repr(result)
    assert run.analyze(figures=False).box is None
