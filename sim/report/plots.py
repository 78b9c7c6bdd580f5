"""Figures for a run folder, each drawn when the data supports it, all in the shared style (:mod:`sim.report.style`).

=====================  =====================================================================
figure                 what it shows
=====================  =====================================================================
``concession_paths``   each side's offers per round on every issue for one recorded
                       negotiation, with dates, the deadline, any extension and the agreement
``utility_plane``      utility space: the Pareto frontier, the Nash and Kalai–Smorodinsky
                       points, the disagreement point and the agreements
``deal_rate``          deal rate against each swept numeric parameter, one line per strategy
                       pair, with 95 % Wilson bands
``strategy_heatmap``   strategy against strategy: deal rate and mean utility to each party
``timing``             when agreements come relative to the final deadline (deadline effect)
``terms``              agreed terms per issue, in the issue's units, by pair or swept value
``pressure``           deal rate, timing and terms against a swept deadline or escalation
``ranking``            a tournament's ranked strategies with 95 % intervals (:mod:`sim.report.ranking`)
=====================  =====================================================================

Each figure is written under ``RUN_DIR/figures/`` in the formats asked for (``run.figure_formats``; ``sim plot
--format``): PNG at 150 dpi by default, SVG and PDF on request.
"""

from __future__ import annotations

import inspect
import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.config import GridPoint
from sim.config.sweep import column_name
from sim.domain.bargaining import frontier, kalai_point, nash_point, rational_part
from sim.domain.no_deal import escalated
from sim.engine.inputs import Structure, joint_box, utility_coefficients
from sim.report.style import (
    ACCENT,
    DPI,
    PALETTE,
    PARTY_COLOURS,
    figure_output,
    figure_style,
    issue_title,
    save,
    short_key,
    sized,
)
from sim.report.summary import wilson_interval
from sim.run.readback import RunData, pair_labels, party_ids

__all__ = ["RunData", "draw_all"]

MAX_LINES = 8  # more strategy pairs than this are not drawn as separate lines
MIN_DEALS = 5  # a distribution of agreements (timing, terms) needs at least this many
MIN_HEATMAP_SHARE = 0.5  # the strategy heatmap is drawn when at least this share of its cells were run


class Skip(Exception):
    """A figure the data does not support, with the reason."""


def _distribution_of_deals(run: RunData, none: str, few: str) -> pd.DataFrame:
    """The deals to draw a distribution of, or Skip with a reason if there are none or too few."""
    deals = run.deals
    if deals.empty:
        raise Skip(none)
    if len(deals) < MIN_DEALS:
        raise Skip(f"only {len(deals)} agreement(s); {few}a distribution needs at least {MIN_DEALS}")
    return deals


# -- 1. concession paths -------------------------------------------------------------------------


def concession_paths(run: RunData, out_dir: Path) -> list[Path]:
    """Each side's offers per round on every issue for one recorded negotiation."""
    if run.rounds.empty:
        raise Skip("no rounds were recorded (run.record_rounds=none)")
    recorded = run.outcomes[run.outcomes["world"].isin(run.rounds["world"].unique())]
    with_deal = recorded[recorded["deal"]]
    row = (with_deal if len(with_deal) else recorded).iloc[0]
    trace = run.rounds[run.rounds["world"] == row["world"]]
    space = run.structure.space
    last = max(int(trace["round"].max()), int(row["final_deadline"]))
    with figure_style():
        fig, axes = _issue_grid(space.n, width=12, row_height=2.9, extra_height=0.6)
        for ax, issue in zip(axes, space.issues, strict=False):
            for k, side in enumerate(run.party_ids):
                mine = trace["proposer"] == side
                ax.plot(trace.loc[mine, "round"], trace.loc[mine, issue.name], marker="o", ms=3.5, lw=1.5,
                        color=PARTY_COLOURS[k], label=f"{run.party_names[side]} offers")
            _mark_deadlines(ax, row)
            _mark_schedule(ax, run.structure, issue.name)
            if row["deal"]:
                ax.plot([row["end_round"]], [row[issue.name]], marker="*", ms=15, color=ACCENT,
                        markeredgecolor="black", zorder=5, linestyle="none", label="agreement")
            ax.set_title(issue_title(issue.name))
            ax.set_ylabel(issue.unit)
            ax.set_ylim(issue.lo - 0.04 * (issue.hi - issue.lo), issue.hi + 0.04 * (issue.hi - issue.lo))
            _round_axis(ax, run.structure, 1, last)
        handles, labels = _legend_entries(axes)
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
        outcome = (f"deal in round {row['end_round']} ({pd.Timestamp(row['end_date']):%d %b %Y})" if row["deal"]
                   else f"no deal ({row['end_reason']})")
        (a, b), names = run.party_ids, run.party_names
        fig.suptitle(f"Offers per round: {row[f'{a}_strategy']} ({names[a]}) vs {row[f'{b}_strategy']} "
                     f"({names[b]}), negotiation {row['world']}: {outcome}")
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        return save(fig, out_dir, "concession_paths")


def _issue_grid(n: int, width: float, row_height: float, extra_height: float) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure with one panel per issue, three to a row; the unused panels are hidden."""
    nrows = int(np.ceil(n / 3))
    fig, axes = plt.subplots(nrows, 3, figsize=sized(width, row_height * nrows + extra_height), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _legend_entries(axes) -> tuple[list, list[str]]:
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    return list(seen.values()), list(seen)


def _mark_deadlines(ax: plt.Axes, row: pd.Series) -> None:
    """Mark the talks' deadline and, if it was extended, the extended one."""
    if row["deadline_extended"] and row["final_deadline"] != row["deadline"]:
        ax.axvline(row["deadline"], color="0.45", ls=":", lw=1.3, label="deadline (then extended)")
        ax.axvline(row["final_deadline"], color="black", ls="--", lw=1.3, label="extended deadline")
    else:
        ax.axvline(row["final_deadline"], color="black", ls="--", lw=1.3, label="deadline")


def _mark_schedule(ax: plt.Axes, structure: Structure, issue: str) -> None:
    """Mark the scheduled tariff changes and threats on the issue they change, from the round they apply."""
    for change in structure.schedule:
        if structure.space.names[change.issue] == issue:
            label = "scheduled change (no deal)" if change.kind == "change" else "threatened tariff (no deal)"
            ax.axvline(change.effective, color=PALETTE[3], ls="-.", lw=1.3, label=label)
            ax.annotate(f"→ {change.value:g}", (change.effective, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(3, -12), textcoords="offset points", fontsize=8, color=PALETTE[3])


def _round_axis(ax: plt.Axes, structure: Structure, first: int, last: int) -> None:
    """Label rounds with their calendar dates (at most five labels)."""
    step = max(1, int(np.ceil((last - first + 1) / 5)))
    ticks = np.arange(first, last + 1, step)
    dates = structure.round_date(ticks)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t}\n{pd.Timestamp(d):%d %b}" for t, d in zip(ticks, dates, strict=True)])
    ax.set_xlabel("round (date)")
    ax.set_xlim(first - 0.5, last + 0.5)


# -- 2. utility plane ----------------------------------------------------------------------------


def _utilities(point: GridPoint, x: np.ndarray) -> tuple[float, float]:
    """Both sides' normalised utilities of package ``x`` at a grid point."""
    c_us, c_jp, k_us, k_jp = utility_coefficients(point.inputs)
    return float(x @ c_us + k_us), float(x @ c_jp + k_jp)


def utility_plane(run: RunData, out_dir: Path) -> list[Path]:
    """The Pareto frontier, Nash and KS points, the disagreement point(s) and the agreements.

    The disagreement point is the no-deal outcome once the deadline has passed (status quo with the
    escalated reciprocal tariff). A sweep whose grid points differ in it (say, in the escalation) shows
    each distinct one with its own Nash and KS points; the frontier is that of the first grid point.
    """
    point = run.plan.points[0]
    p = point.inputs
    coefficients = utility_coefficients(p)
    vertices = frontier(*coefficients, *joint_box(p))
    same_frontier = all(np.allclose(np.r_[utility_coefficients(q.inputs)[:2]], np.r_[coefficients[:2]])
                        for q in run.plan.points)
    disagreements = sorted({tuple(np.round(_utilities(q, _escalated(q)), 9)) for q in run.plan.points})
    status_quo = _utilities(point, p.status_quo)
    deals = run.deals
    with figure_style():
        fig, ax = plt.subplots(figsize=sized(7.2, 6.6))
        ax.plot(vertices[:, 0], vertices[:, 1], color="black", lw=1.8, label="Pareto frontier")
        _agreements(fig, ax, deals)
        # a ring drawn above every other marker, so that it shows even where a disagreement point
        # coincides with it (an escalation of 0)
        ax.plot(*status_quo, marker="o", ms=17, markerfacecolor="none", markeredgecolor=PALETTE[4], mew=2.5,
                linestyle="none", zorder=6,
                label=f"status quo before the deadline: ({status_quo[0]:.2f}, {status_quo[1]:.2f})")
        single = len(disagreements) == 1
        many = len(disagreements) > MAX_LINES  # e.g. a sampled escalation: every point drawn, smaller, no connectors
        big, small = (10, 8) if not many else (5, 4)
        for k, d in enumerate(disagreements):
            rational = rational_part(vertices, d)
            first = k == 0
            where = f": ({d[0]:.2f}, {d[1]:.2f})" if single else f" ({len(disagreements)} grid values)"
            ax.plot(*d, marker="X", ms=big, color=PALETTE[1], linestyle="none", markeredgecolor="black",
                    mew=0.5 if many else 1, label=f"disagreement point (no deal after the deadline){where}"
                    if first else None)
            if len(rational):
                nash, ks = nash_point(rational, d), kalai_point(rational, d)
                ax.plot(*nash, marker="D", ms=small, color=PALETTE[2], linestyle="none", markeredgecolor="black",
                        mew=0.5 if many else 1,
                        label=("Nash solution" + (f": ({nash[0]:.2f}, {nash[1]:.2f})" if single else "s"))
                        if first else None)
                ax.plot(*ks, marker="s", ms=small, color=PALETTE[3], linestyle="none", markeredgecolor="black",
                        mew=0.5 if many else 1,
                        label=("Kalai–Smorodinsky point" + (f": ({ks[0]:.2f}, {ks[1]:.2f})" if single else "s"))
                        if first else None)
                if not single and not many:
                    ax.plot([d[0], nash[0]], [d[1], nash[1]], color=PALETTE[2], lw=0.8, alpha=0.6,
                            label="disagreement point to its Nash solution" if first else None)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.04)
        (a, b), names = run.party_ids, run.party_names
        ax.set_xlabel(f"utility to {names[a]} (0 = worst package, 1 = best)")
        ax.set_ylabel(f"utility to {names[b]} (0 = worst package, 1 = best)")
        note = "" if same_frontier else "\n(frontier of the first grid point; the grid changes the payoffs)"
        agreements = "1 agreement" if len(deals) == 1 else f"{len(deals)} agreements"
        ax.set_title(f"Utility plane: {agreements} against the Pareto frontier{note}")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1, frameon=False)
        ax.set_aspect("equal")
        fig.tight_layout()
        return save(fig, out_dir, "utility_plane")


def headline_issue(structure: Structure) -> tuple[str, str]:
    """The issue a figure shows when it has room for one: the one that escalates without a deal (the
    reciprocal tariff in the 2025 scenario), else the first; with its unit."""
    space = structure.space
    issue = space.issues[structure.escalation_issue if structure.escalation_issue is not None else 0]
    return issue.name, issue.unit


def _escalated(point: GridPoint) -> np.ndarray:
    """The no-deal package after the deadline: the status quo with the escalated tariff."""
    return escalated(point.inputs.status_quo, point.structure.escalation_issue, point.inputs.escalation)


def _agreements(fig: plt.Figure, ax: plt.Axes, deals: pd.DataFrame) -> None:
    """Agreements as a scatter by strategy pair, or as a density when there are many."""
    a, b = (f"{pid}_utility" for pid in party_ids(deals))
    if len(deals) > 3000:
        hb = ax.hexbin(deals[a], deals[b], gridsize=45, mincnt=1, cmap="cividis",
                       extent=(0, 1, 0, 1))
        fig.colorbar(hb, ax=ax, label="agreements per cell", shrink=0.75)
        return
    if deals.empty:
        return
    pairs = pair_labels(deals)
    labels = pairs.unique()
    size = 45 if len(deals) <= 50 else 14
    if len(labels) <= MAX_LINES:
        # blues, black and pink first: the orange and green markers are taken by the solution points
        for colour, label in zip([PALETTE[i] for i in (5, 0, 7, 3, 4, 6)], labels, strict=False):
            mine = pairs == label
            ax.scatter(deals.loc[mine, a], deals.loc[mine, b], s=size, alpha=0.7,
                       color=colour, label=f"agreements: {label}", edgecolors="none")
    else:
        ax.scatter(deals[a], deals[b], s=10, alpha=0.4, color=PALETTE[5],
                   label="agreements", edgecolors="none")


# -- 3. deal rate ----------------------------------------------------------------------------------


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


def _rate_by(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Deal rate per value of ``column`` (binned if sampled), with its 95 % Wilson interval."""
    groups, _ = binned(frame[column])
    agg = frame.groupby(groups.rename("_x")).agg(k=("deal", "sum"), n=("deal", "size"))
    agg["rate"] = agg["k"] / agg["n"]
    agg["low"], agg["high"] = wilson_interval(agg["k"], agg["n"])
    return agg


def deal_rate(run: RunData, out_dir: Path) -> list[Path]:
    """Deal rate against each swept numeric parameter, one line per strategy pair, with 95 % bands.

    A sampled parameter (more than :data:`MAX_VALUES` distinct values) is binned: each point is the
    deal rate in one equal-width bin, drawn at the bin's midpoint, with its Wilson interval.
    """
    keys = run.numeric_keys[:3]
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
                agg = _rate_by(data[data["_pair"] == pair], column_name(key))
                ax.plot(agg.index, agg["rate"], marker="o", ms=4, color=colour, label=pair)
                ax.fill_between(agg.index, agg["low"], agg["high"], color=colour, alpha=0.15, lw=0)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel(short_key(key, long=True) + (f"\n({note}, at their midpoints)" if note else ""))
            ax.set_ylabel("deal rate (share of negotiations)")
            ax.set_title(f"Deal rate against {short_key(key)}")
        axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, title=run.versus)
        pooled = " (each panel pooled over the other swept values)" if len(keys) > 1 else ""
        fig.suptitle(f"Deal rate by strategy pair, with 95 % Wilson confidence bands{pooled}")
        fig.tight_layout()
        return save(fig, out_dir, "deal_rate")


def _deal_rate_by_pair(run: RunData, out_dir: Path) -> list[Path]:
    """Without a swept numeric parameter: each strategy pair's deal rate with its 95 % interval."""
    agg = run.outcomes.assign(_pair=run.pairs).groupby("_pair").agg(k=("deal", "sum"), n=("deal", "size"))
    if len(agg) < 2:
        raise Skip("no numeric parameter was swept and only one strategy pair was run")
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
        return save(fig, out_dir, "deal_rate")


# -- 4. strategy heatmap ---------------------------------------------------------------------------


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
            image = ax.imshow(table.to_numpy(dtype=float), vmin=0, vmax=1, cmap="cividis", aspect="auto")
            for (i, j), value in np.ndenumerate(table.to_numpy(dtype=float)):
                if not np.isnan(value):
                    ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=7.5,
                            color="white" if value < 0.55 else "black")
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
                     "a negotiation without a deal counts at its reservation value)")
        fig.tight_layout()
        return save(fig, out_dir, "strategy_heatmap")


# -- 5. timing -------------------------------------------------------------------------------------


def timing(run: RunData, out_dir: Path) -> list[Path]:
    """When agreements come: share of the final deadline, and rounds before it (the deadline effect)."""
    deals = _distribution_of_deals(run, "no negotiation ended in a deal", "")
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
        return save(fig, out_dir, "timing")


# -- 6. terms --------------------------------------------------------------------------------------


def terms(run: RunData, out_dir: Path) -> list[Path]:
    """Agreed terms per issue, by strategy pair (or by the main swept parameter when pairs are many,
    or there is only one). With a single group, one compact panel shows every issue."""
    deals = _distribution_of_deals(run, "no negotiation ended in a deal, so there are no agreed terms",
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
        fig, axes = _issue_grid(space.n, width=max(12, 1.65 * len(order) + 3), row_height=3.1, extra_height=1.2)
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
        return save(fig, out_dir, "terms")


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
        return save(fig, out_dir, "terms")


# -- agenda comparison -----------------------------------------------------------------------------

AGENDA_ORDER = ["package", "sequential", "linked"]


def agenda(run: RunData, out_dir: Path) -> list[Path]:
    """Package against sector-by-sector talks: outcomes, timing, terms and joint welfare by agenda."""
    o = run.outcomes
    if o["agenda"].nunique() < 2:
        raise Skip("only one agenda was run")
    agendas = [a for a in AGENDA_ORDER if a in set(o["agenda"])]
    hue_key = next((k for k in run.plan.swept_keys
                    if k != "protocol.agenda" and o[column_name(k)].nunique() in (2, 3, 4)), None)
    hues = sorted(o[column_name(hue_key)].unique()) if hue_key else [None]
    width = 0.8 / len(hues)
    x = np.arange(len(agendas))
    term, unit = headline_issue(run.structure)
    with figure_style():
        fig, axes = plt.subplots(1, 4, figsize=sized(17, 4.4))
        for h, (hue, colour) in enumerate(zip(hues, PALETTE, strict=False)):
            data = o if hue is None else o[o[column_name(hue_key)] == hue]
            by = data.groupby("agenda")
            offset = (h - (len(hues) - 1) / 2) * width
            full = by["deal"].mean().reindex(agendas)
            piecemeal = by["partial_deal"].mean().reindex(agendas)
            label = None if hue is None else f"{short_key(hue_key)} = {hue}"
            axes[0].bar(x + offset, full, width, color=colour, label=label)
            axes[0].bar(x + offset, piecemeal, width, bottom=full, color=colour, alpha=0.35, hatch="//",
                        edgecolor="white")
            deals = data[data["deal"]].groupby("agenda")
            axes[1].bar(x + offset, deals["agreement_time"].median().reindex(agendas), width, color=colour)
            axes[2].bar(x + offset, deals[term].median().reindex(agendas), width, color=colour)
            axes[3].bar(x + offset, by["welfare"].mean().reindex(agendas), width, color=colour)
        titles = ["Outcomes: full deal (solid), piecemeal (hatched)", "Timing of full deals",
                  f"Agreed {issue_title(term).lower()} (full deals)", "Joint welfare (all negotiations)"]
        labels = ["share of negotiations", "agreement round / final deadline (median)", f"{unit} (median)",
                  f"{' + '.join(run.party_names.values())} utility (mean; no deal at reservation)"]
        for ax, title, label in zip(axes, titles, labels, strict=True):
            ax.set_xticks(x, agendas)
            ax.set_xlabel("agenda")
            ax.set_title(title)
            ax.set_ylabel(label)
        axes[0].set_ylim(0, 1.02)
        axes[1].set_ylim(0, 1.05)
        if hue_key:
            handles, labels = axes[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
        fig.suptitle(f"Package or piecemeal: {len(o)} negotiations by agenda"
                     + (f" and {short_key(hue_key)}" if hue_key else ""))
        fig.tight_layout(rect=(0, 0.07 if hue_key else 0, 1, 1))
        return save(fig, out_dir, "agenda")


# -- two-level ratification ------------------------------------------------------------------------


def two_level(run: RunData, out_dir: Path) -> list[Path]:
    """Against a swept ratification threshold: deal rate, each side's agreed utility, terms, defections.

    The involuntary-defection panel is drawn only if some tentative agreement failed ratification;
    otherwise the figure says there were none. More strategy pairs than :data:`MAX_LINES` are pooled.
    """
    key = next((k for k in run.numeric_keys if k.startswith("scenario.ratification.")), None)
    if key is None:
        raise Skip("no ratification threshold was swept")
    data = run.outcomes.assign(_pair=run.pairs)
    data["_x"], x_note = binned(data[column_name(key)])
    pairs = list(data["_pair"].unique())
    if len(pairs) > MAX_LINES:
        data["_pair"] = "all strategy pairs"
        pairs = ["all strategy pairs"]
    any_defection = bool((data["defections"] > 0).any())
    (a, b), names = run.party_ids, run.party_names
    term, unit = headline_issue(run.structure)
    panels = [("Deal rate (95 % Wilson band)", "share of negotiations"),
              (f"Agreed utility: {names[b]} (solid), {names[a]} (dashed)", "utility (median)"),
              (f"Agreed {issue_title(term).lower()}", f"{unit} (median)")]
    if any_defection:
        panels.append(("Involuntary defections", "failed ratifications per negotiation (mean)"))
    with figure_style():
        fig, axes = plt.subplots(1, len(panels), figsize=sized(4.3 * len(panels), 4.3))
        for colour, pair in zip(PALETTE[:len(pairs)], pairs, strict=True):
            mine = data[data["_pair"] == pair]
            agg = mine.groupby("_x").agg(k=("deal", "sum"), n=("deal", "size"), defections=("defections", "mean"))
            low, high = wilson_interval(agg["k"], agg["n"])
            axes[0].plot(agg.index, agg["k"] / agg["n"], marker="o", color=colour, label=pair)
            axes[0].fill_between(agg.index, low, high, color=colour, alpha=0.15, lw=0)
            deals = mine[mine["deal"]]
            axes[1].plot(*_median_by(deals, "_x", f"{b}_utility"), marker="o", color=colour, label=pair)
            axes[1].plot(*_median_by(deals, "_x", f"{a}_utility"), marker="s", ls="--", color=colour)
            axes[2].plot(*_median_by(deals, "_x", term), marker="o", color=colour)
            if any_defection:
                axes[3].plot(agg.index, agg["defections"], marker="o", color=colour)
        axes[0].set_ylim(-0.02, 1.02)
        for ax, (title, label) in zip(axes, panels, strict=True):
            ax.set_title(title)
            ax.set_ylabel(label)
            ax.set_xlabel(short_key(key, long=True) + (f"\n({x_note}, at their midpoints)" if x_note else ""))
        handles, labels = axes[1].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), frameon=False, title=run.versus)
        note = "" if any_defection else "\n(no involuntary defections in this run: no tentative agreement failed ratification)"
        fig.suptitle("Two-level game: a smaller win-set at home and the deal abroad (Putnam 1988)" + note)
        fig.tight_layout(rect=(0, 0.1 + 0.05 * ((len(labels) - 1) // 4), 1, 1))
        return save(fig, out_dir, "two_level")


# -- pressure (deadline_pressure's headline) -----------------------------------------------------


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
                axes[1].plot(*_median_by(deals, "_x", "agreement_time"), marker="o", color=colour, label=label)
                for ax, name in zip(axes[2:panels], shown, strict=True):
                    ax.plot(*_median_by(deals, "_x", name), marker="o", color=colour, label=label)
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
        return save(fig, out_dir, "pressure")


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


def _median_by(frame: pd.DataFrame, key: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    med = frame.groupby(key)[column].median()
    return med.index.to_numpy(), med.to_numpy()


def _ranking(run: RunData, out_dir: Path) -> list[Path]:
    """A tournament's ranking (:mod:`sim.report.ranking`): ranking.csv and pairwise.csv beside ``out_dir``, and its figure."""
    from sim.report.ranking import NotATournament, write

    try:  # the tables are written too; only the figure files count as figures
        return [p for p in write(run.outcomes, run.plan.parties, Path(out_dir).parent) if p.suffix != ".csv"]
    except NotATournament as why:
        raise Skip(str(why)) from None


FIGURES = {
    "concession_paths": concession_paths,
    "utility_plane": utility_plane,
    "deal_rate": deal_rate,
    "strategy_heatmap": strategy_heatmap,
    "timing": timing,
    "terms": terms,
    "pressure": pressure,
    "agenda": agenda,
    "two_level": two_level,
    "ranking": _ranking,
}


def draw_all(run: RunData, run_dir: Path, formats: tuple[str, ...] | list[str] = ("png", "svg"),
             only: list[str] | None = None, dpi: int = DPI,
             scale: float = 1.0) -> tuple[list[Path], list[tuple[str, str]]]:
    """Draw every figure the data supports (or those in ``only``) into ``run_dir/figures``.

    Args:
        run: The run's data.
        run_dir: The run folder.
        formats: File formats, some of png, svg, pdf.
        only: Names of the figures to draw (keys of :data:`FIGURES`); ``None`` draws all.
        dpi: PNG resolution.
        scale: Scale on every figure's size (1 = the size the figure was designed for).

    Returns:
        The files written, and ``(figure, reason)`` for each figure skipped.
    """
    out_dir = Path(run_dir) / "figures"
    written, skipped = [], []
    with figure_output(formats, dpi, scale):
        for name, draw in FIGURES.items():
            if only is not None and name not in only:
                continue
            try:
                written += draw(run, out_dir)
            except Skip as why:
                skipped.append((name, str(why)))
    return written, skipped
