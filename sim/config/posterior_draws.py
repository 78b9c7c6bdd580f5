"""An ensemble drawn from a calibrated posterior instead of the priors (``forecast.source=posterior``).

A calibration folder (written by ``python -m sim calibrate``) holds ``posterior.parquet`` (one row per particle:
one column per fitted parameter and a ``weight``) and ``diagnostics.json`` (each parameter's config keys per
case, the date it was calibrated as of). Both are read as data only: Parquet and JSON, nothing imported or
unpickled. :func:`draw_columns` draws the ensemble as :func:`sim.config.priors.draw_columns` does, then replaces
the columns of the keys the posterior fitted (those this scenario draws from a prior) by particles resampled by
weight from the sampler's own stream: the fitted parameters keep their joint posterior, every other parameter its
prior. A posterior calibrated on observations dated after the forecast's vantage date is refused.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from sim.config import priors
from sim.config.values import MISSING, ConfigError, Tree, flatten, lookup

__all__ = ["SOURCES", "draw_columns", "read_posterior", "source", "vantage_dates"]

SOURCES = ("prior", "posterior")


def source(cfg: Tree) -> str:
    """``forecast.source`` (``prior`` when the config has none).

    Raises:
        ConfigError: for another value.
    """
    value = (cfg.get("forecast") or {}).get("source", "prior") if isinstance(cfg.get("forecast"), dict) else "prior"
    if value not in SOURCES:
        raise ConfigError("forecast.source", f"must be one of {', '.join(SOURCES)}, got {value!r}")
    return value


def read_posterior(folder: Path) -> tuple[dict[str, np.ndarray], np.ndarray, dict]:
    """A calibration folder's particles (per column), normalised weights and diagnostics.

    Raises:
        ValueError: one line, if the folder lacks them or they do not fit together.
    """
    import pyarrow.parquet as pq

    folder = Path(folder)
    for name in ("posterior.parquet", "diagnostics.json"):
        if not (folder / name).is_file():
            raise ValueError(f"{folder}: has no {name} (not a calibration folder written by python -m sim calibrate)")
    table = pq.read_table(folder / "posterior.parquet")
    diag = json.loads((folder / "diagnostics.json").read_text())
    names = [p.get("column") for p in diag.get("parameters", []) if isinstance(p, dict)]
    if "weight" not in table.column_names or any(c not in table.column_names for c in names) or table.num_rows == 0:
        raise ValueError(f"{folder}: posterior.parquet lacks the weight or a parameter column of diagnostics.json")
    w = table.column("weight").to_numpy().astype(float)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"{folder}: posterior.parquet has weights that are not finite and non-negative")
    columns = {c: table.column(c).to_numpy().astype(float) for c in names}
    return columns, w / w.sum(), diag


def _fitted_keys(diag: dict) -> dict[str, str]:
    """Config key -> posterior column, for every key a fitted parameter sets in any case."""
    out = {}
    for p in diag.get("parameters", []):
        for key in (p.get("keys") or {}).values():
            out[str(key)] = str(p["column"])
    return out


def vantage_dates(cfg: Tree) -> tuple[str, list[dt.date]]:
    """Where a forecast's worlds take their vantage dates from, and the dates: each ``sweep.grid`` value of
    ``scenario.as_of`` when the grid sweeps it, else ``scenario.as_of`` (none when it is null: the scenario as
    written)."""
    grid = lookup(cfg, "sweep.grid")
    swept = flatten(grid).get("scenario.as_of") if isinstance(grid, dict) else None
    where, values = ("sweep.grid.scenario.as_of", swept) if isinstance(swept, list) else \
        ("scenario.as_of", [lookup(cfg, "scenario.as_of")])
    return where, [d for d in map(_day, values) if d is not None]


def _day(value) -> dt.date | None:
    """A date from its ISO text; None for null or for text that is not one (the scenario's check reports it)."""
    try:
        return dt.date.fromisoformat(str(value)) if value is not None and value is not MISSING else None
    except ValueError:
        return None


def _check_vantage(cfg: Tree, calibrated) -> None:
    """Refuse a posterior calibrated as of a date after any world's vantage date: it would bring facts dated after
    that day into its forecast."""
    where, dates = vantage_dates(cfg)
    if calibrated is None or not dates or dt.date.fromisoformat(str(calibrated)) <= min(dates):
        return
    raise ConfigError("forecast.calibration", f"was calibrated as of {calibrated}, after the forecast's vantage "
                                              f"date {where}={min(dates)}; calibrate as of {min(dates)} or earlier")


def draw_columns(cfg: Tree, n: int, root_seed: int, grid_keys: set[str]) -> dict[str, np.ndarray]:
    """``n`` points: the priors' draws with the fitted keys replaced by particles of the posterior.

    Raises:
        ConfigError: ``forecast.calibration`` is not a calibration folder, or was calibrated as of a date after
            the forecast's ``scenario.as_of``.
    """
    folder = (cfg.get("forecast") or {}).get("calibration")
    if not folder:
        raise ConfigError("forecast.calibration", "forecast.source=posterior needs a calibration folder (python -m "
                                                  "sim calibrate scenario.as_of=DATE --out DIR)")
    try:
        particles, w, diag = read_posterior(Path(str(folder)))
    except (ValueError, OSError) as err:
        raise ConfigError("forecast.calibration", " ".join(str(err).split())[:300]) from None
    _check_vantage(cfg, diag.get("as_of"))
    columns = priors.draw_columns(cfg, n, root_seed, grid_keys)
    # the posterior's own stream of the root seed (the priors' is spawn key 2**32 - 1)
    rng = np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=(2**32 - 2,)))
    rows = rng.choice(len(w), size=n, p=w)
    for key, column in _fitted_keys(diag).items():
        if key in columns and key not in grid_keys:
            columns[key] = particles[column][rows].astype(columns[key].dtype)
    return columns
