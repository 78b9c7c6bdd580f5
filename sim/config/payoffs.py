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
from sim.domain.payoffs.tariffs import FLOWS

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
    """Read the tariff payoff model's inputs: the stakes (USD), the pass-through and each side's weights.

    Returns:
        ``(stakes, pass_through, weights)``: ``stakes["exports_usd_bn"]`` maps each export flow taxed by a
        tariff issue to its value (USD bn/yr); ``weights`` has a sub-block per party id.

    Raises:
        ConfigError: a missing or out-of-range value, a tariff issue whose flow has no export value, or
            yearly purchase maxima above the exporter's surplus.
    """
    flows = get(cfg, "scenario.stakes.exports_usd_bn")
    if not isinstance(flows, dict) or any(f not in FLOWS for f in flows):
        raise ConfigError("scenario.stakes.exports_usd_bn", f"must map export flows among {', '.join(FLOWS)} "
                                                            f"to USD bn a year")
    for issue in space.issues:
        if issue.tag("kind") == "tariff" and issue.tag("flow") not in flows:
            raise ConfigError("scenario.stakes.exports_usd_bn", f"has no value for the flow "
                                                                f"{issue.tag('flow')!r} of the tariff issue "
                                                                f"{issue.name!r}")
    template = PARAMETERS["scenario.stakes.exports_usd_bn.{flow}"]
    exports = {f: dataclasses.replace(template, key=template.key.replace("{flow}", f)).read(cfg) for f in flows}
    stakes = {"exports_usd_bn": exports,
              **{k.rsplit(".", 1)[1]: read(cfg, k) for k in PARAMETERS
                 if k.startswith("scenario.stakes.") and "{" not in k}}
    pass_through = read(cfg, "scenario.payoff.pass_through")
    p = "scenario.payoff.{party}."
    weights = {
        exporter: {k: read(cfg, p + k, exporter) for k in ("investment_years", "investment_cost")},
        importer: {k: read(cfg, p + k, importer) for k in
                   ("revenue_weight", "consumer_cost_weight", "investment_value", "purchase_value")},
    }
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
