"""The points a sweep samples from ``sweep.sample``: LHS or uniform draws through scipy.stats.qmc, a SALib
sensitivity design (:mod:`sim.config.designs`), or draws from the scenario's priors (:mod:`sim.config.priors`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.config import posterior_draws, priors
from sim.config.designs import DESIGN_METHODS, check_size, design_rows, unit_design
from sim.config.points import MAX_GRID_POINTS, MAX_SAMPLED_POINTS, _flatten, _sweepable
from sim.config.values import ConfigError, Tree, choice, get, number, numeric_key

__all__ = ["SAMPLING_METHODS", "SampledDesign", "sampled_design"]

SAMPLING_METHODS = ("none", "random", "lhs", "prior", *DESIGN_METHODS)


@dataclass
class SampledDesign:
    """The points drawn from ``sweep.sample.ranges``, before integer keys are rounded.

    Attributes:
        method: ``random``, ``lhs``, ``sobol``, ``morris`` or ``fast``.
        n: ``sweep.sample.n`` (sobol: base points; morris: trajectories; fast: points per parameter).
        keys: The sampled config keys, in column order.
        low: Lower bound of each key's range.
        high: Upper bound of each key's range, as given (integer keys: the largest whole value drawn).
        integer: Whether each key takes whole values (drawn on ``[low, high + 1)`` and floored, so
            every whole value is equally likely).
        values: The design rows, unrounded, shape ``(rows, len(keys))``.
    """

    method: str
    n: int
    keys: list[str]
    low: list[float]
    high: list[float]
    integer: list[bool]
    values: np.ndarray = field(repr=False)

    def points(self) -> list[dict[str, float | int]]:
        """The rows as sweep points, integer keys floored to whole values."""
        columns = {key: col.tolist() for key, col in self.columns().items()}
        return [{key: col[i] for key, col in columns.items()} for i in range(len(self.values))]

    def columns(self) -> dict[str, np.ndarray]:
        """The rows as one array per key (``int64`` for an integer key, floored; ``float64`` otherwise)."""
        out = {}
        for k, (key, hi, integer) in enumerate(zip(self.keys, self.high, self.integer, strict=True)):
            v = self.values[:, k]
            out[key] = np.minimum(np.floor(v), hi).astype(np.int64) if integer else v.astype(np.float64)
        return out


def _ranges(cfg: Tree) -> list[tuple[str, Any]]:
    axes = _flatten(get(cfg, "sweep.sample.ranges") or {})
    if not axes:
        raise ConfigError("sweep.sample.ranges", "must map at least one numeric config key to [low, high]")
    return axes


def _sampled_rows_compiled(cfg: Tree) -> bool:
    """Whether the sample is a sensitivity design (its rows limited to :data:`MAX_GRID_POINTS`)."""
    return get(cfg, "sweep.sample.method") in DESIGN_METHODS


def _max_n(cfg: Tree) -> int:
    return MAX_GRID_POINTS if _sampled_rows_compiled(cfg) else MAX_SAMPLED_POINTS


def _sample_size(cfg: Tree) -> int:
    """Number of sampled points, i.e. design rows (1 without sampling).

    Raises:
        ConfigError: the design is larger than :data:`MAX_GRID_POINTS` rows (one line with its size).
    """
    method = choice(cfg, "sweep.sample.method", SAMPLING_METHODS)
    if method == "none":
        return 1
    n = int(number(cfg, "sweep.sample.n", 1, _max_n(cfg), integer=True, what=" (sample size)"))
    if method not in DESIGN_METHODS:
        return n
    check_size(method, n)
    d = len(_ranges(cfg))
    rows = design_rows(method, d, n)
    if rows > MAX_GRID_POINTS:
        formula = {"sobol": "n x (2D + 2)", "morris": "n x (D + 1)", "fast": "n x D"}[method]
        raise ConfigError("sweep.sample.n", f"a {method} design of n = {n:,} over D = {d} parameters has "
                                            f"{formula} = {rows:,} rows; the limit is {MAX_GRID_POINTS:,} "
                                            f"grid points per run (lower n, or split the ranges with -m)")
    return rows


def sampled_design(cfg: Tree, root_seed: int, grid_keys: set[str] = frozenset()) -> SampledDesign | None:
    """The design drawn from ``sweep.sample`` (``None`` without sampling), checked key by key.

    LHS and uniform designs come from scipy.stats.qmc, sensitivity designs from SALib
    (:mod:`sim.config.designs`); all from the sampler's own stream, derived from the root seed.

    Raises:
        ConfigError: naming the first bad range or size.
    """
    method = choice(cfg, "sweep.sample.method", SAMPLING_METHODS)
    if method in ("none", "prior"):  # no ranges design: nothing, or draws from the scenario's priors
        return None
    n = int(number(cfg, "sweep.sample.n", 1, _max_n(cfg), integer=True, what=" (sample size)"))
    bounds = []
    for key, bound in _ranges(cfg):
        where = f"sweep.sample.ranges.{key}"
        _sweepable(key, where)
        if key in grid_keys:
            raise ConfigError(where, "is also a sweep.grid axis; sweep a key one way only")
        base = numeric_key(cfg, key, where, "it cannot be sampled; use sweep.grid")
        if (not isinstance(bound, list) or len(bound) != 2
                or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in bound)
                or not bound[0] < bound[1]):
            raise ConfigError(where, f"must be [low, high] with low < high, got {bound!r}")
        bounds.append((key, float(bound[0]), float(bound[1]), isinstance(base, int)))
    from scipy.stats import qmc  # imported here: scipy.stats takes a second to import

    # the sampler's own stream, derived from the root seed (never shared with any world)
    rng = np.random.default_rng(np.random.SeedSequence(root_seed, spawn_key=(2**32 - 1,)))
    d = len(bounds)
    if method == "lhs":
        unit = qmc.LatinHypercube(d=d, rng=rng).random(n)
    elif method in DESIGN_METHODS:
        unit = unit_design(method, d, n, rng)
    else:
        unit = rng.random((n, d))
    lo = np.array([b[1] for b in bounds])
    hi = np.array([b[2] + (1.0 if b[3] else 0.0) for b in bounds])  # integers: [low, high + 1), floored
    return SampledDesign(method=method, n=n, keys=[b[0] for b in bounds], low=[b[1] for b in bounds],
                         high=[b[2] for b in bounds], integer=[b[3] for b in bounds],
                         values=qmc.scale(unit, lo, hi))


def _samples(cfg: Tree, root_seed: int, grid_keys: set[str]) -> dict[str, np.ndarray]:
    """Points sampled from numeric ranges (``sweep.sample``), or from the scenario's priors
    (``method: prior``, :mod:`sim.config.priors`: each a :class:`~sim.config.points.LazyColumn`, drawn when rows
    of it are asked for), one array per key; ``{}`` if none."""
    if choice(cfg, "sweep.sample.method", SAMPLING_METHODS) == "prior":
        if posterior_draws.source(cfg) == "posterior":  # forecast.source=posterior: the fitted keys' posterior
            return posterior_draws.draw_columns(cfg, _sample_size(cfg), root_seed, grid_keys)
        return priors.lazy_columns(cfg, _sample_size(cfg), root_seed, grid_keys)  # drawn when rows are asked for
    design = sampled_design(cfg, root_seed, grid_keys)
    return {} if design is None else design.columns()
