"""Typed inputs of the engine: what a batch of worlds shares, and each world's numbers.

The config compiler (:mod:`sim.config`) turns a Hydra config into one :class:`Structure` per batch
(the outcome space, the parties and their negotiator classes, the protocol, the calendar) and one
:class:`WorldInputs` per grid point, a tree of dataclasses whose leaves are numbers (scalars or
per-issue vectors). :func:`stack` gives those leaves a leading world axis and :func:`take` selects
worlds, so one batched model advances worlds that differ in any number. A misspelt field is an
``AttributeError`` at the first use, not a ``KeyError`` inside a worker.

The issues' ranges are numbers too: :func:`with_ranges` copies them from a point's outcome space into
its inputs (``issue_lo``, ``issue_hi``), and :func:`shape` is its structure with those numbers taken
out. Worlds whose structures have the same shape share one batched model even when their ranges
differ (an ensemble that draws an issue's maximum from its prior), each with its own negotiation box
(:func:`negotiation_box`); :func:`point_structure` puts a world's ranges back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

import numpy as np

from sim.domain.calendar import round_date
from sim.domain.no_deal import ScheduledChange
from sim.domain.outcome_space import OutcomeSpace
from sim.domain.utility import normalised

__all__ = ["ConstituencyInputs", "PartyInputs", "PartySpec", "Structure", "WorldInputs", "concatenate", "joint_box",
           "leaves", "negotiation_box", "point_structure", "rows_of", "shape", "stack", "take", "utility_coefficients",
           "with_leaves", "with_ranges"]


@dataclass(frozen=True)
class PartySpec:
    """What every world of a batch shares about one party.

    Attributes:
        id: The party's id in the scenario (column prefix, config key), e.g. ``"us"``.
        name: Display name, e.g. ``"Supplier"``.
        offering: Offering strategy class and its config name.
        acceptance: Acceptance strategy class and its config name.
        opponent: Opponent model class and its config name.
        constituencies: Names of its domestic constituencies (two-level ratification).
        per_issue: Offering parameters set per issue (they have an issue axis).
    """

    id: str
    name: str
    offering: tuple[str, type]
    acceptance: tuple[str, type]
    opponent: tuple[str, type]
    constituencies: tuple[str, ...] = ()
    per_issue: tuple[str, ...] = ()

    @property
    def strategy(self) -> str:
        """The name of its offering strategy (the ``<id>_strategy`` column)."""
        return self.offering[0]


@dataclass(frozen=True)
class Structure:
    """What every world in one batch shares.

    Attributes:
        space: The outcome space.
        parties: The two parties, in scenario order.
        opener: Id of the party proposing in round 1.
        protocol: The protocol class and its agenda name (``package``, ``sequential``, ``linked``, ...).
        stages: The issues negotiated at each stage, in order (one stage of all issues for a package).
        start_date: Calendar date of round 1.
        round_days: Days per round (after the meetings, if any).
        meetings: Dates of the first rounds, the meetings on the record (empty: every round ``round_days`` apart);
            :mod:`sim.domain.calendar`.
        max_rounds: Horizon: no round runs beyond it.
        schedule: Tariff changes and threats on the no-deal path, by date.
        escalation_issue: Index of the issue the escalation raises at the deadline (``None``: none).
        threshold_changes: Dated changes of a party's ratification threshold (party, first round, value).
        first_round: The round the simulated talks begin in (1; later for a forecast from a vantage date,
            the rounds before it having been held, :mod:`sim.config.as_of`).
    """

    space: OutcomeSpace
    parties: tuple[PartySpec, PartySpec]
    opener: str
    protocol: tuple[str, type]
    stages: tuple[tuple[int, ...], ...]
    start_date: dt.date
    round_days: int
    max_rounds: int
    schedule: tuple[ScheduledChange, ...] = ()
    escalation_issue: int | None = None
    threshold_changes: tuple[tuple[str, int, float], ...] = ()
    first_round: int = 1
    meetings: tuple[dt.date, ...] = ()

    @property
    def agenda(self) -> str:
        """The protocol's name (the ``agenda`` column)."""
        return self.protocol[0]

    @property
    def party_ids(self) -> tuple[str, str]:
        """The parties' ids, in scenario order."""
        return self.parties[0].id, self.parties[1].id

    def party(self, party_id: str) -> PartySpec:
        """The party with id ``party_id``."""
        return next(p for p in self.parties if p.id == party_id)

    def round_date(self, rounds: np.ndarray) -> np.ndarray:
        """Calendar date of each round (``datetime64[D]``)."""
        return round_date(rounds, self.start_date, self.round_days, self.meetings)


@dataclass
class ConstituencyInputs:
    """One constituency's approval ``coef @ x + offset`` (normalised to [0, 1]) and its vote weight."""

    weight: Any
    coef: Any
    offset: Any


@dataclass
class PartyInputs:
    """One party's numbers in a world (scalars, or per-issue vectors of length n).

    Attributes:
        payoff_a, payoff_b: Its affine payoff ``a @ x + b`` (USD bn/yr).
        p_min, p_max: Its payoff's extremes over the box.
        red_lo, red_hi: Its own bounds per issue: the box narrowed by its red lines and the issues it
            keeps off the table (where all its red lines hold).
        loose_lo, loose_hi: The same without its red lines: its bounds on an issue whose red line does not
            hold in a world.
        line_strength: Per issue, the probability that its red line holds in a world (1: a hard line, or none).
        firmness: Per issue, the exponent on its line offers' concession (1: as on any issue).
        refuses: 1 if it refuses the agenda.
        deadline: Its own deadline (round), NaN for the talks' deadline.
        deadline_private: 1 if the other side does not know its deadline.
        delay_cost: USD bn per round of talks.
        noise: S.d. of the noise on its concession levels.
        belief_deadline_sd: S.d. (rounds) of its prior on the other side's private deadline.
        belief_reservation_sd: S.d. (utility) of its prior on the other side's reservation value.
        walk_away: 1 if it may walk away.
        u_status_quo, u_escalated: Its utility of the status quo and of the escalated no-deal package.
        discount: Per-round discount factor on the value of agreement (1: none).
        threshold: Approval its constituencies need to ratify.
        knows_win_set: 1 if its negotiator proposes and accepts nothing they would reject.
        constituencies: Its constituencies' approval terms.
        offering, acceptance, opponent: The numeric parameters of its negotiator's parts.
    """

    payoff_a: Any
    payoff_b: Any
    p_min: Any
    p_max: Any
    red_lo: Any
    red_hi: Any
    loose_lo: Any
    loose_hi: Any
    line_strength: Any
    firmness: Any
    refuses: Any
    deadline: Any
    deadline_private: Any
    delay_cost: Any
    noise: Any
    belief_deadline_sd: Any
    belief_reservation_sd: Any
    walk_away: Any
    u_status_quo: Any
    u_escalated: Any
    discount: Any
    threshold: Any
    knows_win_set: Any
    constituencies: tuple[ConstituencyInputs, ...] = ()
    offering: dict[str, Any] = field(default_factory=dict)
    acceptance: dict[str, Any] = field(default_factory=dict)
    opponent: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorldInputs:
    """A world's numbers: the talks' and each party's.

    Attributes:
        deadline: The talks' deadline (round).
        extension_probability: Probability that the deadline is extended.
        extension_rounds: Length of the extension (rounds).
        escalation: Rise of the escalating issue at the final deadline without a deal (its unit, pp).
        breakdown_risk: Per-round probability that the talks collapse.
        valuation_rounds: Rounds over which no deal is valued.
        status_quo: The status-quo package.
        parties: Each party's numbers, in scenario order.
        issue_lo, issue_hi: Each issue's range (its unit), when set by :func:`with_ranges`; ``None``: the
            ranges of the structure's outcome space.
    """

    deadline: Any
    extension_probability: Any
    extension_rounds: Any
    escalation: Any
    breakdown_risk: Any
    valuation_rounds: Any
    status_quo: Any
    parties: tuple[PartyInputs, PartyInputs]
    issue_lo: Any = None
    issue_hi: Any = None


def _map(fn, first, *rest):
    """Apply ``fn`` to the leaves of dataclass trees of the same shape (``None`` stays ``None``)."""
    if first is None:
        return None
    if is_dataclass(first):
        return type(first)(**{f.name: _map(fn, getattr(first, f.name), *(getattr(r, f.name) for r in rest))
                              for f in fields(first)})
    if isinstance(first, tuple):
        return tuple(_map(fn, *items) for items in zip(first, *rest, strict=True))
    if isinstance(first, dict):
        return {k: _map(fn, first[k], *(r[k] for r in rest)) for k in first}
    return fn(first, *rest)


def leaves(inputs: WorldInputs) -> list[Any]:
    """The leaves of an inputs tree, in a fixed order (that of :func:`with_leaves`)."""
    out: list[Any] = []
    _map(out.append, inputs)
    return out


def with_leaves(inputs: WorldInputs, values: list[Any]) -> WorldInputs:
    """An inputs tree of the same shape as ``inputs`` with the leaves ``values`` (in :func:`leaves` order)."""
    it = iter(values)
    return _map(lambda _: next(it), inputs)


def stack(inputs: list[WorldInputs]) -> WorldInputs:
    """Stack single-world inputs into one tree whose leaves have a leading world axis."""
    return _map(lambda *leaves: np.stack(leaves), *inputs)


def concatenate(inputs: list[WorldInputs]) -> WorldInputs:
    """Join stacked inputs along their world axis."""
    return _map(lambda *leaves: np.concatenate(leaves), *inputs)


def take(inputs: WorldInputs, index: np.ndarray | int) -> WorldInputs:
    """The worlds ``index`` (integers) of stacked inputs: each leaf's ``leaf[index]`` (:func:`rows_of` for an
    array of rows)."""
    if np.ndim(index) == 0:
        return _map(lambda leaf: leaf[index], inputs)
    index = np.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"worlds are taken by their integer rows, not by an array of {index.dtype}")
    return _map(lambda leaf: rows_of(leaf, index), inputs)


def rows_of(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a[rows]`` for integer ``rows``: the same numbers in the same memory order, by :func:`numpy.take` where
    that order is the same (arrays of one or two axes, or in C order; 3 to 9 times faster at two axes), else by
    indexing (numpy.take would give C order, and a later sum over it might add in another order)."""
    return np.take(a, rows, axis=0) if a.ndim <= 2 or a.flags.c_contiguous else a[rows]


def with_ranges(structure: Structure, inputs: WorldInputs) -> WorldInputs:
    """One world's inputs with its issues' ranges (from its structure's outcome space) as numbers."""
    issues = structure.space.issues
    return replace(inputs, issue_lo=np.array([i.lo for i in issues]), issue_hi=np.array([i.hi for i in issues]))


def shape(structure: Structure) -> Structure:
    """The structure without its issues' numbers (range and status quo): worlds of one shape run in one batch."""
    space = OutcomeSpace(tuple(replace(i, lo=0.0, hi=0.0, status_quo=0.0) for i in structure.space.issues))
    return replace(structure, space=space)


def point_structure(structure: Structure, inputs: WorldInputs) -> Structure:
    """A world's own structure: ``structure`` (of its shape) with the world's issue ranges and status quo."""
    if inputs.issue_lo is None:
        return structure
    issues = tuple(replace(i, lo=float(lo), hi=float(hi), status_quo=float(sq)) for i, lo, hi, sq in
                   zip(structure.space.issues, inputs.issue_lo, inputs.issue_hi, inputs.status_quo, strict=True))
    return replace(structure, space=OutcomeSpace(issues))


def negotiation_box(structure: Structure, inputs: WorldInputs) -> tuple[np.ndarray, np.ndarray]:
    """The negotiation box ``(lo, hi)``: each issue's range, or its status quo for an issue off the table (as
    :attr:`OutcomeSpace.lo` and ``.hi``); per issue when every world of the batch has the same box, else per
    world and issue."""
    space = structure.space
    if inputs.issue_lo is None:
        return space.lo, space.hi
    fixed = np.array([not i.negotiable for i in space.issues])
    lo = np.where(fixed, inputs.status_quo, inputs.issue_lo)
    hi = np.where(fixed, inputs.status_quo, inputs.issue_hi)
    if lo.ndim == 2 and len(lo) and np.all(lo == lo[0]) and np.all(hi == hi[0]):
        return lo[0], hi[0]  # one box for the whole batch: per issue, as for a single world
    return lo, hi


def utility_coefficients(inputs: WorldInputs) -> tuple:
    """``(c_1, c_2, k_1, k_2)`` of both parties' normalised utilities ``u = c @ x + k`` in one world's inputs."""
    (c1, k1), (c2, k2) = (normalised(p.payoff_a, p.payoff_b, p.p_min, p.p_max) for p in inputs.parties)
    return c1, c2, k1, k2


def joint_box(inputs: WorldInputs) -> tuple[np.ndarray, np.ndarray]:
    """The packages both parties can agree to in one world: both parties' own bounds intersected."""
    first, second = inputs.parties
    return np.maximum(first.red_lo, second.red_lo), np.minimum(first.red_hi, second.red_hi)
