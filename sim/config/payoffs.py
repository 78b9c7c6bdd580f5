"""Compile a scenario's payoff model: the tariff stakes and weights, the pie split, or linear weights.

The payoff models themselves live in :mod:`sim.domain.payoffs`; this module reads and checks what
they need from the config (``scenario.payoff``, ``scenario.stakes``) and builds each party's
:class:`~sim.domain.utility.LinearPayoff`.
"""

from __future__ import annotations

import dataclasses

from sim.config.parameters import PARAMETERS, read
from sim.config.values import MISSING, ConfigError, Tree, choice, get, lookup, number
from sim.domain.outcome_space import OutcomeSpace

__all__ = ["PAYOFF_MODELS", "linear_weights", "payoff_model", "stakes_and_weights", "trade_roles"]


PAYOFF_MODELS = ("trade", "split", "linear")


def payoff_model(cfg: Tree) -> str:
    model = lookup(cfg, "scenario.payoff.model")
    return "trade" if model is MISSING else choice(cfg, "scenario.payoff.model", PAYOFF_MODELS)


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


def stakes_and_weights(cfg: Tree, space: OutcomeSpace, importer: str, exporter: str) -> tuple[dict, float, dict]:
    stakes = {k.rsplit(".", 1)[1]: read(cfg, k) for k in PARAMETERS if k.startswith("scenario.stakes.")}
    if stakes["cars_and_parts_tn_yen"] + stakes["steel_tn_yen"] > stakes["exports_to_us_tn_yen"]:
        raise ConfigError("scenario.stakes", "cars, parts and steel exports exceed total exports")
    if stakes["vehicle_share_of_exports"] * stakes["exports_to_us_tn_yen"] > stakes["cars_and_parts_tn_yen"]:
        raise ConfigError("scenario.stakes.vehicle_share_of_exports", "vehicles exceed cars and parts exports")
    if stakes["surplus_share_cars_and_parts"] * stakes["surplus_tn_yen"] > stakes["cars_and_parts_tn_yen"]:
        raise ConfigError("scenario.stakes.surplus_share_cars_and_parts",
                          "the surplus from cars and parts exceeds their exports")
    yen = read(cfg, "scenario.yen_per_usd")
    p = "scenario.payoff.{party}."
    weights = {
        exporter: {k: read(cfg, p + k, exporter) for k in ("tariff_cost_share", "investment_years", "investment_cost")},
        importer: {k: read(cfg, p + k, importer) for k in
                   ("revenue_weight", "consumer_cost_weight", "pass_through", "investment_value", "purchase_value")},
    }
    weights[exporter]["purchase_cost"] = {}
    purchases = [i for i in space.issues if i.tag("kind") == "purchase"]
    template = PARAMETERS[p + "purchase_cost.{item}"]
    for issue in purchases:
        item = dataclasses.replace(template, key=template.key.replace("{item}", issue.name))
        weights[exporter]["purchase_cost"][issue.name] = item.read(cfg, exporter,
                                                                   what=" (cost per USD of purchases)")
    yearly = sum(i.hi for i in purchases)
    surplus_usd_bn = stakes["surplus_tn_yen"] * 1000.0 / yen
    if yearly > surplus_usd_bn:
        raise ConfigError("scenario.issues", f"yearly purchase maxima add up to {yearly:g} USD bn, above the "
                                             f"exporter's surplus with the importer ({surplus_usd_bn:.1f} USD bn)")
    return stakes, yen, weights
