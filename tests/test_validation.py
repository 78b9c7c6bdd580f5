"""The validation cases of `python -m sim validate`, each as a test (expected values from closed forms)."""

from __future__ import annotations

import pytest

from sim.validation import CASES, stahl_share

# The invariants case checks properties that tests/test_invariants.py already checks over 60 configurations
# drawn by hypothesis (issue ranges, utilities in [0, 1], no deal below a reservation value, same seed same
# table); here it runs on 2 configurations, to test the case that `python -m sim validate` reports.
CASE_ARGUMENTS = {"invariants": {"samples": 2}}


@pytest.mark.parametrize("name", list(CASES))
def test_validation_case(name):
    failed = [c for c in CASES[name](**CASE_ARGUMENTS.get(name, {})) if not c.passed]
    assert not failed, "\n".join(f"{c.case}: expected {c.expected}, simulated {c.simulated}" for c in failed)


def test_stahl_closed_form_matches_backward_induction_by_hand():
    # T = 3, d = (0.9, 0.8): in round 3 the US keeps 1; in round 2 Japan must offer the US 0.9 and keeps
    # 0.1; in round 1 the US must offer Japan 0.8 * 0.1 = 0.08 and keeps 0.92.
    assert stahl_share(0.9, 0.8, 3) == pytest.approx(0.92)
    assert stahl_share(0.9, 0.8, 2) == pytest.approx(0.2)  # Japan proposes last and keeps all; US offers 0.8
    assert stahl_share(0.9, 0.8, 1) == pytest.approx(1.0)


def test_the_deviation_check_detects_a_responder_who_accepts_too_much():
    # Player 2 accepts anything worth at least its next offer minus 0.5: no longer the equilibrium rule, so
    # player 1 gains by asking for more in round 1 (keeping 0.9 of the pie instead of x = 0.2 / 0.28).
    from sim.validation.rubinstein import _deviate, rubinstein_share

    x = rubinstein_share(0.9, 0.8)
    o = _deviate("p1", "p1", {"p1": 0.9, "p2": 0.8}, [0.9], reject_first=False,
                 extra=("p2.acceptance.beta=0.5",))
    assert bool(o["deal"].iloc[0]) and int(o["end_round"].iloc[0]) == 1
    assert float(o["p1_utility"].iloc[0]) - x == pytest.approx(0.9 - x)  # a gain of 0.186


def test_one_shot_deviation_parts_play_the_equilibrium_outside_their_round():
    import numpy as np

    from sim.validation.deviations import OneShotOffer, RejectOnce
    from sim.engine.offering import SubgamePerfect

    class Side:  # the two discount factors are all the subgame-perfect rule reads
        discount = np.array([0.9, 0.9])
        other = type("Other", (), {"discount": np.array([0.8, 0.8])})()

    deviate = OneShotOffer(keep=np.array([0.3, 0.3]), at_round=np.array([1.0, 2.0]))
    equilibrium = SubgamePerfect().concession(Side(), 1)
    assert deviate.concession(Side(), 1) == pytest.approx([0.7, equilibrium[1]])
    assert deviate.concession(Side(), 2) == pytest.approx([equilibrium[0], 0.7])
    reject = RejectOnce(at_round=np.array([1.0]))
    Side.discount = np.array([1.0])
    assert not reject.accepts(Side(), np.array([1.0]), np.array([0.0]), 1, np.array([False]))[0]
    assert reject.accepts(Side(), np.array([1.0]), np.array([0.0]), 2, np.array([False]))[0]
