"""Scenario discovery: the region of parameter space where a negotiation outcome of interest occurs.

PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999), finds a box (a range per
parameter, e.g. deadline round in [5, 9] and escalation in [12, 25] pp) in which a condition such as
"no deal" or "reciprocal tariff >= 15 pp" is frequent. Starting from the box of all negotiations, each
step *peels* off the slice of at most ``alpha`` (5 %) of the negotiations still in the box, at the low
or the high end of one parameter, choosing the slice whose removal leaves the highest share of cases
in the box; it stops before the box would hold fewer than ``mass_min`` of all negotiations. Each
box on this peeling trajectory has a

* **coverage**: the share of all cases (negotiations meeting the condition) that fall in the box;
* **density**: the share of the negotiations in the box that are cases;
* **mass**: the share of all negotiations in the box.

The box reported is the first on the trajectory (so the one with the largest coverage) whose density
reaches ``threshold`` (0.8), or the densest box if none does. Parameters with ties (whole deadline
rounds, many seeds at one point) are peeled a whole value at a time when an alpha-slice would cut
none.

This is written here (about 150 lines) rather than taken from ``ema_workbench.analysis.prim``:
EMA Workbench 3.0 would add statsmodels, seaborn and platypus-opt (an optimisation library) to the
core install for this one function. It is checked against a planted box in ``tests/test_discovery.py``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["PrimResult", "parse_condition", "prim", "prim_figure"]

SIGNIFICANT = 0.05  # a restriction with a quasi-p-value at or above this is flagged as not significant

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq,
        "!=": operator.ne}


def parse_condition(text: str, columns) -> tuple[str, Callable[[pd.DataFrame], np.ndarray]]:
    """A condition on the outcomes: ``no_deal``, ``deal``, or ``COLUMN OP NUMBER`` (OP in >=, <=, >, <, ==, !=).

    An agreed term is NaN without a deal, so ``reciprocal>=15`` holds only for deals.

    Returns:
        A description and a function from the outcomes table to a boolean array.

    Raises:
        ValueError: a one-line reason naming what is allowed.
    """
    text = text.strip()
    if text in ("no_deal", "deal"):
        want = text == "deal"
        return ("no deal" if not want else "deal"), lambda o: o["deal"].to_numpy(dtype=bool) == want
    match = re.fullmatch(r"([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<)\s*([-+0-9.eE]+)", text)
    if not match:
        raise ValueError(f"--prim {text!r}: a condition is no_deal, deal, or OUTCOME OP NUMBER "
                         f"with OP one of {', '.join(_OPS)} (e.g. \"reciprocal>=15\")")
    column, op, number = match.groups()
    if column not in columns:
        raise ValueError(f"--prim {text!r}: no outcome column {column!r}")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"--prim {text!r}: {number!r} is not a number") from None

    def holds(outcomes: pd.DataFrame) -> np.ndarray:
        x = pd.to_numeric(outcomes[column], errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            return np.asarray(_OPS[op](x, value)) & ~np.isnan(x)

    return f"{column} {op} {number}", holds


@dataclass
class PrimResult:
    """A PRIM peeling trajectory and the box chosen on it.

    Attributes:
        condition: What the cases are.
        keys: The parameters.
        trajectory: One row per box: ``step, coverage, density, mass, restricted`` and each
            parameter's ``KEY.low`` and ``KEY.high``.
        chosen: The row of the chosen box in ``trajectory``.
        limits: The chosen box: ``parameter, low, high, range_low, range_high, restricted``.
        threshold: The density the chosen box had to reach.
    """

    condition: str
    keys: list[str]
    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame
    threshold: float

    @property
    def box(self) -> pd.Series:
        """The chosen box's row of the trajectory."""
        return self.trajectory.iloc[self.chosen]

    def describe(self) -> str:
        """A few lines for the terminal."""
        b = self.box
        head = (f"PRIM box for '{self.condition}' (step {int(b['step'])} of {len(self.trajectory) - 1}): "
                f"coverage {b['coverage']:.2f}, density {b['density']:.2f}, mass {b['mass']:.2f} "
                f"(base rate {self.trajectory['density'].iloc[0]:.2f})")
        lines = [head]
        restricted = self.limits[self.limits["restricted"]]
        if restricted.empty:
            lines.append("  no parameter is restricted")
        for r in restricted.sort_values("qp").itertuples():
            flag = "" if r.qp < SIGNIFICANT else ", not significant"
            lines.append(f"  {r.parameter} in [{r.low:.4g}, {r.high:.4g}]   (sampled [{r.range_low:.4g}, "
                         f"{r.range_high:.4g}]; qp = {r.qp:.2g}{flag})")
        return "\n".join(lines)


def _candidates(x: np.ndarray, alpha: float) -> tuple[float | None, float | None]:
    """The new lower and upper bound of one parameter after peeling an alpha-slice from either end.

    ``x`` are the values in the box. A bound is ``None`` if peeling at that end would remove every
    value (a single distinct value left).
    """
    lo_now, hi_now = x.min(), x.max()
    if lo_now == hi_now:
        return None, None
    q_lo, q_hi = np.quantile(x, [alpha, 1 - alpha])
    # lower end: drop x < q_lo; with ties at the minimum, drop the minimum value instead
    new_lo = q_lo if (x < q_lo).any() else np.min(x[x > lo_now])
    new_hi = q_hi if (x > q_hi).any() else np.max(x[x < hi_now])
    return float(new_lo), float(new_hi)


def _best_peel(values: np.ndarray, y: np.ndarray, inside: np.ndarray, alpha: float,
               mass_min: float) -> tuple | None:
    """The peel of one side of one parameter that leaves the densest box (ties: the larger), as
    ``(density, kept, parameter index, side, bound)``; ``None`` if every peel leaves too little mass."""
    n, best = len(y), None
    for j in range(values.shape[1]):
        new_lo, new_hi = _candidates(values[inside, j], alpha)
        for side, bound in (("low", new_lo), ("high", new_hi)):
            if bound is None:
                continue
            keep = inside & ((values[:, j] >= bound) if side == "low" else (values[:, j] <= bound))
            kept = int(keep.sum())
            if kept == 0 or kept / n < mass_min:
                continue
            density = y[keep].sum() / kept
            if best is None or (density, kept) > (best[0], best[1]):
                best = (density, kept, j, side, bound)
    return best


def _limits(keys: list[str], box: pd.Series, range_lo: np.ndarray, range_hi: np.ndarray, values: np.ndarray,
            y: np.ndarray) -> pd.DataFrame:
    """The chosen box, one row per parameter: its limits, the data's range, and the box's statistics."""
    limits = pd.DataFrame({"parameter": keys, "low": [box[f"{k}.low"] for k in keys],
                           "high": [box[f"{k}.high"] for k in keys], "range_low": range_lo,
                           "range_high": range_hi})
    limits["restricted"] = (limits["low"] > limits["range_low"]) | (limits["high"] < limits["range_high"])
    limits["coverage"], limits["density"], limits["mass"] = box["coverage"], box["density"], box["mass"]
    limits["qp"] = _quasi_p_values(values, y, limits)
    return limits


def prim(x: pd.DataFrame, y: np.ndarray, alpha: float = 0.05, mass_min: float = 0.05, threshold: float = 0.8,
         condition: str = "y") -> PrimResult:
    """Peel a box around the cases ``y`` in the parameter space ``x`` (Friedman & Fisher 1999).

    Args:
        x: One row per negotiation, one numeric column per parameter.
        y: Whether each negotiation is a case (bool).
        alpha: Share of the box's negotiations peeled per step (0.05, the usual choice).
        mass_min: Stop before the box holds fewer than this share of all negotiations.
        threshold: Density the reported box must reach (else the densest box is reported).
        condition: A description of the cases, for the report.

    Returns:
        The trajectory and the chosen box.

    Raises:
        ValueError: no cases, or ``x`` and ``y`` differ in length.
    """
    keys = list(x.columns)
    values = x.to_numpy(dtype=float)
    y = np.asarray(y, dtype=bool)
    if len(values) != len(y):
        raise ValueError("x and y must have one row per negotiation")
    if not y.any():
        raise ValueError(f"no negotiation meets the condition '{condition}', so there is no box to find")
    n, total = len(y), int(y.sum())
    inside = np.ones(n, dtype=bool)
    lows, highs = values.min(axis=0).copy(), values.max(axis=0).copy()
    range_lo, range_hi = lows.copy(), highs.copy()

    def record(step: int) -> dict:
        cases = int(y[inside].sum())
        row = {"step": step, "coverage": cases / total, "density": cases / int(inside.sum()),
               "mass": inside.sum() / n,
               "restricted": int(((lows > range_lo) | (highs < range_hi)).sum())}
        for j, k in enumerate(keys):
            row[f"{k}.low"], row[f"{k}.high"] = lows[j], highs[j]
        return row

    rows = [record(0)]
    step = 0
    while True:
        best = _best_peel(values, y, inside, alpha, mass_min)
        if best is None:
            break
        _, _, j, side, bound = best
        if side == "low":
            inside &= values[:, j] >= bound
            lows[j] = values[inside, j].min()
        else:
            inside &= values[:, j] <= bound
            highs[j] = values[inside, j].max()
        step += 1
        rows.append(record(step))
    trajectory = pd.DataFrame(rows)
    dense = np.flatnonzero(trajectory["density"].to_numpy() >= threshold)
    chosen = int(dense[0]) if len(dense) else int(trajectory["density"].to_numpy().argmax())
    limits = _limits(keys, trajectory.iloc[chosen], range_lo, range_hi, values, y)
    return PrimResult(condition=condition, keys=keys, trajectory=trajectory, chosen=chosen, limits=limits,
                      threshold=threshold)


def _quasi_p_values(values: np.ndarray, y: np.ndarray, limits: pd.DataFrame) -> np.ndarray:
    """Per restricted parameter, the quasi-p-value of its restriction (Bryant & Lempert 2010).

    The chance, were the cases in the box drawn at the density of the box with this one restriction
    lifted, of seeing at least as many as the box holds: ``P(X >= cases)``, ``X ~ Binomial(n_box,
    density_relaxed)``. A large value says the restriction adds little. Unrestricted parameters get 1.
    """
    from scipy.stats import binom

    lo, hi = limits["low"].to_numpy(), limits["high"].to_numpy()
    inside = ((values >= lo) & (values <= hi))
    box = inside.all(axis=1)
    out = np.ones(len(limits))
    for j in np.flatnonzero(limits["restricted"].to_numpy()):
        relaxed = np.delete(inside, j, axis=1).all(axis=1)
        density = y[relaxed].mean()
        out[j] = float(binom.sf(int(y[box].sum()) - 1, int(box.sum()), density))
    return out


def prim_figure(result: PrimResult, out_dir: Path, names: dict[str, str] | None = None) -> list[Path]:
    """The peeling trajectory (density against coverage, coloured by restricted parameters) and the chosen box."""
    import matplotlib.pyplot as plt

    from sim.analysis.sensitivity import parameter_label
    from sim.report.style import ACCENT, figure_style, save, sized

    t = result.trajectory
    with figure_style():
        fig, (ax, bx) = plt.subplots(1, 2, figsize=sized(10, 4), gridspec_kw={"width_ratios": [1.2, 1]})
        sc = ax.scatter(t["coverage"], t["density"], c=t["restricted"], cmap="viridis", s=14, zorder=3)
        ax.plot(t["coverage"], t["density"], color="0.7", lw=0.8, zorder=2)
        b = result.box
        ax.scatter([b["coverage"]], [b["density"]], s=90, facecolor="none", edgecolor=ACCENT, lw=1.6, zorder=4,
                   label=f"chosen box (step {int(b['step'])})")
        ax.axhline(result.threshold, color="0.5", lw=0.6, ls="--")
        ax.set_xlabel("coverage (share of cases in the box)")
        ax.set_ylabel("density (share of the box that are cases)")
        ax.set_title(f"PRIM peeling trajectory: {result.condition}")
        fig.colorbar(sc, ax=ax, label="restricted parameters")
        ax.legend(loc="lower left")
        lim = result.limits
        y = np.arange(len(lim))
        span = (lim["range_high"] - lim["range_low"]).replace(0, 1)
        lo = (lim["low"] - lim["range_low"]) / span
        hi = (lim["high"] - lim["range_low"]) / span
        bx.barh(y, 1, color="0.9", height=0.6)
        bx.barh(y, hi - lo, left=lo, color=ACCENT, height=0.6)
        for k, r in enumerate(lim.itertuples()):
            if r.restricted:
                bx.text(1.02, k, f"[{r.low:.3g}, {r.high:.3g}]", va="center", fontsize="small")
        bx.set_yticks(y, [parameter_label(k, names) for k in lim["parameter"]])
        bx.invert_yaxis()
        bx.set_xlim(0, 1.35)
        bx.set_xlabel("share of the sampled range")
        bx.set_title("chosen box")
        fig.tight_layout()
        return save(fig, out_dir, "prim_peeling")
