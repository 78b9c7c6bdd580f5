"""Calibrate the fitted parameters to the panel's observations as of a date, by ABC-SMC.

:func:`calibrate` gathers the observations dated on or before the date (:mod:`sim.inference.observations`),
simulates each observed case's worlds from its origin for batches of parameter vectors
(:class:`sim.inference.ensemble.PanelSimulator`), measures each world's distance to the observations
(:mod:`sim.inference.summaries`) and runs :func:`sim.inference.abc.abc_smc`. The posterior predictive check then
runs one world per posterior particle (resampled by weight) and compares each observation with the 10th, 50th
and 90th percentiles of its simulated values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.inference.abc import Result, abc_smc
from sim.inference.ensemble import PanelSimulator, box_prior
from sim.inference.folder import CalibrationFolder
from sim.inference.losses import loss_observations
from sim.inference.observations import Observation, observations, origin
from sim.inference.summaries import gaps

__all__ = ["Calibration", "SETTINGS_FILE", "calibrate", "distance_function", "load_settings", "ppc_table"]

SETTINGS_FILE = Path("inference") / "calibrate.yaml"  # under the configs folder (sim.resources.conf_dir)


def load_settings(overrides: dict | None = None) -> dict:
    """The calibration's settings (``conf/inference/calibrate.yaml``), with ``overrides`` on top."""
    from sim.resources import conf_dir

    settings = yaml.safe_load((conf_dir() / SETTINGS_FILE).read_text())
    return {**settings, **(overrides or {})}


@dataclass
class Calibration:
    """A finished calibration: its settings, observations, fitted parameters, population and checks."""

    as_of: dt.date
    settings: dict
    observed: list[Observation]
    simulator: PanelSimulator
    result: Result
    ppc: pd.DataFrame

    def posterior(self) -> pd.DataFrame:
        """One row per particle: one column per fitted parameter and its ``weight``."""
        frame = pd.DataFrame(self.result.theta, columns=[p.column for p in self.simulator.params])
        frame["weight"] = self.result.weights
        return frame


def is_loss(obs: Observation) -> bool:
    """Whether an observation is a published no-deal loss estimate (else a term, the deal or the date)."""
    return obs.term.startswith("no_deal_loss:")


def all_observations(configs: dict[str, dict], as_of: dt.date, before: bool = False) -> list[Observation]:
    """The arrangements' observations and the loss estimates dated by ``as_of`` (strictly before with ``before``)."""
    losses = [o for case, cfg in configs.items() for o in loss_observations(case, cfg)
              if o.date < as_of or (o.date == as_of and not before)]
    return sorted(observations(configs, as_of, before) + losses, key=lambda o: (o.date, o.case, o.term))


def distance_function(sim: PanelSimulator, observed: list[Observation]):
    """The batched distance function of ABC-SMC: per parameter vector, the Euclidean norm of every scaled gap."""
    cases = list(dict.fromkeys(o.case for o in observed))

    def distance(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        total = np.zeros(len(theta))
        for case in cases:
            seed = int(rng.integers(2**31 - 1))
            terms = [o for o in observed if o.case == case and not is_loss(o)]
            if terms:
                out = sim.outcomes(case, theta, seed)
                total += np.sum(gaps(terms, out, origin(sim.configs[case])) ** 2, axis=1)
            estimates = [o for o in observed if o.case == case and is_loss(o)]
            loss = sim.losses(case, theta, seed) if estimates else None
            for o in estimates:
                total += ((loss - o.value) / (o.high - o.low)) ** 2
        return np.sqrt(total)

    return distance


def _quantiles(obs: Observation, out: pd.DataFrame, start: dt.date) -> tuple[float, float, float]:
    """p10, p50, p90 of the simulated values of ``obs`` in its own unit (terms: over the worlds with a deal)."""
    from sim.inference.summaries import simulated

    values = simulated(obs, out, start) * (obs.high - obs.low) + obs.low
    if obs.term not in ("deal", "date"):
        values = values[out["deal"].to_numpy(dtype=bool)]
    if values.size == 0:
        return (np.nan, np.nan, np.nan)
    q = np.quantile(values, [0.1, 0.5, 0.9])
    return float(q[0]), float(q[1]), float(q[2])


def ppc_table(sim: PanelSimulator, observed: list[Observation], theta: np.ndarray, seed: int) -> pd.DataFrame:
    """The posterior (or prior) predictive check: per observation, p10, p50, p90 of one world per row of
    ``theta``, and whether the observation lies within [p10, p90]."""
    rows = []
    for k, case in enumerate(dict.fromkeys(o.case for o in observed)):
        mine = [o for o in observed if o.case == case]
        out = sim.outcomes(case, theta, seed + k) if any(not is_loss(o) for o in mine) else None
        loss = sim.losses(case, theta, seed + k) if any(is_loss(o) for o in mine) else None
        start = origin(sim.configs[case])
        for o in mine:
            p10, p50, p90 = (np.quantile(loss, [0.1, 0.5, 0.9]).tolist() if is_loss(o)
                             else _quantiles(o, out, start))
            rows.append({"case": case, "term": o.term, "observed": o.value, "p10": p10, "p50": p50, "p90": p90,
                         "inside": bool(p10 <= o.value <= p90), "low": o.low, "high": o.high})
    return pd.DataFrame(rows, columns=["case", "term", "observed", "p10", "p50", "p90", "inside", "low", "high"])


def resample(result: Result, n: int, seed: int) -> np.ndarray:
    """``n`` particles drawn by weight (systematic resampling, so the draw is stable under a seed)."""
    rng = np.random.default_rng(seed)
    positions = (rng.random() + np.arange(n)) / n
    idx = np.searchsorted(np.cumsum(result.weights), positions)
    return result.theta[np.minimum(idx, len(result.theta) - 1)]


def _worlds(settings: dict, observed: list[Observation]) -> int:
    """About how many worlds a calibration simulates (for its progress bar): per case with an observed term, the
    prior sample, about (1 - quantile) of the particles moved ``moves`` times a generation, and the check."""
    n, cases = int(settings["particles"]), len({o.case for o in observed if not is_loss(o)})
    moved = n - int(np.ceil(float(settings["quantile"]) * n))
    return cases * (2 * n + int(settings["generations"]) * int(settings["moves"]) * moved)


def calibrate(as_of: dt.date, settings: dict, configs: dict | None = None, before: bool = False,
              progress=None, folder: CalibrationFolder | None = None) -> Calibration:
    """Fit the parameters to the observations dated on or before ``as_of`` (strictly before with ``before``).

    Args:
        as_of: The calibration date.
        settings: :func:`load_settings`.
        configs: Per case its config from its origin (made if not given; lets a caller reuse them).
        before: Use only observations dated strictly before ``as_of`` (a backtest's calibration).
        progress: Called after each generation with (done, total).
        folder: The calibration's run folder: every batch runs there on the project's runner, each generation is
            kept, and a stopped calibration goes on from its last one (:mod:`sim.inference.folder`). None: every
            batch runs in this process and nothing is written.

    With no observation dated by ``as_of`` every distance is 0: the population stays the prior sample, and the
    posterior is the prior.
    """
    sim = PanelSimulator(settings, list(settings["cases"]), configs, runner=folder)
    observed = all_observations(sim.configs, as_of, before=before)
    seed = int(settings["seed"])
    if folder is not None and folder.bar is not None:
        folder.bar.total = _worlds(settings, observed)
    result = abc_smc(distance_function(sim, observed), box_prior(sim.params), seed,
                     particles=int(settings["particles"]), generations=int(settings["generations"]),
                     quantile=float(settings["quantile"]), moves=int(settings["moves"]),
                     progress=progress, checkpoint=folder)
    theta = resample(result, int(settings["particles"]), seed + 1)
    if folder is not None:
        folder.at("ppc")
    ppc = ppc_table(sim, observed, theta, seed + 2)
    return Calibration(as_of, settings, observed, sim, result, ppc)
