"""From a Hydra config to a validated plan: the grid points of a sweep and the run settings.

:func:`plan` checks every value a run will use and expands the sweep (``sweep.pairs`` of strategies
times the ``sweep.grid`` of config values times the points sampled from ``sweep.sample.ranges``: LHS or
uniform through scipy.stats.qmc, or a SALib sensitivity design, :mod:`sim.config.designs`) into grid
points, each compiled by :func:`sim.config.scenario.compile_point`. :func:`column_name` maps a swept
key to its outcomes column. A bad value raises
:class:`~sim.config.values.ConfigError`, whose message names the key and what is allowed, before
anything runs. What a plan holds is in :mod:`sim.config.points`, how a sweep samples in
:mod:`sim.config.sampling` (both re-exported here).
"""

from __future__ import annotations

import itertools
import math
import os
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from sim.config.calibration import check_calibration
from sim.config.components import load_negotiator, with_part_defaults
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
    get,
    lookup,
)
from sim.engine.inputs import WorldInputs, concatenate, shape

# moved unchanged to sim.config.points and sim.config.sampling; re-exported here
from sim.config.points import (  # noqa: F401
    MAX_GRID_POINTS,
    MAX_SAMPLED_POINTS,
    MAX_WORLDS,
    GridPoint,
    Joined,
    LazyInputs,
    Plan,
    PointBlock,
    Points,
    _check_columns,
    _flatten,
    _sweepable,
    column_name,
)
from sim.config.sampling import (  # noqa: F401
    SAMPLING_METHODS,
    SampledDesign,
    _sample_size,
    _sampled_rows_compiled,
    _samples,
    sampled_design,
)

__all__ = ["MAX_GRID_POINTS", "MAX_SAMPLED_POINTS", "MAX_WORLDS", "GridPoint", "Plan", "PointBlock", "Points", "SampledDesign",
           "column_name", "plan", "sampled_design"]


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
    for key in ("run.force_resume", "run.verbose", "run.keep_parts"):
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


def _lay_out_pairs(cfg: Tree, ids: tuple[str, ...], pairs: list, axes: dict[str, list], samples: dict,
                   budget: int | None, size: tuple[int, int]) -> list[tuple[dict[str, Any], Run]]:
    """The runs of every negotiator pair and grid point: each point's config compiled (or laid out from a
    few compiles, within ``budget`` compiles per grid point), with its grid coordinates.

    Raises:
        ConfigError: a point's config is refused (naming the sweep point), or the sampled keys need more
            compiles than the budget (``size``: grid points and seeds, for the message).
    """
    n_points, seeds = size
    runs: list[tuple[dict[str, Any], Run]] = []
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
    return runs


def plan(config: DictConfig | Tree, samples: dict[str, np.ndarray] | None = None) -> Plan:
    """Validate a run's config and expand its sweep into grid points.

    ``samples`` (one array of ``sweep.sample.n`` values per config key), when given, replaces the points the
    config's ``sweep.sample`` would draw: how a caller supplies its own ensemble (a posterior sample,
    :mod:`sim.inference`).

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
    samples = _samples(cfg, root_seed, set(axes)) if samples is None else samples
    swept = list(axes) + [k for k in samples if k not in axes]
    _check_columns([*(f"{pid}_strategy" for pid in ids), "agenda", *swept, "constraints"])
    budget = None if n_points <= MAX_GRID_POINTS else MAX_GRID_POINTS // n_grid  # compiles per grid point
    runs = _lay_out_pairs(cfg, ids, pairs, axes, samples, budget, (n_points, seeds))
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
        inputs = _joined_inputs([run.inputs for _, run in pending])
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


def _joined_inputs(parts: list) -> WorldInputs | LazyInputs:
    """One block's inputs from its runs': stacked, or lazy when a run's are laid out only when a chunk is cut."""
    if len(parts) == 1:
        return parts[0]
    return Joined(parts) if any(isinstance(p, LazyInputs) for p in parts) else concatenate(parts)


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
        if column.dtype != object:
            values.append(np.zeros(1, dtype=column.dtype)[0].item())
        elif any(isinstance(v, str) for v in column.tolist()):
            return "str"  # text anywhere makes it text (_dtype_of): no set of a million constraints' texts
        else:
            values += _distinct(column)
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


