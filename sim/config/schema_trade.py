"""The typed parts of a scenario beyond its issues and stances: the trade payoff model's stakes and each party's
objectives, the scheduled changes of the no-deal path, and the stages of a staged agenda.

Each object checks its own values when built, in one line naming the config key it stands for (as the compiler
names a key of a file), and writes itself as the config node the compiler reads (:meth:`TradePayoff.nodes`,
:meth:`Change.node`). :class:`Objectives` is one party's payoff weights, the same whatever the talks: a party's
objectives written once in a file of ``conf/scenario/objectives/`` are read with :meth:`Objectives.load` and
shared by every scenario of that party, as the YAML scenarios share them through their defaults list.

A tariff either party levies is an issue like any other: a tariff granted by the exporter taxes the importer's
flows (``importer_exports_usd_bn``), which is how retaliation, prepared counter-measures and a partner's cut of
its own tariffs (market access) enter; each flow falls with the tariff at its import-demand ``elasticity``
(:mod:`sim.domain.payoffs.tariffs`), and a pledge is worth its ``delivery`` share and costs its ``cost`` share
by its form (:class:`PledgeForm`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping

from sim.config.values import ConfigError
from sim.domain.payoffs.tariffs import FLOWS, PLEDGE_FORMS

__all__ = ["Change", "Objectives", "PledgeForm", "TradePayoff"]

OBJECTIVE_WEIGHTS = ("revenue_weight", "consumer_cost_weight", "investment_value", "purchase_value",
                     "headline_value", "market_access_weight", "lost_sales_margin", "investment_years",
                     "investment_cost")


def _share(value: float, key: str) -> None:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise ConfigError(key, f"must be a share from 0 to 1, got {value!r}")


def _usd(value: float, key: str, what: str = "USD bn a year") -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0.0):
        raise ConfigError(key, f"must be a non-negative number ({what}), got {value!r}")


def _flows(flows: Mapping[str, float], key: str) -> None:
    for flow, value in flows.items():
        if flow not in FLOWS:
            raise ConfigError(f"{key}.{flow}", f"is no export flow; choose from {', '.join(FLOWS)}")
        _usd(value, f"{key}.{flow}")


@dataclasses.dataclass(frozen=True)
class PledgeForm:
    """What a pledge of one form (equity, loans and guarantees, purchase intentions) is worth.

    Attributes:
        delivery: The expected share of the headline delivered (both sides value the delivered part).
        cost: The cost to its maker per USD delivered (``None``: the compiler's default for the form).
    """

    delivery: float
    cost: float | None = None


@dataclasses.dataclass(frozen=True)
class Objectives:
    """One party's payoff weights in the trade payoff model, per USD (``scenario.payoff.<party>``); a weight
    left ``None`` is not written, so the compiler names it if the model needs it.

    Attributes:
        revenue_weight: Worth of a USD of tariff revenue it collects.
        consumer_cost_weight: Cost of a USD its buyers pay in tariffs.
        investment_value: Worth of a USD of investment it receives.
        purchase_value: Worth of a USD of purchases of its goods.
        headline_value: Worth of a pledge's headline beyond its expected delivery.
        market_access_weight: Worth of a USD of its exporters' sales a partner's tariff cut restores.
        lost_sales_margin: Its exporters' loss per USD of sales a tariff removes.
        investment_years: Years over which an investment pledge is spread (the pledging side).
        investment_cost: Cost per USD of an investment pledge without a form (the pledging side).
        purchase_cost: Cost per USD of each purchase issue (the pledging side), by issue name.
    """

    revenue_weight: float | None = None
    consumer_cost_weight: float | None = None
    investment_value: float | None = None
    purchase_value: float | None = None
    headline_value: float | None = None
    market_access_weight: float | None = None
    lost_sales_margin: float | None = None
    investment_years: float | None = None
    investment_cost: float | None = None
    purchase_cost: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def node(self) -> dict:
        """The weights given, as the node ``scenario.payoff.<party>``."""
        out = {k: getattr(self, k) for k in OBJECTIVE_WEIGHTS if getattr(self, k) is not None}
        return out | ({"purchase_cost": dict(self.purchase_cost)} if self.purchase_cost else {})

    @classmethod
    def load(cls, name: str, party: str) -> Objectives:
        """A party's objectives from ``conf/scenario/objectives/<name>.yaml`` (its ``payoff.<party>`` node),
        the file its YAML scenarios include.

        Raises:
            ConfigError: no such file, no such party in it, or a key that is no weight.
        """
        from omegaconf import OmegaConf

        from sim.config.values import CONF_DIR

        path = CONF_DIR / "scenario" / "objectives" / f"{name}.yaml"
        if not path.is_file():
            found = sorted(p.stem for p in path.parent.glob("*.yaml"))
            raise ConfigError("objectives", f"unknown objectives {name!r}; choose one of {', '.join(found)}")
        node = (OmegaConf.to_container(OmegaConf.load(path)).get("payoff") or {}).get(party)
        if not isinstance(node, dict):
            raise ConfigError(f"objectives.{name}", f"has no weights of the party {party!r}")
        unknown = set(node) - {*OBJECTIVE_WEIGHTS, "purchase_cost"}
        if unknown:
            raise ConfigError(f"scenario.payoff.{party}.{sorted(unknown)[0]}",
                              f"is no objective weight; allowed: {', '.join(OBJECTIVE_WEIGHTS)}, purchase_cost")
        return cls(**node)


@dataclasses.dataclass(frozen=True)
class TradePayoff:
    """The trade payoff model of a scenario: who levies the tariffs, the flows they tax, and each side's
    objectives (``scenario.payoff`` and ``scenario.stakes``).

    Attributes:
        importer: The party whose tariffs tax the exporter's flows.
        exporter: The other party (it pledges investment and purchases, and may levy tariffs of its own).
        pass_through: Share of a tariff its buyers bear (the rest the exporting firms absorb).
        exports_usd_bn: The exporter's yearly exports per flow the importer's tariff issues tax (USD bn/yr).
        surplus_usd_bn: The exporter's yearly surplus with the importer (caps the purchase maxima).
        objectives: Each party's :class:`Objectives`, by party id.
        importer_exports_usd_bn: The importer's yearly exports per flow the exporter's tariff issues tax:
            retaliation, counter-measures, market access (USD bn/yr).
        elasticity: The import-demand elasticity of each flow (0: volumes do not move).
        pledges: What each pledge form is worth (:class:`PledgeForm`), by form.
        domestic_vehicles_m, price_effect_usd_per_vehicle, price_effect_at_pp: The car-price stakes
            (million vehicles a year built in the importer by the exporter's brands, the price rise per vehicle,
            and the tariff at which it was estimated).
    """

    importer: str
    exporter: str
    pass_through: float
    exports_usd_bn: Mapping[str, float]
    surplus_usd_bn: float
    objectives: Mapping[str, Objectives] = dataclasses.field(default_factory=dict)
    importer_exports_usd_bn: Mapping[str, float] = dataclasses.field(default_factory=dict)
    elasticity: Mapping[str, float] = dataclasses.field(default_factory=dict)
    pledges: Mapping[str, PledgeForm] = dataclasses.field(default_factory=dict)
    domestic_vehicles_m: float = 0.0
    price_effect_usd_per_vehicle: float = 0.0
    price_effect_at_pp: float = 25.0

    def __post_init__(self) -> None:
        if self.importer == self.exporter:
            raise ConfigError("scenario.payoff.exporter", "must be the other party than scenario.payoff.importer")
        _share(self.pass_through, "scenario.payoff.pass_through")
        _flows(self.exports_usd_bn, "scenario.stakes.exports_usd_bn")
        _flows(self.importer_exports_usd_bn, "scenario.stakes.importer_exports_usd_bn")
        _usd(self.surplus_usd_bn, "scenario.stakes.surplus_usd_bn")
        for flow, value in self.elasticity.items():
            key = f"scenario.stakes.elasticity.{flow}"
            if flow not in FLOWS:
                raise ConfigError(key, f"is no export flow; choose from {', '.join(FLOWS)}")
            if not (isinstance(value, int | float) and 0.0 <= value <= 20.0):
                raise ConfigError(key, f"must be an elasticity from 0 to 20, got {value!r}")
        for form, worth in self.pledges.items():
            key = f"scenario.payoff.pledges.{form}"
            if form not in PLEDGE_FORMS:
                raise ConfigError(key, f"is no pledge form; choose from {', '.join(PLEDGE_FORMS)}")
            _share(worth.delivery, f"{key}.delivery")
            if worth.cost is not None:
                _usd(worth.cost, f"{key}.cost", "cost per USD delivered")
        for pid in self.objectives:
            if pid not in (self.importer, self.exporter):
                raise ConfigError(f"scenario.payoff.{pid}", f"names no party; the parties are {self.importer} "
                                                            f"and {self.exporter}")

    def nodes(self) -> tuple[dict, dict]:
        """The config nodes ``scenario.payoff`` and ``scenario.stakes``."""
        pledges = {form: {"delivery": w.delivery, **({} if w.cost is None else {"cost": w.cost})}
                   for form, w in self.pledges.items()}
        payoff = {"model": {"_target_": "sim.config.payoffs.Trade"}, "importer": self.importer,
                  "exporter": self.exporter, "pass_through": self.pass_through,
                  **({"pledges": pledges} if pledges else {}),
                  **{pid: objectives.node() for pid, objectives in self.objectives.items()}}
        stakes = {"exports_usd_bn": dict(self.exports_usd_bn), "surplus_usd_bn": self.surplus_usd_bn,
                  "domestic_vehicles_m": self.domestic_vehicles_m,
                  "price_effect_usd_per_vehicle": self.price_effect_usd_per_vehicle,
                  "price_effect_at_pp": self.price_effect_at_pp,
                  **({"importer_exports_usd_bn": dict(self.importer_exports_usd_bn)}
                     if self.importer_exports_usd_bn else {}),
                  **({"elasticity": dict(self.elasticity)} if self.elasticity else {})}
        return payoff, stakes


@dataclasses.dataclass(frozen=True)
class Change:
    """One scheduled change of an issue's value on the no-deal path (``scenario.schedule``).

    Attributes:
        issue: The issue it changes.
        value: Its value from ``effective`` on.
        effective: The day it takes effect.
        announced: The day it was announced (``None``: known when the talks open).
        kind: ``change`` (it happens without a deal) or ``threat`` (announced, and counted as such).
        note: A short description.
    """

    issue: str
    value: float
    effective: dt.date
    announced: dt.date | None = None
    kind: str = "change"
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("change", "threat"):
            raise ConfigError("scenario.schedule.kind", f"must be change or threat, got {self.kind!r}")
        if self.announced is not None and self.announced > self.effective:
            raise ConfigError("scenario.schedule.announced", "must not come after the change takes effect")

    def node(self) -> dict:
        """The change as an entry of ``scenario.schedule``."""
        out = {"issue": self.issue, "value": self.value, "effective": self.effective.isoformat(),
               "kind": self.kind, "note": self.note}
        return out | ({} if self.announced is None else {"announced": self.announced.isoformat()})
