"""What every figure shares: the Skip signal, limits on lines and deals, panels per issue, binning of
sampled values, rates with intervals and medians by group."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.report.style import sized
from sim.report.summary import median_interval, wilson_interval
from sim.run.readback import RunData

MAX_LINES = 8  # more strategy pairs than this are not drawn as separate lines
MIN_DEALS = 5  # a distribution of agreements (timing, terms) needs at least this many
MIN_HEATMAP_SHARE = 0.5  # the strategy heatmap is drawn when at least this share of its cells were run


class Skip(Exception):
    """A figure the data does not support, with the reason."""


def designed_keys(run: RunData) -> list[str]:
    """The numeric parameters the run's design varies (:attr:`RunData.numeric_keys`), without those an ensemble
    only draws from their priors (``sweep.sample.method=prior``): a forecast draws dozens of parameters at once, and
    a figure against one of them (the deal rate against a ratification threshold, say) is not an experiment on it."""
    prior = set(run.plan.prior_keys)
    return [k for k in run.numeric_keys if k not in prior]


def prior_note(run: RunData) -> str:
    """The end of a Skip reason in a run that draws parameters from their priors ("" in any other run)."""
    n = len(run.plan.prior_keys)
    return f" (the {n} parameters drawn from their priors are not a sweep)" if n else ""


def deals_for_distribution(run: RunData, none: str, few: str) -> pd.DataFrame:
    """The deals to draw a distribution of, or Skip with a reason if there are none or too few."""
    deals = run.deals
    if deals.empty:
        raise Skip(none)
    if len(deals) < MIN_DEALS:
        raise Skip(f"only {len(deals)} agreement(s); {few}a distribution needs at least {MIN_DEALS}")
    return deals


def issue_grid(n: int, width: float, row_height: float, extra_height: float) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure with one panel per issue, three to a row; the unused panels are hidden."""
    nrows = int(np.ceil(n / 3))
    fig, axes = plt.subplots(nrows, 3, figsize=sized(width, row_height * nrows + extra_height), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def legend_entries(axes) -> tuple[list, list[str]]:
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    return list(seen.values()), list(seen)


MAX_VALUES = 20  # a swept parameter with more distinct values than this (sampled) is binned
BINS = 8  # number of equal-width bins for a sampled parameter


def binned(values: pd.Series, most: int = MAX_VALUES, bins: int = BINS) -> tuple[pd.Series, str | None]:
    """The values to group by: themselves, or for a sampled parameter with more than ``most``
    distinct values, the midpoint of its equal-width bin (``bins`` bins over its range).

    Returns:
        The grouping values (aligned with ``values``), and a note on the binning or ``None``.
    """
    if values.nunique() <= most:
        return values, None
    lo, hi = float(values.min()), float(values.max())
    edges = np.linspace(lo, hi, bins + 1)
    index = np.clip(np.searchsorted(edges, values.to_numpy(dtype=float), side="right") - 1, 0, bins - 1)
    mids = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    return pd.Series(mids[index], index=values.index), f"{values.nunique()} values in {bins} bins of {width:.3g}"


def rate_by(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Deal rate per value of ``column`` (binned if sampled), with its 95 % Wilson interval."""
    groups, _ = binned(frame[column])
    agg = frame.groupby(groups.rename("_x")).agg(k=("deal", "sum"), n=("deal", "size"))
    agg["rate"] = agg["k"] / agg["n"]
    agg["low"], agg["high"] = wilson_interval(agg["k"], agg["n"])
    return agg


def median_by(frame: pd.DataFrame, key: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    med = frame.groupby(key)[column].median()
    return med.index.to_numpy(), med.to_numpy()


MAX_TICKS = 12  # at most this many values run are each given a tick


def ticks_at_values(ax: plt.Axes, values, axis: str = "x") -> None:
    """Ticks at the values that were run (rule 1 of docs/figures.md), when they are few enough to label."""
    run = np.unique(np.asarray(pd.Series(values).dropna(), dtype=float))
    if 0 < len(run) <= MAX_TICKS:
        setter = ax.set_xticks if axis == "x" else ax.set_yticks
        setter(run, [f"{v:g}" for v in run])


def readable(label: str) -> str:
    """A strategy id or a pair of them as words: ``tit_for_tat`` -> ``tit for tat`` (no raw ids in a figure)."""
    return str(label).replace("_", " ")


def medians_with_intervals(frame: pd.DataFrame, key: str, column: str) -> pd.DataFrame:
    """Per value of ``key``: the median of ``column`` and its 95 % interval (columns median, low, high, n)."""
    rows = {k: (*median_interval(g[column]), len(g)) for k, g in frame.groupby(key)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["median", "low", "high", "n"]).sort_index()


def status_quo_line(ax: plt.Axes, run: RunData, issue: str) -> None:
    """A reference line at the issue's status quo (the value in force when the talks open)."""
    space = run.structure.space
    value = float(space.status_quo[space.names.index(issue)])
    ax.axhline(value, color="0.35", ls=":", lw=1.2, label=f"status quo ({value:g})", zorder=1)
