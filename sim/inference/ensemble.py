"""The calibrated parameters, their priors, and the batched simulator of the panel cases' worlds.

A calibration fits a modest set of parameters (``conf/inference/calibrate.yaml``): the US objective weights and
the pass-through, shared by every case (one administration, one set of objectives, ``objectives/us_2025``), and
per case the exporter's margin on lost sales (``scenario.payoff.<exporter>.lost_sales_margin``). Each is named as
in a sweep's columns (:func:`sim.config.sweep.column_name`), and its prior is the scenario's own
(``scenario.calibration``). Every other parameter with a prior is drawn afresh from it in each world (it is
integrated out, not fitted).

One call of :meth:`PanelSimulator.outcomes` runs, per case, one world per parameter vector as the forecast
experiment does from the case's origin (the day before its announcement): the same config composition and the
same plan, with the run's seed drawn from the caller's generator, so a seed fixes every world. With a ``runner``
(:class:`sim.inference.folder.CalibrationFolder`) the plan is executed by the project's runner into the
calibration's folder (workers, Dask, resume); without one it runs in this process
(:func:`sim.run.runner.simulate`), with the same outcome table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.inference.abc import BoxPrior
from sim.inference.observations import origin

__all__ = ["Calibrated", "PanelSimulator", "calibrated", "case_config"]


@dataclass(frozen=True)
class Calibrated:
    """One fitted parameter: its sweep column, its config key per case that has it, and its prior.

    Attributes:
        column: The name of its column (as in a sweep's outcome table).
        keys: Per case, the config key it sets.
        lo, hi, mode: Its prior (``mode`` NaN: uniform).
        shared: Whether every case shares it.
    """

    column: str
    keys: dict[str, str]
    lo: float
    hi: float
    mode: float
    shared: bool


def case_config(case: str, as_of: dt.date | None, settings: dict) -> dict:
    """A panel case's config as the forecast experiment composes it from ``as_of`` (plain containers)."""
    from omegaconf import OmegaConf

    from sim.config.compose import compose_config

    overrides = [f"scenario={case}", "+experiment=forecast", "run.plot=false", "run.progress=false",
                 f"protocol.max_rounds={int(settings['max_rounds'])}"]
    overrides.append(f"scenario.as_of={as_of.isoformat()}" if as_of else "scenario.as_of=null")
    cfg = OmegaConf.to_container(compose_config(*overrides), resolve=True)
    cfg.pop("hydra", None)
    return cfg


def _prior_of(cfg: dict, key: str):
    from sim.config.priors import priors

    for p in priors(cfg):
        if p.key == key:
            return p.prior
    raise KeyError(f"{key}: has no prior in scenario.calibration")


def calibrated(configs: dict[str, dict], settings: dict) -> list[Calibrated]:
    """The fitted parameters of ``configs`` (per case its composed config): the shared keys, then per case the
    keys of ``settings['per_case']`` with ``{exporter}`` filled in."""
    from sim.config.sweep import column_name

    out = []
    for key in settings["shared"]:
        p = _prior_of(next(iter(configs.values())), key)
        out.append(Calibrated(column_name(key), dict.fromkeys(configs, key), p.lo, p.hi,
                              np.nan if p.mode is None else p.mode, True))
    for case, cfg in configs.items():
        for template in settings["per_case"]:
            key = template.format(exporter=cfg["scenario"]["payoff"]["exporter"])
            p = _prior_of(cfg, key)
            out.append(Calibrated(column_name(key), {case: key}, p.lo, p.hi,
                                  np.nan if p.mode is None else p.mode, False))
    return out


def box_prior(params: list[Calibrated]) -> BoxPrior:
    """The joint prior of the fitted parameters (independent marginals)."""
    return BoxPrior(np.array([p.lo for p in params]), np.array([p.hi for p in params]),
                    np.array([p.mode for p in params]))


class PanelSimulator:
    """Runs the panel cases' worlds for arrays of fitted parameters.

    Args:
        settings: The calibration's settings (``max_rounds``, ``shared``, ``per_case``).
        cases: The case names to simulate.
        configs: Per case, its config composed from its origin (:func:`case_config`); made if not given.
        runner: Runs a case's batch (``outcomes(case, cfg, columns)``, e.g. a
            :class:`sim.inference.folder.CalibrationFolder`); None: in this process.
    """

    def __init__(self, settings: dict, cases: list[str], configs: dict[str, dict] | None = None, runner=None):
        self.runner = runner
        self.configs = configs or {}
        for case in cases:
            if case not in self.configs:
                plain = case_config(case, None, settings)
                self.configs[case] = case_config(case, origin(plain), settings)
        self.cases = list(cases)
        self.params = calibrated({c: self.configs[c] for c in self.cases}, settings)

    def _columns(self, case: str, theta: np.ndarray, seed: int) -> tuple[dict, dict[str, np.ndarray]]:
        """The case's config for ``len(theta)`` worlds of root seed ``seed``, and its sample: every prior drawn
        from the sampler's stream of ``seed``, the fitted keys set from ``theta``."""
        from sim.config.priors import draw_columns

        n = len(theta)
        cfg = dict(self.configs[case])
        cfg["run"] = {**cfg["run"], "seed": int(seed), "seeds": 1, "record_rounds": "none", "workers": 1}
        cfg["sweep"] = {**cfg["sweep"], "sample": {**cfg["sweep"]["sample"], "method": "prior", "n": n}}
        columns = draw_columns(cfg, n, int(seed), set())
        for k, p in enumerate(self.params):
            if case in p.keys:
                columns[p.keys[case]] = np.asarray(theta[:, k], dtype=np.float64)
        return cfg, columns

    def losses(self, case: str, theta: np.ndarray, seed: int) -> np.ndarray:
        """The exporter's no-deal loss in per cent of GDP, one per row of ``theta``, the other priors drawn as
        in :meth:`outcomes` (:func:`sim.inference.losses.model_loss_pct`)."""
        from sim.inference.losses import model_loss_pct

        cfg, columns = self._columns(case, theta, seed)
        values = {key: col.tolist() for key, col in columns.items()}
        return model_loss_pct(cfg, [{key: col[i] for key, col in values.items()} for i in range(len(theta))])

    def outcomes(self, case: str, theta: np.ndarray, seed: int) -> pd.DataFrame:
        """One world per row of ``theta`` (columns: :attr:`params`) of one case: its outcome table.

        Every prior of the case not fitted is drawn from the sampler's stream of ``seed``; ``seed`` is also the
        run's root seed, so the worlds' own random draws follow from it.
        """
        from sim.config.sweep import plan
        from sim.run.runner import simulate

        cfg, columns = self._columns(case, theta, seed)
        if self.runner is not None:
            return self.runner.outcomes(case, cfg, columns)
        out, _ = simulate(plan(cfg, samples=columns))
        return out
