"""The trade payoff model with volumes, pledges at their expected worth and tariffs both ways, by hand.

Each expected value is typed in from the formula of sim/domain/payoffs/tariffs.py's docstring on a small space,
not read from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.config import plan
from sim.config.scenario import trade_model
from sim.config.values import ConfigError
from sim.domain.outcome_space import Issue, OutcomeSpace
from sim.domain.payoffs.tariffs import TradeModel, volume_share
from tests.conftest import AT_FACE_VALUE, compose_config


def _issue(name, grantor, lo, hi, sq, **tags):
    return Issue(name=name, grantor=grantor, unit="pp" if tags.get("kind") == "tariff" else "USD bn", status_quo=sq,
                 lo=lo, hi=hi, tags=tuple(sorted(tags.items())))


SPACE = OutcomeSpace((
    _issue("reciprocal", "m", 0.0, 40.0, 10.0, kind="tariff", flow="other_goods"),
    _issue("access", "x", 0.0, 20.0, 20.0, kind="tariff", flow="farm_goods"),  # x's tariff on m's goods
    _issue("investment", "x", 0.0, 100.0, 0.0, kind="investment", form="equity"),
    _issue("lng", "x", 0.0, 10.0, 0.0, kind="purchase", form="purchase_intentions"),
))
STAKES = {"exports_usd_bn": {"other_goods": 50.0}, "importer_exports_usd_bn": {"farm_goods": 8.0},
          "elasticity": {"other_goods": 1.5, "farm_goods": 0.8},
          "price_effect_usd_per_vehicle": 0.0, "domestic_vehicles_m": 0.0, "price_effect_at_pp": 25.0}
WEIGHTS = {
    "m": {"revenue_weight": 1.0, "consumer_cost_weight": 0.5, "investment_value": 1.0, "purchase_value": 0.8,
          "headline_value": 0.1, "market_access_weight": 2.0, "lost_sales_margin": 0.25},
    "x": {"revenue_weight": 0.5, "consumer_cost_weight": 1.0, "investment_years": 10.0, "investment_cost": 9.9,
          "purchase_cost": {"lng": 0.2}, "lost_sales_margin": 0.4},
}
PLEDGES = {"equity": {"delivery": 0.6, "cost": 0.3}, "purchase_intentions": {"delivery": 0.5}}
PHI = 0.7


def _model(**changes):
    return TradeModel(SPACE, {**STAKES, **changes}, PHI, WEIGHTS, "m", "x", PLEDGES)


def _by_hand(t, a, inv, y):
    """Both payoffs of one package (reciprocal t, access a, investment inv, purchases y) from the docstring."""
    s_t = (1 + PHI * t / 100) ** -1.5
    s_a = (1 + PHI * a / 100) ** -0.8
    bill_t, bill_a = t / 100 * 50.0 * s_t, a / 100 * 8.0 * s_a
    m = (1.0 * bill_t - 0.5 * PHI * bill_t                                # m's revenue and its buyers' prices
         - 2.0 * ((1 - PHI) * bill_a + 0.25 * 8.0 * (1 - s_a))          # its exporters on x's market, weighted
         + (1.0 * 0.6 + 0.1) * inv / 10 + (0.8 * 0.5 + 0.1) * y)         # pledges as delivered, and the headline
    x = (-(1 - PHI) * bill_t - 0.4 * 50.0 * (1 - s_t)                    # absorbed tariff and the lost margin
         + 0.5 * bill_a - 1.0 * PHI * bill_a                             # its own tariff on m's goods
         - 0.3 * 0.6 * inv / 10 - 0.2 * 0.5 * y)                         # pledges at cost share x delivery
    return m, x


@pytest.mark.parametrize("package", [(10.0, 20.0, 0.0, 0.0), (0.0, 0.0, 100.0, 10.0), (25.0, 7.5, 40.0, 3.0),
                                     (40.0, 0.0, 100.0, 10.0)])
def test_exact_payoffs_match_the_hand_calculation(package):
    exact = _model().exact(np.array(package))
    m, x = _by_hand(*package)
    assert exact["m"] == pytest.approx(m, abs=1e-12)
    assert exact["x"] == pytest.approx(x, abs=1e-12)


def test_the_flow_falls_with_the_passed_through_tariff():
    assert volume_share(0.0, 2.0, 1.0) == 1.0
    assert volume_share(25.0, 0.76, 1.0) == pytest.approx(1.25 ** -0.76)
    assert volume_share(25.0, 0.76, 0.0) == 1.0  # sellers absorb the whole tariff: the flow does not fall


def test_one_world_s_share_is_the_many_worlds_one_bit_for_bit():
    # a plan lays out a million drawn worlds from arrays and checks them against one world's compile bit for bit;
    # where NumPy has a vector pow of its own (AVX-512), a scalar's ** (the C library's pow) differed from it in
    # the last bit for about one value in 18, the check failed and every world was compiled instead
    rng = np.random.default_rng(7)
    t, eps, phi = rng.uniform(0, 50, 2_000), rng.uniform(0.2, 3.0, 2_000), rng.uniform(0, 1, 2_000)
    many = volume_share(t, eps, phi)
    one = [volume_share(t[i], float(eps[i]), float(phi[i])) for i in range(len(t))]
    assert np.array_equal(many, np.array(one))
    assert np.all((many > 0) & (many <= 1))  # a tariff never raises the flow


def test_the_affine_payoff_is_the_chord_exact_at_both_ends_of_each_range():
    model = _model()
    affine = model.affine()
    lo, hi = SPACE.lo, SPACE.hi
    for corner in (lo, hi, np.array([40.0, 0.0, 0.0, 10.0]), np.array([0.0, 20.0, 100.0, 0.0])):
        exact = model.exact(corner)
        for p in ("m", "x"):
            assert affine[p].payoff(corner) == pytest.approx(exact[p], abs=1e-9)
    # inside a range the chord lies below a concave remainder and above a convex one; the largest gap is the
    # measured chord error, checked here by an independent, finer search over each tariff's range
    error = model.chord_error()
    for p in ("m", "x"):
        worst = 0.0
        for k in (0, 1):
            t = np.linspace(SPACE.lo[k], SPACE.hi[k], 200_001)
            xs = np.tile(SPACE.lo, (t.size, 1))
            xs[:, k] = t
            worst += float(np.max(np.abs(model.exact(xs)[p] - affine[p].payoff(xs))))
        assert error[p] == pytest.approx(worst, rel=1e-5)
        assert error[p] > 0


def test_without_volumes_the_payoff_is_affine_and_the_chord_exact():
    model = _model(elasticity={})
    affine, rng = model.affine(), np.random.default_rng(3)
    xs = SPACE.lo + rng.random((50, SPACE.n)) * (SPACE.hi - SPACE.lo)
    for p in ("m", "x"):
        assert np.allclose(affine[p].payoff(xs), model.exact(xs)[p], atol=1e-12)
        assert model.chord_error()[p] == 0.0
    # the coefficient of the reciprocal tariff per pp, by hand: revenue less half the passed-through bill to m,
    # the absorbed part to x; of x's own tariff: its revenue less its buyers' prices, and m's exporters' loss x 2
    assert affine["m"].a[0] == pytest.approx((1.0 - 0.5 * PHI) * 0.5)
    assert affine["x"].a[0] == pytest.approx(-(1 - PHI) * 0.5)
    assert affine["x"].a[1] == pytest.approx((0.5 - 1.0 * PHI) * 0.08)
    assert affine["m"].a[1] == pytest.approx(-2.0 * (1 - PHI) * 0.08)


def test_exporter_loss_splits_into_the_absorbed_tariff_and_the_lost_margin():
    loss = _model().exporter_loss(np.array([30.0, 20.0, 0.0, 0.0]))  # x's own tariff (access) is not a loss
    s = (1 + PHI * 0.30) ** -1.5
    assert loss["absorbed"] == pytest.approx((1 - PHI) * 0.30 * 50.0 * s)
    assert loss["lost_margin"] == pytest.approx(0.4 * 50.0 * (1 - s))
    assert loss["total"] == pytest.approx(loss["absorbed"] + loss["lost_margin"])


def test_the_default_scenarios_at_face_value_are_the_payoffs_before_volumes():
    """With every elasticity 0 and every pledge at its headline, the Japan case's payoffs are the affine ones of the
    first calibration: the car price effect and the weights, by hand per unit of each issue."""
    point = plan(compose_config(*AT_FACE_VALUE)).points[0]
    us, japan = point.inputs.parties
    names = point.structure.space.names
    other = compose_config().scenario.stakes.exports_usd_bn.other_goods
    assert us.payoff_a[names.index("reciprocal")] == pytest.approx((1.0 - 0.5 * 0.6) * other / 100)
    assert japan.payoff_a[names.index("reciprocal")] == pytest.approx(-0.4 * other / 100)
    assert japan.payoff_a[names.index("investment")] == pytest.approx(-0.25 / 10)
    assert japan.payoff_a[names.index("energy")] == pytest.approx(-0.1)
    # with the defaults: a pledge is worth its expected delivery to both sides (0.6 of an investment headline,
    # 0.58 of a purchase headline), its cost scales the same way
    point = plan(compose_config()).points[0]
    us, japan = point.inputs.parties
    assert japan.payoff_a[names.index("investment")] == pytest.approx(-0.25 * 0.6 / 10)
    assert us.payoff_a[names.index("investment")] == pytest.approx(1.0 * 0.6 / 10)
    assert japan.payoff_a[names.index("energy")] == pytest.approx(-0.1 * 0.58)
    assert us.payoff_a[names.index("energy")] == pytest.approx(1.0 * 0.58)


def test_the_scenario_trade_model_is_the_compiled_one():
    cfg = OmegaConf.to_container(compose_config(), resolve=True)
    model = trade_model(cfg)
    point = plan(compose_config()).points[0]
    for pid, inputs in zip(("us", "japan"), point.inputs.parties, strict=True):
        assert np.array_equal(model.affine()[pid].a, inputs.payoff_a)


@pytest.mark.parametrize(("override", "key"), [
    ("scenario.issues.investment.tags.form=shares", "scenario.issues.investment.tags.form: must be one of equity"),
    ("scenario.stakes.elasticity.vehicles=-1", "scenario.stakes.elasticity.vehicles"),
    ("scenario.payoff.pledges.equity.delivery=3", "scenario.payoff.pledges.equity.delivery"),
])
def test_bad_values_are_refused_naming_the_key(override, key):
    with pytest.raises(ConfigError, match=key):
        plan(compose_config(override))


def test_a_tariff_of_the_exporter_needs_its_flow_and_weights():
    """A partner's tariff on the importer's goods (market access) is an ordinary issue; without the flow it taxes
    the run is refused in one line."""
    base = ["+scenario.issues.access={grantor: japan, unit: pp, status_quo: 5.0, min: 0.0, max: 10.0, "
            "tags: {kind: tariff, flow: farm_goods, sector: package}}"]
    with pytest.raises(ConfigError, match="scenario.stakes.importer_exports_usd_bn"):
        plan(compose_config(*base))
    with pytest.raises(ConfigError, match="scenario.payoff.japan.revenue_weight"):
        plan(compose_config(*base, "+scenario.stakes.importer_exports_usd_bn={farm_goods: 12.0}"))
    point = plan(compose_config(*base, "+scenario.stakes.importer_exports_usd_bn={farm_goods: 12.0}",
                                "+scenario.payoff.japan.revenue_weight=1.0",
                                "+scenario.payoff.japan.consumer_cost_weight=0.5")).points[0]
    us, japan = point.inputs.parties
    k = point.structure.space.names.index("access")
    # no elasticity for farm goods in this scenario: affine, by hand per pp of Japan's tariff
    assert japan.payoff_a[k] == pytest.approx((1.0 - 0.5 * 0.6) * 0.12)
    assert us.payoff_a[k] == pytest.approx(-(1 - 0.6) * 0.12)
