"""Coupled sampled keys laid out for all points at once through the trade payoff model's arrays.

A coupled key moves a payoff, a range or the constraints' text (:mod:`sim.config.layout`). It is laid out
here, with no compile per point, when its probes (the first point compiled with the key at its lowest and
at its highest sampled value, the structure's shape unchanged) show that it changes nothing but

- leaves that hold its own value (an issue's range, a party's bound, a deadline),
- the payoff leaves (:data:`~sim.config.payoff_arrays.PAYOFF_FIELDS`, the constituencies' terms),
- places among the trade payoff model's numbers that hold its value (:func:`~sim.config.payoff_arrays.trade_numbers`),
- one place in the constraints' text, where its value is written.

When every coupled key is such a key, the direct leaves are written in, the payoff leaves are computed for
all points at once (:func:`~sim.config.payoff_arrays.payoff_arrays`, element by element in the compiler's
order) and the constraints' text is filled in. Points whose numbers could break a rule the compiler checks
across keys (a status quo or a red line outside its range, a scheduled change or the escalation outside it,
purchase maxima above the surplus, a payoff constant over the box, an extension past the horizon) are
compiled, so a point the compiler refuses is refused as before. The layout is checked against the compiler
bit for bit on :data:`CHECKED_POINTS` sampled points and on those compiled points the compiler accepts; if
one differs, or a key is not such a key, nothing is returned and the points are compiled as before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import isinf
from typing import Any

import numpy as np

from sim.config.leafwise import Compiles, Run, _compact, _differs, _overlay, _point, _row, _same, _written
from sim.config.points import LazyColumn, LazyInputs, RowSource, cut_rows
from sim.config.payoff_arrays import PAYOFF_FIELDS, payoff_arrays, payoff_extremes, trade_numbers, trade_scenario
from sim.config.values import fmt
from sim.engine.inputs import leaves, shape, stack, with_leaves, with_ranges

__all__ = ["CHECKED_POINTS", "LaidOut", "vector_runs"]

# sampled points compiled in full to check a layout
CHECKED_POINTS = 16
# points laid out at once while the plan checks them (their inputs are laid out again, a chunk at a time, to run)
SLICE = 8_192
# leaves a key may change besides its own value and the payoffs, and through which it moves the payoffs
_READ = ("issue_lo", "issue_hi", "status_quo", "escalation")


@dataclass(frozen=True)
class _Key:
    """Where a coupled key goes: the leaves holding its value, its places among the payoff model's numbers, and
    the ``(prefix, suffix)`` lengths of the constraints' text around its written value (``None``: not written)."""

    leaves: tuple[tuple[int, tuple[int, ...]], ...]
    places: tuple[tuple[str, ...], ...]
    text: tuple[int, int] | None


@dataclass(frozen=True)
class _Context:
    ref: Any
    row0: dict[str, Any]
    scenario: Any
    numbers: dict
    payoff_ids: frozenset[int]
    read_ids: frozenset[int]


def _leaf_ids(ref) -> tuple[frozenset[int], frozenset[int]]:
    """The payoff leaves, and the leaves the payoffs are computed from (:data:`_READ`), by index."""
    marker, read = object(), object()
    inputs = with_ranges(ref.structure, ref.inputs)
    parties = tuple(replace(p, **dict.fromkeys(PAYOFF_FIELDS, marker), constituencies=tuple(
        replace(c, coef=marker, offset=marker) for c in p.constituencies)) for p in inputs.parties)
    marked = leaves(replace(inputs, parties=parties, **dict.fromkeys(_READ, read)))
    return (frozenset(j for j, leaf in enumerate(marked) if leaf is marker),
            frozenset(j for j, leaf in enumerate(marked) if leaf is read))


def _text(before: str, now: str, old, new) -> tuple[int, int] | None | bool:
    """Where ``old`` is written in ``before`` such that writing ``new`` there gives ``now``: ``(prefix, suffix)``;
    ``None`` if the text is the same; ``False`` if it changed otherwise."""
    if before == now:
        return None
    old_text, new_text = fmt(old), fmt(new)
    first = next((i for i, (a, b) in enumerate(zip(before, now, strict=False)) if a != b), min(len(before), len(now)))
    for start in range(max(0, first - len(old_text)), first + 1):
        end = start + len(old_text)
        if before[start:end] == old_text and now == before[:start] + new_text + before[end:]:
            return start, len(before) - end
    return False


def _probe(ctx: _Context, compile_row: Compiles, point_config, key: str, column: np.ndarray) -> _Key | None:
    """How ``key`` moves a point, if it is laid out here (the same at its lowest and highest sampled values)."""
    ref, row0 = ctx.ref, ctx.row0
    ref_flat, found = compile_row.flat(ref), None
    for value in {column.min().item(), column.max().item()} - {row0[key]}:
        row = row0 | {key: value}
        probe = compile_row(row)
        if shape(probe.structure) != shape(ref.structure):
            return None
        positions, moved = [], False
        for j, (now, before) in enumerate(zip(compile_row.flat(probe), ref_flat, strict=True)):
            where = np.flatnonzero(_differs(now, before))
            if not where.size:
                continue
            if j in ctx.payoff_ids:
                moved = True
            elif np.all(now[where] == float(value)) and np.all(before[where] == float(row0[key])):
                positions.append((j, tuple(where.tolist())))
            else:
                return None
        numbers = trade_numbers(point_config(row), ctx.scenario)
        if numbers.keys() != ctx.numbers.keys():
            return None
        places = tuple(p for p in numbers if numbers[p] != ctx.numbers[p])
        if any(numbers[p] != value or ctx.numbers[p] != row0[key] for p in places):
            return None
        if moved and not places and not any(j in ctx.read_ids for j, _ in positions):
            return None  # it moves a payoff some other way
        text = _text(ref.constraints, probe.constraints, row0[key], value)
        if text is False:
            return None
        now_key = _Key(leaves=tuple(positions), places=places, text=text)
        if found is not None and found != now_key:
            return None
        found = now_key
    return found or _Key(leaves=(), places=(), text=None)


def _written_values(values: np.ndarray) -> list[str]:
    """Each value as :func:`~sim.config.values.fmt` writes it, in one pass (no call per value): a float column's
    values as ``str`` writes them, the few whole or infinite ones then as ``fmt`` does."""
    if values.dtype != np.float64:
        return ["inf" if isinf(x) else str(int(x)) if float(x).is_integer() else str(x) for x in values.tolist()]
    texts = list(map(str, values.tolist()))
    for i in np.flatnonzero(np.isinf(values) | (values == np.trunc(values))).tolist():
        texts[i] = "inf" if isinf(values[i]) else str(int(values[i]))
    return texts


class _Texts(RowSource):
    """Each point's constraints in words, written when rows of them are asked for (a chunk's, as its task is cut):
    the first point's text with each written key's value of the point in its place."""

    def __init__(self, pieces: list[str], keys: list[str], columns: dict[str, Any]) -> None:
        self.pieces, self.keys, self.columns = pieces, keys, {key: columns[key] for key in keys}
        self.n = len(next(iter(columns.values())))

    @classmethod
    def of(cls, ref_text: str, keys: dict[str, _Key], columns: dict[str, Any]) -> _Texts | None:
        """The texts of the points ``columns`` (``None`` if two keys' values are written in overlapping places)."""
        spans = sorted((k.text[0], len(ref_text) - k.text[1], key) for key, k in keys.items() if k.text is not None)
        if any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)):
            return None
        cuts = [0, *(x for start, end, _ in spans for x in (start, end)), len(ref_text)]
        pieces = [ref_text[a:b] for a, b in zip(cuts[::2], cuts[1::2], strict=True)]
        return cls(pieces, [key for _, _, key in spans], columns)

    def __len__(self) -> int:
        return self.n

    def dtype(self, key: str) -> np.dtype:
        return np.dtype(str)

    def make(self, start: int, stop: int, keys: list[str] | None = None) -> dict[str, np.ndarray]:
        out = np.empty(stop - start, dtype=object)
        if not self.keys:
            out.fill(self.pieces[0])
            return {"constraints": out}
        texts = [self.pieces[0]] * (stop - start)
        for key, after in zip(self.keys, self.pieces[1:], strict=True):  # each key's values written in, in turn
            values = _written_values(np.asarray(self.columns[key][start:stop]))
            texts = [text + value + after for text, value in zip(texts, values, strict=True)]
        out[:] = texts
        return {"constraints": out}


@dataclass(frozen=True)
class _Recipe:
    """What laying out any points needs besides their sampled values: the first point's structure and inputs, its
    scenario and payoff model's numbers, and where each key goes (small: a chunk's task carries it)."""

    structure: Any
    inputs: Any
    scenario: Any
    numbers: dict
    keys: dict[str, _Key]
    direct: dict


def _positions(recipe: _Recipe) -> dict[str, list[tuple[int, np.ndarray]]]:
    """Per key laid out in leaves, the leaves (by index) and the places in each that hold its value."""
    return recipe.direct | {key: [(j, np.array(w)) for j, w in k.leaves] for key, k in recipe.keys.items() if k.leaves}


def _numbers(recipe: _Recipe, columns: dict[str, np.ndarray]) -> dict:
    """The payoff model's numbers of the points ``columns``: the first point's, each key's values in its places."""
    numbers = dict(recipe.numbers)
    for key, k in recipe.keys.items():
        for place in k.places:
            numbers[place] = np.asarray(columns[key], dtype=float)
    return numbers


def _first(recipe: _Recipe):
    """The first point's inputs, issue ranges included, stacked (a leading point axis of one)."""
    return stack([with_ranges(recipe.structure, recipe.inputs)])


def _base(first, n: int):
    """``n`` points of the first point's inputs (read-only views of its leaves)."""
    return with_leaves(first, [np.broadcast_to(leaf, (n, *leaf.shape[1:])) for leaf in leaves(first)])


def _build(recipe: _Recipe, columns: dict[str, np.ndarray], n: int):
    """The points' stacked inputs: direct leaves written in, the payoff leaves computed for all at once, equal
    leaves held once (:func:`_shared`)."""
    inputs = _overlay(_base(_first(recipe), n), _positions(recipe), columns, slice(0, n))
    numbers = _numbers(recipe, columns)
    pays = payoff_arrays(recipe.scenario, numbers, (inputs.issue_lo, inputs.issue_hi), inputs.status_quo,
                         np.asarray(inputs.escalation, dtype=float))
    parties = tuple(replace(p, **{f: pays[pid][f] for f in PAYOFF_FIELDS}, constituencies=tuple(
        replace(c, coef=coef, offset=offset) for c, (coef, offset) in zip(p.constituencies, pays[pid]["constituencies"],
                                                                          strict=True)))
        for p, pid in zip(inputs.parties, recipe.scenario.ids, strict=True))
    return _shared(replace(inputs, parties=parties))


@dataclass(frozen=True)
class LaidOut(LazyInputs):
    """Sampled points whose inputs are laid out when some of them are asked for (a chunk's, in its worker): the
    recipe and the points' sampled values, so a plan of a million draws holds their values, not their inputs.
    Each point's inputs depend on its own values only, never on which other points are laid out with it."""

    recipe: _Recipe
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def take(self, rows: np.ndarray):
        columns = {key: column[rows] for key, column in self.columns.items()}
        return _compact(_build(self.recipe, columns, len(next(iter(columns.values())))))

    def subset(self, rows: np.ndarray, known: dict[str, np.ndarray] | None = None) -> LaidOut:
        known = known or {}
        return LaidOut(self.recipe, {key: known[key] if key in known and len(known[key]) == len(rows)
                                     and known[key].dtype == column.dtype else column[rows]
                                     for key, column in self.columns.items()})


def _shared(inputs):
    """The inputs with leaves of the same numbers, bit for bit, held once (read-only): a drawn maximum of an issue
    is also both parties' bounds on it, and a constituency may weigh what another does."""
    kept: dict[tuple, list[np.ndarray]] = {}  # by shape and first and last bits: compared in full only if they match
    out = []
    for leaf in leaves(inputs):
        if isinstance(leaf, np.ndarray) and leaf.dtype == np.float64 and leaf.ndim and leaf.strides[0]:
            bits = leaf.view(np.uint64)
            same = kept.setdefault((leaf.shape, *(bits.flat[[0, -1]].tolist() if bits.size else ())), [])
            leaf = next((k for k in same if np.array_equal(k.view(np.uint64), bits)), leaf)
            if not any(k is leaf for k in same):
                leaf.setflags(write=False)
                same.append(leaf)
        out.append(leaf)
    return with_leaves(inputs, out)


def _doubtful(recipe: _Recipe, inputs, numbers: dict) -> np.ndarray:
    """Points whose numbers could break a rule the compiler checks across keys (they are compiled)."""
    lo, hi, sq = inputs.issue_lo, inputs.issue_hi, inputs.status_quo
    bad = np.any((sq < lo) | (sq > hi), axis=1)
    for p in inputs.parties:
        bad |= np.any((p.red_lo < lo) | (p.red_hi > hi) | (p.red_lo > p.red_hi), axis=1) | ~(p.p_max > p.p_min)
    structure, space = recipe.structure, recipe.scenario.space
    for change in structure.schedule:
        bad |= (change.value < lo[:, change.issue]) | (change.value > hi[:, change.issue])
    if structure.escalation_issue is not None:
        j = structure.escalation_issue
        bad |= inputs.escalation > hi[:, j] - sq[:, j]
    purchases = [k for k, i in enumerate(space.issues) if i.tag("kind") == "purchase"]
    if purchases:
        bad |= hi[:, purchases].sum(axis=1) > numbers[("stakes", "surplus_usd_bn")]
    bad |= inputs.deadline + inputs.extension_rounds > structure.max_rounds
    return np.flatnonzero(bad)


# the fields of the points' inputs the check of the rules reads, besides each party's red lines and payoff extremes
_CHECKED = ("issue_lo", "issue_hi", "status_quo", "escalation", "deadline", "extension_rounds")


def _checked_ids(ref) -> frozenset[int]:
    """The leaves :func:`_doubtful` reads (:data:`_CHECKED`, each party's red lines), by index."""
    marker = object()

    def marked(node, names):
        return replace(node, **{name: marker for name in names if getattr(node, name) is not None})

    inputs = with_ranges(ref.structure, ref.inputs)
    inputs = replace(marked(inputs, _CHECKED), parties=tuple(marked(p, ("red_lo", "red_hi")) for p in inputs.parties))
    return frozenset(j for j, leaf in enumerate(leaves(inputs)) if leaf is marker)


def _number_places(ctx: _Context, point_config, key: str, column) -> tuple[tuple[str, ...], ...]:
    """The places among the payoff model's numbers that hold the value of ``key``, a key that moves no input (the
    surplus that caps the purchases: a rule reads it, no payoff does)."""
    places = set()
    for value in {column.min().item(), column.max().item()} - {ctx.row0[key]}:
        numbers = trade_numbers(point_config(ctx.row0 | {key: value}), ctx.scenario)
        places |= {p for p in numbers.keys() & ctx.numbers.keys()
                   if numbers[p] != ctx.numbers[p] and numbers[p] == value}
    return tuple(sorted(places))


def _check(recipe: _Recipe, ref, columns: dict[str, Any], compile_row: Compiles, rule_numbers: dict) -> list[int]:
    """Compile the points whose numbers could break a rule the compiler checks across keys (:func:`_doubtful`), so
    a point the compiler refuses is refused in one line. Only what the rules read is laid out, :data:`SLICE`
    points at a time: the leaves they read, each party's payoff extremes (no constituencies, no utilities of no
    deal) and the payoff model's numbers, from the values of the keys that move them alone (``rule_numbers``: the
    places of the keys that move such a number and no input). Returns those points the compiler accepts (their
    layout is then checked against it: the compiler may have clipped a value the layout wrote as drawn)."""
    ids, accepted = _checked_ids(ref), []
    positions = {key: kept for key, where in _positions(recipe).items()
                 if (kept := [(j, w) for j, w in where if j in ids])}
    read = [key for key in columns if key in positions or key in rule_numbers
            or (key in recipe.keys and recipe.keys[key].places)]
    first, n = _first(recipe), len(next(iter(columns.values())))
    flat = leaves(first)
    for start in range(0, n, SLICE):
        stop = min(n, start + SLICE)
        part = cut_rows(columns, start, stop, read)
        out = [np.broadcast_to(leaf, (stop - start, *leaf.shape[1:])) if j in ids else leaf  # others: 1 point's
               for j, leaf in enumerate(flat)]
        inputs = with_leaves(first, _written(out, positions, part, slice(0, stop - start)))
        numbers = _numbers(recipe, part) | {place: np.asarray(part[key], dtype=float)
                                            for key, places in rule_numbers.items() for place in places}
        extremes = payoff_extremes(recipe.scenario, numbers, (inputs.issue_lo, inputs.issue_hi), inputs.status_quo)
        inputs = replace(inputs, parties=tuple(replace(p, p_min=extremes[pid][0], p_max=extremes[pid][1])
                                               for p, pid in zip(inputs.parties, recipe.scenario.ids, strict=True)))
        for i in _doubtful(recipe, inputs, numbers):
            compile_row(_row(columns, start + int(i)))  # refused in one line if the compiler refuses it
            accepted.append(start + int(i))
    return accepted


def vector_runs(compile_row, point_config, ref, row0: dict[str, Any], columns: dict[str, np.ndarray],
                direct: dict) -> list[Run] | None:
    """The sampled points as one run, the coupled keys laid out at once; ``None`` if they cannot be (or the
    layout does not match the compiler), and the caller compiles them."""
    scenario = trade_scenario(point_config(row0))
    if scenario is None:
        return None
    payoff_ids, read_ids = _leaf_ids(ref)
    ctx = _Context(ref=ref, row0=row0, scenario=scenario, numbers=trade_numbers(point_config(row0), scenario),
                   payoff_ids=payoff_ids, read_ids=read_ids)
    keys = {}
    for key, column in columns.items():
        if key not in direct:
            found = _probe(ctx, compile_row, point_config, key, column)
            if found is None:
                return None
            keys[key] = found
    taken = [(j, k) for positions in (*direct.values(), *(
        [(j, np.array(w)) for j, w in k.leaves] for k in keys.values())) for j, w in positions for k in w.tolist()]
    n = len(next(iter(columns.values())))
    texts = _Texts.of(ref.constraints, keys, columns)
    if len(set(taken)) != len(taken) or texts is None:
        return None
    constraints = LazyColumn(texts, "constraints")  # each point's text written when its chunk is cut
    laid = LaidOut(_Recipe(structure=ref.structure, inputs=ref.inputs, scenario=scenario, numbers=ctx.numbers,
                           keys=keys, direct=direct), columns)
    numbers = {key: _number_places(ctx, point_config, key, columns[key]) for key, where in direct.items() if not where}
    doubtful = _check(laid.recipe, ref, columns, compile_row, {k: places for k, places in numbers.items() if places})
    checked = sorted({int(i) for i in np.linspace(0, n - 1, min(n, CHECKED_POINTS))} | set(doubtful))
    rows = [_row(columns, i) for i in checked]  # laid out together (a point's inputs depend on its own values only)
    taken = LaidOut(laid.recipe, {key: np.array([row[key] for row in rows], dtype=column.dtype)
                                  for key, column in columns.items()}).take(np.arange(len(checked)))
    for k, (i, row) in enumerate(zip(checked, rows, strict=True)):
        if not _same(compile_row(row), _point(ref.structure, taken, k, constraints[i])):
            return None
    return [Run(start=0, stop=n, structure=ref.structure, inputs=laid, constraints=constraints,
                stakes_usd=ref.stakes_usd)]
