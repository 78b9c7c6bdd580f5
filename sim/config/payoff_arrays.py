"""The payoff numbers of many points of one scenario at once: the trade payoff model over per-world arrays.

The points of an ensemble drawn from the priors differ in the stakes, the weights, the pass-through, the
pledges' shares and the issues' ranges. Each of these moves every party's payoff (its coefficients, its
extremes over the box, its utility of no deal) and its constituencies' approval. Instead of a compile per
point, :func:`payoff_arrays` computes them for all points at once from one point's config and the
per-point values: the same operations as :func:`~sim.config.scenario.compile_point`, element by element in
the same order, so each point's numbers are those of its own compile, bit for bit (the layout checks this
against the compiler on sampled points, :mod:`sim.config.layout`).

:func:`trade_numbers` reads the numbers the model takes from a config, keyed by their place in the model
(``("weights", "us", "revenue_weight")``); a sampled key maps onto the places that hold its value.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sim.config.as_of import cut
from sim.config.payoffs import Trade, payoff_model, pledge_forms, stakes_and_weights, trade_roles
from sim.config.scenario import outcome_space, parties
from sim.config.values import MISSING, Tree, get, lookup
from sim.domain.payoffs.tariffs import TradeModel, consumer_cost_coefficients
from sim.domain.utility import ordered_dot

__all__ = ["PAYOFF_FIELDS", "TradeScenario", "payoff_arrays", "payoff_extremes", "trade_numbers",
           "trade_scenario"]

# The fields of a party's inputs that its payoff sets (besides its constituencies' coefficients and offsets)
PAYOFF_FIELDS = ("payoff_a", "payoff_b", "p_min", "p_max", "u_status_quo", "u_escalated")

Path = tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class TradeScenario:
    """What a point's payoffs need besides its numbers: its outcome space, the two roles, the party ids in
    order, the escalating issue, and per party its constituencies as ``(issue mask, interest)``."""

    space: Any
    importer: str
    exporter: str
    ids: tuple[str, str]
    escalation_issue: int | None
    constituencies: dict[str, list[tuple[np.ndarray, str]]]


def trade_scenario(cfg: Tree) -> TradeScenario | None:
    """The point ``cfg``'s scenario as :func:`payoff_arrays` needs it, cut to its vantage date; ``None`` if it does
    not use the trade payoff model."""
    cfg, _ = cut(cfg)
    if not isinstance(payoff_model(cfg), Trade):
        return None
    ids = tuple(pid for pid, _ in parties(cfg))
    importer, exporter = trade_roles(cfg, ids)
    space = outcome_space(cfg, ids, importer)
    target = lookup(cfg, "scenario.escalation_issue")
    groups = {}
    for pid in ids:
        node = lookup(cfg, f"scenario.ratification.{pid}")
        found = {} if node in (MISSING, None) else (get(cfg, f"scenario.ratification.{pid}.constituencies") or {})
        groups[pid] = [(np.isin(space.names, g["issues"]), g["interest"]) for g in found.values()]
    return TradeScenario(space=space, importer=importer, exporter=exporter, ids=ids,
                         escalation_issue=None if target in (MISSING, None) else space.index(target),
                         constituencies=groups)


def trade_numbers(cfg: Tree, scenario: TradeScenario) -> dict[Path, Any]:
    """The numbers the trade payoff model reads from the point ``cfg`` (cut to its vantage date), by place."""
    cfg, _ = cut(cfg)
    stakes, pass_through, weights = stakes_and_weights(cfg, scenario.space, scenario.importer, scenario.exporter)
    tree = {"stakes": stakes, "pass_through": pass_through, "weights": weights,
            "pledges": pledge_forms(cfg, scenario.space)}
    out: dict[Path, Any] = {}

    def walk(node, path: Path) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, str(k)))
        else:
            out[path] = node

    walk(tree, ())
    return out


def _tree(numbers: dict[Path, Any]) -> dict:
    tree: dict = {}
    for path, value in numbers.items():
        node = tree
        for k in path[:-1]:
            node = node.setdefault(k, {})
        node[path[-1]] = value
    return tree


def _box(scenario: TradeScenario, lo, hi, status_quo) -> tuple[np.ndarray, np.ndarray]:
    """The negotiation box per point: each issue's range, its status quo for an issue off the table."""
    fixed = np.array([not i.negotiable for i in scenario.space.issues])
    return np.where(fixed, status_quo, lo), np.where(fixed, status_quo, hi)


def _extremes(a: np.ndarray, b, box_lo: np.ndarray, box_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``p_min, p_max`` of ``a @ x + b`` over the box, per point (as :meth:`LinearPayoff.over`, row by row)."""
    lo_term, hi_term = a * box_lo, a * box_hi
    return b + np.minimum(lo_term, hi_term).sum(axis=-1), b + np.maximum(lo_term, hi_term).sum(axis=-1)


def _normalised_rows(a: np.ndarray, b, p_min, p_max) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~sim.domain.utility.normalised` per point (``c = a / span``, ``k = (b - p_min) / span``; a zero
    span gives ``c = 0``, ``k = 1``)."""
    span = p_max - p_min
    positive = span > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.where(positive[:, None], a / span[:, None], a * 0.0)
        offset = np.where(positive, (b - p_min) / span, 1.0)
    return coef, offset


def _model(scenario: TradeScenario, numbers: dict[Path, Any]) -> tuple[dict, TradeModel]:
    """The points' numbers as a tree, and their trade payoff model."""
    tree = _tree(numbers)
    return tree, TradeModel(scenario.space, tree["stakes"], tree["pass_through"], tree["weights"], scenario.importer,
                            scenario.exporter, tree.get("pledges", {}))


def _affine_extremes(model: TradeModel, lo: np.ndarray, hi: np.ndarray, box: tuple[np.ndarray, np.ndarray]):
    """Per party id, its payoff's ``(a (W, n), b (W,), p_min (W,), p_max (W,))`` over the box."""
    width = lo.shape
    for pid, (a, b) in model.affine_terms(lo, hi).items():
        a, b = np.broadcast_to(a, width), np.broadcast_to(np.asarray(b, dtype=float), width[:1])
        yield pid, (a, b, *_extremes(a, b, *box))


def payoff_extremes(scenario: TradeScenario, numbers: dict[Path, Any], ranges: tuple[np.ndarray, np.ndarray],
                    status_quo: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every party's lowest and highest payoff over the box, ``(p_min, p_max)`` each ``(W,)``, at ``W`` points at
    once: those of :func:`payoff_arrays` bit for bit, without the rest (what the plan's check of the points reads).

    Args: as :func:`payoff_arrays`.
    """
    _, model = _model(scenario, numbers)
    box = _box(scenario, *ranges, status_quo)
    return {pid: (p_min, p_max) for pid, (_, _, p_min, p_max) in _affine_extremes(model, *ranges, box)}


def payoff_arrays(scenario: TradeScenario, numbers: dict[Path, Any], ranges: tuple[np.ndarray, np.ndarray],
                  status_quo: np.ndarray, escalation: np.ndarray) -> dict[str, dict[str, Any]]:
    """Every party's payoff numbers at ``W`` points at once.

    Args:
        scenario: The points' scenario (:func:`trade_scenario`).
        numbers: The model's numbers by place (:func:`trade_numbers`); a number that varies is an array ``(W,)``.
        ranges: Each issue's range per point, ``(W, n)`` each.
        status_quo: The status quo per point, ``(W, n)``.
        escalation: The rise of the escalating issue at the final deadline per point, ``(W,)``.

    Returns:
        Per party id, the :data:`PAYOFF_FIELDS` (each ``(W, n)`` or ``(W,)``) and ``constituencies``: per
        constituency ``(coef (W, n), offset (W,))``, in the scenario's order.
    """
    s = scenario
    tree, model = _model(s, numbers)
    lo, hi = ranges
    width = lo.shape
    box_lo, box_hi = _box(s, lo, hi, status_quo)
    worst = np.array(status_quo, dtype=float, copy=True)
    if s.escalation_issue is not None:
        worst[:, s.escalation_issue] += escalation
    consumer = None
    out = {}
    for pid, (a, b, p_min, p_max) in _affine_extremes(model, lo, hi, (box_lo, box_hi)):
        span = p_max - p_min
        groups = []
        for mask, interest in s.constituencies[pid]:
            if interest == "consumer" and consumer is None:
                consumer = np.broadcast_to(consumer_cost_coefficients(s.space, tree["stakes"], tree["pass_through"],
                                                                      s.importer), width)
            source = a if interest == "producer" else consumer
            masked = np.where(mask, source, 0.0)
            groups.append(_normalised_rows(masked, 0.0, *_extremes(masked, 0.0, box_lo, box_hi)))
        out[pid] = {"payoff_a": a, "payoff_b": b, "p_min": p_min, "p_max": p_max,
                    "u_status_quo": (ordered_dot(status_quo, a) + b - p_min) / span,
                    "u_escalated": (ordered_dot(worst, a) + b - p_min) / span, "constituencies": groups}
    return out
