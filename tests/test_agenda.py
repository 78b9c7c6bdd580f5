"""Agenda protocols on a small two-issue scenario whose outcome is derived by hand: package, sequential, linked."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config.schema import Deadline, Issue, Party, Scenario, Stance
from tests.scenarios import run
from tests.test_schema import LINEAR

# Two issues: a's tariff (0-20, in force at 20, a's ideal) and b's pledge (0-12, none in force, b's ideal).
# Linear payoffs: a = tariff + 3 pledge on [0, 56]; b = -2 tariff - pledge on [-52, 0]. Both play linear
# Faratin tactics to the 13-round deadline, so each concedes alpha(t) = (t - 1) / 12 and its offer is worth
# alpha(t) to the other; b opens (odd rounds); no randomness, no escalation. The reservation values (the status
# quo: a 20/56 = 0.357, b (52 - 40)/52 = 0.231) stay below every agreement below.
ISSUES = (Issue("tariff", grantor="a", unit="pp", lo=0, hi=20, status_quo=20),
          Issue("pledge", grantor="b", unit="USD bn", lo=0, hi=12, status_quo=0))
PARTIES = (Party("a", weights={"tariff": 1.0, "pledge": 3.0}, offering=LINEAR),
           Party("b", weights={"tariff": -2.0, "pledge": -1.0}, offering=LINEAR))
STAGES = {"stages": [["tariff"], ["pledge"]]}


def _run(protocol: str, *stances: Stance, scenario_keys: dict | None = None):
    scenario = Scenario("two issues", parties=PARTIES, issues=ISSUES, deadline=Deadline(round=13), opener="b",
                        protocol=protocol, stances=stances)
    return run(scenario, {**STAGES, **(scenario_keys or {})})[0].iloc[0]


def test_package_agrees_where_the_curves_cross():
    # b's offer in round t concedes (t-1)/12; a accepts it when (t-1)/12 >= 1 - t/12: round 7,
    # at half of each range: tariff 20 - 10 = 10, pledge 6
    o = _run("package")
    assert (o["deal"], o["end_round"], o["agenda"]) == (True, 7, "package")
    assert o["tariff"] == pytest.approx(10.0) and o["pledge"] == pytest.approx(6.0)


@pytest.mark.parametrize("protocol", ["sequential", "linked"])
def test_staged_talks_settle_one_stage_after_another(protocol):
    # stage 1 (tariff) settles as the package would: round 7, tariff 10. Stage 2 (pledge) is then
    # proposed by a in round 8 at 12 (1 - 7/12) = 5, and b accepts: its own next offer
    # (round 9) would pledge 12 * 8/12 = 8
    o = _run(protocol)
    assert (o["deal"], o["end_round"], o["stages_agreed"], o["agenda"]) == (True, 8, 2, protocol)
    assert o["tariff"] == pytest.approx(10.0) and o["pledge"] == pytest.approx(5.0)


def test_sequential_keeps_a_piecemeal_deal_and_linked_drops_it():
    # stage 2 is impossible: a will not take a pledge under 8, b will not pledge more than 4
    walls = (Stance("a", "min", "pledge", 8.0), Stance("b", "max", "pledge", 4.0))
    sequential, linked = _run("sequential", *walls), _run("linked", *walls)
    assert not sequential["deal"] and sequential["partial_deal"] and sequential["stages_agreed"] == 1
    # the agreed stage stands; the pledge, never agreed, holds its value in force (its status quo, 0)
    assert sequential["tariff"] == pytest.approx(10.0) and sequential["pledge"] == 0.0
    assert sequential["end_reason"] == "deadline" and sequential["end_round"] == 13
    assert not linked["deal"] and not linked["partial_deal"] and np.isnan(linked["tariff"])
    # the piecemeal deal is worth more to b than no deal: the tariff fell from 20 to 10 (b: 32/52 against 12/52)
    assert sequential["b_utility"] == pytest.approx(32 / 52)
    assert sequential["b_utility"] > sequential["b_reservation_utility"]
    assert linked["b_utility"] == pytest.approx(linked["b_reservation_utility"])


def test_a_side_can_refuse_an_agenda():
    refusal = Stance("b", "refuses", value=["sequential"])
    o = _run("sequential", refusal)
    assert (o["deal"], o["end_reason"], o["end_round"]) == (False, "refused protocol", 1)
    assert _run("package", refusal)["deal"]


def test_stages_must_cover_every_issue_once():
    from sim.preflight import UsageError, check

    with pytest.raises(UsageError, match="^scenario.stages: must put every issue in exactly one stage; missing"):
        check(["protocol=sequential", "scenario.stages=[[cars]]"], multirun=False)

