"""How the rules of the talks change them: package against piecemeal (``agenda``) and two-level ratification
(``two_level``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sim.config.sweep import column_name
from sim.report import style
from sim.report.figures.common import (
    MAX_LINES,
    Skip,
    binned,
    designed_keys,
    prior_note,
    median_by,
)
from sim.report.style import PALETTE, figure_style, issue_title, short_key, sized
from sim.report.summary import headline_issue, wilson_interval
from sim.run.readback import RunData

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
                  f"Agreed {issue_title(term, run.structure.space).lower()} (full deals)",
                  "Joint welfare (all negotiations)"]
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
        return style.save(fig, out_dir, "agenda")


def two_level(run: RunData, out_dir: Path) -> list[Path]:
    """Against a swept ratification threshold: deal rate, each side's agreed utility, terms, defections.

    The involuntary-defection panel is drawn only if some tentative agreement failed ratification;
    otherwise the figure says there were none. More strategy pairs than :data:`MAX_LINES` are pooled.
    """
    key = next((k for k in designed_keys(run) if k.startswith("scenario.ratification.")), None)
    if key is None:
        raise Skip("no ratification threshold was swept" + prior_note(run))
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
              (f"Agreed {issue_title(term, run.structure.space).lower()}", f"{unit} (median)")]
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
            axes[1].plot(*median_by(deals, "_x", f"{b}_utility"), marker="o", color=colour, label=pair)
            axes[1].plot(*median_by(deals, "_x", f"{a}_utility"), marker="s", ls="--", color=colour)
            axes[2].plot(*median_by(deals, "_x", term), marker="o", color=colour)
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
        return style.save(fig, out_dir, "two_level")
