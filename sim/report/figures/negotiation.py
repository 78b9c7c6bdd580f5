"""One negotiation round by round: each side's offers on every issue (``concession_paths``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.engine.inputs import Structure
from sim.report import style
from sim.report.figures.common import (
    Skip,
    issue_grid,
    legend_entries,
    readable,
)
from sim.report.style import ACCENT, PALETTE, PARTY_COLOURS, figure_style, issue_title, short_key
from sim.run.readback import RunData


def concession_paths(run: RunData, out_dir: Path) -> list[Path]:
    """Each side's offers per round on every issue for one recorded negotiation."""
    if run.rounds.empty:
        raise Skip("no rounds were recorded (run.record_rounds=none)")
    recorded = run.outcomes[run.outcomes["world"].isin(run.rounds["world"].unique())]
    with_deal = recorded[recorded["deal"]]
    row = (with_deal if len(with_deal) else recorded).iloc[0]
    why = ("the first recorded negotiation that ended in a deal" if len(with_deal)
           else "the first recorded negotiation (none ended in a deal)")
    trace = run.rounds[run.rounds["world"] == row["world"]]
    space = run.structure.space
    last = max(int(trace["round"].max()), int(row["final_deadline"]))
    with figure_style():
        fig, axes = issue_grid(space.n, width=12, row_height=2.9, extra_height=0.6)
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
            ax.set_title(issue.title or issue_title(issue.name))
            ax.set_ylabel(issue.unit)
            ax.set_ylim(issue.lo - 0.04 * (issue.hi - issue.lo), issue.hi + 0.04 * (issue.hi - issue.lo))
            _round_axis(ax, run.structure, 1, last)
        handles, labels = legend_entries(axes)
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
        outcome = (f"deal in round {row['end_round']} ({pd.Timestamp(row['end_date']):%d %b %Y})" if row["deal"]
                   else f"no deal ({row['end_reason']})")
        (a, b), names = run.party_ids, run.party_names
        fig.suptitle(f"Offers per round: {readable(row[f'{a}_strategy'])} ({names[a]}) vs "
                     f"{readable(row[f'{b}_strategy'])} ({names[b]}): {outcome}\n"
                     f"negotiation {row['world']}, {why}{_grid_point(run, row)}", fontsize=11)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        return style.save(fig, out_dir, "concession_paths")


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
    ax.set_xticklabels([f"{t}\n{pd.Timestamp(d):%d %b %y}" for t, d in zip(ticks, dates, strict=True)])
    ax.set_xlabel("round (date)")
    ax.set_xlim(first - 0.5, last + 0.5)


def _grid_point(run: RunData, row: pd.Series) -> str:
    """``"; grid point: deadline (round) = 9, escalation = 5"``: the swept values of the negotiation shown.

    The parameters an ensemble draws from their priors are counted, not listed: a forecast draws dozens per
    world (their values are in ``outcomes.parquet``), and one title line of them would be metres wide."""
    swept, prior = set(run.plan.swept_keys), set(run.plan.prior_keys)
    values = [f"{short_key(key)} = {row[column]:g}" if isinstance(row[column], (int, float, np.number))
              else f"{short_key(key)} = {row[column]}"
              for key, column in run.plan.columns.items() if column in row.index and key in swept - prior]
    drawn = len(prior & swept)
    values += [f"{drawn} parameter{'s' if drawn != 1 else ''} drawn from their priors"] if drawn else []
    return f"; grid point: {', '.join(values)}" if values else ""
