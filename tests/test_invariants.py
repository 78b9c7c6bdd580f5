"""Invariants over randomly drawn configurations (hypothesis)."""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from sim.config import available, plan
from sim.config.components import load_negotiator
from sim.run.runner import simulate
from tests.conftest import compose_config

BASE = OmegaConf.to_container(compose_config(), resolve=True)


@st.composite
def configs(draw):
    cfg = copy.deepcopy(BASE)
    sc = cfg["scenario"]
    for side in ("us", "japan"):
        cfg[side] = load_negotiator(draw(st.sampled_from(available("strategy"))), side)
        sides = sc["sides"][side]
        sides["concession_noise"] = draw(st.floats(0, 0.3))
        sides["walk_away"] = draw(st.booleans())
        sides["deadline"] = draw(st.none() | st.integers(2, 26))
        sides["deadline_private"] = draw(st.booleans())
        sides["belief_noise"]["reservation"] = draw(st.floats(0, 0.3))
        sides["belief_noise"]["deadline"] = draw(st.floats(0, 5))
    sc["deadline"]["round"] = draw(st.integers(2, 20))
    sc["deadline"]["extension"]["rounds"] = draw(st.integers(0, 6))
    sc["deadline"]["extension"]["probability"] = draw(st.floats(0, 1))
    sc["escalation"] = draw(st.floats(0, 15))
    sc["breakdown_risk"] = draw(st.floats(0, 0.2))
    cfg["protocol"]["opener"] = draw(st.sampled_from(["us", "japan"]))
    cfg["run"].update(seeds=draw(st.integers(1, 30)), record_rounds="none", seed=draw(st.integers(0, 2**32)))
    return cfg


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_invariants_hold_for_random_configurations(cfg):
    p = plan(cfg)
    out = simulate(p)[0]
    space = p.points[0].structure.space
    deals = out[out["deal"]]
    for issue in space.issues:  # every agreed value lies within its issue's range
        assert deals[issue.name].between(issue.lo - 1e-9, issue.hi + 1e-9).all()
    for side in ("us", "japan"):  # utilities in [0, 1]; no deal below a reservation value
        assert out[f"{side}_utility"].between(-1e-12, 1 + 1e-12).all()
        assert (deals[f"{side}_utility"] >= deals[f"{side}_reservation_utility"] - 1e-9).all()
    assert (out["end_round"] >= 1).all() and (out["end_round"] <= out["final_deadline"]).all()
    # bargaining metrics: Nash and KS points lie on the rational frontier, so no outcome is nearer to
    # them than to the frontier; every deal is individually rational
    known = out["pareto_dist"].notna()
    assert (out.loc[known, "pareto_dist"] <= out.loc[known, "nash_dist"] + 1e-9).all()
    assert (out.loc[known, "pareto_dist"] <= out.loc[known, "kalai_dist"] + 1e-9).all()
    assert (out["individually_rational"] == out["deal"]).all()
    assert deals["agreement_time"].between(0, 1).all() and out.loc[~out["deal"], "agreement_time"].isna().all()
    assert np.allclose(out["welfare"], out["us_utility"] + out["japan_utility"])
    timed_out = out[out["end_reason"] == "deadline"]
    assert (timed_out["end_round"] == timed_out["final_deadline"]).all()
    # the same seed gives the same table
    again = simulate(plan(cfg))[0]
    assert out.equals(again)
    assert np.array_equal(out["deal"].to_numpy(), again["deal"].to_numpy())
