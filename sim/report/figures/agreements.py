"""What the deals look like: when they come (``timing``) and their terms per issue (``terms``)."""

from __future__ import annotations

import inspect
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.config.sweep import column_name
from sim.report import style
from sim.report.figures.common import (
    MAX_LINES,
    binned,
    designed_keys,
    deals_for_distribution,
    issue_grid,
    readable,
    status_quo_line,
)
from sim.report.style import PALETTE, figure_style, issue_title, short_key, sized
from sim.report.summary import wilson_interval
from sim.run.readback import RunData, pair_labels


def timing(run: RunData, out_dir: Path) -> list[Path]:
    """When agreements come: the share of deals struck each number of rounds before the final deadline
    (the deadline effect), with the share in the deadline round itself and its 95 % interval."""
    deals = deals_for_distribution(run, "no negotiation ended in a deal", "")
    before = (deals["final_deadline"] - deals["end_round"]).astype(int).clip(lower=0)
    counts = before.value_counts().sort_index()
    last = int(counts.get(0, 0))
    low, high = (np.asarray(v, dtype=float).ravel() for v in wilson_interval(np.array([last]), np.array([len(deals)])))
    with figure_style():
        fig, ax = plt.subplots(figsize=sized(7.5, 4.2))
        ax.bar(counts.index, counts.to_numpy() / len(deals), color=PALETTE[0], width=0.8)
        ax.bar([0], [last / len(deals)], color=PALETTE[1], width=0.8,
               label=f"in the deadline round: {last / len(deals):.0%} of deals "
                     f"(95 % interval {float(low[0]):.0%} to {float(high[0]):.0%})")
        ax.set_xlabel("rounds before the final deadline (0 = in the deadline round)")
        ax.set_ylabel("share of agreements")
        ax.set_xlim(-0.8, max(10, int(before.max()) + 0.8))
        ax.legend(loc="upper right", frameon=False)
        ax.set_title(f"When {len(deals):,} agreements came (deadline effect: Roth, Murnighan & Schoumaker 1988)")
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
    elif designed_keys(run):
        groups, note = binned(deals[column_name(designed_keys(run)[0])])
        group_label = short_key(designed_keys(run)[0], long=True) + (f" ({note}, by midpoint)" if note else "")
    elif pairs.nunique() > MAX_LINES:
        first = run.party_ids[0]
        groups, group_label = deals[f"{first}_strategy"], f"{run.party_names[first]}'s strategy"
    else:
        return _terms_of_one_group(run, deals, out_dir, pairs.iloc[0])
    order = sorted(groups.unique(), key=lambda v: (isinstance(v, str), v))
    names = [readable(g) if not isinstance(g, float) else f"{g:.3g}" for g in order]
    colours = [PALETTE[k % len(PALETTE)] for k in range(len(order))]
    space = run.structure.space
    with figure_style():
        fig, axes = issue_grid(space.n, width=12, row_height=2.9, extra_height=1.4)
        for ax, issue in zip(axes, space.issues, strict=False):
            values = [deals.loc[groups == g, issue.name].to_numpy() for g in order]
            box = ax.boxplot(values, patch_artist=True, widths=0.6, showfliers=False,
                             medianprops={"color": "black"})
            for patch, colour in zip(box["boxes"], colours, strict=True):
                patch.set_facecolor(colour)
                patch.set_alpha(0.65)
            status_quo_line(ax, run, issue.name)
            pad = 0.04 * (issue.hi - issue.lo)
            ax.set_ylim(issue.lo - pad, issue.hi + pad)  # the issue's whole range: where the deals sit in it
            ax.set_title(issue.title or issue_title(issue.name))
            ax.set_ylabel(issue.unit)
            ax.set_xticks([])
        handles = [Patch(facecolor=c, alpha=0.65, label=n) for c, n in zip(colours, names, strict=True)]
        handles.append(Line2D([], [], color="0.35", ls=":", lw=1.2, label="status quo"))
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), frameon=False,
                   title=group_label)
        fig.suptitle(f"Agreed terms per issue by {group_label} ({len(deals)} agreements; boxes: quartiles, "
                     "whiskers: 1.5 IQR; y axis: the issue's range)")
        fig.tight_layout(rect=(0, 0.04 + 0.035 * int(np.ceil(len(handles) / 5)), 1, 1))
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
        ax.set_yticks(y, [i.title or issue_title(i.name) for i in issues])
        ax.set_xlim(-0.03, 1.03)
        ax.set_xlabel("agreed value within the issue's range (0 = minimum, 1 = maximum)")
        ax.set_title(f"Agreed terms: {label} ({len(deals)} agreements; boxes: quartiles, whiskers: 1.5 IQR)")
        fig.tight_layout()
        return style.save(fig, out_dir, "terms")
