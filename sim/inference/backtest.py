"""A rolling backtest on the panel: would the calibrated model have forecast each arrangement before it was announced?

For each panel case in the order its arrangement was announced, :func:`backtest` calibrates on the observations
dated strictly before the announcement (for the first case there are none, so its posterior is the prior), draws
``worlds`` parameter vectors from that posterior (resampled by weight) and runs the case's worlds from its origin,
the day before the announcement; and does the same with every parameter drawn from its prior. For each observed
quantity (each announced term, the deal, the date) it records the forecast's 10th, 25th, 50th, 75th and 90th
percentiles, whether the observation lies inside the 80 % and 50 % bands, and the 80 % band's width as a share of
the quantity's scale (an issue's range). Terms are taken over the worlds that reach a deal, as in the posterior
predictive check.

The scores (:func:`scores`): coverage of each band, and the mean interval score of the 80 % band (Gneiting &
Raftery 2007, eq. 43: width + (2 / alpha) x the distance by which the observation falls outside, alpha = 0.2),
each on the quantity's scale so that terms of different units average; lower is better.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.inference.calibrate import calibrate, resample
from sim.inference.ensemble import PanelSimulator, box_prior
from sim.inference.observations import Observation, announcement, case_observations, observations, origin
from sim.inference.summaries import simulated

__all__ = ["COLUMNS", "backtest", "interval_score", "scores"]

COLUMNS = ["origin", "case", "term", "observed", "p10", "p50", "p90", "inside80", "inside50", "band_share"]
ALPHA = 0.2  # the 80 % band


def interval_score(lo: np.ndarray, hi: np.ndarray, x: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """The interval score of the central (1 - alpha) band [lo, hi] at observation x (Gneiting & Raftery 2007)."""
    return (hi - lo) + (2 / alpha) * np.maximum(lo - x, 0) + (2 / alpha) * np.maximum(x - hi, 0)


def _rows(obs: list[Observation], out: pd.DataFrame, start: dt.date, source: str) -> list[dict]:
    deal = out["deal"].to_numpy(dtype=bool)
    rows = []
    for o in obs:
        values = simulated(o, out, start) * (o.high - o.low) + o.low
        if o.term not in ("deal", "date"):
            values = values[deal]
        q = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9]) if values.size else np.full(5, np.nan)
        scale = o.high - o.low
        rows.append({"origin": start.isoformat(), "case": o.case, "term": o.term, "observed": o.value,
                     "p10": q[0], "p50": q[2], "p90": q[4], "inside80": bool(q[0] <= o.value <= q[4]),
                     "inside50": bool(q[1] <= o.value <= q[3]), "band_share": (q[4] - q[0]) / scale,
                     "interval_score": float(interval_score(q[0], q[4], o.value)) / scale, "source": source})
    return rows


def backtest(settings: dict, worlds: int = 200, progress=None) -> pd.DataFrame:
    """The backtest table: per panel case (in announcement order), per observed quantity, the posterior's and
    the prior's forecast from the day before (``source`` column ``posterior`` or ``prior``)."""
    sim = PanelSimulator(settings, list(settings["cases"]))
    prior = box_prior(sim.params)
    order = sorted(sim.cases, key=lambda c: announcement(sim.configs[c]))
    rows: list[dict] = []
    seed = int(settings["seed"])
    for k, case in enumerate(order):
        day, start = announcement(sim.configs[case]), origin(sim.configs[case])
        prior_theta = prior.sample(worlds, np.random.default_rng(seed + 10 + k))
        if observations(sim.configs, day, before=True):
            cal = calibrate(day, settings, configs=sim.configs, before=True)
            post_theta = resample(cal.result, worlds, seed + 20 + k)
        else:  # nothing announced before the first case: its posterior is the prior
            post_theta = prior_theta
        obs = case_observations(case, sim.configs[case])
        for source, theta in (("posterior", post_theta), ("prior", prior_theta)):
            rows += _rows(obs, sim.outcomes(case, theta, seed + 30 + k), start, source)
        if progress:
            progress(k + 1, len(order))
    return pd.DataFrame(rows)


def scores(table: pd.DataFrame) -> pd.DataFrame:
    """Per source (posterior, prior): coverage of the 80 % and 50 % bands, mean interval score (80 %, on each
    quantity's scale), mean band share, and the number of observations."""
    return (table.groupby("source")
            .agg(coverage80=("inside80", "mean"), coverage50=("inside50", "mean"),
                 interval_score=("interval_score", "mean"), band_share=("band_share", "mean"),
                 observations=("term", "size"))
            .reset_index())
