"""The typed trade payoff model of a scenario built in Python: volumes, pledges by form, tariffs both ways, shared
objectives, the schedule and the stages, each checked against a hand calculation or naming its key when wrong.

The payoffs are compared with tests/test_volumes.py's ``_by_hand``, typed in from the formula in
sim/domain/payoffs/tariffs.py's docstring, not with what the code under test printed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.config.scenario import compile_point, trade_model
from sim.config.schema import (
    Change,
    Deadline,
    Issue,
    Objectives,
    Party,
    PledgeForm,
    Scenario,
    TradePayoff,
)
from sim.config.values import ConfigError
from tests.test_volumes import _by_hand

ISSUES = (
    Issue("reciprocal", "m", "pp", 0.0, 40.0, 10.0, tags={"kind": "tariff", "flow": "other_goods"}),
    Issue("access", "x", "pp", 0.0, 20.0, 20.0, tags={"kind": "tariff", "flow": "farm_goods"}),  # x's own tariff
    Issue("investment", "x", "USD bn", 0.0, 100.0, 0.0, tags={"kind": "investment", "form": "equity"}),
    Issue("lng", "x", "USD bn", 0.0, 10.0, 0.0, tags={"kind": "purchase", "form": "purchase_intentions"}),
)
M = Objectives(revenue_weight=1.0, consumer_cost_weight=0.5, investment_value=1.0, purchase_value=0.8,
               headline_value=0.1, market_access_weight=2.0, lost_sales_margin=0.25)
X = Objectives(revenue_weight=0.5, consumer_cost_weight=1.0, investment_years=10.0, investment_cost=9.9,
               purchase_cost={"lng": 0.2}, lost_sales_margin=0.4)


def _trade(**changes) -> TradePayoff:
    return TradePayoff(**{"importer": "m", "exporter": "x", "pass_through": 0.7,
                          "exports_usd_bn": {"other_goods": 50.0}, "surplus_usd_bn": 30.0,
                          "importer_exports_usd_bn": {"farm_goods": 8.0},
                          "elasticity": {"other_goods": 1.5, "farm_goods": 0.8},
                          "pledges": {"equity": PledgeForm(0.6, 0.3), "purchase_intentions": PledgeForm(0.5)},
                          "objectives": {"m": M, "x": X}, **changes})


def _scenario(**changes) -> Scenario:
    return Scenario(**{"name": "two-way", "parties": (Party("m"), Party("x")), "issues": ISSUES,
                       "deadline": Deadline(round=8), "max_rounds": 12, "payoff": _trade(), **changes})


@pytest.mark.parametrize("package", [(10.0, 20.0, 0.0, 0.0), (0.0, 0.0, 100.0, 10.0), (40.0, 5.0, 30.0, 2.5)])
def test_a_python_trade_scenario_has_the_hand_calculated_payoffs(package):
    exact = trade_model(_scenario().to_config()).exact(np.array(package))
    m, x = _by_hand(*package)
    assert exact["m"] == pytest.approx(m, abs=1e-12)
    assert exact["x"] == pytest.approx(x, abs=1e-12)


def test_a_python_trade_scenario_runs():
    out = _scenario().run(seeds=4)
    assert out["deal"].shape == (4,)
    assert set(np.unique(out["end_round"])) <= set(range(1, 13))


def test_shared_objectives_are_read_from_their_file():
    from omegaconf import OmegaConf

    from sim.config.values import CONF_DIR

    files = sorted((CONF_DIR / "scenario" / "objectives").glob("*.yaml"))
    assert files, "no shared objectives file"
    node = OmegaConf.to_container(OmegaConf.load(files[0]))["payoff"]
    party, weights = next(iter(node.items()))
    loaded = Objectives.load(files[0].stem, party)
    assert loaded.node() == weights  # every weight of the file, none added


def test_the_schedule_and_the_stages_reach_the_compiled_scenario():
    change = Change("reciprocal", 25.0, effective=dt.date(2025, 1, 20), announced=dt.date(2025, 1, 6))
    compiled = _scenario(schedule=(change,), stages=(("reciprocal", "access"), ("investment", "lng")),
                         protocol="sequential").compile()
    (scheduled,) = compiled.structure.schedule
    assert (scheduled.effective, scheduled.step) == (3, 15.0)  # 6 Jan is round 1; 20 Jan two weeks on; 25 - 10
    assert compiled.structure.stages == ((0, 1), (2, 3))


@pytest.mark.parametrize("changes, key", [
    ({"pass_through": 1.5}, "scenario.payoff.pass_through"),
    ({"exports_usd_bn": {"oil": 1.0}}, "scenario.stakes.exports_usd_bn.oil"),
    ({"importer_exports_usd_bn": {"farm_goods": -1.0}}, "scenario.stakes.importer_exports_usd_bn.farm_goods"),
    ({"elasticity": {"other_goods": -0.5}}, "scenario.stakes.elasticity.other_goods"),
    ({"pledges": {"gifts": PledgeForm(0.5)}}, "scenario.payoff.pledges.gifts"),
    ({"pledges": {"equity": PledgeForm(1.2)}}, "scenario.payoff.pledges.equity.delivery"),
    ({"objectives": {"z": M}}, "scenario.payoff.z"),
    ({"exporter": "m"}, "scenario.payoff.exporter"),
])
def test_a_bad_value_is_refused_in_one_line_naming_its_key(changes, key):
    with pytest.raises(ConfigError) as err:
        _trade(**changes)
    assert str(err.value).startswith(f"{key}: ") and "\n" not in str(err.value)


def test_a_missing_weight_is_named_by_the_compiler():
    import dataclasses

    cfg = _scenario(payoff=_trade(objectives={"m": M, "x": dataclasses.replace(X, purchase_cost={})})).to_config()
    with pytest.raises(ConfigError, match=r"^scenario\.payoff\.x\.purchase_cost\.lng"):
        compile_point(cfg)


def test_a_bad_change_is_refused_naming_its_key():
    with pytest.raises(ConfigError, match=r"^scenario\.schedule\.kind: "):
        Change("reciprocal", 25.0, effective=dt.date(2025, 1, 20), kind="maybe")
    with pytest.raises(ConfigError, match=r"^scenario\.schedule\.announced: "):
        Change("reciprocal", 25.0, effective=dt.date(2025, 1, 20), announced=dt.date(2025, 2, 1))
