"""Scheduled tariff changes and threats: dates to rounds, and reservation values that move on their dates."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import plan
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds
from tests.conftest import AT_FACE_VALUE, DETERMINISTIC, compose_config
from tests.test_preferences import STEEL  # the hand-derived export value of steel, USD bn/yr


def _model(*overrides):
    """One world replaying the record, at face value (no volumes, pledges at their headline): the coefficients by hand."""
    point = plan(compose_config("scenario.replay=true", *AT_FACE_VALUE, *overrides)).points[0]
    return NegotiationModel(point.structure, stack([point.inputs]), world_seeds(1, [0]))


def test_documented_dates_become_rounds():
    schedule = _model().no_deal.schedule
    # 16 Apr + weekly rounds: 3 May falls after round 3 (30 Apr), so round 4; 4 Jun is round 8 itself
    assert [(c.effective, c.announced, c.value) for c in schedule] == [(4, 1, 25.0), (8, 8, 50.0)]


def test_a_surprise_change_moves_the_reservation_values_on_its_date():
    model = _model(*DETERMINISTIC)
    japan, us = model.negotiator("japan"), model.negotiator("us")
    w = 52.0
    for side, sign in ((japan, -1), (us, +1)):
        jump = side.reservation(8)[0] - side.reservation(7)[0]
        # steel 25 -> 50 % on 4 Jun (round 8), unannounced before: its whole window counts from round 8;
        # plus the ordinary drift of one more round of the window past the deadline
        steel_step = side.utility.a[0, model.space.index("steel_aluminium")] * 25.0 / side.utility.span[0]
        drift = (side.value_of_no_deal.u_escalated[0] - side.value_of_no_deal.u_status_quo[0]) / w
        assert jump == pytest.approx(steel_step * 1.0 + drift)  # the whole window lies after round 8
        assert np.sign(steel_step) == sign  # a higher steel tariff hurts Japan and pleases the US
    # Japan's steel coefficient is its exporters' share (1 - pass-through 0.6) of the hand-derived tariff bill per
    # pp: -0.4 x (¥302.7 bn at ¥145/$) / 100 (the scenario writes the dollar value to 2 decimals)
    assert japan.utility.a[0, model.space.index("steel_aluminium")] == pytest.approx(-0.4 * STEEL / 100, abs=1e-4)


def test_an_announced_change_is_anticipated_from_the_start():
    model = _model(*DETERMINISTIC)
    japan = model.negotiator("japan")
    parts = japan.utility.a[0, model.space.index("auto_parts")] * 25.0 / japan.utility.span[0]
    # in round 1 the window runs over rounds 1..52; auto parts rise from round 4: 49 of 52 rounds
    no_change = "scenario.facts.tariffs.auto_parts=[{value: 0.0, effective: '2025-01-01', known: '2025-01-01'}]"
    base = _model(*DETERMINISTIC, no_change).negotiator("japan").reservation(1)[0]
    assert japan.reservation(1)[0] == pytest.approx(base + parts * 49 / 52)


def test_bad_schedule_entries_are_refused():
    from sim.preflight import UsageError, check

    with pytest.raises(UsageError, match=r"^scenario.schedule\[0\].issue: must be one of"):
        check(["scenario.schedule=[{issue: rice, value: 1, effective: '2025-05-01'}]"], multirun=False)
    with pytest.raises(UsageError, match=r"^scenario.schedule\[0\].announced: must not come after"):
        check(["scenario.schedule=[{issue: cars, value: 10, effective: '2025-05-01', announced: '2025-06-01'}]"],
              multirun=False)
