"""Sampled points laid out as per-world arrays: a compile per structure, not per point.

The points of a design (LHS, uniform, Sobol', Morris, FAST) or of an ensemble drawn from the priors
differ only in numbers. :func:`lay_out` compiles the first point, then *probes* each sampled key: the
first point compiled again with that key at the lowest and at the highest value sampled. A key is
*direct* when nothing changes but the same leaves of the inputs, and they hold the key's own value (a
deadline, a noise level, a strategy's parameter, a firmness): its column is written into those leaves
for every point, with no compile. Every other key (one that moves a payoff's coefficients, an issue's
range, a red line, the description of the constraints or the structure) is *coupled*: the points are
compiled once per distinct combination of the coupled keys' values.

The layout is then checked against the compiler itself: the corners of the direct keys (all at their
lowest, all at their highest sampled values) and a few sampled points are compiled in full and must
equal the layout leaf for leaf (bit for bit). If one does not, every point is compiled (the same
result, only slower). A point whose value the compiler refuses is refused in one line, as before.

Runs of consecutive points whose structures have the same :func:`~sim.engine.inputs.shape` come back
with their inputs stacked (a leading point axis, each world's issue ranges included), so a chunk of
the run holds thousands of points with different parameters in one batched model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.config.leafwise import Compiles, Run, _compact, _differs, _overlay, _point, _row, _same
from sim.config.layout_vector import vector_runs
from sim.engine.inputs import Structure, WorldInputs, concatenate, leaves, shape, stack, take, with_leaves, with_ranges

__all__ = ["Run", "TooManyCompiles", "lay_out"]

log = logging.getLogger("sim")

# sampled points compiled in full to check a layout (besides the first point and the two corners)
CHECKED_POINTS = 4
# coupled points compiled between two stackings of their numbers
BATCH = 4096


def _probe(compile_row, ref, row0: dict[str, Any], key: str, column: np.ndarray
           ) -> list[tuple[int, np.ndarray]] | None:
    """The leaves (index, flat positions) that hold ``key``'s value, or ``None`` if ``key`` is coupled (or
    takes one value only). The stakes in dollars are not compared: they are described for the first point
    of a run only, and a key that moves a payoff changes its leaves anyway."""
    ref_flat = compile_row.flat(ref)
    found = None
    for value in {column.min().item(), column.max().item()} - {row0[key]}:
        probe = compile_row(row0 | {key: value})
        if (probe.structure, probe.constraints) != (ref.structure, ref.constraints):
            return None
        positions = []
        for j, (now, before) in enumerate(zip(compile_row.flat(probe), ref_flat, strict=True)):
            where = np.flatnonzero(_differs(now, before))
            if where.size:
                if not (np.all(now[where] == float(value)) and np.all(before[where] == float(row0[key]))):
                    return None
                positions.append((j, where))
        if found is not None and [(j, w.tolist()) for j, w in found] != [(j, w.tolist()) for j, w in positions]:
            return None
        found = positions
    return found


def _classify(compile_row, ref, row0, columns) -> dict[str, list[tuple[int, np.ndarray]]]:
    """The direct keys and their leaves (positions of two keys never overlap)."""
    direct = {}
    for key, column in columns.items():
        positions = _probe(compile_row, ref, row0, key, column)
        if positions is not None:  # [] for a key that changes no input (it may still describe the stakes)
            direct[key] = positions
    owner: dict[tuple[int, int], str] = {}
    clash = set()
    for key, positions in direct.items():
        for j, where in positions:
            for k in where.tolist():
                if (j, k) in owner:
                    clash |= {key, owner[(j, k)]}
                owner[(j, k)] = key
    return {k: v for k, v in direct.items() if k not in clash}


class TooManyCompiles(Exception):
    """The sampled points would be compiled one by one beyond the planning limit; ``keys`` are the keys that
    make them (the coupled keys)."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(", ".join(keys))
        self.keys = keys


def lay_out(compile_row: Callable[[dict[str, Any]], Any], columns: dict[str, np.ndarray],
            max_compiles: int | None = None, point_config: Callable[[dict[str, Any]], Any] | None = None
            ) -> list[Run]:
    """The sampled points ``columns`` (one array per key, one row per point), compiled as runs of one shape.

    Args:
        compile_row: Compiles the point with the given values (a :class:`~sim.config.scenario.Compiled`),
            raising a one-line error for a value the compiler refuses.
        columns: The sampled keys' values; ``{}`` for one point that sets nothing.
        max_compiles: The most points to compile one by one (``None``: no limit).
        point_config: The config of the point with the given values; with it, coupled keys that move only the
            trade payoff model's numbers, the issues' ranges and numbers in the constraints' text are computed
            for all points at once (:mod:`sim.config.payoff_arrays`) instead of compiled point by point.

    Returns:
        The runs, in row order.

    Raises:
        TooManyCompiles: more distinct values of the coupled keys than ``max_compiles``.
    """
    n = len(next(iter(columns.values()))) if columns else 1
    row0 = _row(columns, 0)
    probes = Compiles(compile_row)  # the probes' points, compiled once each
    ref = probes(row0)
    direct = _classify(probes, ref, row0, columns) if n > 1 else {}
    coupled = [key for key in columns if key not in direct]
    if coupled and point_config is not None:
        runs = vector_runs(probes, point_config, ref, row0, columns, direct)
        if runs is not None:  # their inputs laid out when a chunk of them is cut (:class:`LaidOut`)
            return runs
    if max_compiles is not None and coupled and _distinct_rows(columns, coupled) > max_compiles:
        raise TooManyCompiles(coupled)
    runs = _runs(compile_row, ref, columns, direct, n)
    if direct and not _checked(compile_row, ref, row0, columns, direct, runs, n):
        log.warning("the sampled keys' layout did not match the compiler; compiling every point")
        runs = _runs(compile_row, ref, columns, {}, n)
    return runs


@dataclass
class _Compiles:
    """The distinct coupled points, compiled: inputs stacked (a leading axis over them), and per point its
    shape's number, its constraints (text shared between equal ones); one compiled point kept per shape."""

    inputs: WorldInputs
    shape_ids: np.ndarray
    constraints: np.ndarray
    by_shape: list


def _compile_all(compile_row, ref, columns, rows: np.ndarray) -> _Compiles:
    """Compile the points ``rows`` in batches of :data:`BATCH`, keeping numbers, not a compiled object per point."""
    shapes: dict[Structure, int] = {shape(ref.structure): 0}  # the first point's shape first: its stakes described
    by_shape, shape_ids, texts, parts = [ref], [], {}, []
    constraints = np.empty(len(rows), dtype=object)
    for b in range(0, len(rows), BATCH):
        batch = [ref if r == 0 else compile_row(_row(columns, int(r))) for r in rows[b:b + BATCH]]
        for k, c in enumerate(batch):
            sid = shapes.setdefault(shape(c.structure), len(shapes))
            if sid == len(by_shape):
                by_shape.append(c)
            shape_ids.append(sid)
            constraints[b + k] = texts.setdefault(c.constraints, c.constraints)
        parts.append(stack([with_ranges(c.structure, c.inputs) for c in batch]))
    return _Compiles(inputs=parts[0] if len(parts) == 1 else concatenate(parts), shape_ids=np.array(shape_ids),
                     constraints=constraints, by_shape=by_shape)


def _distinct_rows(columns: dict[str, np.ndarray], keys: list[str]) -> int:
    return len(np.unique(np.column_stack([np.asarray(columns[key], dtype=float) for key in keys]), axis=0))


def _runs(compile_row, ref, columns, direct, n: int) -> list[Run]:
    coupled = [key for key in columns if key not in direct]
    if coupled:
        table = np.column_stack([np.asarray(columns[key], dtype=float) for key in coupled])
        _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
    else:
        first, inverse = np.zeros(1, dtype=np.int64), np.zeros(n, dtype=np.int64)
    compiled = _compile_all(compile_row, ref, columns, first)
    shape_of = compiled.shape_ids[inverse]
    bounds = [0, *(np.flatnonzero(np.diff(shape_of)) + 1).tolist(), n]
    runs = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=False):
        used, local = np.unique(inverse[start:stop], return_inverse=True)
        if len(used) == 1:  # one compile for the whole run: each leaf a read-only view, not a copy per point
            inputs = take(compiled.inputs, used)
            inputs = with_leaves(inputs, [np.broadcast_to(leaf, (stop - start, *leaf.shape[1:]))
                                          for leaf in leaves(inputs)])
        else:
            inputs = _compact(take(take(compiled.inputs, used), local.ravel()))
        # the structure of the run's shape (each point's own ranges are in its inputs: point_structure)
        first_point = compiled.by_shape[shape_of[start]]
        runs.append(Run(start=start, stop=stop, structure=first_point.structure,
                        inputs=_overlay(inputs, direct, columns, slice(start, stop)) if direct else inputs,
                        constraints=compiled.constraints[inverse[start:stop]], stakes_usd=first_point.stakes_usd))
    return runs


def _checked(compile_row, ref, row0, columns, direct, runs: list[Run], n: int) -> bool:
    """Whether the corners of the direct keys and a few sampled points compile to exactly their layout."""
    for corner in (min, max):
        values = {key: corner(columns[key].tolist()) for key in direct}
        expected = _overlay(stack([with_ranges(ref.structure, ref.inputs)]), direct,
                            {k: np.array([v]) for k, v in values.items()}, slice(0, 1))
        laid = _point(ref.structure, expected, 0, ref.constraints)
        if not _same(compile_row(row0 | values), laid):
            return False
    for i in sorted({int(i) for i in np.linspace(0, n - 1, CHECKED_POINTS + 1)[1:]}):
        run = next(r for r in runs if r.start <= i < r.stop)
        laid = _point(run.structure, run.inputs, i - run.start, run.constraints[i - run.start])
        if not _same(compile_row(_row(columns, i)), laid):
            return False
    return True
