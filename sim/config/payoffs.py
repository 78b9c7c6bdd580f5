"""Compile a scenario's payoff model: the tariff stakes and weights, the pie split, or linear weights.

The payoff models themselves live in :mod:`sim.domain.payoffs`; this module reads and checks what
they need from the config (``scenario.payoff``, ``scenario.stakes``) and builds each party's
:class:`~sim.domain.utility.LinearPayoff`. A scenario chooses its model by class, as it chooses a negotiator
part: ``scenario.payoff.model: {_target_: sim.config.payoffs.Trade}`` (or ``Split``, ``Linear``, or a
:class:`PayoffModel` subclass of a plugin folder), built by ``hydra.utils.instantiate`` once the target has
passed the allow-list of :mod:`sim.config.plugins`. Without ``scenario.payoff.model`` a scenario uses
:class:`Trade`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sim.config.parameters import PARAMETERS, read
from sim.config.plugins import instantiate, plugin_folders
from sim.config.values import MISSING, ConfigError, Tree, choice, get, lookup, number
from sim.domain.outcome_space import Issue, OutcomeSpace
from sim.domain.payoffs.linear import linear_payoffs
from sim.domain.payoffs.split import split_payoffs
from sim.domain.payoffs.tariffs import FLOWS, PLEDGE_FORMS, TradeModel, consumer_cost_coefficients, derived_stakes

__all__ = ["DEFAULT_MODEL", "Linear", "PayoffModel", "Split", "Trade", "linear_weights", "payoff_model",
           "pledge_forms", "stakes_and_weights", "trade_model_of", "trade_roles"]

DEFAULT_MODEL = "sim.config.payoffs.Trade"  # the model of a scenario that names none


class PayoffModel:
    """Base class: how a scenario's config turns into each party's payoff and its no-deal utilities.

    Attributes:
        roles: Whether the model needs ``scenario.payoff.importer`` and ``exporter`` (the trade roles).
    """

    roles: ClassVar[bool] = False

    def payoffs(self, cfg: Tree, space: OutcomeSpace, ids: tuple[str, str],
                roles: tuple[str | None, str | None]) -> tuple[dict, dict, Any]:
        """Each party's :class:`~sim.domain.utility.LinearPayoff`, the stakes in USD (for ``metadata.json``;
        empty if none) and the consumers' cost coefficients (``None`` if the model has no consumers)."""
        raise NotImplementedError

    def no_deal(self, cfg: Tree, payoffs: dict, space: OutcomeSpace, ids: tuple[str, str],
                worst: np.ndarray) -> dict[str, tuple[float, float]]:
        """Each party's utility of no deal: at the status quo, and at ``worst`` (the escalated package)."""
        return {pid: (float(payoffs[pid].utility(space.status_quo)), float(payoffs[pid].utility(worst)))
                for pid in ids}


class Trade(PayoffModel):
    """The trade payoff model (:mod:`sim.domain.payoffs.tariffs`): tariffs both ways, lost sales and pledges,
    from ``scenario.stakes`` and the weights under ``scenario.payoff``."""

    roles = True

    def payoffs(self, cfg, space, ids, roles):
        importer, exporter = roles
        trade = trade_model_of(cfg, space, importer, exporter)
        return (trade.affine(), derived_stakes(trade.stakes),
                consumer_cost_coefficients(space, trade.stakes, trade.pass_through, importer))


class Split(PayoffModel):
    """A pie of size 1 (:mod:`sim.domain.payoffs.split`): one issue, ``share``, over [0, 1]; no deal gives each
    party ``scenario.payoff.disagreement.<party>``."""

    def payoffs(self, cfg, space, ids, roles):
        try:
            return split_payoffs(space, ids), {}, None
        except ValueError:
            raise ConfigError("scenario.issues", "the split payoff model needs exactly one issue, share, "
                                                 "with min 0 and max 1") from None

    def no_deal(self, cfg, payoffs, space, ids, worst):
        return {pid: (read(cfg, "scenario.payoff.disagreement.{party}", pid, what=" (utility of no deal)"),) * 2
                for pid in ids}


class Linear(PayoffModel):
    """Weights per issue written in the scenario (:mod:`sim.domain.payoffs.linear`,
    ``scenario.payoff.weights.<party>.<issue>``)."""

    def payoffs(self, cfg, space, ids, roles):
        return linear_payoffs(space, linear_weights(cfg, ids, space)), {}, None


def payoff_model(cfg: Tree) -> PayoffModel:
    """The scenario's payoff model, built from ``scenario.payoff.model._target_`` (default :class:`Trade`).

    Raises:
        ConfigError: not a node with a ``_target_``, or a target refused by :mod:`sim.config.plugins` or not a
            :class:`PayoffModel` subclass.
    """
    node = lookup(cfg, "scenario.payoff.model")
    if node is MISSING:
        node = {"_target_": DEFAULT_MODEL}
    if not isinstance(node, dict) or set(node) != {"_target_"} or not isinstance(node["_target_"], str):
        raise ConfigError("scenario.payoff.model", "must be {_target_: CLASS}, a PayoffModel class such as "
                                                   "sim.config.payoffs.Trade, sim.config.payoffs.Split or "
                                                   f"sim.config.payoffs.Linear; got {str(node)[:80]!r}")
    return _model(node["_target_"], tuple(plugin_folders()))


@functools.lru_cache(maxsize=32)
def _model(target: str, folders: tuple[Path, ...]) -> PayoffModel:
    """The model Hydra's ``instantiate`` builds for ``target``, once per target and plugin folders (the models
    hold no state; Hydra takes about 5 ms an instantiate and every compiled grid point asks)."""
    return instantiate({"_target_": target}, "scenario.payoff.model", PayoffModel)


def trade_model_of(cfg: Tree, space: OutcomeSpace, importer: str, exporter: str) -> TradeModel:
    """The trade payoff model of ``cfg`` on ``space``: its stakes, pass-through, weights and pledge forms."""
    stakes, pass_through, weights = stakes_and_weights(cfg, space, importer, exporter)
    return TradeModel(space, stakes, pass_through, weights, importer, exporter, pledge_forms(cfg, space))


def linear_weights(cfg: Tree, ids: tuple[str, ...], space: OutcomeSpace) -> dict[str, dict[str, float]]:
    """The linear payoff model's weights, ``scenario.payoff.weights.PARTY.ISSUE`` (payoff per unit)."""
    out = {}
    for pid in ids:
        key = f"scenario.payoff.weights.{pid}"
        node = get(cfg, key)
        if not isinstance(node, dict) or any(name not in space.names for name in node):
            raise ConfigError(key, f"must map issues among {', '.join(space.names)} to weights (payoff per unit)")
        out[pid] = {name: number(cfg, f"{key}.{name}", -1e9, 1e9, what=" (payoff per unit of the issue)")
                    for name in node}
    return out


def trade_roles(cfg: Tree, ids: tuple[str, str]) -> tuple[str, str]:
    importer = choice(cfg, "scenario.payoff.importer", ids)
    exporter = choice(cfg, "scenario.payoff.exporter", ids)
    if importer == exporter:
        raise ConfigError("scenario.payoff.exporter", "must be the other party than scenario.payoff.importer")
    return importer, exporter


def _flows(cfg: Tree, key: str, space: OutcomeSpace, taxes: Callable[[Issue], bool], *,
           required: bool = True) -> dict[str, float]:
    """The flows (USD bn/yr) under ``key``; each tariff issue for which ``taxes`` holds needs its flow there, and
    no two such issues may tax the same flow (each tariff's payoff is a function of its own issue)."""
    flows = lookup(cfg, key)
    if flows is MISSING and not required:
        flows = {}
    if not isinstance(flows, dict) or any(f not in FLOWS for f in flows):
        raise ConfigError(key, f"must map export flows among {', '.join(FLOWS)} to USD bn a year")
    seen = set()
    for issue in space.issues:
        if issue.tag("kind") == "tariff" and taxes(issue):
            flow = issue.tag("flow")
            if flow not in flows:
                raise ConfigError(key, f"has no value for the flow {flow!r} of the tariff issue {issue.name!r}")
            if flow in seen:
                raise ConfigError(f"scenario.issues.{issue.name}.tags.flow", f"the flow {flow!r} is taxed by two "
                                                                             f"tariff issues of the same party")
            seen.add(flow)
    template = PARAMETERS["scenario.stakes.exports_usd_bn.{flow}"]
    return {f: dataclasses.replace(template, key=key + "." + f).read(cfg) for f in flows}


def pledge_forms(cfg: Tree, space: OutcomeSpace) -> dict[str, dict[str, float]]:
    """Delivery and cost shares of the pledge forms the scenario's issues use (``scenario.payoff.pledges``)."""
    out = {}
    for issue in space.issues:
        form = issue.tag("form")
        if form is None or form in out:
            continue
        if form not in PLEDGE_FORMS:
            raise ConfigError(f"scenario.issues.{issue.name}.tags.form", f"must be one of {', '.join(PLEDGE_FORMS)}, "
                                                                         f"got {form!r}")
        out[form] = {"delivery": _form_parameter("delivery", form).read(cfg)}
        if any(i.tag("form") == form and i.tag("kind") == "investment" for i in space.issues):
            out[form]["cost"] = _form_parameter("cost", form).read(cfg)  # a purchase's cost is its item's
    return out


def _form_parameter(what: str, form: str):
    template = PARAMETERS["scenario.payoff.pledges.{form}." + what]
    return dataclasses.replace(template, key=template.key.replace("{form}", form))


def stakes_and_weights(cfg: Tree, space: OutcomeSpace, importer: str, exporter: str) -> tuple[dict, float, dict]:
    """Read the tariff payoff model's inputs: the stakes (USD), the pass-through and each side's weights.

    Returns:
        ``(stakes, pass_through, weights)``: ``stakes["exports_usd_bn"]`` maps each export flow taxed by a
        tariff issue to its value (USD bn/yr); ``weights`` has a sub-block per party id.

    Raises:
        ConfigError: a missing or out-of-range value, a tariff issue whose flow has no export value, or
            yearly purchase maxima above the exporter's surplus.
    """
    exports = _flows(cfg, "scenario.stakes.exports_usd_bn", space, lambda i: i.grantor == importer)
    stakes = {"exports_usd_bn": exports,
              **{k.rsplit(".", 1)[1]: read(cfg, k) for k in PARAMETERS
                 if k.startswith("scenario.stakes.") and "{" not in k}}
    stakes["importer_exports_usd_bn"] = _flows(cfg, "scenario.stakes.importer_exports_usd_bn", space,
                                               lambda i: i.grantor == exporter, required=False)
    template = PARAMETERS["scenario.stakes.elasticity.{flow}"]
    stakes["elasticity"] = {f: dataclasses.replace(template, key=template.key.replace("{flow}", f)).read(cfg, default=0.0)
                            for f in FLOWS}
    pass_through = read(cfg, "scenario.payoff.pass_through")
    p = "scenario.payoff.{party}."
    weights = {
        exporter: {"investment_years": read(cfg, p + "investment_years", exporter),
                   # without a form, an investment costs the exporter its investment_cost per USD
                   "investment_cost": read(cfg, p + "investment_cost", exporter, **(
                       {} if any(i.tag("kind") == "investment" and not i.tag("form") for i in space.issues)
                       else {"default": 0.0}))},
        importer: {k: read(cfg, p + k, importer) for k in
                   ("revenue_weight", "consumer_cost_weight", "investment_value", "purchase_value")},
    }
    weights[importer]["headline_value"] = read(cfg, p + "headline_value", importer, default=0.0)
    weights[importer]["market_access_weight"] = read(cfg, p + "market_access_weight", importer, default=1.0)
    for pid in (importer, exporter):
        weights[pid]["lost_sales_margin"] = read(cfg, p + "lost_sales_margin", pid, default=0.0)
    if any(i.tag("kind") == "tariff" and i.grantor == exporter for i in space.issues):
        # the exporter levies a tariff on the importer's goods: its own weights on revenue and its buyers' prices
        weights[exporter].update({k: read(cfg, p + k, exporter) for k in ("revenue_weight", "consumer_cost_weight")})
    weights[exporter]["purchase_cost"] = {}
    purchases = [i for i in space.issues if i.tag("kind") == "purchase"]
    template = PARAMETERS[p + "purchase_cost.{item}"]
    for issue in purchases:
        item = dataclasses.replace(template, key=template.key.replace("{item}", issue.name))
        weights[exporter]["purchase_cost"][issue.name] = item.read(cfg, exporter,
                                                                   what=" (cost per USD of purchases)")
    yearly = sum(i.hi for i in purchases)
    if yearly > stakes["surplus_usd_bn"]:
        raise ConfigError("scenario.issues", f"yearly purchase maxima add up to {yearly:g} USD bn, above the "
                                             f"exporter's surplus with the importer "
                                             f"({stakes['surplus_usd_bn']:.1f} USD bn, scenario.stakes.surplus_usd_bn)")
    return stakes, pass_through, weights
