"""Two-level ratification: approvals by hand, involuntary defection, a threshold changing on its date."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import plan
from sim.engine.agents import Constituency
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds
from sim.run.runner import simulate
from tests.conftest import AT_FACE_VALUE, DETERMINISTIC, RESERVATIONS_NOT_BINDING, compose_config
from tests.test_preferences import PARTS, VEHICLES

LINEAR = ["strategy@us=linear", "strategy@japan=linear", "scenario.sides.japan.deadline=null", *DETERMINISTIC,
          *RESERVATIONS_NOT_BINDING, "run.seeds=1"]


def _model(*overrides):
    """One world of the scenario at face value (no volumes, pledges at their headline): the approvals by hand."""
    point = plan(compose_config(*AT_FACE_VALUE, *overrides)).points[0]
    return NegotiationModel(point.structure, stack([point.inputs]), world_seeds(1, [0]))


def test_japanese_approval_by_hand():
    model = _model()
    assert sum(isinstance(a, Constituency) for a in model.agents) == 6  # Mesa agents of their own
    x = model.no_deal.status_quo.copy()
    names = model.space.names
    x[0, names.index("cars")], x[0, names.index("auto_parts")] = 15.0, 5.0
    x[0, names.index("agriculture")], x[0, names.index("steel_aluminium")] = 4.0, 50.0
    # automakers: the share of the possible cut in their tariff bill, cars 27.5 -> 15 of 25, parts 25 -> 5 of 25
    vehicles, parts = 41.57, 8.08  # the scenario's USD values of VEHICLES and PARTS, written to 2 decimals
    assert (vehicles, parts) == pytest.approx((VEHICLES, PARTS), abs=0.005)
    automakers = (vehicles * 12.5 + parts * 20.0) / (vehicles * 25.0 + parts * 25.0)
    farmers, steel = 1 - 4.0 / 12.0, 0.0  # a third of the largest farm concession; steel tariff at its maximum
    expected = 0.5 * automakers + 0.3 * farmers + 0.2 * steel
    assert model.negotiator("japan").approval(x)[0] == pytest.approx(expected, abs=1e-12)


def test_a_failed_ratification_is_a_defection_and_the_talks_go_on():
    # linear against linear agrees in round 7 at half of every range (tests/test_agenda.py); Japan's
    # constituencies want 0.9, and its negotiator does not know it, so the deal falls and talks continue
    o = simulate(plan(compose_config(*LINEAR, "scenario.ratification.japan.threshold=0.9",
                                     "scenario.ratification.japan.knows_win_set=false")))[0].iloc[0]
    assert o["defections"] >= 1 and o["end_round"] > 7
    assert not o["deal"] and o["end_reason"] == "deadline"


@pytest.mark.parametrize(("date", "deal"), [("2025-05-14", False), ("2025-06-11", True)])
def test_a_threshold_change_takes_effect_on_its_date(date, deal):
    # from round 5 (14 May) the round-7 deal no longer ratifies; from round 9 (11 Jun) it still does
    change = f"scenario.ratification.japan.threshold_changes=[{{date: '{date}', threshold: 0.9}}]"
    o = simulate(plan(compose_config(*LINEAR, change, "scenario.ratification.japan.knows_win_set=false")))[0].iloc[0]
    assert bool(o["deal"]) == deal
    if deal:
        assert o["defections"] == 0 and o["end_round"] == 7
    else:
        assert o["defections"] >= 1 and o["end_round"] > 7


def test_a_negotiator_who_knows_its_win_set_ties_its_hands():
    """Schelling's conjecture: a threshold above the approval Japan's deals reach without one binds; Japan's
    negotiator then agrees nothing below it and gets more."""
    def run(rho):
        return simulate(plan(compose_config("strategy@japan=conceder", "run.seeds=100", "run.record_rounds=none",
                                            f"scenario.ratification.japan.threshold={rho}")))[0]

    free = run(0.0)
    before = free[free["deal"]]
    rho = round(float(before["japan_approval"].median()) + 0.05, 3)  # above half of the unconstrained deals
    assert rho < 1.0
    tied = run(rho)
    deals = tied[tied["deal"]]
    assert (deals["japan_approval"] >= rho - 1e-9).all()  # nothing outside the win-set is agreed
    assert (deals["defections"] == 0).all()
    assert deals["japan_utility"].median() > before["japan_utility"].median()  # and Japan gets more
    assert np.isnan(free.loc[~free["deal"], "japan_approval"]).all()