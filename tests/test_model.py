"""The Mesa model against closed forms, hand calculations and invariants."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest

from sim.config import available, plan
from sim.engine.agents import Negotiator
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds
from sim.run.runner import simulate
from sim.config.schema import Deadline
from tests.conftest import AT_FACE_VALUE, compose_config, single_model
from tests.test_schema import HARDLINER, toy
from tests.test_preferences import CAR_PRICE_EFFECT, tariff_bill


def test_model_uses_mesa_agents_without_a_scheduler():
    model = single_model()
    negotiators = model.agents_by_type[Negotiator]
    assert len(negotiators) == 2  # plus the constituencies of the ratification layer
    assert {a.id for a in negotiators} == {"us", "japan"}
    assert not hasattr(model, "schedule")
    assert model.steps == model.end_round.max()  # one step is one round, and it stops when all ended
    assert not model.running and not model.active.any()


# -- linear against linear: the closed-form crossing of the concession curves ---------------


def _linear_alpha(t: int, deadline: int) -> float:
    """Faratin's linear tactic with kappa = 0: the share of its own time elapsed."""
    return min(max((t - 1) / (deadline - 1), 0.0), 1.0)


def _expected_agreement(deadline, own, opener, rv):
    """First round in which the responder accepts, from the closed-form curves.

    Along the line between the two ideals the two utilities add up to one, so a proposer that
    concedes alpha gives the responder utility min(alpha, 1 - rv_proposer) (it never goes below its
    own reservation value), and the responder's own next offer is worth max(1 - alpha', rv') to it.
    AC_next accepts when the first is at least the second and at least the responder's reservation
    value; in the final round only the reservation value counts.
    """
    other = dict(zip(own, reversed(list(own)), strict=True))
    for t in range(1, deadline + 1):
        proposer = opener if t % 2 == 1 else other[opener]
        responder = other[proposer]
        offered = min(_linear_alpha(t, own[proposer]), 1.0 - rv[proposer](t))
        if offered < rv[responder](t) - 1e-12:
            continue
        if t == deadline:
            return t, offered
        own_next = max(1.0 - _linear_alpha(t + 1, own[responder]), rv[responder](t + 1))
        if offered >= own_next - 1e-12:
            return t, offered
    return None, None


def test_symmetric_linear_agreement_round_by_hand():
    # The three-issue toy scenario (tests/test_schema.py), both linear to the deadline of 13, b opening (odd
    # rounds): a accepts b's offer in round t when (t-1)/12 >= 1 - t/12, i.e. t >= 6.5, so in round 7; neither
    # reservation value (0.375, 1/3) binds.
    model = toy().model()
    model.run_model()
    assert model.end_round[0] == 7 and model.end_reason[0] == 1
    assert model.negotiator("a").utility(model.agreement)[0] == pytest.approx(1 - 6 / 12)


@pytest.mark.parametrize(
    ("deadline", "b_deadline", "opener", "escalation"),
    [(13, None, "b", 4), (13, 16, "b", 4), (13, 16, "a", 4), (20, 8, "b", 5), (9, None, "a", 0),
     (23, 26, "b", 5), (6, 24, "b", 2)],
)
def test_linear_against_linear_agrees_where_the_curves_cross(deadline, b_deadline, opener, escalation):
    # the toy scenario with the price rising at the deadline without a deal (good for a, bad for b), so the
    # reservation values move round by round and may bind
    scenario = toy(deadline=Deadline(round=deadline), opener=opener, escalation_issue="price", escalation=escalation)
    scenario = dataclasses.replace(scenario, parties=(scenario.parties[0],
                                                      dataclasses.replace(scenario.parties[1], deadline=b_deadline)))
    model = scenario.model()
    model.run_model()
    own = {"a": deadline, "b": b_deadline or deadline}
    rv = {side: (lambda t, n=model.negotiator(side): float(n.reservation(t)[0])) for side in own}
    expected_round, expected_u = _expected_agreement(deadline, own, opener, rv)
    assert expected_round is not None
    assert model.end_round[0] == expected_round
    proposer = opener if expected_round % 2 == 1 else ("b" if opener == "a" else "a")
    responder = model.negotiator("b" if proposer == "a" else "a")
    assert responder.utility(model.agreement)[0] == pytest.approx(expected_u, abs=1e-12)


# -- hardliners -----------------------------------------------------------------------------


@pytest.mark.parametrize(("extension", "final"), [(0.0, 13), (1.0, 16)])
def test_hardliners_end_at_the_deadline_with_the_escalated_no_deal_payoff(extension, final):
    # about the case study's no-deal payoffs (its tariff bill, pass-through and delay costs), so on its file;
    # hardliners concede nothing, so only the sources of randomness that could end the talks early are off
    model = single_model("strategy@us=hardliner", "strategy@japan=hardliner", "scenario.breakdown_risk=0",
                         "scenario.sides.us.walk_away=false", "scenario.sides.japan.walk_away=false", *AT_FACE_VALUE,
                         f"scenario.deadline.extension.probability={extension}")  # the incidence without volumes
    out = model.outcomes()
    assert not out["deal"][0] and out["end_round"][0] == final and model.end_reason[0] == 3
    bill = tariff_bill(27.5, 25.0, 50.0, 24.0)  # the reciprocal tariff has risen from 10 to 24 %
    phi = 0.6  # pass-through: Japan's exporters absorb 40 % of the bill, US buyers pay 60 %
    assert out["japan_payoff"][0] == pytest.approx(-(1 - phi) * bill - 0.145 * final, abs=1e-3)  # delay ~¥3 bn/day
    assert out["us_payoff"][0] == pytest.approx(bill - 0.5 * (phi * bill + CAR_PRICE_EFFECT) - 0.05 * final,
                                                abs=1e-3)
    assert np.isnan([out[n][0] for n in model.space.names]).all()


# -- randomness and batching ------------------------------------------------------------------


def _run(*overrides):
    return simulate(plan(compose_config(*overrides)))[0]


def test_same_seed_gives_the_same_row_whatever_the_chunk_size():
    base = ["run.seeds=60", "strategy@japan=conceder", "run.record_rounds=none", "run.plot=false"]
    whole = _run(*base, "run.chunk_size=60")
    for batch_size in (1, 7, 59):
        pd.testing.assert_frame_equal(_run(*base, f"run.chunk_size={batch_size}"), whole)


def test_a_world_does_not_depend_on_its_batch_mates():
    # worlds with other deadlines and escalations share the batch in the sweep
    sweep = _run("run.seeds=30", "+sweep.grid.scenario.escalation=[0,14]",
                 "+sweep.grid.scenario.deadline.round=[9,13]", "run.record_rounds=none")
    alone = _run("run.seeds=30", "scenario.escalation=14", "scenario.deadline.round=9", "run.record_rounds=none")
    mine = sweep.query("escalation == 14 and deadline_round == 9")  # swept keys' columns: identifiers
    cols = [c for c in alone.columns if c != "world"]
    pd.testing.assert_frame_equal(mine[cols].reset_index(drop=True), alone[cols])


def test_seeds_matter_and_fix_the_run():
    a = _run("run.seeds=200", "run.record_rounds=none")
    b = _run("run.seeds=200", "run.record_rounds=none")
    c = _run("run.seeds=200", "run.record_rounds=none", "run.seed=1")
    pd.testing.assert_frame_equal(a, b)
    assert a["deadline_extended"].any() and not a["deadline_extended"].all()  # extension is drawn
    assert a["end_round"].nunique() > 3
    assert not a["us_utility"].equals(c["us_utility"])


def test_world_seeds_are_a_pure_function_of_root_and_index():
    assert world_seeds(5, np.arange(10))[3] == world_seeds(5, np.array([3]))[0]
    assert len(set(world_seeds(5, np.arange(1000)).tolist())) == 1000


# -- invariants over every strategy pair --------------------------------------------------------


PAIRS = list(itertools.product(available("strategy"), repeat=2))


@pytest.fixture(scope="module")
def every_pair() -> pd.DataFrame:
    """40 negotiations of every strategy pair, run as one sweep over the pairs (one compose, one plan)."""
    pairs = ",".join(f"[{us},{japan}]" for us, japan in PAIRS)
    return _run(f"sweep.pairs=[{pairs}]", "run.seeds=40", "run.record_rounds=none", "scenario.breakdown_risk=0.02")


@pytest.mark.parametrize(("us", "japan"), PAIRS)
def test_invariants_hold_for_every_strategy_pair(every_pair, us, japan):
    out = every_pair[(every_pair["us_strategy"] == us) & (every_pair["japan_strategy"] == japan)]
    assert len(out) == 40
    space = plan(compose_config()).points[0].structure.space
    deals = out[out["deal"]]
    for issue in space.issues:  # every agreed value lies within its range
        assert deals[issue.name].between(issue.lo - 1e-9, issue.hi + 1e-9).all()
        assert out.loc[~out["deal"], issue.name].isna().all()
    for side in ("us", "japan"):  # utilities in [0, 1]; no deal below a reservation value
        assert out[f"{side}_utility"].between(0, 1).all()
        assert (deals[f"{side}_utility"] >= deals[f"{side}_reservation_utility"] - 1e-9).all()
    assert (out["end_round"] >= 1).all() and (out["end_round"] <= out["final_deadline"]).all()
    assert set(out["end_reason"].dropna().unique()) <= {"agreement", "walk-away", "deadline", "breakdown"}
    assert (out["deal"] == (out["end_reason"] == "agreement")).all()


def test_tit_for_tat_answers_the_latest_offer():
    # a concedes linearly; b (relative tit-for-tat, kappa 0.1, its beliefs exact) opens in round 1 with kappa (it
    # has seen no offer: the cooperative first move) and then, in round t + 1, concedes that plus the share of a's
    # room above its reservation value that a has given up since its ideal:
    # c = (u_a(ideal) - u_a(offer t)) / (u_a(ideal) - rv_a(t + 1)). Along the line b's utility of its own offer is
    # then 1 - min(1, 0.1 + c) * (1 - rv_b(t + 1)).
    from sim.config.schema import Part
    from sim.engine.inputs import stack

    scenario = toy()  # the three-issue toy scenario: no noise, no breakdown, no extension, b opens
    tft = dataclasses.replace(scenario.parties[1], offering=Part("sim.engine.offering.RelativeTitForTat",
                                                                 {"kappa": 0.1, "reciprocity": 1.0}))
    compiled = dataclasses.replace(scenario, parties=(scenario.parties[0], tft)).compile()
    model = NegotiationModel(compiled.structure, stack([compiled.inputs]), world_seeds(7, np.arange(1)),
                             record_rounds=np.array([0]))
    model.run_model()
    log = {int(e["round"][0]): e for e in model.round_log}
    a, b = model.negotiator("a"), model.negotiator("b")
    checked = 0
    for t in (4, 6, 8, 10):
        if t + 1 not in log:
            break
        conceded = (a.u_best[0] - log[t]["a_utility"][0]) / (a.u_best[0] - a.reservation(t + 1)[0])
        expected = 1 - min(1.0, 0.1 + conceded) * (1 - b.reservation(t + 1)[0])
        assert log[t + 1]["b_utility"][0] == pytest.approx(expected, abs=1e-12)
        checked += 1
    assert checked >= 2


def test_hardliner_accepts_only_its_ideal_before_the_final_round():
    """As documented: a hardliner concedes nothing and, by AC_next, accepts only its ideal package before the
    final round; in the final round (no next offer) it accepts anything at or above its reservation value."""
    from sim.config.schema import Part

    scenario = toy(HARDLINER)  # the toy scenario: a the hardliner, b a conceder (beta 4)
    conceder = dataclasses.replace(scenario.parties[1], offering=Part("sim.engine.offering.TimeDependent",
                                                                      {"beta": 4.0}))
    o = pd.DataFrame(dataclasses.replace(scenario, parties=(scenario.parties[0], conceder)).run(seeds=20))
    deals = o[o["deal"]]
    assert len(deals) > 0
    early = deals[deals["end_round"] < deals["final_deadline"]]
    late = deals[deals["end_round"] == deals["final_deadline"]]
    assert (early["a_utility"] > 1 - 1e-9).all()  # its ideal package
    assert (late["a_utility"] >= late["a_reservation_utility"] - 1e-9).all()
    assert len(early) + len(late) == len(deals)
