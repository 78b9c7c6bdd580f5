"""How often talks end in a deal: against each swept parameter (``deal_rate``) and strategy against strategy
(``strategy_heatmap``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.config.sweep import column_name
from sim.report import style
from sim.report.figures.common import (
    MAX_LINES,
    MIN_HEATMAP_SHARE,
    Skip,
    binned,
    designed_keys,
    prior_note,
    rate_by,
    readable,
    ticks_at_values,
)
from sim.report.style import PALETTE, figure_style, short_key, sized
from sim.report.summary import wilson_interval
from sim.run.readback import RunData


def deal_rate(run: RunData, out_dir: Path) -> list[Path]:
    """Deal rate against each swept numeric parameter, one line per strategy pair, with 95 % bands.

    A sampled parameter (more than :data:`MAX_VALUES` distinct values) is binned: each point is the
    deal rate in one equal-width bin, drawn at the bin's midpoint, with its Wilson interval.
    """
    keys = designed_keys(run)[:3]
    if not keys:
        return _deal_rate_by_pair(run, out_dir)
    data = run.outcomes.assign(_pair=run.pairs)
    pairs = list(data["_pair"].unique())
    if len(pairs) > MAX_LINES:
        data["_pair"] = "all strategy pairs"
        pairs = ["all strategy pairs"]
    with figure_style():
        fig, axes = plt.subplots(1, len(keys), figsize=sized(5.2 * len(keys), 4.4), squeeze=False)
        for ax, key in zip(axes[0], keys, strict=True):
            _, note = binned(data[column_name(key)])
            for colour, pair in zip(PALETTE[:len(pairs)], pairs, strict=True):
                agg = rate_by(data[data["_pair"] == pair], column_name(key))
                ax.plot(agg.index, agg["rate"], marker="o", ms=4, color=colour, label=readable(pair))
                ax.fill_between(agg.index, agg["low"], agg["high"], color=colour, alpha=0.15, lw=0)
            ax.set_ylim(-0.02, 1.02)
            if note is None:
                ticks_at_values(ax, data[column_name(key)])
            ax.set_xlabel(short_key(key, long=True) + (f"\n({note}, at their midpoints)" if note else ""))
            ax.set_ylabel("deal rate (share of negotiations)")
            ax.set_title(f"Deal rate against {short_key(key)}")
        axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, title=run.versus)
        pooled = " (each panel pooled over the other swept values)" if len(keys) > 1 else ""
        fig.suptitle(f"Deal rate by strategy pair, with 95 % Wilson confidence bands{pooled}")
        fig.tight_layout()
        return style.save(fig, out_dir, "deal_rate")


def _deal_rate_by_pair(run: RunData, out_dir: Path) -> list[Path]:
    """Without a swept numeric parameter: each strategy pair's deal rate with its 95 % interval."""
    agg = run.outcomes["deal"].groupby(run.pairs.rename("_pair")).agg(k="sum", n="size")  # no copy of the table
    if len(agg) < 2:
        raise Skip("no numeric parameter was swept and only one strategy pair was run" + prior_note(run))
    agg["rate"] = agg["k"] / agg["n"]
    agg["low"], agg["high"] = wilson_interval(agg["k"], agg["n"])
    agg = agg.sort_values(["rate", "low"])
    with figure_style():
        fig, ax = plt.subplots(figsize=sized(7.5, 0.24 * len(agg) + 1.6))
        y = np.arange(len(agg))
        ax.errorbar(agg["rate"], y, xerr=[agg["rate"] - agg["low"], agg["high"] - agg["rate"]], fmt="o", ms=4,
                    color=PALETTE[0], ecolor=PALETTE[5], elinewidth=2, capsize=0)
        ax.set_yticks(y, [label.replace("_", " ") for label in agg.index], fontsize=8)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.8, len(agg) - 0.2)
        ax.set_xlabel("deal rate (share of negotiations), with 95 % Wilson interval")
        ax.set_ylabel(f"strategy pair ({run.versus})")
        each = f"{int(agg['n'].iloc[0])} negotiations each; " if agg["n"].nunique() == 1 else ""
        ax.set_title(f"Deal rate by strategy pair ({each}no numeric parameter was swept)")
        fig.tight_layout()
        return style.save(fig, out_dir, "deal_rate")


def strategy_heatmap(run: RunData, out_dir: Path) -> list[Path]:
    """First party's strategy x second party's: deal rate and mean utility to each party, annotated."""
    o = run.outcomes
    (a, b), names = run.party_ids, run.party_names
    sa, sb = f"{a}_strategy", f"{b}_strategy"
    if o[sa].nunique() < 2 and o[sb].nunique() < 2:
        raise Skip("only one strategy pair was run")
    us, jp = sorted(o[sa].unique()), sorted(o[sb].unique())
    cells = len(o[[sa, sb]].drop_duplicates())
    if cells < MIN_HEATMAP_SHARE * len(us) * len(jp):
        raise Skip(f"only {cells} of the {len(us) * len(jp)} cells of the {names[a]} x {names[b]} strategy table "
                   "were run, so it would be mostly empty; deal_rate compares the pairs")
    panels = [("deal", "Deal rate", "{:.0%}"), (f"{a}_utility", f"Mean utility to {names[a]}", "{:.2f}"),
              (f"{b}_utility", f"Mean utility to {names[b]}", "{:.2f}")]
    with figure_style():
        width, height = 0.45 * len(jp) + 1.9, 0.42 * len(us) + 1.7
        fig, axes = plt.subplots(1, 3, figsize=sized(3 * width + 0.6, height + 0.6))
        for ax, (column, title, fmt) in zip(axes, panels, strict=True):
            table = o.pivot_table(index=sa, columns=sb, values=column,
                                  aggfunc="mean", observed=True).reindex(index=us, columns=jp)
            values = table.to_numpy(dtype=float)
            lo, hi = colour_range(values)
            image = ax.imshow(values, vmin=lo, vmax=hi, cmap="cividis", aspect="auto")
            margins = _deal_margins(o, sa, sb, us, jp) if column == "deal" else None
            for (i, j), value in np.ndenumerate(values):
                if not np.isnan(value):
                    text = fmt.format(value) + ("" if margins is None else f"\n±{margins[i, j]:.0%}")
                    ax.text(j, i, text, ha="center", va="center", fontsize=7.5,
                            color="white" if (value - lo) / (hi - lo) < 0.55 else "black")
                else:
                    ax.text(j, i, "not run", ha="center", va="center", fontsize=6.5, color="0.45")
            ax.set_xticks(range(len(jp)), [s.replace("_", " ") for s in jp], rotation=40, ha="right")
            ax.set_yticks(range(len(us)), [s.replace("_", " ") for s in us])
            ax.set_xlabel(f"{names[b]}'s strategy")
            ax.set_ylabel(f"{names[a]}'s strategy")
            ax.set_title(title)
            ax.grid(False)
            ax.set_facecolor("0.93")
            fig.colorbar(image, ax=ax, shrink=0.8, label="share" if column == "deal" else "utility (0–1)")
        fig.suptitle(f"Strategy against strategy: deal rate and mean utility ({len(o)} negotiations;\n"
                     "a negotiation without a deal counts at its reservation value; ±: half the 95 % Wilson interval; "
                     "each panel's colours span its own values)")
        fig.tight_layout()
        return style.save(fig, out_dir, "strategy_heatmap")


def colour_range(values: np.ndarray) -> tuple[float, float]:
    """The colour scale of a heat map: the span of its values (never empty), so that differences show."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    pad = max(hi - lo, 1e-6) * 0.05
    return lo - pad, hi + pad


def _deal_margins(o: pd.DataFrame, sa: str, sb: str, rows: list, cols: list) -> np.ndarray:
    """Half the width of each cell's 95 % Wilson interval of the deal rate."""
    agg = o.groupby([sa, sb])["deal"].agg(["sum", "size"])
    low, high = wilson_interval(agg["sum"], agg["size"])
    half = pd.Series((np.asarray(high) - np.asarray(low)) / 2, index=agg.index)
    return half.unstack().reindex(index=rows, columns=cols).to_numpy(dtype=float)
