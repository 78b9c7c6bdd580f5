"""A side walks away only when, by its beliefs, no package at all (not only none on the straight line between the
two ideals) gives both sides their reservation values: checked against a brute force over the vertices of the
feasible polytope, and on a scenario whose zone of agreement lies off that line."""

from __future__ import annotations

import itertools

import numpy as np

from sim.config.schema import Deadline, Issue, Party, Scenario, Stance
from sim.engine.opponent import NoisyPrior
from tests.scenarios import run

# Two issues, each side cares most about one: a = x1 - x2 / 4, b = x2 - x1 / 4, both on [0, 10]. Each utility
# runs over [-2.5, 10], so u_a = (x1 - x2 / 4 + 2.5) / 12.5 and u_b = (x2 - x1 / 4 + 2.5) / 12.5. The status quo
# (6, 6) is worth 0.56 to each: no deadline escalation, so each side's reservation value is 0.56. On the straight
# line between the ideals, (10 - 10 s, 10 s), u_a = 1 - s and u_b = s: they sum to 1 < 0.56 + 0.56, so no package
# on the line gives both their reservation values; off it, (10, 10) gives each 0.8.
ISSUES = (Issue("x1", grantor="b", unit="pp", lo=0, hi=10, status_quo=6),
          Issue("x2", grantor="a", unit="pp", lo=0, hi=10, status_quo=6))


def _scenario(noise: float = 0.0, offering: str = "boulware", stances=()) -> Scenario:
    parties = tuple(Party(pid, weights=w, walk_away=True, belief_noise_reservation=noise)
                    for pid, w in (("a", {"x1": 1.0, "x2": -0.25}), ("b", {"x1": -0.25, "x2": 1.0})))
    return Scenario("two interests", parties=parties, issues=ISSUES, deadline=Deadline(round=13), opener="a",
                    stances=tuple(stances))


def test_no_walk_away_where_the_zone_of_agreement_lies_off_the_line():
    # the line check of the earlier version saw no deal here and walked away in round 1; trade-off negotiators
    # (who offer off the line) agree, and no side walks away
    out, _ = run(_scenario(), strategies=("tradeoff_boulware", "tradeoff_boulware"), seeds=5)
    assert out["zopa"].all()
    assert (out["end_reason"] != "walk-away").all() and out["deal"].all()
    assert (out["a_utility"] >= 0.56 - 1e-9).all() and (out["b_utility"] >= 0.56 - 1e-9).all()


def _brute_force_best_for_other(c_me, k_me, rv, c_o, k_o, lo, hi) -> float:
    """Max of the other side's believed utility over {box, own utility >= rv} (-inf if empty), by enumerating the
    polytope's vertices: the box corners that satisfy the constraint and the points on box edges where it binds."""
    n = len(lo)
    points = [np.array(c) for c in itertools.product(*zip(lo, hi))]
    for j in range(n):  # edges along issue j: the other issues at a corner, x_j where own utility equals rv
        for rest in itertools.product(*[(lo[i], hi[i]) for i in range(n) if i != j]):
            if abs(c_me[j]) < 1e-15:
                continue
            x = np.insert(np.array(rest, dtype=float), j, 0.0)
            x[j] = (rv - k_me - c_me @ x) / c_me[j]
            if lo[j] - 1e-12 <= x[j] <= hi[j] + 1e-12:
                points.append(x)
    feasible = [x for x in points if c_me @ x + k_me >= rv - 1e-12]
    return max((c_o @ x + k_o for x in feasible), default=-np.inf)


def test_the_walk_away_check_matches_a_brute_force_over_the_polytope():
    # 300 worlds with the other side's reservation value believed with noise (s.d. 0.2), and b's stated ceiling
    # of 8 on x1 (a narrows its box by it): the check agrees with the brute force in every world where neither
    # is within 1e-6 of the boundary
    stances = (Stance("b", "max", "x1", 8.0),)
    model = _scenario(noise=0.2, stances=stances).model(seeds=300, root_seed=11)
    checked = seen = 0
    for me in model.negotiators:
        assert isinstance(me.opponent, NoisyPrior)
        t = 1
        rv = me.reservation(t)
        sees = me._sees_no_deal(t, rv)
        lo, hi, _, _ = me.believed_common_box()
        c_me = me.utility.a / me.utility.span[:, None]
        c_o = me.opponent.believed_weights()
        d_o = me.opponent.believed_reservation(t)
        for w in range(model.n_worlds):
            k_me = me.utility(np.zeros((model.n_worlds, 2)))[w]
            k_o = me.opponent.utility(np.zeros((model.n_worlds, 2)))[w]
            best = _brute_force_best_for_other(c_me[w], k_me, rv[w], c_o[w], k_o, lo[w], hi[w])
            if abs(best - d_o[w]) < 1e-6:
                continue
            expected = best < d_o[w]
            assert bool(sees[w]) == expected, (me.id, w)
            checked += 1
            seen += expected
        assert np.all(hi[:, 0] <= 8.0 + 1e-12)  # the stated ceiling narrows the box it looks in
    assert checked >= 500 and 20 <= seen <= checked - 20  # both answers occur
