"""Figures for a run folder, drawn with one shared style.

* ``concession_paths``: each side's offers per round on the main issues, for one recorded
  negotiation, with calendar dates, the deadline (and any extension) and the agreement marked.
* ``pressure``: for a sweep over numeric config keys, deal rate (with 95 % Wilson intervals),
  agreement timing and agreed terms against the first swept key, one line per value of the second.

Each figure is written as PNG (150 dpi) and SVG under ``RUN_DIR/figures/``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.stats import binomtest  # noqa: E402

from sim.config import Structure  # noqa: E402
from sim.outputs import atomic_write  # noqa: E402

__all__ = ["concession_paths", "draw_all", "pressure"]

# Okabe & Ito (2008) colour-blind-safe palette
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
SIDE_COLOURS = {"us": PALETTE[0], "japan": PALETTE[1]}
SIDE_LABELS = {"us": "United States", "japan": "Japan"}
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "svg.fonttype": "none",  # keep SVG text as text: editable in a report, smaller and faster to write
}
TITLES = {
    "cars": "Cars", "auto_parts": "Auto parts", "steel_aluminium": "Steel & aluminium",
    "reciprocal": "Reciprocal tariff", "investment": "Investment pledge", "purchases": "Yearly purchases",
}

TERM_TITLES = {"cars": "car tariff", "auto_parts": "auto-parts tariff", "steel_aluminium": "steel tariff",
               "reciprocal": "reciprocal tariff"}


def _save(fig: plt.Figure, out_dir: Path, name: str) -> list[Path]:
    paths = []
    for ext in ("png", "svg"):
        path = Path(out_dir) / f"{name}.{ext}"
        atomic_write(path, lambda p, ext=ext: fig.savefig(p, format=ext, bbox_inches="tight"))
        paths.append(path)
    plt.close(fig)
    return paths


def _panels(space_names: list[str], japan_items: list[str]) -> list[tuple[str, list[str]]]:
    """Main issues to draw: the US tariffs, the investment pledge, and the sum of purchases."""
    panels = [(n, [n]) for n in ("cars", "auto_parts", "steel_aluminium", "reciprocal") if n in space_names]
    if "investment" in space_names:
        panels.append(("investment", ["investment"]))
    purchases = [n for n in japan_items if n != "investment"]
    if purchases:
        panels.append(("purchases", purchases))
    return panels


def _pick_world(outcomes: pd.DataFrame, rounds: pd.DataFrame) -> int:
    """A recorded world to show: the first with a deal, else the first recorded."""
    recorded = outcomes[outcomes["world"].isin(rounds["world"].unique())]
    with_deal = recorded[recorded["deal"]]
    return int((with_deal if len(with_deal) else recorded)["world"].iloc[0])


def concession_paths(outcomes: pd.DataFrame, rounds: pd.DataFrame, structure: Structure, out_dir: Path,
                     world: int | None = None) -> list[Path]:
    """Draw each side's offers per round on the main issues for one recorded negotiation."""
    world = _pick_world(outcomes, rounds) if world is None else world
    row = outcomes.set_index("world").loc[world]
    trace = rounds[rounds["world"] == world]
    space = structure.space
    units = {i.name: i.unit for i in space.issues}
    panels = _panels(list(space.names), space.granted_by("japan"))
    last = int(trace["round"].max())
    with plt.rc_context(STYLE):
        ncols = 3
        nrows = int(np.ceil(len(panels) / ncols))
        fig, axes = plt.subplots(nrows, ncols, figsize=(12, 3.4 * nrows), squeeze=False)
        for ax, (title, cols) in zip(axes.flat, panels, strict=False):
            values = trace[cols].sum(axis=1)
            for side in ("us", "japan"):
                mine = trace["proposer"] == side
                ax.plot(trace.loc[mine, "round"], values[mine], marker="o", ms=4, lw=1.6,
                        color=SIDE_COLOURS[side], label=f"{SIDE_LABELS[side]} offers")
            unit = units[cols[0]]
            ax.set_title(TITLES.get(title, title))
            ax.set_ylabel(f"{unit}" if len(cols) == 1 else f"{unit} (sum of {len(cols)} items)")
            _mark_deadlines(ax, row)
            if row["deal"]:
                ax.plot([row["end_round"]], [row[cols].sum()], marker="*", ms=16, color=PALETTE[2],
                        markeredgecolor="black", zorder=5, label="agreement", linestyle="none")
            _round_axis(ax, structure, 1, max(last, int(row["final_deadline"])))
        for ax in axes.flat[len(panels):]:
            ax.set_visible(False)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, bbox_to_anchor=(0.5, -0.02))
        outcome = f"deal in round {row['end_round']}" if row["deal"] else f"no deal ({row['end_reason']})"
        fig.suptitle(f"Offers per round: {row['us_strategy']} (US) vs {row['japan_strategy']} (Japan), "
                     f"world {world}: {outcome}", fontsize=12)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        return _save(fig, out_dir, "concession_paths")


def _mark_deadlines(ax: plt.Axes, row: pd.Series) -> None:
    """Mark the US deadline and, if it was extended, the extended one."""
    if row["deadline_extended"] and row["final_deadline"] != row["deadline"]:
        ax.axvline(row["deadline"], color="0.45", ls=":", lw=1.3, label="US deadline (then extended)")
        ax.axvline(row["final_deadline"], color="black", ls="--", lw=1.3, label="extended deadline")
    else:
        ax.axvline(row["final_deadline"], color="black", ls="--", lw=1.3, label="US deadline")


def _round_axis(ax: plt.Axes, structure: Structure, first: int, last: int) -> None:
    """Label rounds with their calendar dates."""
    step = max(1, int(np.ceil((last - first + 1) / 5)))
    ticks = np.arange(first, last + 1, step)
    dates = structure.round_date(ticks)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t}\n{pd.Timestamp(d):%d %b}" for t, d in zip(ticks, dates, strict=True)])
    ax.set_xlabel("round (date)")
    ax.set_xlim(first - 0.5, last + 0.5)


def _wilson(k: int, n: int) -> tuple[float, float]:
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


def pressure(outcomes: pd.DataFrame, swept: list[str], structure: Structure, out_dir: Path) -> list[Path]:
    """Deal rate, timing and terms against the first numeric swept key (lines: the second key)."""
    numeric = [k for k in swept if pd.api.types.is_numeric_dtype(outcomes[k])]
    x_key = numeric[0]
    hue_key = numeric[1] if len(numeric) > 1 else None
    units = {i.name: i.unit for i in structure.space.issues}
    terms = [n for n in ("reciprocal", "cars") if n in units][:2]
    data = outcomes.assign(
        share_of_deadline=outcomes["end_round"] / outcomes["final_deadline"],
        _hue=outcomes[hue_key] if hue_key else "all",
    )
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2 + len(terms), figsize=(4.2 * (2 + len(terms)), 3.8))
        for colour, (hue, group) in zip(PALETTE, data.groupby("_hue", sort=True), strict=False):
            label = f"{_short(hue_key)} = {hue:g}" if hue_key else None
            agg = group.groupby(x_key).agg(k=("deal", "sum"), n=("deal", "size"))
            rate = agg["k"] / agg["n"]
            lo_hi = np.array([_wilson(k, n) for k, n in zip(agg["k"], agg["n"], strict=True)])
            axes[0].plot(agg.index, rate, marker="o", color=colour, label=label)
            axes[0].fill_between(agg.index, lo_hi[:, 0], lo_hi[:, 1], color=colour, alpha=0.15, lw=0)
            deals = group[group["deal"]]
            if len(deals):
                timing = deals.groupby(x_key)["share_of_deadline"].median()
                axes[1].plot(timing.index, timing, marker="o", color=colour, label=label)
                for ax, name in zip(axes[2:], terms, strict=True):
                    med = deals.groupby(x_key)[name].median()
                    ax.plot(med.index, med, marker="o", color=colour, label=label)
        axes[0].set_ylim(-0.02, 1.02)
        axes[0].set_title("Deal rate (95 % Wilson interval)")
        axes[0].set_ylabel("share of negotiations with a deal")
        axes[1].set_title("Timing of agreements")
        axes[1].set_ylabel("agreement round / final deadline (median)")
        axes[1].set_ylim(0, 1.05)
        for ax, name in zip(axes[2:], terms, strict=True):
            ax.set_title(f"Agreed {TERM_TITLES.get(name, name)} (median)")
            ax.set_ylabel(units[name])
        for ax in axes:
            ax.set_xlabel(_short(x_key, long=True))
        if hue_key:
            axes[-1].legend(loc="best", frameon=False)
        pairs = outcomes[["us_strategy", "japan_strategy"]].drop_duplicates()
        fig.suptitle(f"Deadline pressure: deal rate, timing and terms against {_short(x_key)} "
                     f"({len(pairs)} strategy pair{'s' if len(pairs) > 1 else ''} pooled, "
                     f"{len(outcomes)} negotiations)", fontsize=12)
        fig.tight_layout()
        return _save(fig, out_dir, "pressure")


def _short(key: str | None, long: bool = False) -> str:
    names = {
        "scenario.deadline.round": ("deadline", "US deadline (round)"),
        "scenario.escalation": ("escalation", "escalation at the deadline (pp)"),
    }
    if key in names:
        return names[key][1 if long else 0]
    return str(key).split(".")[-1]


def draw_all(out_dir: Path, outcomes: pd.DataFrame, rounds: pd.DataFrame, structure: Structure,
             swept: list[str]) -> list[Path]:
    """Draw every figure the data supports into ``out_dir/figures``."""
    fig_dir = Path(out_dir) / "figures"
    paths = []
    if len(rounds):
        paths += concession_paths(outcomes, rounds, structure, fig_dir)
    if any(pd.api.types.is_numeric_dtype(outcomes[k]) for k in swept):
        paths += pressure(outcomes, swept, structure, fig_dir)
    return paths
