"""The terminal summary of a run: how many negotiations, how many deals, when, and on what terms."""

from __future__ import annotations

import pandas as pd

from sim.outcome_space import OutcomeSpace

__all__ = ["by_pair", "report"]


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
