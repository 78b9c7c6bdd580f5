"""A calibration's run folder: the posterior, its diagnostics, the predictive check and the figures.

Written by :func:`write` (each file atomically):

- ``posterior.parquet``: one row per particle of the last generation, one column per fitted parameter (named as
  in a sweep's columns) and ``weight`` (normalised importance weights);
- ``diagnostics.json``: the method, per generation its threshold, simulations, acceptances, acceptance rate and
  effective sample size, the simulations and wall time in all, the fitted parameters with their config keys and
  priors, and the observations used with their dates and sources;
- ``ppc.csv``: per observation ``case, term, observed, p10, p50, p90, inside`` (posterior predictive);
- ``figures/posterior.png`` (each parameter's weighted posterior histogram over its prior density) and
  ``figures/ppc.png`` (each observation against its 10-90 % predictive band, on its issue's range).

:func:`read` reads a folder back as data only (Parquet and JSON; nothing is imported or unpickled), as a forecast
does to draw its ensemble from a posterior (:mod:`sim.config.posterior_draws`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["read", "write"]


def diagnostics(cal) -> dict:
    """The content of ``diagnostics.json`` for a :class:`sim.inference.calibrate.Calibration`."""
    res = cal.result
    return {
        "method": "ABC-SMC (adaptive, with ABC-MCMC moves: Drovandi & Pettitt 2011), in-house, batched",
        "as_of": cal.as_of.isoformat(),
        "seed": int(cal.settings["seed"]),
        "settings": {k: cal.settings[k] for k in ("particles", "generations", "quantile", "moves",
                                                  "max_rounds", "cases")},
        "generations": [dict(g.__dict__) for g in res.generations],
        "acceptance_rates": [g.acceptance_rate for g in res.generations],
        "ess": [g.ess for g in res.generations],
        "thresholds": [g.threshold for g in res.generations],
        "runner": {k: cal.settings.get(k) for k in ("chunk_size", "workers", "executor")},
        "simulations": int(res.simulations),
        "wall_s": round(float(res.wall_s), 3),
        "parameters": [{"column": p.column, "keys": p.keys, "prior": {"lo": p.lo, "hi": p.hi,
                        "mode": None if np.isnan(p.mode) else p.mode}, "shared": p.shared}
                       for p in cal.simulator.params],
        "observations": [{"case": o.case, "term": o.term, "value": o.value, "scale": [o.low, o.high],
                          "date": o.date.isoformat(), "source": o.source} for o in cal.observed],
    }


def _figures(cal, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.inference.abc import BoxPrior

    post = cal.posterior()
    params = cal.simulator.params
    cols = 4
    rows = -(-len(params) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, p in zip(axes.flat, params, strict=False):
        grid = np.linspace(p.lo, p.hi, 200)[:, None]
        ax.plot(grid[:, 0], BoxPrior(np.array([p.lo]), np.array([p.hi]), np.array([p.mode])).pdf(grid),
                color="0.4", label="prior")
        ax.hist(post[p.column], bins=20, range=(p.lo, p.hi), weights=post["weight"], density=True, alpha=0.6,
                label="posterior")
        ax.set_title(p.column, fontsize=8)
    for ax in list(axes.flat)[len(params):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"Posterior against prior, calibrated as of {cal.as_of}", fontsize=10)
    fig.tight_layout()
    written = [out / "posterior.png"]
    fig.savefig(written[0], dpi=110)
    plt.close(fig)
    written.append(_ppc_figure(cal.ppc, out / "ppc.png", f"Posterior predictive check, as of {cal.as_of}"))
    return written


def _ppc_figure(ppc: pd.DataFrame, path: Path, title: str) -> Path:
    """Each observation (point) against its 10-90 % band and median, as a share of its scale."""
    import matplotlib.pyplot as plt

    scale = (ppc["high"] - ppc["low"]).to_numpy()
    rel = {k: (ppc[k].to_numpy() - ppc["low"].to_numpy()) / scale for k in ("observed", "p10", "p50", "p90")}
    y = np.arange(len(ppc))[::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(ppc) + 1.2))
    ax.hlines(y, rel["p10"], rel["p90"], color="tab:blue", lw=4, alpha=0.5, label="10-90 %")
    ax.plot(rel["p50"], y, "|", color="tab:blue", ms=10, label="median")
    ax.plot(rel["observed"], y, "o", color="black", ms=4, label="observed")
    ax.set_yticks(y, [f"{c} {t}" for c, t in zip(ppc["case"], ppc["term"], strict=True)], fontsize=7)
    ax.set_xlabel("share of the scale (issue range; deal 0-1; date: days to the horizon)")
    ax.set_xlim(-0.02, 1.02)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(cal, out: Path, figures: bool = True) -> list[Path]:
    """Write a calibration's run folder ``out`` (made if needed); return the paths written."""
    from sim.run.outputs import atomic_write

    out.mkdir(parents=True, exist_ok=True)
    written = [out / "posterior.parquet", out / "diagnostics.json", out / "ppc.csv"]
    atomic_write(written[1], lambda p: Path(p).write_text(json.dumps(diagnostics(cal), indent=1) + "\n"))
    cols = ["case", "term", "observed", "p10", "p50", "p90", "inside"]
    atomic_write(written[2], lambda p: cal.ppc[cols].to_csv(p, index=False))
    if figures:
        (out / "figures").mkdir(exist_ok=True)
        written += _figures(cal, out / "figures")
    # last: a folder with posterior.parquet holds a finished calibration (a stopped one is resumed instead)
    atomic_write(written[0], lambda p: cal.posterior().to_parquet(p, index=False))
    return written


def read(folder: Path) -> tuple[pd.DataFrame, dict]:
    """A calibration folder's posterior (one column per parameter and ``weight``, normalised) and diagnostics, as
    data (:func:`sim.config.posterior_draws.read_posterior`).

    Raises:
        ValueError: one line, if the folder lacks them or they do not fit together.
    """
    from sim.config.posterior_draws import read_posterior

    columns, weights, diag = read_posterior(Path(folder))
    return pd.DataFrame({**columns, "weight": weights}), diag
