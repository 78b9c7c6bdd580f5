"""The figure of a sensitivity analysis: one panel per outcome, each parameter's indices with their 95 %
intervals, and the labels of its parameters and outcomes (:mod:`sim.analysis.sensitivity` computes the table)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd


def parameter_label(key: str, names: dict[str, str] | None = None) -> str:
    """A short label of a swept key for a figure (the registry's label, naming the party for per-party keys)."""
    from sim.report.labels import short_key

    parts = key.split(".")
    label = short_key(key, names=names)
    if len(parts) >= 4 and parts[1] in ("payoff", "sides") and parts[2] not in label:
        party = (names or {}).get(parts[2], parts[2])
        if party.lower() not in label.lower():
            label = f"{party} {' '.join(p.replace('_', ' ') for p in parts[3:])}"
    return label


def outcome_title(outcome: str, names: dict[str, str] | None = None, space=None) -> str:
    """A panel title for an outcome column (an issue's from its scenario's outcome space ``space``)."""
    from sim.report.labels import issue_title

    if outcome.endswith("_utility"):
        party = outcome[: -len("_utility")]
        return f"{(names or {}).get(party, party)} utility"
    return {"deal": "Deal rate", "agreement_time": "Agreement time", "welfare": "Welfare"}.get(
        outcome, issue_title(outcome, space))


def _mark_out_of_range(ax, part: pd.DataFrame, shown: list[str], params: list[str], y, height: float) -> None:
    """An arrow and the value at the edge for an index beyond the bounded axis."""
    for j, index in enumerate(shown):
        rows = part[part["index"] == index].set_index("parameter").reindex(params)
        for k, value in enumerate(rows["value"].to_numpy(dtype=float)):
            if np.isfinite(value) and not -0.1 <= value <= 1.1:
                edge = 1.1 if value > 1.1 else -0.1
                ax.annotate(f"{value:.1f}", (edge, y[k] + (j - (len(shown) - 1) / 2) * height), fontsize=6,
                            ha="right" if edge > 0 else "left", va="center", color="0.3")


def figure(table: pd.DataFrame, out_dir: Path, names: dict[str, str] | None = None,
           name: str = "sensitivity", space=None) -> list[Path]:
    """Indices with their 95 % intervals, one panel per outcome (the first group if there are several)."""
    import matplotlib.pyplot as plt

    from sim.report.style import PALETTE, figure_style, save, sized

    missing = [o for o, part in table.groupby("outcome", sort=False) if part["value"].isna().all()]
    table = table.dropna(subset=["value"])
    if table.empty:
        return []
    table = table[table["group"] == table["group"].iloc[0]]
    method = table["method"].iloc[0]
    shown = {"sobol": ["S1", "ST"], "fast": ["S1", "ST"], "morris": ["mu_star", "sigma"],
             "extra_trees": ["importance"]}[method]
    legend = {"S1": "first order S1", "ST": "total ST", "mu_star": "μ*", "sigma": "σ",
              "importance": "extra-trees importance"}
    outcomes = list(dict.fromkeys(table["outcome"]))
    params = list(dict.fromkeys(table["parameter"]))
    cols = min(4, len(outcomes))
    nrows = math.ceil(len(outcomes) / cols)
    with figure_style():
        fig, axes = plt.subplots(nrows, cols, squeeze=False, sharey=True,
                                 figsize=sized(3.2 * cols, 0.28 * len(params) * nrows + 1.2 * nrows))
        y = np.arange(len(params))
        height = 0.8 / len(shown)
        for ax, outcome in zip(axes.flat, outcomes, strict=False):
            part = table[table["outcome"] == outcome]
            for j, index in enumerate(shown):
                rows = part[part["index"] == index].set_index("parameter").reindex(params)
                err = rows["conf"].to_numpy(dtype=float)
                ax.barh(y + (j - (len(shown) - 1) / 2) * height, rows["value"], height=height,
                        xerr=None if np.isnan(err).all() else np.nan_to_num(err), color=PALETTE[j],
                        label=legend[index], error_kw={"elinewidth": 0.8, "capsize": 1.5})
            ax.set_title(outcome_title(outcome, names, space))
            ax.axvline(0, color="0.5", lw=0.6)
            if method in ("sobol", "fast"):  # shares of variance: bounded axes, whatever a noisy estimate says
                ax.set_xlim(-0.1, 1.1)
                _mark_out_of_range(ax, part, shown, params, y, height)
        for ax in axes.flat[len(outcomes):]:
            ax.set_visible(False)
        axes[0, 0].set_yticks(y, [parameter_label(p, names) for p in params])
        axes[0, 0].invert_yaxis()
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=len(shown), frameon=False, bbox_to_anchor=(0.5, 0.0))
        what = {"sobol": "Sobol' indices (Saltelli design), 95 % bootstrap intervals",
                "fast": "FAST indices, 95 % bootstrap intervals",
                "morris": "Morris elementary effects (outcome units per unit of a parameter's range), "
                          "95 % interval on μ*",
                "extra_trees": "Feature scoring: extra-trees importance (not a variance decomposition)"}[method]
        if missing:
            what += "\n" + textwrap.fill("not estimable (most base points without a deal), not drawn: "
                                          + ", ".join(outcome_title(o, names, space) for o in missing), 120)
        fig.suptitle(what, y=1.04, fontsize="medium")
        fig.tight_layout()
        return save(fig, out_dir, name)
