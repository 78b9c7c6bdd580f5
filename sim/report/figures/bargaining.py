"""Utility space: the Pareto frontier, the Nash and Kalai–Smorodinsky points, the disagreement point and the
agreements (``utility_plane``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.config import GridPoint
from sim.domain.bargaining import frontier, kalai_point, nash_point, rational_part
from sim.domain.no_deal import escalated
from sim.engine.inputs import joint_box, utility_coefficients
from sim.report import style
from sim.report.figures.common import (
    MAX_LINES,
)
from sim.report.style import PALETTE, figure_style, sized
from sim.run.store import RunData, pair_labels, party_ids


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
        return style.save(fig, out_dir, "utility_plane")


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
