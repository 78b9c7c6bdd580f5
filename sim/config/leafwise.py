"""Compiled points compared and written leaf by leaf: the pieces the layout of sampled points is made of.

A point's inputs are a tree of numbers (:func:`~sim.engine.inputs.leaves`); a layout writes sampled values
into the leaves that hold them and checks what it laid out against the compiler, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sim.engine.inputs import Structure, WorldInputs, leaves, point_structure, take, with_leaves, with_ranges


@dataclass
class Run:
    """Consecutive sampled points of one structure shape.

    Attributes:
        start, stop: Their rows in the design.
        structure: A structure of their shape (each point's own issue ranges and status quo are in its
            inputs: :func:`~sim.engine.inputs.point_structure`).
        inputs: Their inputs, each leaf with a leading point axis, issue ranges included.
        constraints: Per point, the constraints in force, described (an object array).
        stakes_usd: The stakes in dollars of the first point compiled with that shape.
    """

    start: int
    stop: int
    structure: Structure
    inputs: WorldInputs
    constraints: np.ndarray
    stakes_usd: dict[str, float]


def _row(columns: dict[str, np.ndarray], i: int) -> dict[str, Any]:
    return {key: col[i].item() for key, col in columns.items()}


def _flat(compiled) -> list[np.ndarray]:
    return [np.atleast_1d(np.asarray(leaf, dtype=float)).ravel()
            for leaf in leaves(with_ranges(compiled.structure, compiled.inputs))]


class Compiles:
    """A layout's probes and checks: each point compiled once, its leaves flattened once (:func:`_flat`).

    Args:
        compile_row: Compiles the point with the given values.
    """

    def __init__(self, compile_row) -> None:
        self.compile_row = compile_row
        self._points: dict[tuple, Any] = {}
        self._flat: dict[int, list[np.ndarray]] = {}

    def __call__(self, row: dict[str, Any]):
        key = tuple(row.items())
        if key not in self._points:
            self._points[key] = self.compile_row(row)
        return self._points[key]

    def flat(self, compiled) -> list[np.ndarray]:
        """:func:`_flat` of a point this compiled (or any other, not kept)."""
        if not any(c is compiled for c in self._points.values()):
            return _flat(compiled)
        if id(compiled) not in self._flat:
            self._flat[id(compiled)] = _flat(compiled)
        return self._flat[id(compiled)]


def _compact(inputs: WorldInputs) -> WorldInputs:
    """Stacked inputs with every leaf that is the same at all points as a read-only view of one point's."""
    out = []
    for leaf in leaves(inputs):
        out.append(np.broadcast_to(leaf[:1], leaf.shape) if _one_point(leaf) else leaf)
    return with_leaves(inputs, out)


def _one_point(leaf: np.ndarray) -> bool:
    """Whether a stacked leaf of more than one point is the same at every point (NaN equal to NaN); a view of one
    point's is without a comparison, and one whose second point differs from its first is after one point's."""
    if len(leaf) < 2:
        return False
    if not leaf.strides[0]:
        return True
    return (np.array_equal(leaf[1], leaf[0], equal_nan=True)
            and np.array_equal(leaf, np.broadcast_to(leaf[:1], leaf.shape), equal_nan=True))


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise: not the same number (NaN equals NaN; -0.0 differs from 0.0, as bits would)."""
    same = (a == b) & (np.signbit(a) == np.signbit(b))
    return ~(same | (np.isnan(a) & np.isnan(b)))


def _same(first, second) -> bool:
    """Whether two compiled points are identical: structure, constraints and every leaf bit for bit (not the
    stakes in dollars, which a run describes for its first point only)."""
    if (first.structure, first.constraints) != (second.structure, second.constraints):
        return False
    return not any(np.any(_differs(a, b)) for a, b in zip(_flat(first), _flat(second), strict=True))


def _overlay(inputs: WorldInputs, direct: dict[str, list[tuple[int, np.ndarray]]],
             columns: dict[str, np.ndarray], rows: slice | np.ndarray) -> WorldInputs:
    """Stacked ``inputs`` with the direct keys' values of ``rows`` written into their leaves."""
    return with_leaves(inputs, _written(leaves(inputs), direct, columns, rows))


def _written(out: list, direct: dict[str, list[tuple[int, np.ndarray]]], columns: dict[str, np.ndarray],
             rows: slice | np.ndarray) -> list:
    """Stacked leaves ``out`` (a list, by index) with the direct keys' values of ``rows`` written in (in place)."""
    written: set[int] = set()
    for key, positions in direct.items():
        values = np.asarray(columns[key][rows], dtype=float)
        for j, where in positions:
            if j not in written:  # a copy (of a floating dtype) before the first write
                out[j] = np.array(out[j], dtype=np.result_type(out[j], float))
                written.add(j)
            flat = out[j].reshape(len(values), -1)
            flat[:, where] = values[:, None]
    return out


@dataclass
class _Laid:
    """One laid-out point, comparable with a compiled one."""

    structure: Structure
    inputs: WorldInputs
    constraints: str


def _point(structure: Structure, stacked: WorldInputs, i: int, constraints: str) -> _Laid:
    """Point ``i`` of stacked inputs, as a compiled point (its own structure rebuilt from its ranges)."""
    inputs = take(stacked, i)
    return _Laid(structure=point_structure(structure, inputs), inputs=replace(inputs, issue_lo=None, issue_hi=None),
                 constraints=constraints)
