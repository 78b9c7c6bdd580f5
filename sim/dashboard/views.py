"""What the dashboard draws: one negotiation so far, and a batch of N seeds of its settings.

Every function takes a one-world :class:`~sim.scenario_model.ScenarioModel` (``talks``) as it stands
after some rounds, and returns numbers or a Matplotlib figure (no Solara here, so each is testable on
its own):

* the concession paths: each party's offers per round on every issue, in the issue's unit, with the
  dates, the deadline (and its extension once revealed) and the scheduled tariff changes;
* the utility plane: the exact Pareto frontier of the packages both parties can accept, the
  disagreement point (both reservation values in the current round), the Nash point on the rational
  part of the frontier, and the offers so far;
* each party's reservation value (its utility of no deal) per round;
* each party's ratification approval of the offers so far against its threshold, when the two-level
  layer is on (a threshold above 0 in some round);
* the batch: deal rate, timing of the agreements and the distribution of the agreed terms.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.config.values import ConfigError
from sim.domain.bargaining import frontier, nash_point, rational_part
from sim.engine.codes import END_REASONS, Response
from sim.report.style import PALETTE, figure_style, issue_title
from sim.engine.inputs import utility_coefficients
from sim.scenario_model import ScenarioModel

__all__ = ["Batch", "approval_figure", "approval_paths", "batch_figure", "concession_caption", "concession_figure",
           "horizon", "offers", "plane", "ratification_on", "reservation_figure", "reservation_paths", "run_batch",
           "settings_line", "utility_plane_figure"]

# response codes of the round log (sim.engine.model._record)
RESPONSES = {Response.COUNTER: "countered", Response.ACCEPT: "accepted", Response.WALK_AWAY: "walked away",
             Response.DEADLINE: "the final deadline passed", Response.BREAKDOWN: "the talks broke down"}
COLOURS = (PALETTE[0], PALETTE[1])
MARK = PALETTE[3]

BATCH_SIZES = (10, 10_000)
"""Fewest and most seeds the batch view runs (checked on the server too: the page's slider is only a hint)."""


@dataclass(frozen=True)
class Offer:
    """One recorded offer of world 0: its round, who made it, the package and the answer (a response code)."""

    round: int
    proposer: str
    package: np.ndarray
    response: int


def offers(talks: ScenarioModel) -> list[Offer]:
    """The offers made so far in the first world, in round order."""
    out = []
    for entry in talks.round_log:
        where = np.flatnonzero(entry["world_index"] == 0)
        if len(where):
            k = int(where[0])
            out.append(Offer(int(entry["round"][k]), str(entry["proposer"][k]), np.asarray(entry["offer"][k], float),
                             int(entry["response"][k])))
    return out


def current_round(talks: ScenarioModel) -> int:
    """The last round played (0 before the first)."""
    return int(talks.steps)


def horizon(talks: ScenarioModel) -> int:
    """The last round the time axes show: the deadline plus any possible extension, within the horizon,
    and never before the current round."""
    inputs = talks.point.inputs
    last = float(inputs.deadline) + (float(inputs.extension_rounds) if float(inputs.extension_probability) > 0 else 0)
    return int(min(talks.max_rounds, max(last, current_round(talks), 2)))


def _names(talks: ScenarioModel) -> dict[str, str]:
    return {spec.id: spec.name for spec in talks.structure.parties}


def _round_axis(ax, talks: ScenarioModel, last: int) -> None:
    step = max(1, int(np.ceil(last / 5)))
    ticks = np.arange(1, last + 1, step)
    dates = talks.structure.round_date(ticks)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t}\n{pd.Timestamp(d):%d %b}" for t, d in zip(ticks, dates, strict=True)])
    ax.set_xlim(0.5, last + 0.5)


def _mark_deadline(ax, talks: ScenarioModel) -> None:
    """The deadline; the extended deadline only once the extension is revealed (at the deadline)."""
    deadline, final = float(talks.deadlines.deadline[0]), float(talks.deadlines.final_deadline[0])
    if final != deadline and current_round(talks) >= deadline:
        ax.axvline(deadline, color="0.45", ls=":", lw=1.2, label="deadline (then extended)")
        ax.axvline(final, color="black", ls="--", lw=1.2, label="extended deadline")
    else:
        ax.axvline(deadline, color="black", ls="--", lw=1.2, label="deadline")


def _legend(fig: Figure, axes, ncol: int = 5) -> None:
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="lower center", ncol=min(ncol, len(seen)), frameon=False)


def status(talks: ScenarioModel) -> str:
    """How the first world stands: still talking, or how and when it ended."""
    code = int(talks.end_reason[0])
    if code == 0:
        return "talking"
    when = int(talks.end_round[0])
    date = pd.Timestamp(talks.structure.round_date(np.array([when]))[0])
    return f"{END_REASONS[code]} in round {when} ({date:%d %b %Y})"


def settings_line(talks: ScenarioModel) -> str:
    """Who negotiates with what (offering / acceptance / opponent model), under which protocol and deadline."""
    parties = " vs ".join(f"{position} party: {spec.name} ({spec.offering[0]} / {spec.acceptance[0]} / "
                          f"{spec.opponent[0]})" for position, spec in zip(("first", "second"),
                                                                              talks.structure.parties, strict=False))
    return f"{parties}; {talks.structure.agenda} protocol; deadline round {int(talks.point.inputs.deadline)}"


def concession_caption(talks: ScenarioModel) -> str:
    """One line on the latest round: its number and date, who proposed and how the other side answered."""
    names = _names(talks)
    made = offers(talks)
    if not made:
        return f"Round 0 of at most {horizon(talks)}: no offer yet. Press Step."
    last = made[-1]
    date = pd.Timestamp(talks.structure.round_date(np.array([last.round]))[0])
    other = next(pid for pid in names if pid != last.proposer)
    answer = RESPONSES.get(last.response, f"answered {last.response}")
    who = f"{names[other]} {answer}" if last.response <= Response.WALK_AWAY else answer
    return (f"Round {last.round} of at most {horizon(talks)} ({date:%d %b %Y}): {names[last.proposer]} proposed, "
            f"{who}. Status: {status(talks)}.")


def concession_figure(talks: ScenarioModel) -> Figure:
    """Each party's offers per round on every issue (in its unit), with the deadline and scheduled changes."""
    space, names = talks.structure.space, _names(talks)
    made, last = offers(talks), horizon(talks)
    with figure_style():
        ncols = 3
        nrows = int(np.ceil(space.n / ncols))
        fig = Figure(figsize=(9.0, 1.9 * nrows + 0.7), dpi=80)
        axes = list(fig.subplots(nrows, ncols, squeeze=False).flat)
        for ax in axes[space.n:]:
            ax.set_visible(False)
        for j, (ax, issue) in enumerate(zip(axes, space.issues, strict=False)):
            for k, pid in enumerate(names):
                mine = [o for o in made if o.proposer == pid]
                ax.plot([o.round for o in mine], [o.package[j] for o in mine], marker="o", ms=3.5, lw=1.4,
                        color=COLOURS[k], label=f"{names[pid]} offers")
            _mark_deadline(ax, talks)
            for change in talks.structure.schedule:
                if change.issue == j:
                    kind = "scheduled change" if change.kind == "change" else "threatened change"
                    ax.axvline(change.effective, color=MARK, ls="-.", lw=1.2, label=f"{kind} (no deal)")
                    ax.annotate(f"→ {change.value:g}", (change.effective, 1.0), xycoords=("data", "axes fraction"),
                                xytext=(3, -10), textcoords="offset points", fontsize=8, color=MARK)
            if int(talks.end_reason[0]) == 1:
                ax.plot([int(talks.end_round[0])], [talks.agreement[0, j]], marker="*", ms=13, color=PALETTE[2],
                        markeredgecolor="black", ls="none", zorder=5, label="agreement")
            pad = 0.05 * (issue.hi - issue.lo or 1.0)
            ax.set_ylim(issue.lo - pad, issue.hi + pad)
            ax.set_title(f"{issue.title or issue_title(issue.name)} ({issue.unit})", fontsize=9)
            _round_axis(ax, talks, last)
            ax.tick_params(labelsize=7)
        _legend(fig, axes[:space.n])
        fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


@dataclass(frozen=True)
class Plane:
    """The utility plane in the current round.

    Attributes:
        frontier: Pareto frontier vertices ``(V, 2)``, as (first party's, second party's) utility.
        disagreement: Both parties' reservation values in the current round.
        nash: The Nash point on the rational part of the frontier (NaN if that part is empty).
        offers: The utilities of the offers so far ``(R, 2)``.
        proposers: Who made each offer.
    """

    frontier: np.ndarray
    disagreement: tuple[float, float]
    nash: np.ndarray
    offers: np.ndarray
    proposers: list[str]


def plane(talks: ScenarioModel) -> Plane:
    """The utility plane of the first world now (see :class:`Plane`)."""
    c1, c2, k1, k2 = utility_coefficients(talks.point.inputs)
    first, second = talks.negotiators
    # the packages both sides can accept in this world: the red lines that hold in it (a line of strength
    # below 1 may give), so the box of the world's negotiators rather than of the config
    lo, hi = np.maximum(first.red_lo[0], second.red_lo[0]), np.minimum(first.red_hi[0], second.red_hi[0])
    vertices = frontier(c1, c2, float(k1), float(k2), lo, hi)
    t = max(current_round(talks), 1)
    d = (float(first.reservation(t)[0]), float(second.reservation(t)[0]))
    nash = nash_point(rational_part(vertices, d), d)
    made = offers(talks)
    xs = np.array([o.package for o in made]).reshape(-1, talks.structure.space.n)
    utilities = np.column_stack([xs @ c1 + k1, xs @ c2 + k2]) if len(made) else np.empty((0, 2))
    return Plane(vertices, d, nash, utilities, [o.proposer for o in made])


def utility_plane_figure(talks: ScenarioModel) -> Figure:
    """The Pareto frontier, the disagreement and Nash points, and the offers so far, in utility space."""
    names = _names(talks)
    (first, second), p = tuple(names), plane(talks)
    with figure_style():
        fig = Figure(figsize=(5.2, 4.6), dpi=80)
        ax = fig.subplots()
        ax.plot(p.frontier[:, 0], p.frontier[:, 1], color="black", lw=1.5, label="Pareto frontier")
        for k, pid in enumerate(names):
            mine = np.array([pr == pid for pr in p.proposers], dtype=bool)
            ax.plot(p.offers[mine, 0], p.offers[mine, 1], marker="o", ms=5, ls="-", lw=0.8, alpha=0.85,
                    color=COLOURS[k], label=f"{names[pid]} offers")
        if len(p.offers):
            ax.plot(*p.offers[-1], marker="o", ms=11, mfc="none", mec="black", ls="none", label="latest offer")
        ax.plot(*p.disagreement, marker="s", ms=8, color="0.4", ls="none", label="no deal (reservation values)")
        if np.all(np.isfinite(p.nash)):
            ax.plot(*p.nash, marker="*", ms=15, color=PALETTE[2], mec="black", ls="none", label="Nash point")
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel(f"utility to {names[first]}")
        ax.set_ylabel(f"utility to {names[second]}")
        ax.set_title(f"Utility plane, round {current_round(talks)}", fontsize=10)
        ax.legend(loc="lower left", fontsize=7)
        fig.tight_layout()
    return fig


def reservation_paths(talks: ScenarioModel) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Rounds 1..:func:`horizon` and each party's reservation value (utility of no deal) in each."""
    rounds = np.arange(1, horizon(talks) + 1)
    return rounds, {n.id: np.array([float(n.reservation(int(t))[0]) for t in rounds]) for n in talks.negotiators}


def reservation_figure(talks: ScenarioModel) -> Figure:
    """Each party's reservation value per round, with the deadline and the current round."""
    names = _names(talks)
    rounds, paths = reservation_paths(talks)
    with figure_style():
        fig = Figure(figsize=(5.2, 3.4), dpi=80)
        ax = fig.subplots()
        for k, (pid, values) in enumerate(paths.items()):
            ax.step(rounds, values, where="post", color=COLOURS[k], lw=1.6, label=names[pid])
        _mark_deadline(ax, talks)
        if current_round(talks):
            ax.axvline(current_round(talks), color=PALETTE[4], lw=3, alpha=0.5, label="current round")
        _round_axis(ax, talks, int(rounds[-1]))
        ax.set_ylim(-0.03, 1.03)
        ax.set_ylabel("reservation value (utility)")
        ax.set_title("Reservation value: utility of no deal", fontsize=10)
        ax.legend(fontsize=7, loc="lower left", framealpha=0.9)
        fig.tight_layout()
    return fig


def ratification_on(talks: ScenarioModel) -> bool:
    """Whether the two-level layer is on: some party's ratification threshold is above 0 in some round."""
    return any(n.ratification_binds(t) for n in talks.negotiators for t in range(1, talks.max_rounds + 1))


def approval_paths(talks: ScenarioModel) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The rounds of the offers so far, each party's approval of each offer, and its threshold in that round."""
    made = offers(talks)
    rounds = np.array([o.round for o in made], dtype=int)
    approval, threshold = {}, {}
    for n in talks.negotiators:
        approval[n.id] = np.array([float(n.approval(o.package[None, :])[0]) for o in made])
        threshold[n.id] = np.array([float(n.threshold(int(t))[0]) for t in rounds])
    return rounds, approval, threshold


def approval_figure(talks: ScenarioModel) -> Figure:
    """Each party's constituencies' approval of the offers so far, against its ratification threshold."""
    names = _names(talks)
    rounds, approval, threshold = approval_paths(talks)
    with figure_style():
        fig = Figure(figsize=(5.2, 4.4), dpi=80)
        ax = fig.subplots()
        all_rounds = np.arange(1, horizon(talks) + 1)
        proposers = np.array([o.proposer for o in offers(talks)])
        for k, n in enumerate(talks.negotiators):
            ax.plot(rounds, approval[n.id], lw=0.8, alpha=0.5, color=COLOURS[k])
            own = proposers == n.id
            ax.plot(rounds[own], approval[n.id][own], marker="o", ms=5, ls="none", color=COLOURS[k],
                    label=f"{names[n.id]}: approval of its own offers")
            ax.plot(rounds[~own], approval[n.id][~own], marker="o", ms=5, ls="none", mfc="white", color=COLOURS[k],
                    label=f"{names[n.id]}: of the other side's")
            line = [float(n.threshold(int(t))[0]) for t in all_rounds]
            ax.step(all_rounds, line, where="post", ls="--", color=COLOURS[k], lw=1.2,
                    label=f"{names[n.id]} threshold")
        _round_axis(ax, talks, int(all_rounds[-1]))
        ax.set_ylim(-0.03, 1.03)
        ax.set_ylabel("approval of the offer")
        ax.set_title("Ratification: approval of each offer", fontsize=10)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
        fig.tight_layout()
    return fig


@dataclass(frozen=True)
class Batch:
    """N negotiations of one setting, run to the end.

    Attributes:
        n: Number of negotiations (seed indices 0..N-1 of the root seed).
        outcomes: One row per negotiation (:meth:`~sim.engine.model.NegotiationModel.outcomes`).
        seconds: Wall time of building and running the batch.
        issues: The issues, for units and ranges.
        deadline: The talks' deadline (round).
        names: Party id -> display name.
    """

    n: int
    outcomes: pd.DataFrame
    seconds: float
    issues: tuple
    deadline: int
    names: dict[str, str]

    @property
    def deal_rate(self) -> float:
        """Share of the negotiations that ended in agreement."""
        return float(self.outcomes["deal"].mean())

    def summary(self) -> str:
        """One line: deal rate, median agreement round and how long the batch took."""
        deals = self.outcomes[self.outcomes["deal"]]
        median = f", median agreement round {deals['end_round'].median():g}" if len(deals) else ""
        return (f"{self.n:,} negotiations: deal rate {100 * self.deal_rate:.1f} % ({len(deals):,} deals){median}; "
                f"ran in {self.seconds:.2f} s")


def run_batch(settings: dict, n: int) -> Batch:
    """Run ``n`` seeds of the dashboard's settings in one batched model (world ``k``: seed index ``k``).

    Raises:
        ConfigError: a bad setting (see :func:`sim.dashboard.session.build_talks`).
    """
    from sim.dashboard.session import build_talks

    if isinstance(n, bool) or not isinstance(n, int) or not BATCH_SIZES[0] <= n <= BATCH_SIZES[1]:
        raise ConfigError("N", f"must be an integer in [{BATCH_SIZES[0]:,}, {BATCH_SIZES[1]:,}], got {str(n)[:40]!r}")
    start = time.perf_counter()
    model = build_talks(settings, worlds=n)
    model.run_model()
    outcomes = pd.DataFrame(model.outcomes())
    seconds = time.perf_counter() - start
    return Batch(int(n), outcomes, seconds, model.structure.space.issues, int(model.point.inputs.deadline),
                 _names(model))


def batch_figure(batch: Batch) -> Figure:
    """The timing of the agreements (a histogram of agreement rounds) and the agreed terms per issue."""
    deals = batch.outcomes[batch.outcomes["deal"]]
    panels = 1 + len(batch.issues)
    ncols = 4
    nrows = int(np.ceil(panels / ncols))
    with figure_style():
        fig = Figure(figsize=(10.0, 2.1 * nrows + 0.5), dpi=80)
        axes = list(fig.subplots(nrows, ncols, squeeze=False).flat)
        for ax in axes[panels:]:
            ax.set_visible(False)
        ax = axes[0]
        if len(deals):
            last = int(batch.outcomes["end_round"].max())
            ax.hist(deals["end_round"], bins=np.arange(0.5, last + 1.5), color=PALETTE[0])
        ax.axvline(batch.deadline, color="black", ls="--", lw=1.2)
        ax.set_title("agreement round (deals)", fontsize=9)
        ax.set_ylabel("negotiations")
        for ax, issue in zip(axes[1:], batch.issues, strict=False):
            values = deals[issue.name].dropna()
            if len(values):
                ax.hist(values, bins=np.linspace(issue.lo, issue.hi, 21) if issue.hi > issue.lo else 5,
                        color=PALETTE[1])
            ax.axvline(issue.status_quo, color="0.4", ls=":", lw=1.2)
            ax.set_title(f"{issue.title or issue_title(issue.name)} ({issue.unit})", fontsize=9)
            ax.tick_params(labelsize=7)
        # the batch's summary is the line above the figure, not repeated in it
        fig.suptitle("Agreed terms of the deals. Dotted: status quo; dashed: deadline.", fontsize=9)
        fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig
