"""Issues off the table and red lines: never moved, never crossed, and recorded.

On the three-issue toy scenario of tests/test_schema.py (a seller ``a`` and a buyer ``b``; price, quality and
delivery on [0, 10], in force at 5, 10 and 0), with concession noise so that the worlds differ.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config.schema import Stance
from tests.scenarios import run
from tests.test_schema import ISSUES, toy


def _noisy(noise: float = 0.1, **changes):
    """The toy scenario with concession noise on both sides."""
    scenario = toy(**changes)
    return dataclasses.replace(scenario, parties=tuple(dataclasses.replace(p, concession_noise=noise)
                                                       for p in scenario.parties))


def test_an_issue_the_scenario_takes_off_the_table_never_moves():
    fixed = tuple(dataclasses.replace(i, negotiable=False) if i.name == "quality" else i for i in ISSUES)
    outcomes, rounds = run(_noisy(issues=fixed), strategies=("boulware", "conceder"), seeds=50)
    assert (rounds["quality"] == 10.0).all()  # every offer of either side: its status quo
    assert outcomes["deal"].any()
    assert (outcomes.loc[outcomes["deal"], "quality"] == 10.0).all()
    assert (outcomes["constraints"] == "quality off the table").all()


def test_an_issue_one_side_keeps_off_the_table_stays_at_its_status_quo():
    scenario = _noisy(stances=(Stance("a", "off_table", "price"),))
    outcomes, rounds = run(scenario, strategies=("boulware", "conceder"), seeds=50)
    assert (rounds.loc[rounds["proposer"] == "a", "price"] == 5.0).all()
    deals = outcomes[outcomes["deal"]]
    assert len(deals) and (deals["price"] == 5.0).all()  # a accepts nothing else
    assert (outcomes["constraints"] == "a keeps price off the table").all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=st.floats(0.0, 10.0), a=st.sampled_from(["boulware", "conceder", "random", "linear"]),
       b=st.sampled_from(["boulware", "conceder", "random", "tit_for_tat"]),
       noise=st.floats(0.0, 0.3), seed=st.integers(0, 2**31))
def test_a_red_line_is_never_crossed(limit, a, b, noise, seed):
    # b's ceiling on the price it pays (b grants the price and wants it low)
    scenario = _noisy(noise, stances=(Stance("b", "max", "price", limit),))
    outcomes, rounds = run(scenario, strategies=(a, b), seeds=20, seed=seed)
    b_offers = rounds.loc[rounds["proposer"] == "b", "price"]
    assert (b_offers <= limit + 1e-9).all()
    deals = outcomes[outcomes["deal"]]
    assert (deals["price"] <= limit + 1e-9).all()  # b never accepted beyond it either
    at_line = np.isclose(deals["price"], limit, rtol=0, atol=1e-9) & (limit < 10.0)  # on it, as the engine counts
    assert (deals.loc[at_line, "red_line_binding"]).all()
