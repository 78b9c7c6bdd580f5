"""Validation against bargaining theory: known results reproduced by the simulator itself.

Every case runs real negotiations through the same config, model, strategies and protocol code that
users run (Hydra's compose API, :func:`sim.config.plan`, :func:`sim.run.runner.simulate`), and compares
what they produce with a value computed here from the closed form (docs/THEORY.md gives the sources) — never with an
earlier simulation's output. ``python -m sim validate`` prints the table and exits non-zero if any
case fails; ``tests/test_validation.py`` runs the same cases.

One module per family of results: :mod:`~sim.validation.rubinstein` (Rubinstein, Ståhl and one-shot
deviations, with the deviating parts of :mod:`~sim.validation.deviations`), :mod:`~sim.validation.axiomatic`
(Nash by brute force, trade-offs and the Pareto frontier), :mod:`~sim.validation.concession` (Faratin's
concession curves and the deadline effect), :mod:`~sim.validation.invariants`; :class:`~sim.validation.check.Check`
is one row of the table.
"""


from __future__ import annotations

import numpy as np
import pandas as pd

from sim.validation.axiomatic import nash, tradeoffs
from sim.validation.check import Check, _outcomes
from sim.validation.concession import deadline_effect, faratin
from sim.validation.invariants import invariants
from sim.validation.rubinstein import rubinstein, rubinstein_deviations, rubinstein_share, stahl, stahl_share

__all__ = ["CASES", "Check", "figure", "format_table", "run_all", "rubinstein_share", "stahl_share"]


CASES = {"rubinstein": rubinstein, "rubinstein_deviations": rubinstein_deviations, "stahl": stahl, "nash": nash,
         "faratin": faratin, "deadline_effect": deadline_effect, "invariants": invariants, "tradeoffs": tradeoffs}


def run_all(only: list[str] | None = None) -> pd.DataFrame:
    """Run the validation cases (all, or those named) and return the table."""
    rows = []
    for name, case in CASES.items():
        if only is None or name in only:
            rows += [vars(c) for c in case()]
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame) -> str:
    """The validation table as text: expected, simulated, difference, tolerance, pass or fail."""
    def show(value) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | np.integer) or float(value).is_integer():
            return f"{int(value)}"
        return f"{value:.9g}"

    rows = []
    for r in table.itertuples():
        numeric = not isinstance(r.expected, str) and not isinstance(r.simulated, str)
        diff = f"{abs(float(r.simulated) - float(r.expected)):.2g}" if numeric else "-"
        tol = r.tolerance if isinstance(r.tolerance, str) else f"{r.tolerance:.2g}"
        rows.append({"group": r.group, "case": r.case, "expected": show(r.expected), "simulated": show(r.simulated),
                     "|difference|": diff, "tolerance": tol,
                     "result": "info" if r.expected == "-" else ("pass" if r.passed else "FAIL")})
    return pd.DataFrame(rows).to_string(index=False, justify="left")


def figure(out_dir) -> list:
    """Simulated against theoretical splits: Rubinstein across the second player's discount factor, and Ståhl
    across the final round, with the Rubinstein limit."""
    import matplotlib.pyplot as plt

    from sim.report.style import PALETTE, figure_style, save

    d_us = 0.9
    grid = np.linspace(0.05, 0.98, 200)
    points = np.array([0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    simulated = [float(_outcomes("scenario=rubinstein_split", "strategy@p1=rubinstein", "strategy@p2=rubinstein",
                                 "protocol.opener=p1", f"scenario.sides.p1.discount={d_us}",
                                 f"scenario.sides.p2.discount={d}").iloc[0]["share"]) for d in points]
    horizons = np.arange(1, 11)
    stahl_sim = [float(_outcomes("scenario=stahl_split", "strategy@p1=stahl", "strategy@p2=stahl",
                                 "protocol.opener=p1", f"scenario.deadline.round={t}",
                                 f"scenario.sides.p1.discount={d_us}", "scenario.sides.p2.discount=0.8"
                                 ).iloc[0]["share"]) for t in horizons]
    with figure_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.3))
        left.plot(grid, [rubinstein_share(d_us, d) for d in grid], color=PALETTE[0], lw=2,
                  label="theory: (1 − δ_2) / (1 − δ_1 δ_2)")
        left.plot(points, simulated, "o", ms=8, color=PALETTE[1], markeredgecolor="black", label="simulated")
        left.set_xlabel("player 2's discount factor δ_2 (δ_1 = 0.9, player 1 opens)")
        left.set_ylabel("player 1's share of the pie, agreed in round 1")
        left.set_title("Rubinstein (1982): first-period split")
        left.legend(frameon=False)
        right.plot(horizons, [stahl_share(d_us, 0.8, int(t)) for t in horizons], "-", color=PALETTE[0], lw=1.5,
                   label="theory: backward induction")
        right.plot(horizons, stahl_sim, "o", ms=8, color=PALETTE[1], markeredgecolor="black", label="simulated")
        right.axhline(rubinstein_share(d_us, 0.8), color="0.4", ls="--", lw=1.2,
                      label="Rubinstein limit (T → ∞)")
        right.set_xticks(horizons)
        right.set_xlabel("final round T (odd: player 1 proposes last)")
        right.set_ylabel("player 1's share of the pie")
        right.set_title("Ståhl (1972): a hard final round favours the last proposer")
        right.legend(frameon=False)
        fig.suptitle("Simulated against theoretical splits (δ_1 = 0.9; right: δ_2 = 0.8)")
        fig.tight_layout()
        return save(fig, out_dir, "validation_splits")
