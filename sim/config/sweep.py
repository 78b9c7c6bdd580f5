"""From a Hydra config to a validated plan: the grid points of a sweep and the run settings.

:func:`plan` checks every value a run will use and expands the sweep (``sweep.pairs`` of strategies
times the ``sweep.grid`` of config values times the points sampled from ``sweep.sample.ranges``: LHS or
uniform through scipy.stats.qmc, or a SALib sensitivity design, :mod:`sim.config.designs`) into grid
points, each compiled by :func:`sim.config.scenario.compile_point`. :func:`column_name` maps a swept
key to its outcomes column. A bad value raises
:class:`~sim.config.values.ConfigError`, whose message names the key and what is allowed, before
anything runs.
"""

from __future__ import annotations

import bisect
import itertools
import keyword
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from sim.config import priors
from sim.config.calibration import check_calibration
from sim.config.components import load_negotiator, with_part_defaults
from sim.config.designs import DESIGN_METHODS, check_size, design_rows, unit_design
from sim.config.parameters import read
from sim.config.parties import parties
from sim.config.layout import Run, TooManyCompiles, lay_out
from sim.config.scenario import Compiled, compile_point
from sim.config.values import (
    MISSING,
    ConfigError,
    Tree,
    choice,
    copy_on_write,
    flag,
    flatten,
    get,
    lookup,
    number,
    numeric_key,
)
from sim.engine.inputs import Structure, WorldInputs, concatenate, point_structure, shape, take

__all__ = ["MAX_GRID_POINTS", "MAX_SAMPLED_POINTS", "MAX_WORLDS", "GridPoint", "Plan", "PointBlock", "Points", "SampledDesign",
           "column_name", "plan", "sampled_design"]

# A plan beyond these sizes is refused before it is expanded. Grid points (strategy pairs x grid values) and
# the rows of a sensitivity design (whose analysis holds them in memory) are each compiled, so at most
# MAX_GRID_POINTS; draws of LHS, uniform and prior samples are laid out as per-point arrays, so up to
# MAX_SAMPLED_POINTS, unless a key they set moves a payoff, a range or a constraint: such points are compiled
# one by one, MAX_GRID_POINTS at most (refused after the layout's probes, before the compiles).
MAX_GRID_POINTS = 200_000
MAX_SAMPLED_POINTS = 10_000_000
MAX_WORLDS = 10**10


def column_name(key: str) -> str:
    """The output column of a swept config key: a Python identifier, usable as ``df.attr`` and in ``df.query``.

    The one rule for every table a run writes (``outcomes.parquet``, ``rounds.parquet``, ``summary.csv``):
    a leading ``scenario.`` is dropped and every ``.`` or ``-`` becomes ``_``. Names that are already
    identifiers (``us_strategy``, ``agenda``) are unchanged. The inverse (column -> key) is recorded in each
    Parquet field's ``config_key`` metadata and under ``swept_columns`` in ``metadata.json``.

    Examples:
        ``scenario.deadline.round`` -> ``deadline_round``; ``scenario.sides.p1.deadline`` ->
        ``sides_p1_deadline``; ``p1.offering.beta`` -> ``p1_offering_beta``; ``protocol.agenda`` ->
        ``protocol_agenda``; ``scenario.issues.steel-aluminium.negotiable`` ->
        ``issues_steel_aluminium_negotiable``.

    Args:
        key: A config key in dotted form.

    Returns:
        The column's name.
    """
    name = key.removeprefix("scenario.")
    return name.replace(".", "_").replace("-", "_")


def _check_columns(keys: list[str]) -> None:
    """Refuse a coordinate key whose column is not an identifier, and two keys given the same column."""
    seen: dict[str, str] = {}
    for key in keys:
        column = column_name(key)
        if not column.isidentifier() or keyword.iskeyword(column):
            raise ConfigError("sweep", f"the swept key {key} would be the output column {column!r}, which is not a "
                                       "Python identifier; only letters, digits, '_', '.' and '-' can be swept")
        if column in seen:
            raise ConfigError("sweep", f"the keys {seen[column]} and {key} would both be the output column "
                                       f"{column!r}; sweep only one of them")
        seen[column] = key


@dataclass
class GridPoint:
    """One point of the sweep: coordinates, and its compiled inputs.

    Attributes:
        coordinates: Swept key -> value, including each party's strategy (``<party>_strategy``).
        structure: Shared structure of its worlds.
        inputs: Its numbers (one world's).
        stakes_usd: The stakes in dollars (tariff payoff model).
    """

    coordinates: dict[str, Any]
    structure: Structure
    inputs: WorldInputs = field(repr=False)
    stakes_usd: dict[str, float] = field(default_factory=dict, repr=False)


def _value(column: Any, i: int) -> Any:
    v = column[i]
    return v.item() if isinstance(v, np.generic) else v


@dataclass
class PointBlock:
    """Consecutive grid points whose structures have one shape, held as per-point arrays (no object per point).

    Their worlds can share one batched model (:func:`sim.engine.inputs.shape`): they differ in numbers only,
    issue ranges included.

    Attributes:
        start: Index of its first point in the plan.
        structure: A structure of its shape (a point's own, with its issue ranges and status quo:
            :func:`~sim.engine.inputs.point_structure`).
        inputs: The points' inputs, each leaf with a leading point axis, issue ranges included.
        coordinates: Per coordinate key, the points' values (a NumPy array; an object array keeps Python
            values as the config gave them).
        stakes_usd: The stakes in dollars of its first point (``metadata.json``), given to each of its points.
    """

    start: int
    structure: Structure
    inputs: WorldInputs = field(repr=False)
    coordinates: dict[str, np.ndarray] = field(repr=False)
    stakes_usd: dict[str, float] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.coordinates["constraints"])

    def point(self, i: int) -> GridPoint:
        """Its point ``i`` (counted from :attr:`start`)."""
        inputs = take(self.inputs, i)
        return GridPoint(coordinates={k: _value(col, i) for k, col in self.coordinates.items()},
                         structure=point_structure(self.structure, inputs), inputs=inputs, stakes_usd=self.stakes_usd)


class Points(Sequence):
    """The plan's grid points, in world order, made on demand from its blocks."""

    def __init__(self, blocks: list[PointBlock]) -> None:
        self.blocks = blocks
        self._starts = [b.start for b in blocks]
        self._n = sum(len(b) for b in blocks)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._n))]
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError("grid point index out of range")
        block = self.blocks[bisect.bisect_right(self._starts, index) - 1]
        return block.point(index - block.start)

    def block_of(self, index: int) -> PointBlock:
        """The block that holds point ``index``."""
        return self.blocks[bisect.bisect_right(self._starts, index) - 1]


@dataclass
class Plan:
    """A validated run: its grid points and run settings.

    Attributes:
        points: The grid points, in world order (a sequence made on demand from :attr:`blocks`).
        seeds: Replications per grid point.
        root_seed: The run's root seed.
        chunk_size: Most worlds in one chunk (one batched model run, one Parquet part).
        workers: Parallel worker processes (at most).
        workers_auto: Whether ``workers`` was left to default, so the runner may use fewer for small sweeps.
        executor: ``"local"`` or ``"dask"``.
        dask_address: Dask scheduler address (``None``: a local cluster).
        record_rounds: ``"all"``, ``"none"`` or the number of seeds per point whose rounds are kept.
        common_random_numbers: Whether the same seed index gets the same draws at every point.
        swept_keys: The swept config keys, in column order (their columns: :attr:`columns`).
        coordinate_dtypes: NumPy dtype of each coordinate (strategies and swept keys), by config key.
        parties: The parties' ids and display names, in scenario order.
        prior_keys: The keys drawn from their priors (``sweep.sample.method=prior``): recorded per
            negotiation, but not grid axes of the summary.
    """

    points: Points
    seeds: int
    root_seed: int
    chunk_size: int
    workers: int
    workers_auto: bool
    executor: str
    dask_address: str | None
    record_rounds: str | int
    common_random_numbers: bool
    swept_keys: list[str]
    coordinate_dtypes: dict[str, str]
    parties: list[tuple[str, str]] = field(default_factory=list)
    prior_keys: list[str] = field(default_factory=list)

    @property
    def blocks(self) -> list[PointBlock]:
        """The grid points as blocks of one structure shape, in world order."""
        return self.points.blocks

    @property
    def n_worlds(self) -> int:
        """Total number of negotiations."""
        return len(self.points) * self.seeds

    @property
    def columns(self) -> dict[str, str]:
        """Output column of each coordinate (strategies, agenda, swept keys, constraints), by config key."""
        return {key: column_name(key) for key in self.coordinate_dtypes}

    @property
    def swept_columns(self) -> dict[str, str]:
        """Config key of each swept key's output column (the inverse of :func:`column_name`), in column order."""
        return {column_name(key): key for key in self.swept_keys}


def _sweepable(key: str, where: str) -> None:
    if key.split(".")[0] in ("run", "sweep", "hydra"):
        raise ConfigError(where, "run settings cannot vary inside one run; sweep them with -m (Hydra multirun)")


def _axis_values(cfg: Tree, key: str, values: Any) -> list:
    _sweepable(key, f"sweep.grid.{key}")
    if not isinstance(values, list) or len(values) == 0:
        raise ConfigError(f"sweep.grid.{key}", "must be a non-empty list of values")
    if lookup(cfg, key) is MISSING:
        raise ConfigError(f"sweep.grid.{key}", f"names no config key; {key!r} does not exist")
    twice = next((v for k, v in enumerate(values) if v in values[:k]), MISSING)
    if twice is not MISSING:  # each negotiation would run twice, and an interval be reported as if n were larger
        raise ConfigError(f"sweep.grid.{key}", f"lists the value {twice!r} more than once; give each value once")
    return values


def _flatten(grid: Any) -> list[tuple[str, Any]]:
    """Axes of a grid given flat (``{"a.b": [..]}``) or nested (``{"a": {"b": [..]}}``)."""
    if not isinstance(grid, dict):
        raise ConfigError("sweep.grid", "must map config keys to lists of values")
    return list(flatten(grid).items())


def _pairs(cfg: Tree, ids: tuple[str, str]) -> list[tuple[str | None, str | None]]:
    pairs = get(cfg, "sweep.pairs")
    if pairs is None or len(pairs) == 0:
        return [(None, None)]
    out = []
    for k, pair in enumerate(pairs):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ConfigError(f"sweep.pairs[{k}]", f"must be a [{ids[0]}_strategy, {ids[1]}_strategy] pair")
        out.append((str(pair[0]), str(pair[1])))
    return out


def _run_settings(cfg: Tree) -> dict[str, Any]:
    """The run settings (``run.*``), checked: seeds, root seed, chunk size, workers, executor, recording."""
    seeds = int(read(cfg, "run.seeds"))
    root_seed = int(read(cfg, "run.seed"))
    chunk_size = int(read(cfg, "run.chunk_size"))
    workers = get(cfg, "run.workers")
    workers_auto = workers is None
    workers = _default_workers() if workers_auto else int(
        read(cfg, "run.workers", what=" (processes), or null for this machine's cores"))
    executor = choice(cfg, "run.executor", ("local", "dask"))
    address = get(cfg, "run.dask_address")
    if address is not None and not isinstance(address, str):
        raise ConfigError("run.dask_address", f"must be a scheduler address such as tcp://host:8786, or null; "
                                              f"got {address!r}")
    record = get(cfg, "run.record_rounds")
    if not (record in ("auto", "all", "none") or (isinstance(record, int) and not isinstance(record, bool)
                                                  and record >= 0)):
        raise ConfigError("run.record_rounds", f"must be auto, all, none or a number of seeds >= 0, got {record!r}")
    crn = read(cfg, "run.common_random_numbers")
    read(cfg, "run.plot")
    for key in ("run.force_resume", "run.verbose"):
        if lookup(cfg, key) is not MISSING:  # absent from configs written before it existed
            flag(cfg, key)
    formats = lookup(cfg, "run.figure_formats")  # missing in run folders made before the key existed
    if formats is not MISSING and not (isinstance(formats, list) and formats
                                       and all(f in ("png", "svg", "pdf") for f in formats)):
        raise ConfigError("run.figure_formats", f"must be a list of png, svg, pdf, e.g. [png,svg]; got {formats!r}")
    progress = get(cfg, "run.progress")
    if progress is not None and not isinstance(progress, bool):
        raise ConfigError("run.progress", f"must be true, false or null (a bar only on a terminal), got {progress!r}")
    return {"seeds": seeds, "root_seed": root_seed, "chunk_size": chunk_size, "workers": workers,
            "workers_auto": workers_auto, "executor": executor, "address": address, "record": record, "crn": crn}


def plan(config: DictConfig | Tree) -> Plan:
    """Validate a run's config and expand its sweep into grid points.

    Raises:
        ConfigError: naming the first bad key and what it allows.
    """
    cfg = OmegaConf.to_container(config, resolve=True) if isinstance(config, DictConfig) else dict(config)
    cfg.pop("hydra", None)
    run = _run_settings(cfg)
    seeds, root_seed, record = run["seeds"], run["root_seed"], run["record"]

    party_list = parties(cfg)
    ids = tuple(pid for pid, _ in party_list)
    cfg = with_part_defaults(cfg, ids)  # a part's declared parameters are config keys (priors, designs)
    axes = {key: _axis_values(cfg, key, values) for key, values in _flatten(get(cfg, "sweep.grid") or {})}
    pairs = _pairs(cfg, ids)
    n_samples = _sample_size(cfg)
    n_grid = len(pairs) * math.prod(len(v) for v in axes.values())
    n_points = n_grid * n_samples
    limit = MAX_GRID_POINTS if n_samples == 1 or _sampled_rows_compiled(cfg) else MAX_SAMPLED_POINTS
    if n_grid > MAX_GRID_POINTS or n_points > limit or n_points * seeds > MAX_WORLDS:
        raise ConfigError("sweep", f"plans {n_points:,} grid points x {seeds:,} seeds = {n_points * seeds:,} "
                                   f"negotiations; the limit is {limit:,} grid points and "
                                   f"{MAX_WORLDS:,} negotiations per run (split it with -m)")
    samples = _samples(cfg, root_seed, set(axes))
    swept = list(axes) + [k for k in samples if k not in axes]
    _check_columns([*(f"{pid}_strategy" for pid in ids), "agenda", *swept, "constraints"])
    runs: list[tuple[dict[str, Any], Run]] = []
    budget = None if n_points <= MAX_GRID_POINTS else MAX_GRID_POINTS // n_grid  # compiles per grid point
    for names in pairs:
        base = dict(cfg)
        for pid, name in zip(ids, names, strict=True):
            if name is not None:
                base[pid] = {**(base.get(pid) or {}), **load_negotiator(name, "sweep.pairs")}
        for values in itertools.product(*axes.values()):
            grid = dict(zip(axes, values, strict=True))

            def point_config(sample: dict[str, Any], base=base, grid=grid) -> Tree:
                point_cfg, put = copy_on_write(base)  # the dicts on the swept keys' paths only
                for key, value in (grid | sample).items():
                    put(key, value)
                return point_cfg

            def compile_row(sample: dict[str, Any], grid=grid, point_config=point_config) -> Compiled:
                coords = grid | sample
                try:
                    return compile_point(point_config(sample))
                except ConfigError as err:
                    where = f" at sweep point {coords}" if coords else ""
                    raise ConfigError(err.key, str(err).split(": ", 1)[1] + where) from None

            try:
                runs += [(grid, run) for run in lay_out(compile_row, samples, budget, point_config)]
            except TooManyCompiles as many:
                shown = ", ".join(many.keys[:3]) + (f" and {len(many.keys) - 3} more" if len(many.keys) > 3 else "")
                raise ConfigError("sweep", f"plans {n_points:,} grid points x {seeds:,} seeds = {n_points * seeds:,} "
                                           f"negotiations; the limit is {MAX_GRID_POINTS:,} grid points when each "
                                           f"is compiled, as the sampled keys {shown} require (they move a payoff, "
                                           "a range or a constraint); split it with -m") from None
    points = Points(_blocks(runs, samples, ids))
    check_calibration(cfg)  # the scenario's calibration block is well formed (the engine never reads it)
    if record == "auto":
        record = "all" if len(points) * seeds <= 1000 else 1
    dtypes = {k: _dtype([b.coordinates[k] for b in points.blocks])
              for k in (*(f"{pid}_strategy" for pid in ids), "agenda", *swept, "constraints")}
    return Plan(points=points, seeds=seeds, root_seed=root_seed, chunk_size=run["chunk_size"], workers=run["workers"],
                workers_auto=run["workers_auto"], executor=run["executor"], dask_address=run["address"],
                record_rounds=record, common_random_numbers=run["crn"], swept_keys=swept, coordinate_dtypes=dtypes,
                parties=party_list,
                prior_keys=[k for k in swept if k not in axes] if get(cfg, "sweep.sample.method") == "prior" else [])


def _blocks(runs: list[tuple[dict[str, Any], Run]], samples: dict[str, np.ndarray],
            ids: tuple[str, ...]) -> list[PointBlock]:
    """Consecutive runs of one structure shape joined into blocks, with their coordinate columns."""
    blocks: list[PointBlock] = []
    pending: list[tuple[dict[str, Any], Run]] = []

    def flush() -> None:
        if not pending:
            return
        first = pending[0][1]
        columns: dict[str, list[np.ndarray]] = {}
        for grid, run in pending:
            n, structure = run.stop - run.start, run.structure
            fixed = {**{f"{p.id}_strategy": p.strategy for p in structure.parties}, "agenda": structure.agenda,
                     **grid}
            for key, value in fixed.items():
                column = np.empty(n, dtype=object)
                column.fill(value)
                columns.setdefault(key, []).append(column)
            for key, column in samples.items():
                if key not in grid:
                    columns.setdefault(key, []).append(column[run.start:run.stop])
            columns.setdefault("constraints", []).append(run.constraints)
        start = blocks[-1].start + len(blocks[-1]) if blocks else 0
        inputs = pending[0][1].inputs if len(pending) == 1 else concatenate([run.inputs for _, run in pending])
        blocks.append(PointBlock(start=start, structure=first.structure, inputs=inputs,
                                 coordinates={k: _joined(parts) for k, parts in columns.items()},
                                 stakes_usd=first.stakes_usd))
        pending.clear()

    for grid, run in runs:
        if pending and shape(run.structure) != shape(pending[-1][1].structure):
            flush()
        pending.append((grid, run))
    flush()
    return blocks


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """One column from its parts: numeric if every part is, else an object array of Python values."""
    if len(parts) == 1:
        return parts[0]
    if all(p.dtype != object for p in parts):
        return np.concatenate(parts)
    out = np.empty(sum(len(p) for p in parts), dtype=object)
    out[:] = [v for p in parts for v in p.tolist()]
    return out


def _dtype(columns: list[np.ndarray]) -> str:
    """One NumPy dtype for a coordinate column, whatever chunk a value lands in."""
    values = []
    for column in columns:
        values += _distinct(column) if column.dtype == object else [np.zeros(1, dtype=column.dtype)[0].item()]
    return _dtype_of(values)


def _distinct(column: np.ndarray) -> list:
    """The distinct Python values of an object column, by type and value (``1`` and ``1.0`` kept apart)."""
    out: dict = {}
    for v in column.tolist():
        try:
            out.setdefault((type(v), v), v)
        except TypeError:  # an unhashable value (a list): kept as it is
            out[(type(v), id(v))] = v
    return list(out.values())


def _dtype_of(values: list) -> str:
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "float64"
    return "str"


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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
    (``method: prior``, :mod:`sim.config.priors`), one array per key; ``{}`` if none."""
    if choice(cfg, "sweep.sample.method", SAMPLING_METHODS) == "prior":
        return priors.draw_columns(cfg, _sample_size(cfg), root_seed, grid_keys)
    design = sampled_design(cfg, root_seed, grid_keys)
    return {} if design is None else design.columns()
