"""Deadline and escalation pressure: deal rate, timing and terms against the swept deadline (``pressure``),
the headline figure of ``deadline_pressure``."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.config.sweep import column_name
from sim.report import style
from sim.report.figures.common import (
    MAX_LINES,
    Skip,
    binned,
    designed_keys,
    prior_note,
    medians_with_intervals,
    readable,
    status_quo_line,
    ticks_at_values,
)
from sim.report.style import PALETTE, figure_style, issue_title, short_key, sized
from sim.report.summary import headline_issue, wilson_interval
from sim.run.readback import RunData

PRESSURE_KEYS = ("scenario.deadline.round", "scenario.escalation")


MAX_PAIR_PANELS = 4  # strategy pairs drawn as small multiples of the deal rate; more are pooled


@dataclass
class _Setup:
    """What the pressure figure draws: the x key, the line groups (hue) and their colours, the issues."""

    x_key: str
    hue_key: str | None
    data: pd.DataFrame  # outcomes with _x (binned x), _hue (line group) and _pair (readable strategy pair)
    x_note: str | None
    hues: list
    hue_note: str | None
    colours: list
    issues: list[str]  # the agreed terms drawn


def _setup(run: RunData) -> _Setup:
    keys = designed_keys(run)
    if not keys:
        raise Skip("no numeric parameter was swept" + prior_note(run))
    swept = [k for k in PRESSURE_KEYS if k in keys]
    if not swept:
        raise Skip("neither the deadline nor the escalation was swept (deal_rate shows the swept parameters)")
    x_key = swept[0]
    hue_key = next((k for k in keys if k != x_key and k in PRESSURE_KEYS),
                   next((k for k in keys if k != x_key), None))
    names = run.structure.space.names
    headline, _ = headline_issue(run.structure)
    issues = [headline] + [n for n in names if n != headline][:1]
    data = run.outcomes.assign(_pair=run.pairs.map(readable))
    data["_x"], x_note = binned(data[column_name(x_key)])
    hue_note = None
    hue = data[column_name(hue_key)] if hue_key else None
    if hue is None:
        data["_hue"], hues = "all", ["all"]
    elif hue.nunique() <= MAX_LINES:
        data["_hue"] = hue
        hues = sorted(data["_hue"].unique())
    else:  # a sampled parameter: equal-width intervals, every one drawn
        data["_hue"], hues = _intervals(hue, 5)
        hue_note = f"{hue.nunique()} sampled values in {len(hues)} intervals"
    colours = (PALETTE[:len(hues)] if len(hues) <= MAX_LINES
               else [plt.get_cmap("cividis")(v) for v in np.linspace(0, 0.9, len(hues))])
    return _Setup(x_key, hue_key, data, x_note, hues, hue_note, colours, issues)


def pressure(run: RunData, out_dir: Path) -> list[Path]:
    """Deal rate (per strategy pair), deals struck in the deadline round, and agreed terms against the swept
    deadline (or, if only it is swept, the escalation), one line per value of the other swept parameter,
    each with its 95 % interval.

    A sampled x parameter is binned (:func:`binned`). More line groups than :data:`MAX_LINES` (a sampled
    second parameter) are binned into equal-width intervals and coloured along a sequential colour map, so
    no group is ever left out. Up to :data:`MAX_PAIR_PANELS` strategy pairs get a deal-rate panel each.
    """
    s = _setup(run)
    pairs = sorted(s.data["_pair"].unique())
    if len(pairs) > MAX_PAIR_PANELS:
        pairs = ["all strategy pairs"]
        s.data["_pair"] = pairs[0]
    ncols = max(len(pairs), 1 + len(s.issues))
    with figure_style():
        fig, grid = plt.subplots(2, ncols, figsize=sized(3.6 * ncols, 7.8), squeeze=False)
        for ax, pair in zip(grid[0], pairs, strict=False):
            _deal_rate_panel(ax, s, s.data[s.data["_pair"] == pair], pair)
        deals = s.data[s.data["deal"]]
        _deadline_round_panel(grid[1][0], s, deals)
        for ax, issue in zip(grid[1][1:], s.issues, strict=False):
            _term_panel(ax, s, deals, issue, run)
        for ax in [*grid[0][len(pairs):], *grid[1][1 + len(s.issues):]]:
            ax.set_visible(False)
        for ax in [a for a in grid.flat if a.get_visible()]:
            ax.set_xlabel(short_key(s.x_key, long=True) + (f" ({s.x_note})" if s.x_note else ""))
            if s.x_note is None:
                ticks_at_values(ax, s.data["_x"])
        if s.hue_key:
            handles, labels = grid[0][0].get_legend_handles_labels()
            title = short_key(s.hue_key, long=True) + (f" ({s.hue_note})" if s.hue_note else "")
            fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), frameon=False, title=title)
        what = "Deadline pressure" if s.x_key == "scenario.deadline.round" else "Escalation pressure"
        fig.suptitle(f"{what}: deal rate, timing and terms against the {short_key(s.x_key, long=True)} "
                     f"({len(run.outcomes):,} negotiations; bars and bands: 95 % intervals)")
        rows_of_legend = int(np.ceil(len(s.hues) / 6)) if s.hue_key else 0
        fig.tight_layout(rect=(0, 0.03 + 0.035 * rows_of_legend if s.hue_key else 0, 1, 1))
        return style.save(fig, out_dir, "pressure")


def _offsets(s: _Setup) -> np.ndarray:
    """Small x shifts per line group, so that the intervals of groups at one x value do not hide each other."""
    xs = np.unique(s.data["_x"].to_numpy(dtype=float))
    step = float(np.min(np.diff(xs))) if len(xs) > 1 else 1.0
    width = 0.35 * step
    return (np.arange(len(s.hues)) - (len(s.hues) - 1) / 2) * (width / max(len(s.hues), 1))


def _deal_rate_panel(ax: plt.Axes, s: _Setup, data: pd.DataFrame, pair: str) -> None:
    for colour, hue in zip(s.colours, s.hues, strict=True):
        agg = data[data["_hue"] == hue].groupby("_x").agg(k=("deal", "sum"), n=("deal", "size"))
        if agg.empty:
            continue
        low, high = wilson_interval(agg["k"], agg["n"])
        label = None if s.hue_key is None else _hue_label(s.hue_key, hue)
        ax.plot(agg.index, agg["k"] / agg["n"], marker="o", ms=4, color=colour, label=label)
        ax.fill_between(agg.index, low, high, color=colour, alpha=0.15, lw=0)
    ax.set_ylim(-0.02, 1.02)
    n = int(len(data))
    ax.set_title(f"Deal rate: {pair}\n({n:,} negotiations)", fontsize=10)
    ax.set_ylabel("share of negotiations with a deal")


def _deadline_round_panel(ax: plt.Axes, s: _Setup, deals: pd.DataFrame) -> None:
    """The deadline effect as a rate: the share of deals struck in the final deadline round."""
    for colour, hue, shift in zip(s.colours, s.hues, _offsets(s), strict=True):
        mine = deals[deals["_hue"] == hue]
        agg = mine.assign(_last=mine["end_round"] >= mine["final_deadline"]).groupby("_x").agg(
            k=("_last", "sum"), n=("_last", "size"))
        if agg.empty:
            continue
        rate = agg["k"] / agg["n"]
        low, high = wilson_interval(agg["k"], agg["n"])
        ax.errorbar(agg.index + shift, rate, yerr=[rate - low, high - rate], marker="o", ms=4, capsize=2,
                    color=colour)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Deals struck in the deadline round\n(all strategy pairs)", fontsize=10)
    ax.set_ylabel("share of deals")


def _term_panel(ax: plt.Axes, s: _Setup, deals: pd.DataFrame, issue: str, run: RunData) -> None:
    """The median agreed value of ``issue`` with its 95 % interval, and the status quo for reference."""
    for colour, hue, shift in zip(s.colours, s.hues, _offsets(s), strict=True):
        table = medians_with_intervals(deals[deals["_hue"] == hue], "_x", issue)
        if table.empty:
            continue
        ax.errorbar(table.index + shift, table["median"], yerr=[table["median"] - table["low"],
                                                                table["high"] - table["median"]],
                    marker="o", ms=4, capsize=2, color=colour)
    status_quo_line(ax, run, issue)
    ax.legend(loc="best", frameon=False, fontsize=8)
    unit = run.structure.space.issues[run.structure.space.names.index(issue)].unit
    title = issue_title(issue, run.structure.space).lower()
    ax.set_title(f"Agreed {title} (median)\n(all strategy pairs)", fontsize=10)
    ax.set_ylabel(unit)


def _intervals(values: pd.Series, n: int) -> tuple[pd.Series, list[str]]:
    """Label each value with its equal-width interval over the values' range (``"0.09 to 3.04"``),
    to four significant digits of the range; returns the labels per value and their order."""
    lo, hi = float(values.min()), float(values.max())
    edges = np.linspace(lo, hi, n + 1)
    decimals = max(0, 3 - int(np.floor(np.log10(hi - lo)))) if hi > lo else 2
    names = [f"{a:.{decimals}f} to {b:.{decimals}f}" for a, b in itertools.pairwise(edges)]
    index = np.clip(np.searchsorted(edges, values.to_numpy(dtype=float), side="right") - 1, 0, n - 1)
    return pd.Series(np.array(names, dtype=object)[index], index=values.index), names


def _hue_label(key: str, value) -> str:
    """A legend entry for one line group: a value (``escalation = 5``) or an interval (a string)."""
    if isinstance(value, str):
        return value
    return f"{short_key(key)} = {value:g}"
