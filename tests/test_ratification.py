"""Two-level ratification: approvals by hand, involuntary defection, a threshold changing on its date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.config import plan
from sim.engine.agents import Constituency
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds
from sim.run.runner import simulate
from tests.conftest import AT_FACE_VALUE, compose_config
from tests.test_preferences import PARTS, VEHICLES



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


def _two_way(ratification: dict, seeds: int = 1):
    """The small two-way trade scenario of tests/test_schema_trade.py, both sides conceding linearly to the
    deadline 8 without noise, with ``ratification`` for the exporter x: one outcome row per world."""
    from tests import scenarios
    from tests.test_schema_trade import _scenario

    return scenarios.run(_scenario(), {"ratification": {"x": ratification}}, ("linear", "linear"), seeds=seeds)[0]


# x's exporters weigh the tariff on their goods (reciprocal, granted by m, range [0, 40]) as producers: their
# approval of a package is the normalised payoff of that issue, (40 - reciprocal) / 40, since x's payoff is affine
# in it at this pass-through (the chord of tests/test_volumes.py, exact at both ends).
EXPORTERS = {"constituencies": {"exporters": {"weight": 1.0, "issues": ["reciprocal"], "interest": "producer"}},
             "threshold": 0.0, "knows_win_set": False, "threshold_changes": []}


def _free():
    """The deal without a binding threshold."""
    return _two_way(EXPORTERS).iloc[0]


def test_the_exporters_approval_is_their_normalised_payoff_by_hand():
    o = _free()
    assert bool(o["deal"]) and o["defections"] == 0
    assert o["x_approval"] == pytest.approx((40.0 - o["reciprocal"]) / 40.0, abs=1e-9)


def test_a_failed_ratification_is_a_defection_and_the_talks_go_on():
    # the exporters want 0.9, above their approval of the free deal, and x's negotiator does not know it: the
    # deal falls in its round and the talks go on
    free = _free()
    assert free["x_approval"] < 0.9
    o = _two_way({**EXPORTERS, "threshold": 0.9}).iloc[0]
    assert o["defections"] >= 1 and o["end_round"] > free["end_round"]


@pytest.mark.parametrize("before", [True, False])
def test_a_threshold_change_takes_effect_on_its_date(before):
    # round 1 is 6 Jan, a round a week; the threshold rises to 0.9 one round before the free deal's round (it
    # falls) or one round after it (the same deal)
    free = _free()
    day = dt.date(2025, 1, 6) + dt.timedelta(days=7 * (int(free["end_round"]) - 1 + (-1 if before else 1)))
    o = _two_way({**EXPORTERS, "threshold_changes": [{"date": day.isoformat(), "threshold": 0.9}]}).iloc[0]
    if before:
        assert o["defections"] >= 1 and o["end_round"] > free["end_round"]
    else:
        assert bool(o["deal"]) and o["defections"] == 0 and o["end_round"] == free["end_round"]
        assert o["reciprocal"] == free["reciprocal"]


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