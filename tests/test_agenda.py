"""Agenda protocols on a small domain whose outcome is derived by hand: package, sequential, linked."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import plan
from sim.run.runner import simulate
from tests.conftest import DETERMINISTIC, compose_config

# Two issues: the car tariff (2.5-27.5 pp) and Japan's investment pledge (0-300 USD bn); both sides play
# linear Faratin tactics to the 13-round deadline, so each concedes alpha(t) = (t - 1) / 12, Japan opens,
# and no randomness. Reservation values (about 0.19 for the US, 0.42 for Japan) never bind here.
TWO_ISSUES = [f"~scenario.issues.{i}" for i in ("auto_parts", "steel_aluminium", "reciprocal", "agriculture",
                                                "energy", "aircraft", "defence")] + ["~scenario.ratification", "scenario.escalation_issue=null"]
BASE = [*TWO_ISSUES, "strategy@us=linear", "strategy@japan=linear", "scenario.sides.japan.deadline=null",
        "scenario.escalation=0", *DETERMINISTIC, "run.seeds=1", "scenario.stages=[[cars],[investment]]",
        # the 0-300 range the hand calculations below use, and Japan bearing the whole car tariff (pass-through 0),
        # under which the reservation values stay below the agreements
        "scenario.issues.investment.max=300", "scenario.payoff.pass_through=0"]


def _run(protocol: str, *extra: str):
    return simulate(plan(compose_config(f"protocol={protocol}", *BASE, *extra)))[0].iloc[0]


def test_package_agrees_where_the_curves_cross():
    # Japan's offer in round t concedes (t-1)/12; the US accepts it when (t-1)/12 >= 1 - t/12: round 7,
    # at half of each range: cars 2.5 + 12.5 = 15, investment 150
    o = _run("package")
    assert (o["deal"], o["end_round"], o["agenda"]) == (True, 7, "package")
    assert o["cars"] == pytest.approx(15.0) and o["investment"] == pytest.approx(150.0)


@pytest.mark.parametrize("protocol", ["sequential", "linked"])
def test_staged_talks_settle_one_stage_after_another(protocol):
    # stage 1 (cars) settles as the package would: round 7, cars 15. Stage 2 (investment) is then
    # proposed by the US in round 8 at 300 (1 - 7/12) = 125, and Japan accepts: its own next offer
    # (round 9) would pledge 300 * 8/12 = 200
    o = _run(protocol)
    assert (o["deal"], o["end_round"], o["stages_agreed"], o["agenda"]) == (True, 8, 2, protocol)
    assert o["cars"] == pytest.approx(15.0) and o["investment"] == pytest.approx(125.0)


def test_sequential_keeps_a_piecemeal_deal_and_linked_drops_it():
    # stage 2 is impossible: the US will not take less than 200 of investment, Japan will not give more than 100
    walls = ["+scenario.sides.us.red_lines.investment.min=200", "+scenario.sides.japan.red_lines.investment.max=100"]
    sequential, linked = _run("sequential", *walls), _run("linked", *walls)
    assert not sequential["deal"] and sequential["partial_deal"] and sequential["stages_agreed"] == 1
    # the agreed stage stands; investment, never agreed, holds its value in force (its status quo, 0 USD bn)
    assert sequential["cars"] == pytest.approx(15.0) and sequential["investment"] == 0.0
    assert sequential["end_reason"] == "deadline" and sequential["end_round"] == 13
    assert not linked["deal"] and not linked["partial_deal"] and np.isnan(linked["cars"])
    # the piecemeal deal is worth more to Japan than no deal: the car tariff fell from 27.5 to 15
    assert sequential["japan_utility"] > sequential["japan_reservation_utility"]
    assert linked["japan_utility"] == pytest.approx(linked["japan_reservation_utility"])


def test_a_side_can_refuse_an_agenda():
    o = _run("sequential", "scenario.sides.japan.refuses=[sequential]")
    assert (o["deal"], o["end_reason"], o["end_round"]) == (False, "refused protocol", 1)
    assert _run("package", "scenario.sides.japan.refuses=[sequential]")["deal"]


def test_stages_must_cover_every_issue_once():
    from sim.preflight import UsageError, check

    with pytest.raises(UsageError, match="^scenario.stages: must put every issue in exactly one stage; missing"):
        check(["protocol=sequential", "scenario.stages=[[cars]]"], multirun=False)

