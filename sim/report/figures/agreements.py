"""What the deals look like: when they come (``timing``) and their terms per issue (``terms``)."""

from __future__ import annotations

import inspect
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.config.sweep import column_name
from sim.report import style
from sim.report.figures.common import (
    MAX_LINES,
    binned,
    deals_for_distribution,
    issue_grid,
)
from sim.report.style import PALETTE, figure_style, issue_title, short_key, sized
from sim.run.store import RunData, pair_labels


def timing(run: RunData, out_dir: Path) -> list[Path]:
    """When agreements come: share of the final deadline, and rounds before it (the deadline effect)."""
    deals = deals_for_distribution(run, "no negotiation ended in a deal", "")
    share = deals["agreement_time"]
    late = float((share > 0.9).mean())
    before = (deals["final_deadline"] - deals["end_round"]).astype(int)
    with figure_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=sized(11, 4.2))
        left.hist(share, bins=np.linspace(0, 1, 21), color=PALETTE[0], edgecolor="white")
        left.axvspan(0.9, 1.0, color=PALETTE[1], alpha=0.15, label=f"last 10 % of the window: {late:.0%} of deals")
        left.set_xlabel("agreement round / final deadline")
        left.set_ylabel("agreements")
        left.set_title("Agreement time as a share of the deadline")
        left.legend(loc="upper left", frameon=False)
        counts = before.value_counts().sort_index()
        right.bar(counts.index, counts.to_numpy(), color=PALETTE[2], width=0.8)
        right.set_xlabel("rounds before the final deadline (0 = in the deadline round)")
        right.set_ylabel("agreements")
        right.set_title("How close to the deadline agreements come")
        right.set_xlim(-0.8, max(10, int(before.max()) + 0.8))
        fig.suptitle(f"Timing of {len(deals)} agreements (deadline effect: Roth, Murnighan & Schoumaker 1988)")
        fig.tight_layout()
        return style.save(fig, out_dir, "timing")


def terms(run: RunData, out_dir: Path) -> list[Path]:
    """Agreed terms per issue, by strategy pair (or by the main swept parameter when pairs are many,
    or there is only one). With a single group, one compact panel shows every issue."""
    deals = deals_for_distribution(run, "no negotiation ended in a deal, so there are no agreed terms",
                                   "the concession paths show them, ")
    pairs = pair_labels(deals)
    if 1 < pairs.nunique() <= MAX_LINES:
        groups, group_label = pairs, f"strategy pair ({run.versus})"
    elif run.numeric_keys:
        groups, note = binned(deals[column_name(run.numeric_keys[0])])
        group_label = short_key(run.numeric_keys[0], long=True) + (f" ({note}, by midpoint)" if note else "")
    elif pairs.nunique() > MAX_LINES:
        first = run.party_ids[0]
        groups, group_label = deals[f"{first}_strategy"], f"{run.party_names[first]}'s strategy"
    else:
        return _terms_of_one_group(run, deals, out_dir, pairs.iloc[0])
    order = sorted(groups.unique(), key=lambda v: (isinstance(v, str), v))
    space = run.structure.space
    with figure_style():
        fig, axes = issue_grid(space.n, width=max(12, 1.65 * len(order) + 3), row_height=3.1, extra_height=1.2)
        for ax, issue in zip(axes, space.issues, strict=False):
            values = [deals.loc[groups == g, issue.name].to_numpy() for g in order]
            box = ax.boxplot(values, patch_artist=True, widths=0.6, showfliers=False,
                             medianprops={"color": "black"})
            for patch, colour in zip(box["boxes"], PALETTE * 10, strict=False):
                patch.set_facecolor(colour)
                patch.set_alpha(0.65)
            ax.set_title(issue_title(issue.name))
            ax.set_ylabel(issue.unit)
            ax.set_xticks(range(1, len(order) + 1),
                          [str(g) if not isinstance(g, float) else f"{g:.3g}" for g in order],
                          rotation=30 if isinstance(order[0], str) else 0, ha="right" if isinstance(order[0], str)
                          else "center", fontsize=8)
        fig.suptitle(f"Agreed terms per issue by {group_label} ({len(deals)} agreements; boxes: quartiles, "
                     "whiskers: 1.5 IQR)")
        fig.tight_layout()
        return style.save(fig, out_dir, "terms")


def _terms_of_one_group(run: RunData, deals: pd.DataFrame, out_dir: Path, label: str) -> list[Path]:
    """One strategy pair and no swept parameter: every issue in one panel, as the position of the
    agreed value within the issue's range (0 = its minimum, 1 = its maximum), with the median in units."""
    space = run.structure.space
    issues = list(space.issues)
    with figure_style():
        fig, ax = plt.subplots(figsize=sized(8.5, 0.42 * len(issues) + 1.6))
        values = [(deals[i.name].to_numpy() - i.lo) / (i.hi - i.lo) if i.hi > i.lo else np.zeros(len(deals))
                  for i in issues]
        y = np.arange(len(issues))[::-1]
        horizontal = ({"orientation": "horizontal"} if "orientation" in inspect.signature(ax.boxplot).parameters
                      else {"vert": False})  # Matplotlib >= 3.10 : older
        box = ax.boxplot(values, positions=y, widths=0.5, patch_artist=True, showfliers=False,
                         medianprops={"color": "black"}, **horizontal)
        for patch in box["boxes"]:
            patch.set_facecolor(PALETTE[0])
            patch.set_alpha(0.55)
        for k, issue in enumerate(issues):
            median = float(np.median(deals[issue.name]))
            ax.annotate(f"median {median:.3g} {issue.unit} (range {issue.lo:g} to {issue.hi:g})", (1.02, y[k]),
                        xycoords=("axes fraction", "data"), va="center", fontsize=8)
        ax.set_yticks(y, [issue_title(i.name) for i in issues])
        ax.set_xlim(-0.03, 1.03)
        ax.set_xlabel("agreed value within the issue's range (0 = minimum, 1 = maximum)")
        ax.set_title(f"Agreed terms: {label} ({len(deals)} agreements; boxes: quartiles, whiskers: 1.5 IQR)")
        fig.tight_layout()
        return style.save(fig, out_dir, "terms")
