"""What each figure shows: no group silently left out, sampled values binned, titles that fit, panels
and markers that say something. The figures are captured before they are saved and inspected."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sim.config import plan
from sim.config.sweep import column_name
from sim.report import plots, style
from sim.report.plots import Skip, binned
from sim.report.style import short_key
from sim.report.summary import median_interval
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

    monkeypatch.setattr(style, "save", keep)
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
    assert len(crosses) == 1  # one artist for all of them (an ensemble has thousands), not one line each
    assert len(crosses[0].get_xdata()) == lhs.outcomes["escalation"].nunique() > plots.MAX_LINES
    for marker in ("D", "s"):  # a Nash and a KS point for each (each of these has a rational part of the frontier)
        points = [line for line in ax.get_lines() if line.get_marker() == marker]
        assert len(points) == 1 and len(points[0].get_xdata()) == len(crosses[0].get_xdata())


def test_the_disagreement_points_of_an_ensemble_are_each_points_own_computed_per_block(tmp_path):
    # the utility plane reads the disagreement points per block of points at once; each must be what the point's
    # own inputs give (its utilities of the status quo with its escalation), bit for bit, and the frontier note
    # must say whether any point's payoffs differ from the first's
    from sim.domain.no_deal import escalated
    from sim.engine.inputs import utility_coefficients
    from sim.report.figures.bargaining import _disagreements

    run = _run("sweep.sample.method=prior", "sweep.sample.n=40", "run.seeds=1", "run.record_rounds=none")
    first = np.r_[utility_coefficients(run.plan.points[0].inputs)[:2]]
    expected = set()
    for q in run.plan.points:  # one grid point at a time, from its own inputs
        c_a, c_b, k_a, k_b = utility_coefficients(q.inputs)
        x = escalated(q.inputs.status_quo, q.structure.escalation_issue, q.inputs.escalation)
        expected.add(tuple(np.round([float(x @ c_a + k_a), float(x @ c_b + k_b)], 9).tolist()))
    same, found = _disagreements(run.plan.blocks, first)
    assert found == sorted(expected) and len(found) > 20  # the draws move the no-deal utilities
    assert not same  # the draws move the payoffs too
    grid = _run("+sweep.grid.scenario.escalation=[0,10]", "run.seeds=2", "run.record_rounds=none")
    same, found = _disagreements(grid.plan.blocks, np.r_[utility_coefficients(grid.plan.points[0].inputs)[:2]])
    assert same and len(found) == 2


def test_concession_paths_of_an_ensemble_counts_the_drawn_parameters_instead_of_listing_them(tmp_path, captured):
    # a forecast draws dozens of parameters per world: listed in the title they made a figure metres wide
    run = _run("sweep.sample.method=prior", "sweep.sample.n=6", "run.seeds=1", "run.record_rounds=all")
    plots.concession_paths(run, tmp_path)
    title = captured["concession_paths"]._suptitle.get_text()
    drawn = len(set(run.plan.prior_keys) & set(run.plan.swept_keys))
    assert drawn >= 10 and f"{drawn} parameters drawn from their priors" in title
    assert all(len(line) < 200 for line in title.splitlines())


# -- the rules of docs/figures.md that a program can check -------------------------------------------------


RAW_ID = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")  # a snake_case identifier


@pytest.fixture(scope="module")
def small_sweep() -> RunData:
    """Two strategy pairs over two swept deadlines and two escalations: deadline_pressure in small."""
    return _run("sweep.pairs=[[boulware,boulware],[linear,tit_for_tat]]",
                "+sweep.grid.scenario.deadline.round=[5,13]", "+sweep.grid.scenario.escalation=[0,10]",
                "run.seeds=30")


def _texts(fig) -> list[str]:
    texts = [fig._suptitle.get_text() if fig._suptitle else ""]
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        if ax.get_legend():
            texts += [t.get_text() for t in ax.get_legend().get_texts()]
    for legend in fig.legends:
        texts += [t.get_text() for t in legend.get_texts()] + [legend.get_title().get_text()]
    return [t for t in texts if t]


def _panels(fig) -> list:
    """The visible data panels (not colour bars, not insets)."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"
            and ax.get_position().width > 0.12]


def _has_interval(ax) -> bool:
    from matplotlib.collections import LineCollection, PolyCollection

    return any(isinstance(c, (PolyCollection, LineCollection)) for c in ax.collections)


def _check_rules(name: str, fig, run: RunData) -> list[str]:
    broken = []
    for text in _texts(fig):  # rule 4: no raw ids
        if RAW_ID.search(text):
            broken.append(f"{name}: raw id in {text!r}")
    values_run = {column_name(k): set(run.outcomes[column_name(k)].unique()) for k in run.numeric_keys}
    labels_of = {short_key(k, long=True): column_name(k) for k in run.numeric_keys}
    for ax in _panels(fig):
        title = ax.get_title()
        drawn = ax.get_lines() or ax.collections or ax.patches or ax.images
        if not drawn:  # rule 6
            broken.append(f"{name}: panel {title!r} draws nothing")
        if not ax.get_ylabel() and not ax.get_yticklabels():  # rule 3
            broken.append(f"{name}: panel {title!r} has no y label")
        column = labels_of.get(ax.get_xlabel())
        if column is not None and len(values_run[column]) <= 12:  # rule 1
            ticks = {float(t) for t in ax.get_xticks()}
            if ticks != {float(v) for v in values_run[column]}:
                broken.append(f"{name}: panel {title!r} ticks {sorted(ticks)} are not the values run")
        lowered = title.lower()
        annotated = any("±" in t.get_text() for t in ax.texts)  # a heat map's cells carry their intervals
        if ("deal rate" in lowered or "median" in lowered) and not (_has_interval(ax) or annotated):  # rule 2
            broken.append(f"{name}: panel {title!r} draws a rate or median without an interval")
        if title.startswith("Agreed ") and not any(l.get_label().startswith("status quo") for l in ax.get_lines()):
            broken.append(f"{name}: panel {title!r} has no status quo line")  # rule 5
        for image in ax.images:  # rule 7
            data = np.asarray(image.get_array(), dtype=float)
            lo, hi = image.get_clim()
            span = max(np.nanmax(data) - np.nanmin(data), 1e-6)  # equal cells: a scale of width 0 cannot be drawn
            if lo < np.nanmin(data) - 0.1 * span - 1e-9 or hi > np.nanmax(data) + 0.1 * span + 1e-9:
                broken.append(f"{name}: panel {title!r} colour scale {lo:.2f}-{hi:.2f} is wider than its values")
    return broken


def test_every_figure_follows_the_rules(small_sweep, captured, tmp_path):
    drawn = []
    for name, draw in plots.FIGURES.items():
        try:
            draw(small_sweep, tmp_path)
        except Skip:
            continue
        drawn.append(name)
    assert {"pressure", "deal_rate", "terms", "timing", "utility_plane", "concession_paths"} <= set(drawn)
    broken = [problem for name in drawn if name in captured for problem in _check_rules(name, captured[name],
                                                                                        small_sweep)]
    assert not broken, "\n".join(broken)


def test_a_heatmap_s_colours_span_its_values(captured, tmp_path):
    run = _run("sweep.pairs=[[boulware,boulware],[boulware,conceder],[linear,boulware],[linear,conceder]]",
               "run.seeds=10", "run.record_rounds=none")
    plots.strategy_heatmap(run, tmp_path)
    assert not _check_rules("strategy_heatmap", captured["strategy_heatmap"], run)


def test_the_median_interval_covers_the_median_95_percent_of_the_time():
    # brute force: for samples of a known distribution, the interval holds the true median in ~95 % of draws
    rng = np.random.default_rng(7)
    for n in (10, 40, 200):
        hits = 0
        for _ in range(2000):
            _, lo, hi = median_interval(rng.exponential(size=n))
            hits += lo <= np.log(2) <= hi
        assert hits / 2000 >= 0.93, (n, hits / 2000)  # never much below 95 %
        assert n < 40 or hits / 2000 <= 0.985, (n, hits / 2000)  # and not the whole sample once n is moderate


def test_each_figure_module_is_small_and_so_are_its_functions():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "sim" / "report"
    for path in [root / "plots.py", *sorted((root / "figures").glob("*.py"))]:
        text = path.read_text()
        assert len(text.splitlines()) <= 450, path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno - node.lineno + 1 <= 60, f"{path.name}: {node.name}"


def test_an_ensemble_drawn_from_the_priors_gets_no_figure_against_a_drawn_parameter(tmp_path, captured):
    # a forecast-like ensemble (one strategy pair, 40 worlds each drawn from the scenario's priors, among them the
    # deadline, the escalation and a ratification threshold): no deal rate, pressure or two-level figure against a
    # parameter that was only drawn, and the terms come in one compact panel, not grouped by a drawn parameter
    run = _run("sweep.sample.method=prior", "sweep.sample.n=40", "run.seeds=1", "run.record_rounds=none")
    drawn = set(run.plan.prior_keys) & set(run.numeric_keys)  # varied numbers, each drawn, none swept
    assert any(k.startswith("scenario.ratification.") for k in drawn) and len(drawn) >= 10
    assert {"scenario.deadline.round", "scenario.escalation"} & drawn
    written, skipped = plots.draw_all(run, tmp_path, formats=("png",))
    reasons = dict(skipped)
    for name in ("deal_rate", "pressure", "two_level"):
        assert name in reasons and "drawn from their priors are not a sweep" in reasons[name], name
    assert "terms" not in reasons and "timing" not in reasons
    assert len([ax for ax in captured["terms"].axes if ax.get_visible()]) == 1
    # the same ratification threshold set by a grid is a sweep: its figure is drawn
    grid = _run("+experiment=two_level", "run.seeds=2", "run.record_rounds=none", "sweep.pairs=[[boulware,conceder]]")
    plots.two_level(grid, tmp_path)
    assert "two_level" in captured
