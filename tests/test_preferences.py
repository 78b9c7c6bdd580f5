"""Payoffs and utilities against hand calculations from the DOMAIN.md numbers.

The numbers below are typed in from docs/DOMAIN.md (and seed 000), not read from the scenario
file, so the test also checks that the scenario carries the documented values.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import plan
from sim.domain.payoffs.tariffs import derived_stakes
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds
from tests.conftest import AT_FACE_VALUE, compose_config

# DOMAIN.md §3a (MOF, calendar 2024): exports to the US ¥21.3 tn, autos + parts ¥7.2 tn, vehicles 28.3 % of
# exports to the US, steel ¥302.7 bn, surplus ¥8.6 tn; ¥145/$ = ¥8.6 tn / $59.4 bn. ¥1 tn = ¥1,000 bn.
YEN = 145.0
VEHICLES = 0.283 * 21.3 * 1000 / YEN
PARTS = (7.2 - 0.283 * 21.3) * 1000 / YEN
STEEL = 302.7 / YEN
OTHER = (21.3 - 7.2 - 0.3027) * 1000 / YEN
SURPLUS = 8.6 * 1000 / YEN
# §1a / §3d: tariffs in force when the talks open; SEED-000: 24 % after the deadline
SQ_RATES = {"cars": 27.5, "auto_parts": 25.0, "steel": 50.0, "reciprocal": 10.0}
# SEED-000: ~$2,000 per vehicle for the 25 pp auto tariff, 3.3 M Japanese-brand cars built in the US
CAR_PRICE_EFFECT = 2000 * 3.3e6 / 1e9  # USD bn/yr at 25 pp


def tariff_bill(cars, parts, steel, reciprocal):
    """Tariff paid on Japan's exports to the US, USD bn/yr."""
    return (cars * VEHICLES + parts * PARTS + steel * STEEL + reciprocal * OTHER) / 100.0


def test_dollar_stakes_are_the_yen_rows_of_domain_at_145_yen_per_dollar():
    """The scenario's USD stakes are the DOMAIN §3a yen rows converted by hand (to the 2 decimals written)."""
    stakes = compose_config().scenario.stakes
    exports = stakes.exports_usd_bn
    for flow, by_hand in (("vehicles", VEHICLES), ("auto_parts", PARTS), ("steel", STEEL), ("other_goods", OTHER)):
        assert exports[flow] == pytest.approx(by_hand, abs=0.005), flow
    assert stakes.surplus_usd_bn == pytest.approx(SURPLUS, abs=0.005)
    # the four flows add up to all exports to the US: ¥21.3 tn ≈ $146.9 bn (DOMAIN §3a: "≈ $149.6 bn" at its own rate)
    assert sum(exports.values()) == pytest.approx(21.3 * 1000 / YEN, abs=0.02)


def test_derived_stakes_report_the_dollar_stakes():
    stakes = compose_config().scenario.stakes
    d = derived_stakes({"exports_usd_bn": dict(stakes.exports_usd_bn), **{k: v for k, v in stakes.items()
                                                                          if k != "exports_usd_bn"}})
    assert d["surplus_usd_bn"] == pytest.approx(59.31, abs=0.005)  # SEED-000 says $59.4 bn at its own rate
    assert d["exports_total_usd_bn"] == pytest.approx(41.57 + 8.08 + 2.09 + 95.15)
    assert d["car_price_effect_usd_bn_per_pp"] == pytest.approx(CAR_PRICE_EFFECT / 25)


def _agents(*overrides):
    p = plan(compose_config(*AT_FACE_VALUE, *overrides))
    point = p.points[0]
    model = NegotiationModel(point.structure, stack([point.inputs]), world_seeds(1, [0]))
    return model, model.negotiator("us"), model.negotiator("japan")


def test_status_quo_payoffs_match_hand_calculation():
    model, us, japan = _agents()
    bill = tariff_bill(*SQ_RATES.values())
    assert bill == pytest.approx(24.0123, abs=2e-3)  # about $24 bn a year
    phi = 0.6  # the scenario's pass-through: US buyers pay 60 % of the bill, Japan's exporters absorb 40 %
    # Japan bears its exporters' share of the bill and has made no concessions
    assert japan.utility.payoff(model.no_deal.status_quo)[0] == pytest.approx(-(1 - phi) * bill, abs=1e-3)
    # US: revenue minus half of (passed-through bill + car price effect at the full 25 pp surcharge)
    assert us.utility.payoff(model.no_deal.status_quo)[0] == pytest.approx(
        bill - 0.5 * (phi * bill + CAR_PRICE_EFFECT), abs=1e-3)


def test_the_bill_is_split_without_a_double_count():
    """Exporter's share + importer's buyers' share = the whole bill = the importer's revenue, for any phi."""
    for phi in (0.0, 0.3, 1.0):
        model, us, japan = _agents(f"scenario.payoff.pass_through={phi}", "scenario.payoff.us.consumer_cost_weight=1",
                                   "scenario.stakes.price_effect_usd_per_vehicle=0")
        x = model.no_deal.status_quo
        bill = tariff_bill(*SQ_RATES.values())
        japan_loss = -japan.utility.payoff(x)[0]
        us_buyers_loss = bill - us.utility.payoff(x)[0]  # revenue (weight 1) minus the US payoff (weight 1)
        assert japan_loss == pytest.approx((1 - phi) * bill, abs=1e-3)
        assert japan_loss + us_buyers_loss == pytest.approx(bill, abs=2e-3)


def test_escalated_no_deal_payoff_includes_the_24_percent_reciprocal_tariff():
    model, us, japan = _agents()
    bill = tariff_bill(27.5, 25.0, 50.0, 24.0)
    assert japan.utility.payoff(model.no_deal.escalated)[0] == pytest.approx(-0.4 * bill, abs=1e-3)
    assert us.utility.payoff(model.no_deal.escalated)[0] == pytest.approx(
        bill - 0.5 * (0.6 * bill + CAR_PRICE_EFFECT), abs=1e-3)


def test_japanese_concessions_cost_japan_and_benefit_the_us():
    model, us, japan = _agents()
    x = model.no_deal.status_quo.copy()
    x[0, model.space.index("energy")] += 10.0  # $10 bn/yr more LNG
    x[0, model.space.index("investment")] += 100.0  # $100 bn pledge over 10 years
    # energy: cost 0.1 per USD to Japan, worth 1 per USD to the US; investment: 0.25 / 1 per USD a year
    assert japan.utility.payoff(x)[0] - japan.utility.payoff(model.no_deal.status_quo)[0] == pytest.approx(-(0.1 * 10 + 0.25 * 10))
    assert us.utility.payoff(x)[0] - us.utility.payoff(model.no_deal.status_quo)[0] == pytest.approx(10 + 10)


def test_utilities_are_zero_and_one_at_the_ideals_and_within_bounds():
    model, us, japan = _agents()
    rng = np.random.default_rng(0)
    lo, hi = model.space.lo, model.space.hi
    packages = lo + rng.random((1000, model.space.n)) * (hi - lo)
    for side, other in ((us, japan), (japan, us)):
        assert side.utility(side.best)[0] == pytest.approx(1.0)
        assert side.utility(other.best)[0] == pytest.approx(0.0)  # every issue is opposed
        u = (packages @ side.utility.a[0] + side.utility.b[0] - side.utility.p_min[0]) / side.utility.span[0]
        assert u.min() >= 0.0 and u.max() <= 1.0


def test_reservation_value_moves_from_status_quo_to_escalation_by_the_deadline():
    model, us, japan = _agents("scenario.deadline.extension.probability=0")
    deadline = int(model.deadlines.deadline[0])
    rv_j = np.array([japan.reservation(t)[0] for t in range(1, deadline + 1)])
    rv_u = np.array([us.reservation(t)[0] for t in range(1, deadline + 1)])
    # one year valuation window (52 rounds): in round t the status quo covers (deadline - t) / 52
    w = (deadline - np.arange(1, deadline + 1)) / 52
    assert rv_j == pytest.approx(w * japan.value_of_no_deal.u_status_quo[0] + (1 - w) * japan.value_of_no_deal.u_escalated[0])
    assert np.all(np.diff(rv_j) < 0) and np.all(np.diff(rv_u) > 0)  # Japan's falls, the US's rises
    assert rv_j[-1] == pytest.approx(japan.value_of_no_deal.u_escalated[0]) and rv_u[-1] == pytest.approx(us.value_of_no_deal.u_escalated[0])
