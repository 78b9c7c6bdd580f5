"""Issues off the table and red lines: never moved, never crossed, and recorded."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config import plan
from sim.run.runner import simulate
from tests.conftest import NO_STANCES, compose_config


def _run(*overrides: str):
    return simulate(plan(compose_config(*NO_STANCES, *overrides, "run.record_rounds=all")))


def test_an_issue_the_scenario_takes_off_the_table_never_moves():
    outcomes, rounds = _run("scenario.issues.steel_aluminium.negotiable=false", "run.seeds=50",
                            "strategy@japan=conceder")
    assert (rounds["steel_aluminium"] == 50.0).all()  # every offer of either side
    assert (outcomes.loc[outcomes["deal"], "steel_aluminium"] == 50.0).all()
    assert outcomes["deal"].any()
    assert (outcomes["constraints"] == "steel_aluminium off the table").all()


def test_an_issue_one_side_keeps_off_the_table_stays_at_its_status_quo():
    outcomes, rounds = _run("scenario.sides.us.off_table=[cars]", "run.seeds=50", "strategy@japan=conceder")
    assert (rounds.loc[rounds["proposer"] == "us", "cars"] == 27.5).all()
    deals = outcomes[outcomes["deal"]]
    assert len(deals) and (deals["cars"] == 27.5).all()  # the US accepts nothing else
    assert (outcomes["constraints"] == "us keeps cars off the table").all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=st.floats(0.0, 8.0), us=st.sampled_from(["boulware", "conceder", "random", "linear"]),
       japan=st.sampled_from(["boulware", "conceder", "random", "tit_for_tat"]),
       noise=st.floats(0.0, 0.3), seed=st.integers(0, 2**31))
def test_a_red_line_is_never_crossed(limit, us, japan, noise, seed):
    outcomes, rounds = _run(f"+scenario.sides.japan.red_lines.agriculture.max={limit!r}", f"strategy@us={us}",
                            f"strategy@japan={japan}", f"scenario.sides.japan.concession_noise={noise!r}",
                            "run.seeds=20", f"run.seed={seed}")
    japan_offers = rounds.loc[rounds["proposer"] == "japan", "agriculture"]
    assert (japan_offers <= limit + 1e-9).all()
    deals = outcomes[outcomes["deal"]]
    assert (deals["agriculture"] <= limit + 1e-9).all()  # Japan never accepted beyond it either
    at_line = np.isclose(deals["agriculture"], limit, atol=1e-9) & (limit < 8.0)
    assert (deals.loc[at_line, "red_line_binding"]).all()
