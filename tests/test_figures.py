"""What each figure shows: no group silently left out, sampled values binned, titles that fit, panels
and markers that say something. The figures are captured before they are saved and inspected."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sim.config import plan
from sim.report import plots
from sim.report.plots import Skip, binned
from sim.run.runner import simulate
from sim.run.readback import RunData
from tests.conftest import compose_config


@pytest.fixture
def captured(monkeypatch):
    """The figures the drawing functions would save, by name (kept open)."""
    figures = {}

    def keep(fig, out_dir, name):
        figures[name] = fig
        return []

    monkeypatch.setattr(plots, "save", keep)
    yield figures
    plt.close("all")


def _run(*overrides: str) -> RunData:
    p = plan(compose_config("run.progress=false", *overrides))
    outcomes, rounds = simulate(p)
    return RunData(outcomes=outcomes, rounds=rounds, plan=p)


@pytest.fixture(scope="module")
def lhs() -> RunData:
    """A Latin-hypercube sweep over the escalation (continuous) and the deadline (22 whole rounds)."""
    return _run("sweep.sample.method=lhs", "sweep.sample.n=60", "+sweep.sample.ranges.scenario.escalation=[0,15]",
                "+sweep.sample.ranges.scenario.deadline.round=[2,23]", "scenario.sides.japan.deadline=null",
                "scenario.deadline.extension.probability=0", "run.seeds=2", "run.record_rounds=none")


def test_pressure_draws_every_group_against_the_deadline(lhs, captured, tmp_path):
    plots.pressure(lhs, tmp_path)
    fig = captured["pressure"]
    deal_axis = fig.axes[0]
    assert deal_axis.get_xlabel().startswith("deadline (round)")  # the x-axis is the deadline, as the README says
    assert fig._suptitle.get_text().startswith("Deadline pressure")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    intervals = [tuple(float(v) for v in label.split(" to ")) for label in labels]
    escalations = lhs.outcomes["escalation"]
    covered = np.zeros(len(escalations), bool)
    for lo, hi in intervals:  # labels are rounded to 3 significant digits
        covered |= escalations.between(lo - 0.01, hi + 0.01).to_numpy()
    assert covered.all(), "some sampled escalations are in no legend group"
    assert len(deal_axis.get_lines()) == len(labels)  # one line per group, none dropped


def test_deal_rate_bins_sampled_values_with_intervals(lhs, captured, tmp_path):
    plots.deal_rate(lhs, tmp_path)
    ax = next(a for a in captured["deal_rate"].axes if a.get_title() == "Deal rate against escalation")
    line = ax.get_lines()[0]
    x, y = line.get_xdata(), line.get_ydata()
    assert len(x) == plots.BINS and "bins" in ax.get_xlabel()
    # by hand: equal-width bins over the sampled range, deal rate per bin
    o = lhs.outcomes
    edges = np.linspace(o.escalation.min(), o.escalation.max(), plots.BINS + 1)
    which = pd.cut(o.escalation, edges, include_lowest=True, right=False).cat.codes.to_numpy().copy()
    which[which < 0] = plots.BINS - 1  # the maximum belongs to the last bin
    expected = o.groupby(which)["deal"].mean().to_numpy()
    assert np.allclose(x, (edges[:-1] + edges[1:]) / 2) and np.allclose(y, expected)
    assert len(ax.collections) == 1  # its Wilson band


def test_binned_leaves_few_values_alone():
    values = pd.Series([5, 9, 13, 17] * 3)
    grouped, note = binned(values)
    assert note is None and grouped.equals(values)


def test_pressure_is_skipped_without_a_deadline_or_escalation_sweep(captured, tmp_path):
    run = _run("+experiment=two_level", "run.seeds=2", "run.record_rounds=none",
               "sweep.pairs=[[boulware,conceder]]")
    with pytest.raises(Skip, match="neither the deadline nor the escalation"):
        plots.pressure(run, tmp_path)
    plots.two_level(run, tmp_path)
    fig = captured["two_level"]
    titles = [ax.get_title() for ax in fig.axes]
    if (run.outcomes["defections"] == 0).all():  # an all-zero panel is left out, and the title says so
        assert "Involuntary defections" not in titles and "no involuntary defections" in fig._suptitle.get_text()
    else:
        assert "Involuntary defections" in titles


def test_strategy_heatmap_only_when_most_cells_were_run(tmp_path, captured):
    sparse = _run("sweep.pairs=[[boulware,boulware],[boulware,conceder],[linear,tit_for_tat]]", "run.seeds=2",
                  "run.record_rounds=none")  # 3 of 2 x 3 = 6 cells: drawn; see below for a sparse one
    plots.strategy_heatmap(sparse, tmp_path)
    sparser = _run("sweep.pairs=[[boulware,boulware],[deadline_aware,conceder],[linear,tit_for_tat]]",
                   "run.seeds=2", "run.record_rounds=none")  # 3 of 3 x 3 = 9 cells
    with pytest.raises(Skip, match="only 3 of the 9 cells"):
        plots.strategy_heatmap(sparser, tmp_path)


def test_terms_for_one_pair_is_one_compact_panel(tmp_path, captured):
    run = _run("run.seeds=12", "run.record_rounds=none")
    plots.terms(run, tmp_path)
    fig = captured["terms"]
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 1
    width, height = fig.get_size_inches()
    assert height < 6 and width < 10
    assert fig.axes[0].get_yticklabels()[0].get_text() == "Car tariff"


def test_utility_plane_shows_the_status_quo_above_a_coinciding_disagreement_point(tmp_path, captured):
    # with an escalation of 0 the disagreement point is the status quo itself
    run = _run("+sweep.grid.scenario.escalation=[0,10]", "run.seeds=3", "run.record_rounds=none")
    plots.utility_plane(run, tmp_path)
    ax = captured["utility_plane"].axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    status_quo = next(v for k, v in lines.items() if k.startswith("status quo"))
    disagreement = next(v for k, v in lines.items() if k.startswith("disagreement point (no deal"))
    assert status_quo.get_zorder() > disagreement.get_zorder()
    assert status_quo.get_markersize() > disagreement.get_markersize()
    assert status_quo.get_markerfacecolor() == "none"  # a ring: what lies under it stays visible
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "disagreement point to its Nash solution" in labels  # the connector lines are explained


def test_utility_plane_draws_every_disagreement_point_of_a_sampled_escalation(lhs, captured, tmp_path):
    plots.utility_plane(lhs, tmp_path)
    ax = captured["utility_plane"].axes[0]
    crosses = [line for line in ax.get_lines() if line.get_marker() == "X"]
    assert len(crosses) == lhs.outcomes["escalation"].nunique() > plots.MAX_LINES
