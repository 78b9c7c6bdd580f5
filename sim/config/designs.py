"""Sensitivity-analysis designs on the unit cube, drawn through SALib (``sweep.sample.method=sobol|morris|fast``).

* ``sobol``: Saltelli's extension of a scrambled Sobol' sequence with second-order terms, ``n`` base
  points (a power of 2), ``n * (2 D + 2)`` design rows for D parameters (S1, S2 and ST);
* ``morris``: ``n`` Morris trajectories on a 4-level grid, ``n * (D + 1)`` rows;
* ``fast``: extended FAST with M = 4 harmonics, ``n`` points per parameter (``n > 4 M^2 = 64``),
  ``n * D`` rows.

This module sits on the config floor because :func:`sim.config.sweep.plan` expands a design into
grid points; the analysis of a finished run is :mod:`sim.analysis.sensitivity`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from sim.config.values import ConfigError

__all__ = ["DESIGN_METHODS", "FAST_HARMONICS", "MORRIS_LEVELS", "SOBOL_SECOND_ORDER", "design_rows",
           "salib_problem", "unit_design"]

DESIGN_METHODS = ("sobol", "morris", "fast")
MORRIS_LEVELS = 4
FAST_HARMONICS = 4
SOBOL_SECOND_ORDER = True  # Saltelli designs carry the second-order rows: n * (2 D + 2)


def salib_problem(d: int, names: list[str] | None = None, bounds: list[list[float]] | None = None) -> dict:
    """SALib's problem dictionary for ``d`` parameters (default: ``x0..`` on the unit interval)."""
    return {"num_vars": d, "names": names or [f"x{i}" for i in range(d)], "bounds": bounds or [[0.0, 1.0]] * d}


def design_rows(method: str, d: int, n: int) -> int:
    """Number of design rows (sweep points) of a ``method`` design with size ``n`` over ``d`` parameters."""
    return {"sobol": n * (2 * d + 2) if SOBOL_SECOND_ORDER else n * (d + 2),
            "morris": n * (d + 1), "fast": n * d}[method]


def check_size(method: str, n: int) -> None:
    """Refuse an ``n`` that does not suit the design, naming ``sweep.sample.n`` and what is allowed.

    Raises:
        ConfigError: ``n`` is not a power of 2 (sobol), below 2 trajectories (morris) or at most 64
            points per parameter (fast).
    """
    if method == "sobol" and (n < 2 or n & (n - 1)):
        raise ConfigError("sweep.sample.n", f"must be a power of 2 (at least 2) for sobol (Saltelli) designs, "
                                            f"e.g. {2 ** max(1, round(math.log2(max(n, 2))))}; got {n}")
    if method == "morris" and n < 2:
        raise ConfigError("sweep.sample.n", f"must be at least 2 Morris trajectories; got {n}")
    if method == "fast" and n <= 4 * FAST_HARMONICS**2:
        raise ConfigError("sweep.sample.n", f"must be more than {4 * FAST_HARMONICS**2} points per parameter "
                                            f"for fast designs (4 M^2 with M = {FAST_HARMONICS}); got {n}")


def unit_design(method: str, d: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """A sensitivity design on the unit cube, drawn through SALib.

    Args:
        method: ``"sobol"`` (Saltelli), ``"morris"`` or ``"fast"``.
        d: Number of parameters.
        n: Base points (sobol, a power of 2), trajectories (morris) or points per parameter (fast).
        rng: The sampler's random stream (derived from the run's root seed).

    Returns:
        An array of shape ``(design_rows(method, d, n), d)``, values in [0, 1].

    Raises:
        ConfigError: ``n`` does not suit the method.
    """
    check_size(method, n)
    problem = salib_problem(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib warns about sample sizes it cannot check for us
        if method == "sobol":
            from SALib.sample import sobol

            return sobol.sample(problem, n, calc_second_order=SOBOL_SECOND_ORDER, scramble=True, seed=rng)
        if method == "morris":
            from SALib.sample import morris

            return morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=rng)
        if method == "fast":
            from SALib.sample import fast_sampler

            return fast_sampler.sample(problem, n, M=FAST_HARMONICS, seed=rng)
    raise ValueError(f"unknown design method {method!r}")
