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
