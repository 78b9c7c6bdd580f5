"""Priors of the uncertain parameters, and an ensemble of worlds drawn from them.

A scenario's ``calibration`` block maps full config keys to where each value comes from and, for the
uncertain ones, a prior::

    calibration:
      scenario.deadline.extension.probability:
        {source: "...", tag: ASSUMPTION, prior: {dist: uniform, lo: 0.1, hi: 0.9}}

``dist`` is ``uniform`` (``lo``, ``hi``) or ``triangular`` (``lo``, ``mode``, ``hi``). With
``sweep.sample.method=prior`` and ``sweep.sample.n`` the run draws ``n`` points, each setting every key
that has a prior, by inverse transform of independent uniforms from the sampler's own stream of the
root seed (``run.seed``), so a seed fixes the ensemble. An integer key takes an integer value: with a
uniform prior every integer in [lo, hi] is equally likely; with a triangular one the draw is rounded.
"""

from __future__ import annotations

import numpy as np

from sim.config.calibration import BLOCK, calibration_entries
from sim.config.parameters import Parameter
from sim.config.points import LazyColumn, RowSource
from sim.config.values import ConfigError, Tree, numeric_key

__all__ = ["FIXED_IN_ENSEMBLE", "Draws", "draw", "draw_columns", "drawn", "lazy_columns", "priors"]

# Keys an ensemble keeps at their value although they have a prior: the round length maps rounds to dates,
# and the forecast's tables and figures turn every world's rounds into dates with the one calendar of the run
# (and the deadline round is derived from it). Its prior is for the calibration table and sensitivity designs.
FIXED_IN_ENSEMBLE = ("scenario.calendar.round_days",)
# draws made at once (a million draws' uniform numbers would double the memory of the draws themselves)
DRAW_ROWS = 65_536


def priors(cfg: Tree) -> list[Parameter]:
    """The parameters of ``scenario.calibration`` with a prior, in the order written (entries without one
    are skipped).

    The block is read and checked in one place, :func:`sim.config.calibration.calibration_entries`; this
    adds what drawing needs: whether the key holds an integer (:attr:`Parameter.integer`, from the config's
    own value).

    Raises:
        ConfigError: naming a malformed entry, or a key that is not a numeric config value.
    """
    out = []
    for entry in calibration_entries(cfg):
        if entry.prior is None:
            continue
        where = f"{BLOCK}.{entry.key}"
        if entry.key.split(".")[0] in ("run", "sweep", "hydra"):
            raise ConfigError(where, "run settings have no prior")
        base = numeric_key(cfg, entry.key, where, "it has no prior")
        p = entry.prior
        if not p.lo < p.hi:
            raise ConfigError(f"{where}.prior", f"needs lo < hi to be drawn, got lo {p.lo:g}, hi {p.hi:g}")
        out.append(entry.calibrated(entry.key, entry.source, p, integer=isinstance(base, int)))
    return out


def drawn(cfg: Tree) -> list[Parameter]:
    """The priors an ensemble draws: every prior of ``scenario.calibration`` but those of :data:`FIXED_IN_ENSEMBLE`.

    Raises:
        ConfigError: as :func:`priors`.
    """
    return [p for p in priors(cfg) if p.key not in FIXED_IN_ENSEMBLE]


def draw(cfg: Tree, n: int, root_seed: int, grid_keys: set[str]) -> list[dict[str, float | int]]:
    """``n`` points drawn from the scenario's priors, each setting every key that has one (the rows of
    :func:`draw_columns`, as Python numbers)."""
    columns = draw_columns(cfg, n, root_seed, grid_keys)
    values = {key: col.tolist() for key, col in columns.items()}
    return [{key: col[i] for key, col in values.items()} for i in range(n)]


def draw_columns(cfg: Tree, n: int, root_seed: int, grid_keys: set[str]) -> dict[str, np.ndarray]:
    """``n`` points drawn from the scenario's priors, as one array per key (no object per point).

    Args:
        cfg: The run's config.
        n: Number of points (worlds of the ensemble, times ``run.seeds``). Keys of
            :data:`FIXED_IN_ENSEMBLE` keep their value.
        root_seed: ``run.seed``; the draws come from the sampler's own stream of it.
        grid_keys: Keys swept by ``sweep.grid`` (a key is swept one way only).

    Returns:
        Per key with a prior, in the order written, its ``n`` draws: ``int64`` for an integer key, else
        ``float64``.

    Raises:
        ConfigError: if there is no prior, or a key with a prior is also a grid axis.
    """
    return draws(cfg, n, root_seed, grid_keys).make(0, n)


def lazy_columns(cfg: Tree, n: int, root_seed: int, grid_keys: set[str]) -> dict[str, LazyColumn]:
    """The columns of :func:`draw_columns`, each made when rows of it are asked for (:class:`Draws`): a plan of a
    million draws holds how to draw them, not their values.

    Raises:
        ConfigError: as :func:`draw_columns`.
    """
    found = draws(cfg, n, root_seed, grid_keys)
    return {p.key: LazyColumn(found, p.key) for p in found.params}


def draws(cfg: Tree, n: int, root_seed: int, grid_keys: set[str]) -> Draws:
    """The scenario's priors' :class:`Draws` of ``n`` points, checked (as :func:`draw_columns`)."""
    found = drawn(cfg)
    if not found:
        raise ConfigError("sweep.sample.method", "prior needs at least one prior in scenario.calibration")
    for p in found:
        if p.key in grid_keys:
            raise ConfigError(f"scenario.calibration.{p.key}", "has a prior and is a sweep.grid axis; sweep a key "
                                                               "one way only")
    return Draws(tuple(found), n, root_seed)


class Draws(RowSource):
    """``n`` points drawn from priors: row ``i`` puts the uniform numbers ``k * i`` to ``k * (i + 1) - 1`` of the
    sampler's stream (``k`` priors) through each prior's quantile, in the priors' order. Any rows are drawn alone
    by advancing the stream to their first number (PCG64 jumps ahead exactly), so rows drawn apart are those of
    the whole matrix, bit for bit.

    Args:
        params: The priors drawn, in the order written.
        n: Number of points.
        root_seed: ``run.seed``; the draws come from the sampler's own stream of it (never shared with a world).
    """

    def __init__(self, params: tuple[Parameter, ...], n: int, root_seed: int) -> None:
        self.params, self.n, self.root_seed = params, n, root_seed

    def __len__(self) -> int:
        return self.n

    def dtype(self, key: str) -> np.dtype:
        return np.dtype(np.int64 if next(p for p in self.params if p.key == key).integer else np.float64)

    def _uniforms(self, start: int, stop: int):
        """The uniform numbers of rows ``start`` to ``stop``, a block of rows at a time (the stream's numbers in order):
        ``(first row of the block, counted from start; the block's (rows, priors) matrix)``."""
        k = len(self.params)
        rng = np.random.default_rng(np.random.SeedSequence(self.root_seed, spawn_key=(2**32 - 1,)))
        rng.bit_generator.advance(start * k)  # one 64-bit number of the stream per uniform double
        for first in range(0, stop - start, DRAW_ROWS):
            yield first, rng.random((min(DRAW_ROWS, stop - start - first), k))

    def make(self, start: int, stop: int, keys: list[str] | None = None) -> dict[str, np.ndarray]:
        made = [(j, p) for j, p in enumerate(self.params) if keys is None or p.key in keys]
        out = {p.key: np.empty(stop - start, dtype=self.dtype(p.key)) for _, p in made}
        for first, unit in self._uniforms(start, stop):
            for j, p in made:
                out[p.key][first:first + len(unit)] = p.prior.quantile(unit[:, j], p.integer)
        return out

    def bounds(self, key: str) -> tuple:
        """The lowest and the highest draw of ``key``, from the uniform numbers alone: a prior's quantile never
        decreases on each piece where it is one formula (``u < c`` and ``u >= c`` of a triangular prior, the whole
        of ``[0, 1)`` of a uniform one), each step an IEEE operation rounded the same for one number as for many,
        so the extreme draws are the quantiles of each piece's extreme uniform numbers (no quantile of every row)."""
        if "_bounds" not in self.__dict__:
            cuts = np.array([p.prior.piece_cut() for p in self.params])
            two = np.flatnonzero(cuts > 0)  # priors of two pieces (triangular, mode above lo): u < c, u >= c
            ends = [np.full(len(self.params), v) for v in (np.inf, -np.inf, np.inf, -np.inf)]  # per prior: lowest, highest u below its cut; lowest, highest at or above
            for _, unit in self._uniforms(0, self.n):
                ends[2], ends[3] = np.minimum(ends[2], unit.min(axis=0)), np.maximum(ends[3], unit.max(axis=0))
                if two.size:
                    part = unit[:, two]
                    below = part < cuts[two]
                    ends[0][two] = np.minimum(ends[0][two], np.where(below, part, np.inf).min(axis=0))
                    ends[1][two] = np.maximum(ends[1][two], np.where(below, part, -np.inf).max(axis=0))
                    ends[2][two] = np.minimum(ends[2][two], np.where(below, np.inf, part).min(axis=0))
                    ends[3][two] = np.maximum(ends[3][two], np.where(below, -np.inf, part).max(axis=0))
            self.__dict__["_bounds"] = {p.key: self._extremes(p, [e[j] for e in ends])
                                        for j, p in enumerate(self.params)}
        return self.__dict__["_bounds"][key]

    def _extremes(self, p: Parameter, ends: list[float]) -> tuple:
        """The lowest and the highest of ``p``'s quantiles at the pieces' extreme uniform numbers ``ends``."""
        values = np.asarray(p.prior.quantile(np.array([u for u in ends if np.isfinite(u)]), p.integer))
        values = values.astype(self.dtype(p.key))
        return values.min(), values.max()

