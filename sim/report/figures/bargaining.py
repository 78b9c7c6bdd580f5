"""Utility space: the Pareto frontier, the Nash and Kalai–Smorodinsky points, the disagreement point and the
agreements (``utility_plane``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from sim.config import GridPoint
from sim.config.points import inputs_at
from sim.domain.bargaining import frontier, kalai_point, nash_point, rational_part
from sim.domain.no_deal import escalated
from sim.engine.inputs import joint_box, utility_coefficients
from sim.report import style
from sim.report.figures.common import (
    MAX_LINES,
    readable,
)
from sim.report.style import PALETTE, figure_style, sized
from sim.run.readback import RunData, pair_labels, party_ids


def _utilities(point: GridPoint, x: np.ndarray) -> tuple[float, float]:
    """Both sides' normalised utilities of package ``x`` at a grid point."""
    c_us, c_jp, k_us, k_jp = utility_coefficients(point.inputs)
    return float(x @ c_us + k_us), float(x @ c_jp + k_jp)


def _normalised(party) -> tuple[np.ndarray, np.ndarray]:
    """A party's ``(c, k)`` per point of a block (:func:`sim.domain.utility.normalised`, each point's numbers)."""
    a = np.asarray(party.payoff_a, dtype=float)
    points = a.shape[0]
    b, p_min, p_max = (np.broadcast_to(np.asarray(v, dtype=float), (points,)) for v in
                       (party.payoff_b, party.p_min, party.p_max))
    span = p_max - p_min
    positive = span > 0
    safe = np.where(positive, span, 1.0)
    return np.where(positive[:, None], a / safe[:, None], a * 0.0), np.where(positive, (b - p_min) / safe, 1.0)


_SLICE = 65_536  # points laid out at once (an ensemble's inputs are laid out when read)


def _disagreements(blocks, first: np.ndarray) -> tuple[bool, list[tuple[float, float]]]:
    """Whether every grid point has the utility coefficients ``first`` (those of the first point), and the
    distinct disagreement points (each side's utility of the no-deal package after the deadline, rounded to 1e-9),
    sorted; per block of points at once, no object per point (an ensemble has one point per world)."""
    same, found = True, set()
    for block in blocks:
        for rows in np.array_split(np.arange(len(block)), max(1, -(-len(block) // _SLICE))):  # lazy inputs a slice at a time
            inputs = inputs_at(block.inputs, rows)
            (c_a, k_a), (c_b, k_b) = (_normalised(party) for party in inputs.parties)
            same = same and bool(np.isclose(np.hstack([c_a, c_b]), first[None, :]).all())
            x = escalated(inputs.status_quo, block.structure.escalation_issue, inputs.escalation)
            x = np.broadcast_to(x, c_a.shape)
            # one point's dot at a time: the same sums, in the same order, as the point's own utilities
            u = np.array([(float(x[i] @ c_a[i] + k_a[i]), float(x[i] @ c_b[i] + k_b[i])) for i in range(len(x))])
            found.update(map(tuple, np.round(u.reshape(-1, 2), 9).tolist()))
    return same, sorted(found)


def utility_plane(run: RunData, out_dir: Path) -> list[Path]:
    """The Pareto frontier, Nash and KS points, the disagreement point(s) and the agreements.

    The disagreement point is the no-deal outcome once the deadline has passed (status quo with the
    escalated reciprocal tariff). A sweep whose grid points differ in it (say, in the escalation) shows
    each distinct one with its own Nash and KS points; the frontier is that of the first grid point.
    The axes are zoomed on where the agreements and the solution points lie; an inset shows the whole
    plane with the zoomed window.
    """
    point = run.plan.points[0]
    p = point.inputs
    coefficients = utility_coefficients(p)
    vertices = frontier(*coefficients, *joint_box(p))
    same_frontier, disagreements = _disagreements(run.plan.blocks, np.r_[coefficients[:2]])
    solutions = [(d, *_solution(vertices, d)) for d in disagreements]
    status_quo = _utilities(point, p.status_quo)
    deals = run.deals
    a, b = (f"{pid}_utility" for pid in run.party_ids)
    window = _window(deals[[a, b]].to_numpy(dtype=float), [status_quo, *[q for s in solutions for q in s if q is not None]])
    with figure_style():
        fig, ax = plt.subplots(figsize=sized(7.6, 7.4))
        ax.plot(vertices[:, 0], vertices[:, 1], color="black", lw=1.8, label="Pareto frontier", zorder=3)
        _agreements(fig, ax, deals, window)
        # a ring drawn above every other marker, so that it shows even where a disagreement point
        # coincides with it (an escalation of 0)
        ax.plot(*status_quo, marker="o", ms=17, markerfacecolor="none", markeredgecolor=PALETTE[4], mew=2.5,
                linestyle="none", zorder=8,
                label=f"status quo before the deadline: ({status_quo[0]:.2f}, {status_quo[1]:.2f})")
        _solution_markers(ax, solutions)
        ax.set_xlim(window[0], window[1])
        ax.set_ylim(window[2], window[3])
        (pa, pb), names = run.party_ids, run.party_names
        ax.set_xlabel(f"utility to {names[pa]} (0 = worst package, 1 = best)")
        ax.set_ylabel(f"utility to {names[pb]} (0 = worst package, 1 = best)")
        note = "" if same_frontier else "\n(frontier of the first grid point; the grid changes the payoffs)"
        agreements = "1 agreement" if len(deals) == 1 else f"{len(deals):,} agreements"
        ax.set_title(f"Utility plane: {agreements} against the Pareto frontier (zoomed; inset: whole plane){note}")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False, fontsize=8)
        ax.set_aspect("equal")
        _overview(ax, vertices, status_quo, window)
        fig.tight_layout()
        return style.save(fig, out_dir, "utility_plane")


def _solution(vertices: np.ndarray, d: tuple[float, float]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The Nash and Kalai–Smorodinsky points of disagreement point ``d`` (None if no rational package)."""
    rational = rational_part(vertices, d)
    if not len(rational):
        return None, None
    return nash_point(rational, d), kalai_point(rational, d)


def _window(deals: np.ndarray, points: list) -> tuple[float, float, float, float]:
    """The zoomed axes: a square around the agreements and the marked points with a margin, at least 0.15 wide,
    inside the plane."""
    xy = np.vstack([deals.reshape(-1, 2), np.asarray([np.asarray(q, dtype=float) for q in points])])
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = max(float(np.max(hi - lo)), 0.15)  # square, so that equal aspect keeps these limits
    mid = np.clip((lo + hi) / 2, 0.6 * span - 0.02, 1.04 - 0.6 * span)
    lo, hi = mid - 0.6 * span, mid + 0.6 * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def _solution_markers(ax: plt.Axes, solutions: list) -> None:
    """Each disagreement point with its Nash and KS points (and, for a few, a connector to its Nash point).

    Each kind of marker is one artist holding all its points (an ensemble has thousands of disagreement points)."""
    single = len(solutions) == 1
    many = len(solutions) > MAX_LINES  # e.g. a sampled escalation: every point drawn, smaller, no connectors
    big, small, edge = (10, 8, 1) if not many else (5, 4, 0.5)
    d = np.array([s[0] for s in solutions], dtype=float).reshape(-1, 2)
    solved = [s for s in solutions if s[1] is not None]
    where = f": ({d[0, 0]:.2f}, {d[0, 1]:.2f})" if single else f" ({len(solutions)} grid values)"
    ax.plot(d[:, 0], d[:, 1], marker="X", ms=big, color=PALETTE[1], linestyle="none", markeredgecolor="black",
            mew=edge, zorder=6, label=f"disagreement point (no deal after the deadline){where}")
    if not solved:
        return
    for k, (marker, colour, name) in enumerate((("D", PALETTE[2], "Nash solution"),
                                                ("s", PALETTE[3], "Kalai–Smorodinsky point"))):
        xy = np.array([s[1 + k] for s in solved], dtype=float).reshape(-1, 2)
        at = f": ({xy[0, 0]:.2f}, {xy[0, 1]:.2f})" if single else "s"
        ax.plot(xy[:, 0], xy[:, 1], marker=marker, ms=small, color=colour, linestyle="none",
                markeredgecolor="black", mew=edge, zorder=7, label=name + at)
    if not single and not many:
        for k, (d_k, nash, _) in enumerate(solved):
            ax.plot([d_k[0], nash[0]], [d_k[1], nash[1]], color=PALETTE[2], lw=0.8, alpha=0.6, zorder=5,
                    label="disagreement point to its Nash solution" if k == 0 else None)


def _overview(ax: plt.Axes, vertices: np.ndarray, status_quo, window) -> None:
    """An inset with the whole utility plane, the frontier and the zoomed window."""
    inset = ax.inset_axes((0.66, 0.66, 0.32, 0.32))
    inset.plot(vertices[:, 0], vertices[:, 1], color="black", lw=1)
    inset.plot(*status_quo, marker="o", ms=4, color=PALETTE[4])
    x0, x1, y0, y1 = window
    inset.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=PALETTE[1], lw=1.2))
    inset.set(xlim=(0, 1), ylim=(0, 1), xticks=[0, 1], yticks=[0, 1], aspect="equal")
    inset.tick_params(labelsize=7)
    inset.set_facecolor("white")
    inset.set_title("whole plane", fontsize=7)


def _agreements(fig: plt.Figure, ax: plt.Axes, deals: pd.DataFrame, window) -> None:
    """Agreements as a scatter by strategy pair, or as a density (under the markers) when there are many."""
    a, b = (f"{pid}_utility" for pid in party_ids(deals))
    if len(deals) > 3000:
        hb = ax.hexbin(deals[a], deals[b], gridsize=35, mincnt=1, cmap="Blues", extent=window, zorder=1,
                       linewidths=0.2)
        fig.colorbar(hb, ax=ax, label="agreements per cell", shrink=0.6, pad=0.02)
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
            ax.scatter(deals.loc[mine, a], deals.loc[mine, b], s=size, alpha=0.7, zorder=2,
                       color=colour, label=f"agreements: {readable(label)}", edgecolors="none")
    else:
        ax.scatter(deals[a], deals[b], s=10, alpha=0.4, color=PALETTE[5],
                   label="agreements", edgecolors="none")
