"""The second case study (issue 11): the US–Korea scenario through the same engine, checked by hand.

The numbers below are typed in from docs/DOMAIN_us_korea.md (rows cited as "KR §x"), not read from the
scenario file, so the tests also check that the scenario carries the documented values.
"""

from __future__ import annotations

import datetime as dt

import pytest
from omegaconf import OmegaConf

from sim.config import available, plan
from sim.config.calibration import calibration_entries
from sim.domain.calendar import round_on_or_after
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds
from sim.report.calibration import no_deal_rows
from sim.run.runner import simulate
from tests.conftest import AT_FACE_VALUE, compose_config

KOREA = "scenario=us_korea_2025"

# KR §3a, 2024, USD bn: exports to the US, vehicles, auto parts, steel + aluminium (US ITA), surplus
EXPORTS, VEHICLES, PARTS, STEEL, SURPLUS = 127.8, 34.74, 8.22, 2.90 + 0.78, 55.63
OTHER = EXPORTS - VEHICLES - PARTS - STEEL  # 81.16: everything the reciprocal tariff hits
# KR §3c: 0.70 M Korean-brand cars built in the US; KR §3e: $1,760 a car for the 25 pp car tariff
BUILT_IN_US_M, PRICE_EFFECT, AT_PP = 0.70, 1760.0, 25.0
CAR_PRICE_EFFECT = PRICE_EFFECT * BUILT_IN_US_M * 1e6 / 1e9  # USD bn/yr at the full 25 pp surcharge
# KR §3f, §4c: pass-through 0.6, bill-weighted between 0.50 and 0.68; Korea's exporters absorb 1 - 0.6
PHI = 0.6


def tariff_bill(cars: float, parts: float, steel: float, reciprocal: float) -> float:
    """Tariff on Korea's exports to the US at these rates (pp), USD bn/yr, without a volume response."""
    return (cars * VEHICLES + parts * PARTS + steel * STEEL + reciprocal * OTHER) / 100.0


def test_the_dollar_stakes_are_the_fact_sheet_rows():
    """Each flow by hand from KR §3a; the four flows add up to Korea's $127.8 bn of exports to the US."""
    point = plan(compose_config(KOREA)).points[0]
    d = point.stakes_usd
    assert d["exports_vehicles_usd_bn"] == pytest.approx(VEHICLES)
    assert d["exports_auto_parts_usd_bn"] == pytest.approx(PARTS)
    assert d["exports_steel_usd_bn"] == pytest.approx(STEEL)
    assert d["exports_other_goods_usd_bn"] == pytest.approx(OTHER)
    assert d["exports_total_usd_bn"] == pytest.approx(EXPORTS)
    assert d["surplus_usd_bn"] == pytest.approx(SURPLUS)
    assert d["car_price_effect_usd_bn_per_pp"] == pytest.approx(CAR_PRICE_EFFECT / AT_PP)  # $49 M a year per pp


def test_the_pass_through_is_the_bill_weighted_incidence_of_the_fact_sheet():
    """KR §3f: ~0.1 on cars and parts (prices frozen), 1 - 9.4 / 25 on steel, 1 on other goods (KR §4c)."""
    by_flow = (0.1, 0.1, 1 - 9.4 / 25, 1.0)
    flows = (VEHICLES, PARTS, STEEL, OTHER)

    def weighted(rates):
        bills = [r * v for r, v in zip(rates, flows)]
        return sum(b * p for b, p in zip(bills, by_flow)) / sum(bills)

    at_4_june, at_1_august = weighted((25, 25, 50, 10)), weighted((25, 25, 50, 25))
    assert at_4_june == pytest.approx(0.50, abs=0.01) and at_1_august == pytest.approx(0.68, abs=0.01)
    assert at_4_june <= compose_config(KOREA).scenario.payoff.pass_through == PHI <= at_1_august


def test_every_number_of_the_scenario_has_a_source_and_its_prior_contains_it():
    """The calibration block covers every numeric setting of the scenario, and each value lies in its prior."""
    cfg = OmegaConf.to_container(compose_config(KOREA), resolve=True)
    entries = {e.key: e for e in calibration_entries(cfg, values=True)}

    def leaves(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from leaves(value, f"{path}.{key}")
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            yield path

    numbers = list(leaves({k: v for k, v in cfg["scenario"].items() if k not in ("calibration", "evidence")}, "scenario"))
    assert len(numbers) > 50
    assert [k for k in numbers if k not in entries] == []
    assert all(e.prior is not None for e in entries.values() if e.tag == "ASSUMPTION")


def _agents():
    """The model of the scenario's default point at face value (no volumes, pledges worth their headline; the
    volumes are checked in tests/test_volumes.py), one world, and its US and Korean negotiators."""
    point = plan(compose_config(KOREA, *AT_FACE_VALUE)).points[0]
    model = NegotiationModel(point.structure, stack([point.inputs]), world_seeds(1, [0]))
    return model, model.negotiator("us"), model.negotiator("korea")


def test_no_deal_payoffs_at_the_august_rates_match_hand_calculation():
    """Without a deal from 1 Aug: cars and parts 25 %, steel 50 %, reciprocal 25 % (KR §1a, §3d).

    The bill is 0.25 x 34.74 + 0.25 x 8.22 + 0.50 x 3.68 + 0.25 x 81.16 = $32.87 bn/yr (KR §4a); Korea's exporters
    absorb 1 - 0.6 of it. The US: revenue minus half of (the passed-through bill + $1,760 x 0.70 M cars = $1.232 bn).
    """
    model, us, korea = _agents()
    x = model.no_deal.status_quo.copy()
    for issue, rate in {"cars": 25.0, "auto_parts": 25.0, "steel_aluminium": 50.0, "reciprocal": 25.0}.items():
        x[0, model.space.index(issue)] = rate
    bill = tariff_bill(25.0, 25.0, 50.0, 25.0)
    assert bill == pytest.approx(32.87, abs=1e-9)
    assert korea.utility.payoff(x)[0] == pytest.approx(-(1 - PHI) * bill, rel=1e-12)
    assert CAR_PRICE_EFFECT == pytest.approx(1.232)
    assert us.utility.payoff(x)[0] == pytest.approx(bill - 0.5 * (PHI * bill + CAR_PRICE_EFFECT), rel=1e-12)


def test_status_quo_when_the_talks_open_and_the_package_prices():
    """On 24 Apr parts are still duty-free and steel pays 25 % (KR §1a); the package costs Korea its weights."""
    model, us, korea = _agents()
    sq = model.no_deal.status_quo
    assert tariff_bill(25.0, 0.0, 25.0, 10.0) == pytest.approx(17.721)  # $17.7 bn a year on 24 Apr
    assert korea.utility.payoff(sq)[0] == pytest.approx(-(1 - PHI) * tariff_bill(25.0, 0.0, 25.0, 10.0), rel=1e-12)
    x = sq.copy()
    x[0, model.space.index("energy")] += 10.0  # $10 bn/yr more US LNG: cost 0.1 per USD to Korea
    x[0, model.space.index("investment")] += 100.0  # $100 bn over 10 years at 0.25 net cost per USD
    assert korea.utility.payoff(x)[0] - korea.utility.payoff(sq)[0] == pytest.approx(-(0.1 * 10 + 0.25 * 10))
    assert us.utility.payoff(x)[0] - us.utility.payoff(sq)[0] == pytest.approx(10 + 10)


def test_calendar_rounds_from_the_fact_sheet_dates():
    """Round 1 = the 2+2 of 24 Apr; 9 Jul falls in round 12; 1 Aug after round 15; Lee took office in round 7."""
    start = dt.date(2025, 4, 24)
    assert round_on_or_after(dt.date(2025, 7, 9), start, 7) == 12
    assert round_on_or_after(dt.date(2025, 7, 31), start, 7) == 15  # last round before 1 Aug
    assert round_on_or_after(dt.date(2025, 6, 4), start, 7) == 7
    cfg = compose_config(KOREA).scenario
    assert cfg.deadline.round == 12
    assert cfg.deadline.round + cfg.deadline.extension.rounds == 15


STRATEGY_PAIRS = [["boulware", "boulware"], ["conceder", "hardheaded"], ["tradeoff_boulware", "linear"]]


@pytest.mark.parametrize("protocol", available("protocol"))
def test_the_korea_scenario_runs_through_every_protocol(protocol):
    """Invariants of any run: the parties are the scenario's, terms stay in their documented ranges, deals are
    individually rational, and before the new president took office (round 7, KR §5) only Korea's ideal package
    could be agreed."""
    pairs = "[" + ",".join(f"[{a},{b}]" for a, b in STRATEGY_PAIRS) + "]"
    o, rounds = simulate(plan(compose_config(KOREA, f"protocol={protocol}", "run.seeds=20", f"sweep.pairs={pairs}")))
    assert len(o) == 20 * len(STRATEGY_PAIRS)
    assert not [c for c in o.columns if c.startswith("japan_")]
    assert set(rounds["proposer"]) <= {"us", "korea"}
    deals = o[o["deal"]]
    assert 0 < len(deals)
    for party in ("us", "korea"):
        assert o[f"{party}_utility"].between(-1e-9, 1 + 1e-9).all()
        assert (deals[f"{party}_utility"] >= deals[f"{party}_reservation_utility"] - 1e-9).all()
    box = {"cars": (0, 25), "auto_parts": (0, 25), "steel_aluminium": (0, 50), "reciprocal": (0, 50),
           "investment": (0, 870), "energy": (0, 17), "agriculture": (0, 10)}
    for issue, (lo, hi) in box.items():
        assert deals[issue].between(lo - 1e-9, hi + 1e-9).all()
    assert (o["end_round"] <= o["final_deadline"]).all()
    # Korea's threshold is 1 until 4 Jun (round 7): before then only its ideal package ratifies
    early = deals[deals["end_round"] < 7]
    assert (early["korea_approval"] >= 1 - 1e-9).all()
    if protocol in ("package", "meeting"):  # whole-package agendas
        assert (deals["stages_agreed"] == 1).all() and not o["partial_deal"].any()
    else:  # four stages by the `sector` tag: autos, steel, reciprocal, package; a deal has settled all four
        assert (deals["stages_agreed"] == 4).all()


def test_the_calibration_table_values_koreas_no_deal_loss_with_the_scheduled_tariffs():
    """docs/calibration.md: after the deadline without a deal, parts pay 25 % and steel 50 % (the schedule) and the
    reciprocal tariff 25 %. Without volumes Korea bears 0.4 x $32.87 bn = $13.15 bn, 0.70 % of ₩2,549.1 tn at
    ₩1,363.98/$ (KR §4a); with them each flow falls to V (1 + phi t/100)^-0.76 and Korea also loses a margin of 0.3
    on the sales lost."""
    rows = {(r["phi"], r["volumes"]): r for r in no_deal_rows(OmegaConf.to_container(compose_config(KOREA), resolve=True))}
    bill = tariff_bill(25.0, 25.0, 50.0, 25.0)
    gdp = 2549.1e3 / 1363.98
    assert rows[(0.0, True)]["loss_usd_bn"] == pytest.approx(bill, abs=1e-6)  # phi = 0: no flow falls
    assert rows[(PHI, False)]["loss_usd_bn"] == pytest.approx((1 - PHI) * bill, abs=1e-6)
    assert rows[(PHI, False)]["loss_pct_gdp"] == pytest.approx(100 * (1 - PHI) * bill / gdp, rel=1e-9)
    for phi in (PHI, 1.0):
        loss = 0.0
        for t, v in ((25.0, 34.74), (25.0, 8.22), (50.0, 3.68), (25.0, 81.16)):  # cars, parts, steel, other
            left = (1 + phi * t / 100) ** -0.76
            loss += (1 - phi) * t / 100 * v * left + 0.3 * v * (1 - left)
        assert rows[(phi, True)]["loss_usd_bn"] == pytest.approx(loss, abs=1e-9)
    assert rows[(1.0, True)]["absorbed_usd_bn"] == 0.0  # phi = 1: only the margin on lost sales
