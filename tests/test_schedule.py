"""Scheduled tariff changes and threats: dates to rounds, and reservation values that move on their dates.

The mechanism on the three-issue toy scenario of tests/test_schema.py; the case study's own dated record
(its dates as rounds, its steel coefficient) from its file.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import plan
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds
from tests.conftest import AT_FACE_VALUE, compose_config
from tests.test_preferences import STEEL  # the hand-derived export value of steel, USD bn/yr
from tests.test_schema import toy


def _model(*overrides):
    """One world replaying the record, at face value (no volumes, pledges at their headline): the coefficients by hand."""
    point = plan(compose_config("scenario.replay=true", *AT_FACE_VALUE, *overrides)).points[0]
    return NegotiationModel(point.structure, stack([point.inputs]), world_seeds(1, [0]))


def test_documented_dates_become_rounds():
    schedule = _model().no_deal.schedule
    # 16 Apr + weekly rounds: 3 May falls after round 3 (30 Apr), so round 4; 4 Jun is round 8 itself
    assert [(c.effective, c.announced, c.value) for c in schedule] == [(4, 1, 25.0), (8, 8, 50.0)]


def _toy_model(*schedule: dict, **changes) -> NegotiationModel:
    """The toy scenario of tests/test_schema.py (round 1 on Mon 6 Jan 2025, weekly; deadline 13; reservation
    values over a window of 52 rounds) with ``schedule`` as its scheduled changes, not yet run."""
    return NegotiationModel(*_compiled(toy(**changes), schedule), world_seeds(1, [0]))


def _compiled(scenario, schedule):
    from sim.config.scenario import compile_point

    cfg = scenario.to_config()
    cfg["scenario"]["schedule"] = list(schedule)
    compiled = compile_point(cfg)
    return compiled.structure, stack([compiled.inputs])


def test_a_surprise_change_moves_the_reservation_values_on_its_date():
    # the price (b grants it; a gains 1 per unit, b loses 2) rises from 5 to 8 on 17 Feb (round 7: 42 days after
    # round 1), unannounced before; without a deal the price rises by a further 2 at the deadline (round 13)
    surprise = {"issue": "price", "value": 8.0, "effective": "2025-02-17", "announced": "2025-02-17"}
    model = _toy_model(surprise, escalation_issue="price", escalation=2.0)
    w = 52.0
    # per side: the price's payoff per unit over its payoff span (a: 1 over 40; b: -2 over 60)
    for side, per_unit in (("a", 1.0 / 40.0), ("b", -2.0 / 60.0)):
        negotiator = model.negotiator(side)
        jump = negotiator.reservation(7)[0] - negotiator.reservation(6)[0]
        # the step of 3 counts over the whole window from round 7 (all of it lies after the change); plus the
        # ordinary drift: one more round of the window past the deadline, at the escalated price (2 more)
        assert jump == pytest.approx(3.0 * per_unit + 2.0 * per_unit / w)
        assert np.sign(jump) == np.sign(per_unit)  # a higher price pleases a and hurts b


def test_an_announced_change_is_anticipated_from_the_start():
    # delivery (a grants it; a loses 1 per unit of a span of 40, b gains 3 of 60) rises from 0 to 3 on 27 Jan
    # (round 4), announced before the talks: in round 1 the window runs over rounds 1..52, 49 of them after it
    change = {"issue": "delivery", "value": 3.0, "effective": "2025-01-27", "announced": "2025-01-01"}
    model, base = _toy_model(change), _toy_model()
    for side, per_unit in (("a", -1.0 / 40.0), ("b", 3.0 / 60.0)):
        expected = base.negotiator(side).reservation(1)[0] + 3.0 * per_unit * 49 / 52
        assert model.negotiator(side).reservation(1)[0] == pytest.approx(expected)


def test_the_case_study_steel_coefficient_is_the_exporters_share_of_the_tariff_bill():
    # about the case study's calibration: Japan's steel coefficient is its exporters' share (1 - pass-through 0.6)
    # of the hand-derived tariff bill per pp: -0.4 x (¥302.7 bn at ¥145/$) / 100 (the scenario writes the
    # dollar value to 2 decimals)
    model = _model()
    japan = model.negotiator("japan")
    assert japan.utility.a[0, model.space.index("steel_aluminium")] == pytest.approx(-0.4 * STEEL / 100, abs=1e-4)


def test_bad_schedule_entries_are_refused():
    from sim.preflight import UsageError, check

    with pytest.raises(UsageError, match=r"^scenario.schedule\[0\].issue: must be one of"):
        check(["scenario.schedule=[{issue: rice, value: 1, effective: '2025-05-01'}]"], multirun=False)
    with pytest.raises(UsageError, match=r"^scenario.schedule\[0\].announced: must not come after"):
        check(["scenario.schedule=[{issue: cars, value: 10, effective: '2025-05-01', announced: '2025-06-01'}]"],
              multirun=False)
