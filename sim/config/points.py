"""What a plan is: its grid points (one by one or in blocks of one structure shape), its run settings, its
size limits, the keys a sweep may vary, and the output column of a swept key.

:func:`sim.config.sweep.plan` makes a :class:`Plan`; the runner, the store and the report read it.
"""

from __future__ import annotations

import bisect
import keyword
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.config.values import ConfigError, flatten
from sim.engine.inputs import Structure, WorldInputs, concatenate, point_structure, take

__all__ = ["MAX_GRID_POINTS", "MAX_SAMPLED_POINTS", "MAX_WORLDS", "GridPoint", "Joined", "LazyColumn", "LazyInputs",
           "Plan", "PointBlock", "Points", "RowSource", "chunk_rows", "column_name", "cut_rows", "inputs_at",
           "inputs_for_chunk", "laid_out"]

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


# rows made at once when a lazy column is read whole or scanned for its bounds
SCAN_ROWS = 65_536


class RowSource:
    """Per-point values of some keys, made for a range of rows when asked for (:class:`LazyColumn`): a plan of a
    million draws keeps how to make them, not the values. The last range made is kept, so a chunk's columns cut
    one key after another are made once."""

    def __len__(self) -> int:
        raise NotImplementedError

    def dtype(self, key: str) -> np.dtype:
        """The dtype of ``key``'s values (a text column: NumPy's ``str``, its values Python strings)."""
        raise NotImplementedError

    def make(self, start: int, stop: int, keys: list[str] | None = None) -> dict[str, np.ndarray]:
        """The values of rows ``start`` to ``stop`` (excluded), per key (``keys``: at least those), made now."""
        raise NotImplementedError

    def rows(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """:meth:`make`, the last range kept."""
        last = self.__dict__.get("_last")
        if last is None or last[0] != (start, stop):
            last = self.__dict__["_last"] = ((start, stop), self.make(start, stop))
        return last[1]

    def bounds(self, key: str) -> tuple[Any, Any]:
        """The lowest and the highest value of ``key`` (every key's found in one scan, :data:`SCAN_ROWS` at a time)."""
        if "_bounds" not in self.__dict__:
            parts: dict[str, list] = {}
            for start in range(0, len(self), SCAN_ROWS):
                for k, values in self.make(start, min(len(self), start + SCAN_ROWS)).items():
                    parts.setdefault(k, []).append((values.min(), values.max()))
            self.__dict__["_bounds"] = {k: (np.min([lo for lo, _ in v]), np.max([hi for _, hi in v]))
                                        for k, v in parts.items()}
        return self.__dict__["_bounds"][key]

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_last"}  # a task or a figure worker: the recipe


class LazyColumn:
    """A coordinate column of rows ``start`` to ``stop`` of a :class:`RowSource`, made when some of its rows are
    asked for: indexed by a slice it stays lazy; by an index array or an integer it gives their values now (made
    from the rows between the lowest and the highest asked for); as an array, all its values."""

    def __init__(self, source: RowSource, key: str, start: int = 0, stop: int | None = None) -> None:
        self.source, self.key, self.start = source, key, start
        self.stop = len(source) if stop is None else stop

    @property
    def dtype(self) -> np.dtype:
        return self.source.dtype(self.key)

    def __len__(self) -> int:
        return self.stop - self.start

    def values(self) -> np.ndarray:
        """All its values, made now."""
        return self.source.rows(self.start, self.stop)[self.key]

    def __getitem__(self, index):
        if isinstance(index, slice):
            first, stop, step = index.indices(len(self))
            if step == 1:
                return LazyColumn(self.source, self.key, self.start + first, self.start + max(first, stop))
            return self.values()[index]
        if isinstance(index, int | np.integer):
            i = int(index) + (len(self) if index < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError("row index out of range")
            return self.source.rows(self.start + i, self.start + i + 1)[self.key][0]
        rows = np.asarray(index)
        if rows.dtype == bool or not rows.size:
            return self.values()[rows]
        lo, hi = int(rows.min()), int(rows.max()) + 1
        return self.source.rows(self.start + lo, self.start + hi)[self.key][rows - lo]

    def min(self):
        return self.source.bounds(self.key)[0] if len(self) == len(self.source) else self.values().min()

    def max(self):
        return self.source.bounds(self.key)[1] if len(self) == len(self.source) else self.values().max()

    def tolist(self) -> list:
        return self.values().tolist()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        values = self.values()
        return values if dtype is None else values.astype(dtype, copy=False)


def chunk_rows(column: Any, rows: np.ndarray) -> Any:
    """Rows ``rows`` (consecutive) of a coordinate column as a chunk's task carries them: a lazy column's stay lazy
    (their recipe is pickled, the worker makes them), an array's are taken."""
    return column[int(rows[0]):int(rows[-1]) + 1] if isinstance(column, LazyColumn) else column[rows]


def cut_rows(columns: dict[str, Any], start: int, stop: int, keys: list[str] | None = None) -> dict[str, np.ndarray]:
    """Rows ``start`` to ``stop`` of each column (an array, or a :class:`LazyColumn` made now); ``keys``: of those
    columns alone (a lazy column's source makes theirs only, :meth:`RowSource.make`)."""
    if keys is None:
        return {key: np.asarray(column[start:stop]) for key, column in columns.items()}
    out, made = {}, {}
    for key in keys:
        part = columns[key][start:stop]
        if isinstance(part, LazyColumn):
            rows = (id(part.source), part.start, part.stop)
            if rows not in made:
                names = [c.key for c in (columns[k] for k in keys)
                         if isinstance(c, LazyColumn) and c.source is part.source]
                made[rows] = part.source.make(part.start, part.stop, names)
            part = made[rows][part.key]
        out[key] = np.asarray(part)
    return out


class LazyInputs:
    """The stacked inputs of many points, held as their recipe and per-point numbers and laid out only when some
    of their points are asked for (a chunk's, in the worker that runs it): memory in the points asked for, not
    in all of them (:class:`sim.config.layout_vector.LaidOut`)."""

    def __len__(self) -> int:
        raise NotImplementedError

    def take(self, rows: np.ndarray) -> WorldInputs:
        """The stacked inputs of points ``rows`` (ascending), laid out now."""
        raise NotImplementedError

    def subset(self, rows: np.ndarray, known: dict[str, np.ndarray] | None = None) -> LazyInputs:
        """Points ``rows`` (ascending) alone, still to be laid out (what a chunk's task carries); ``known``: the
        coordinate columns of those points already cut, used (shared, not cut again) for the keys they hold."""
        raise NotImplementedError


class Joined(LazyInputs):
    """Consecutive parts of one shape, each stacked or lazy, as one sequence of points."""

    def __init__(self, parts: list) -> None:
        self.parts = parts
        self.starts = np.cumsum([0, *(_length(p) for p in parts)])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def _pieces(self, rows: np.ndarray) -> list[tuple[Any, np.ndarray]]:
        rows = np.asarray(rows, dtype=np.int64)
        if np.any(np.diff(rows) < 0):
            raise ValueError("the points of a chunk are asked for in ascending order")
        part = np.searchsorted(self.starts, rows, side="right") - 1
        return [(self.parts[k], rows[part == k] - self.starts[k]) for k in np.unique(part).tolist()]

    def take(self, rows: np.ndarray) -> WorldInputs:
        pieces = [inputs_at(part, local) for part, local in self._pieces(rows)]
        return pieces[0] if len(pieces) == 1 else concatenate(pieces)

    def subset(self, rows: np.ndarray, known: dict[str, np.ndarray] | None = None) -> LazyInputs:
        return Joined([inputs_for_chunk(part, local) for part, local in self._pieces(rows)])


def _length(inputs: Any) -> int:
    return len(inputs) if isinstance(inputs, LazyInputs) else len(inputs.deadline)


def inputs_at(inputs: WorldInputs | LazyInputs, rows: np.ndarray) -> WorldInputs:
    """The stacked inputs of points ``rows``, laid out now if they are lazy."""
    return inputs.take(rows) if isinstance(inputs, LazyInputs) else take(inputs, rows)


def inputs_for_chunk(inputs: WorldInputs | LazyInputs, rows: np.ndarray,
                     known: dict[str, np.ndarray] | None = None) -> WorldInputs | LazyInputs:
    """Points ``rows`` of ``inputs`` as a chunk's task carries them: lazy inputs stay lazy (laid out in the worker),
    sharing the columns in ``known`` (the chunk's coordinates, by config key), so a task holds each draw once."""
    return inputs.subset(rows, known) if isinstance(inputs, LazyInputs) else take(inputs, rows)


def laid_out(inputs: WorldInputs | LazyInputs) -> WorldInputs:
    """All the points of ``inputs``, laid out."""
    return inputs.take(np.arange(len(inputs))) if isinstance(inputs, LazyInputs) else inputs


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
        inputs: The points' inputs, each leaf with a leading point axis, issue ranges included; or, for sampled
            points laid out as arrays, their recipe (:class:`LazyInputs`: :func:`inputs_at` lays them out).
        coordinates: Per coordinate key, the points' values (a NumPy array; an object array keeps Python
            values as the config gave them).
        stakes_usd: The stakes in dollars of its first point (``metadata.json``), given to each of its points.
    """

    start: int
    structure: Structure
    inputs: WorldInputs | LazyInputs = field(repr=False)
    coordinates: dict[str, np.ndarray] = field(repr=False)
    stakes_usd: dict[str, float] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.coordinates["constraints"])

    def point(self, i: int) -> GridPoint:
        """Its point ``i`` (counted from :attr:`start`)."""
        lazy = isinstance(self.inputs, LazyInputs)
        inputs = take(self.inputs.take(np.array([i])), 0) if lazy else take(self.inputs, i)
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


def _flatten(grid: Any) -> list[tuple[str, Any]]:
    """Axes of a grid given flat (``{"a.b": [..]}``) or nested (``{"a": {"b": [..]}}``)."""
    if not isinstance(grid, dict):
        raise ConfigError("sweep.grid", "must map config keys to lists of values")
    return list(flatten(grid).items())
