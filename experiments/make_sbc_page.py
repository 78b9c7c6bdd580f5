"""Regenerate experiments/sbc.md: simulation-based calibration of the in-house ABC-SMC at gallery size.

Usage (from the repository root): python experiments/make_sbc_page.py [--toy 200] [--panel 100]

Two checks (Talts et al. 2018, "Validating Bayesian inference algorithms with simulation-based calibration"):

1. **A problem with a known posterior** (the suite's, larger): two means uniform on [-3, 3], a data set is the mean
   of 20 draws of N(theta, 1); ``--toy`` data sets, the sampler's settings as in tests/test_inference_abc.py.
2. **The panel simulator itself, with planted parameters**: the UK case's nine fitted parameters (the eight shared
   US ones and the UK's margin on lost sales) drawn from their prior; one world run from the case's origin with
   them (every other prior drawn afresh, as in a calibration) gives synthetic observations of the same kind as the
   announced arrangement's (its terms, the deal, the date; with no deal, only the deal and the date); the ABC then
   calibrates on them (60 particles, 2 generations, 2 moves: smaller than a real calibration, to afford ``--panel``
   data sets). No announced arrangement is read: the observations are the model's own.

For each data set and parameter, whether the central 50 % and 80 % posterior intervals hold the true value; the
counts are compared with the binomial 95 % range of a calibrated posterior. The bound is stated before measuring:
coverage inside the binomial range is calibrated; above it, the posterior is too wide (ABC's threshold widens it);
below it, too narrow. Parameters of one data set share it, so the pooled range is a little too narrow; the
per-parameter rows (one check per data set) are independent. Rows are appended to results/gallery/sbc/*.csv as
they finish, so a stopped run is resumed where it stopped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "gallery" / "sbc"
PAGE = ROOT / "experiments" / "sbc.md"
LEVELS = (0.5, 0.8)
CASE = "us_uk_2025"


def _row(k: int, names: list[str], truth: np.ndarray, theta: np.ndarray, lo: np.ndarray, hi: np.ndarray,
         seconds: float) -> list[dict]:
    """Per parameter: its truth, posterior mean and whether each central interval holds the truth."""
    rows = []
    for j, name in enumerate(names):
        row = {"dataset": k, "parameter": name, "truth": truth[j], "posterior_mean": theta[:, j].mean(),
               "prior_mean": (lo[j] + hi[j]) / 2, "range": hi[j] - lo[j], "seconds": seconds}
        for level in LEVELS:
            a, b = np.quantile(theta[:, j], [(1 - level) / 2, (1 + level) / 2])
            row[f"inside{int(level * 100)}"] = bool(a <= truth[j] <= b)
        rows.append(row)
    return rows


def _append(path: Path, rows: list[dict]) -> None:
    pd.DataFrame(rows).to_csv(path, mode="a", header=not path.exists(), index=False)


def _done(path: Path) -> set[int]:
    return set(pd.read_csv(path)["dataset"]) if path.exists() else set()


def toy(n: int) -> None:
    """The known-posterior problem, ``n`` data sets."""
    from sim.inference.abc import BoxPrior, abc_smc

    path, prior = OUT / "toy.csv", BoxPrior(np.full(2, -3.0), np.full(2, 3.0), np.full(2, np.nan))
    done = _done(path)
    rng = np.random.default_rng(2026)
    for k in range(n):
        truth = prior.sample(1, rng)[0]
        ybar = truth + rng.standard_normal(2) / np.sqrt(20)
        if k in done:
            continue
        start = time.perf_counter()
        res = abc_smc(lambda th, r: np.linalg.norm(th + r.standard_normal(th.shape) / np.sqrt(20) - ybar, axis=1),
                      prior, 5000 + k, particles=200, generations=9, quantile=0.5, moves=3)
        _append(path, _row(k, ["mean_1", "mean_2"], truth, res.theta, prior.lo, prior.hi,
                           time.perf_counter() - start))


def synthetic(sim, truth: np.ndarray, seed: int) -> list:
    """The observations one world of the planted parameters gives, as an announced arrangement's would be."""
    from sim.inference.observations import Observation, horizon_days, origin

    cfg = sim.configs[CASE]
    start = origin(cfg)
    out = sim.outcomes(CASE, truth[None, :], seed).iloc[0]
    day, horizon = start + dt.timedelta(days=1), horizon_days(cfg, start)
    obs = [Observation(CASE, "deal", float(bool(out["deal"])), 0.0, 1.0, day, "synthetic")]
    if not bool(out["deal"]):
        return obs + [Observation(CASE, "date", horizon, 0.0, horizon, day, "synthetic")]
    days = float(np.clip((pd.Timestamp(out["end_date"]).date() - start).days, 0.0, horizon))
    obs.append(Observation(CASE, "date", days, 0.0, horizon, day, "synthetic"))
    for name in cfg["scenario"]["evidence"]["arrangement"]["terms"]:
        issue = cfg["scenario"]["issues"][name]
        obs.append(Observation(CASE, name, float(out[name]), float(issue["min"]), float(issue["max"]), day,
                               "synthetic"))
    return obs


def panel(n: int) -> None:
    """The panel simulator with planted parameters, ``n`` data sets."""
    from sim.inference.abc import abc_smc
    from sim.inference.calibrate import distance_function, load_settings
    from sim.inference.ensemble import PanelSimulator, box_prior

    settings = load_settings({"cases": [CASE], "particles": 60, "generations": 2, "moves": 2})
    sim = PanelSimulator(settings, [CASE])
    prior, names = box_prior(sim.params), [p.column for p in sim.params]
    path = OUT / "panel.csv"
    done = _done(path)
    rng = np.random.default_rng(2027)
    for k in range(n):
        truth, seed = prior.sample(1, rng)[0], int(rng.integers(2**31 - 1))
        if k in done:
            continue
        start = time.perf_counter()
        observed = synthetic(sim, truth, seed)
        res = abc_smc(distance_function(sim, observed), prior, 7000 + k, particles=60, generations=2, quantile=0.5,
                      moves=2)
        _append(path, _row(k, names, truth, res.theta, prior.lo, prior.hi, time.perf_counter() - start))
        print(f"panel data set {k + 1}/{n}: {time.perf_counter() - start:.1f} s", flush=True)


def coverage(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Coverage per level, pooled or per parameter, with the binomial 95 % range of a calibrated posterior."""
    groups = [("all", frame)] if by is None else list(frame.groupby(by, sort=False))
    rows = []
    for name, g in groups:
        row = {"parameter": name, "checks": len(g)}
        for level in LEVELS:
            col = f"inside{int(level * 100)}"
            lo, hi = stats.binom.interval(0.95, len(g), level)
            row[f"{col}"] = g[col].mean()
            row[f"range{int(level * 100)}"] = f"{lo / len(g):.0%}–{hi / len(g):.0%}"
        # recovery: mean absolute error of the posterior mean and of the prior mean, as a share of the range
        row["mae_post"] = float((abs(g["posterior_mean"] - g["truth"]) / g["range"]).mean())
        row["mae_prior"] = float((abs(g["prior_mean"] - g["truth"]) / g["range"]).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def _table(cov: pd.DataFrame) -> list[str]:
    lines = ["| parameter | checks | inside 50 % | calibrated range | inside 80 % | calibrated range | "
             "posterior-mean error | prior-mean error |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in cov.itertuples():
        lines.append(f"| {r.parameter} | {r.checks} | {r.inside50:.0%} | {r.range50} | {r.inside80:.0%} | "
                     f"{r.range80} | {r.mae_post:.3f} | {r.mae_prior:.3f} |")
    return lines


def verdict(frame: pd.DataFrame) -> str:
    """What the pooled coverage and the recovery say, read from the rows (nothing here is typed in by hand)."""
    row = coverage(frame, None).iloc[0]
    parts = []
    for level in LEVELS:
        col = f"inside{int(level * 100)}"
        lo, hi = stats.binom.interval(0.95, int(row["checks"]), level)
        where = ("inside the calibrated range" if lo <= row[col] * row["checks"] <= hi else
                 "below it: the intervals are too narrow" if row[col] * row["checks"] < lo else
                 "above it: the intervals are too wide")
        parts.append(f"the {level:.0%} intervals hold the truth {row[col]:.0%} of the time, {where}")
    better = row["mae_post"] < row["mae_prior"]
    parts.append(f"the posterior mean is {'closer to' if better else 'no closer to'} the truth than the prior mean "
                 f"({row['mae_post']:.3f} against {row['mae_prior']:.3f} of the range)")
    return "Pooled: " + "; ".join(parts) + "."


def page() -> str:
    toy_frame, panel_frame = pd.read_csv(OUT / "toy.csv"), pd.read_csv(OUT / "panel.csv")
    n_toy, n_panel = toy_frame["dataset"].nunique(), panel_frame["dataset"].nunique()
    out = ["# Simulation-based calibration of the ABC-SMC, gallery size", "",
           "Generated by `python experiments/make_sbc_page.py` (its docstring states the method and the bound). "
           "The suite's own check (`tests/test_inference_abc.py`) is the first problem at 60 data sets. Errors are "
           "mean absolute errors as a share of each parameter's prior range; the prior mean's error is that of "
           "guessing the middle of the range.", "",
           f"## A problem with a known posterior ({n_toy} data sets, 2 parameters)", "",
           *_table(pd.concat([coverage(toy_frame, None), coverage(toy_frame, "parameter")])), "",
           verdict(toy_frame), "",
           f"Median wall time per data set: {toy_frame.groupby('dataset')['seconds'].first().median():.2f} s.", "",
           f"## The panel simulator with planted parameters (UK case, {n_panel} data sets, 9 parameters)", "",
           *_table(pd.concat([coverage(panel_frame, None), coverage(panel_frame, "parameter")])), "",
           verdict(panel_frame), "",
           f"Median wall time per data set: {panel_frame.groupby('dataset')['seconds'].first().median():.1f} s "
           "(60 particles, 2 generations, 2 moves; one world per parameter vector).", ""]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--toy", type=int, default=200, help="data sets of the known-posterior problem")
    parser.add_argument("--panel", type=int, default=100, help="data sets of the panel simulator")
    parser.add_argument("--page-only", action="store_true", help="write the page from the rows already there")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.page_only:
        toy(args.toy)
        panel(args.panel)
    PAGE.write_text(page())
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
