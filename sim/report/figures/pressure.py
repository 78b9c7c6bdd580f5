"""Deadline and escalation pressure: deal rate, timing and terms against the swept deadline (``pressure``),
the headline figure of ``deadline_pressure``."""

from __future__ import annotations

import itertools
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
    median_by,
)
from sim.report.style import PALETTE, figure_style, issue_title, short_key, sized
from sim.report.summary import wilson_interval
from sim.run.store import RunData

PRESSURE_KEYS = ("scenario.deadline.round", "scenario.escalation")


def pressure(run: RunData, out_dir: Path) -> list[Path]:
    """Deal rate, timing and terms against the swept deadline (or, if only it is swept, the
    escalation), one line per value of the other swept parameter.

    A sampled x parameter is binned (:func:`binned`). More line groups than :data:`MAX_LINES`
    (a sampled second parameter) are binned into equal-width intervals and coloured along a
    sequential colour map, so no group is ever left out.
    """
    keys = run.numeric_keys
    if not keys:
        raise Skip("no numeric parameter was swept")
    swept = [k for k in PRESSURE_KEYS if k in keys]
    if not swept:
        raise Skip("neither the deadline nor the escalation was swept (deal_rate shows the swept parameters)")
    x_key = swept[0]
    hue_key = next((k for k in keys if k != x_key and k in PRESSURE_KEYS),
                   next((k for k in keys if k != x_key), None))
    units = {i.name: i.unit for i in run.structure.space.issues}
    shown = [n for n in ("reciprocal", "cars") if n in units]
    data = run.outcomes.copy()
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
    with figure_style():
        panels = 2 + len(shown)
        ncols = min(panels, 2)
        nrows = int(np.ceil(panels / ncols))
        fig, grid = plt.subplots(nrows, ncols, figsize=sized(5.2 * ncols, 3.7 * nrows + 0.9), squeeze=False)
        axes = list(grid.flat)
        for ax in axes[panels:]:
            ax.set_visible(False)
        for colour, hue in zip(colours, hues, strict=True):
            group = data[data["_hue"] == hue]
            if group.empty:
                continue
            label = None if hue_key is None else _hue_label(hue_key, hue)
            agg = group.groupby("_x").agg(k=("deal", "sum"), n=("deal", "size"))
            low, high = wilson_interval(agg["k"], agg["n"])
            axes[0].plot(agg.index, agg["k"] / agg["n"], marker="o", color=colour, label=label)
            axes[0].fill_between(agg.index, low, high, color=colour, alpha=0.15, lw=0)
            deals = group[group["deal"]]
            if len(deals):
                axes[1].plot(*median_by(deals, "_x", "agreement_time"), marker="o", color=colour, label=label)
                for ax, name in zip(axes[2:panels], shown, strict=True):
                    ax.plot(*median_by(deals, "_x", name), marker="o", color=colour, label=label)
        axes[0].set_ylim(-0.02, 1.02)
        axes[0].set_title("Deal rate (95 % Wilson interval)")
        axes[0].set_ylabel("share of negotiations with a deal")
        axes[1].set_title("Timing of agreements")
        axes[1].set_ylabel("agreement round / final deadline (median)")
        axes[1].set_ylim(0, 1.05)
        for ax, name in zip(axes[2:panels], shown, strict=True):
            ax.set_title(f"Agreed {issue_title(name).lower()} (median)")
            ax.set_ylabel(units[name])
        for ax in axes[:panels]:
            ax.set_xlabel(short_key(x_key, long=True) + (f" ({x_note})" if x_note else ""))
        if hue_key:
            handles, labels = axes[0].get_legend_handles_labels()
            title = short_key(hue_key, long=True) + (f" ({hue_note})" if hue_note else "")
            fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), frameon=False, title=title)
        n_pairs = run.pairs.nunique()
        what = "Deadline pressure" if x_key == "scenario.deadline.round" else "Escalation pressure"
        fig.suptitle(f"{what}: deal rate, timing and terms against the {short_key(x_key, long=True)}\n"
                     f"({n_pairs} strategy pair{'s' if n_pairs > 1 else ''} pooled, {len(run.outcomes):,} negotiations)")
        rows_of_legend = int(np.ceil(len(hues) / 6)) if hue_key else 0
        fig.tight_layout(rect=(0, 0.035 + 0.05 * rows_of_legend / nrows if hue_key else 0, 1, 1))
        return style.save(fig, out_dir, "pressure")


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
