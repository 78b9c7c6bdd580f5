"""Summaries of a run: per grid point (``summary.csv``) and for the terminal."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from sim.domain.outcome_space import OutcomeSpace

__all__ = ["by_pair", "by_point", "format_points", "report", "wilson_interval"]


def wilson_interval(deals: np.ndarray, runs: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for each deal rate ``deals / runs`` (scipy.stats.binomtest)."""
    bounds = [binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
              for k, n in zip(deals, runs, strict=True)]
    return np.array([b.low for b in bounds]), np.array([b.high for b in bounds])


def by_point(outcomes: pd.DataFrame, coordinates: list[str], space: OutcomeSpace) -> pd.DataFrame:
    """Per grid point: runs, deals, deal rate with its 95 % Wilson interval, median agreement round
    and median agreed terms (medians over the negotiations that ended in a deal)."""
    groups = outcomes.groupby(coordinates, sort=False, observed=True, dropna=False)
    table = groups.agg(runs=("deal", "size"), deals=("deal", "sum"))
    table["deal_rate"] = table["deals"] / table["runs"]
    table["deal_rate_low"], table["deal_rate_high"] = wilson_interval(table["deals"], table["runs"])
    deals = outcomes[outcomes["deal"]].groupby(coordinates, sort=False, observed=True, dropna=False)
    table["median_round"] = deals["end_round"].median()
    terms = deals[list(space.names)].median().add_prefix("median_")
    return table.join(terms).reset_index()


def by_pair(outcomes: pd.DataFrame, space: OutcomeSpace) -> pd.DataFrame:
    """Per strategy pair: runs, deal rate, median agreement round and median agreed terms.

    Medians of terms and rounds are over the negotiations that ended in a deal.
    """
    deals = outcomes[outcomes["deal"]]
    keys = ["us_strategy", "japan_strategy"]
    table = outcomes.groupby(keys, observed=True, sort=False).agg(runs=("deal", "size"), deal_rate=("deal", "mean"))
    table["median_round"] = deals.groupby(keys, observed=True, sort=False)["end_round"].median()
    terms = deals.groupby(keys, observed=True, sort=False)[list(space.names)].median()
    return table.join(terms)


def report(outcomes: pd.DataFrame, space: OutcomeSpace, wall_seconds: float) -> str:
    """A short, plain-text summary for the terminal."""
    n = len(outcomes)
    deals = outcomes[outcomes["deal"]]
    ended = outcomes["end_reason"].value_counts()
    lines = [f"{n} negotiations in {wall_seconds:.1f} s"]
    rate = f"deal rate {len(deals) / n:.1%}"
    if len(deals):
        median_round = deals["end_round"].median()
        lines.append(f"{rate}; median agreement round {median_round:g}")
    else:
        lines.append(f"{rate}; no agreements")
    lines.append("ended by: " + ", ".join(f"{k} {v}" for k, v in ended.items()))
    if len(deals):
        units = {i.name: i.unit for i in space.issues}
        terms = deals[list(space.names)].median()
        lines.append("median agreed terms: " + ", ".join(f"{k} {v:.3g} {units[k]}" for k, v in terms.items()))
    table = by_pair(outcomes, space)
    if len(table) > 1:
        shown = table[["runs", "deal_rate", "median_round"]].copy()
        shown["deal_rate"] = shown["deal_rate"].map("{:.1%}".format)
        shown.index = [f"{us} (US) vs {jp} (Japan)" for us, jp in shown.index]
        lines += ["", "by strategy pair:", shown.to_string()]
    return "\n".join(lines)


def format_points(table: pd.DataFrame, coordinates: list[str], most: int = 30) -> str:
    """The per-point summary for the terminal: all of it up to ``most`` points, else a pointer to the file."""
    if len(table) > most:
        return f"summary.csv: {len(table)} grid points (deal rate with 95 % interval, median round and terms)"
    kept = [c for k, c in enumerate(coordinates)  # a swept key that repeats a recorded column adds nothing
            if not any(table[c].equals(table[other]) for other in coordinates[:k])]
    shown = table[kept].copy()
    shown.columns = [c.split(".")[-1] for c in kept]
    shown["runs"] = table["runs"]
    shown["deal rate [95% CI]"] = [f"{r:.1%} [{lo:.1%}, {hi:.1%}]" for r, lo, hi in
                                  zip(table["deal_rate"], table["deal_rate_low"], table["deal_rate_high"], strict=True)]
    shown["median round"] = table["median_round"]
    return "summary.csv, per grid point:\n" + shown.to_string(index=False)
