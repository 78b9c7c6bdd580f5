"""Trade-off offers, per-issue concession, opponent models and acceptance strategies, each checked against
numbers computed independently: an LP solver, brute-force enumeration, closed forms and hand calculation."""

from __future__ import annotations

import dataclasses
import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.optimize import linprog

from sim.config import plan
from sim.domain.tradeoff import Tradeoffs, tradeoff_package
from sim.domain.utility import BatchUtility
from sim.engine.acceptance import ACCombi, ACConst, ACNext, ACTime
from sim.engine.opponent import BayesianModel, FrequencyModel
from sim.engine.streams import RandomStreams
from sim.run.runner import simulate
from tests.conftest import NO_STANCES, RESERVATIONS_NOT_BINDING, compose_config


def _instance(seed: int, b: int, n: int):
    rng = np.random.default_rng(seed)
    c_me, c_other = rng.normal(size=(b, n)), rng.normal(size=(b, n))
    lo, hi = rng.uniform(-1, 0, size=n), rng.uniform(1, 3, size=n)
    best = np.where(c_me > 0, hi, lo)
    u_best = (best * c_me).sum(axis=1)
    u_worst = np.minimum(c_me * lo, c_me * hi).sum(axis=1)
    budget = rng.uniform(0, 1, size=b) * (u_best - u_worst)
    return c_me, c_other, lo, hi, best, u_best, budget


def test_tradeoff_offer_is_the_lp_optimum():
    """Against scipy's LP solver on random instances: the same value for the other side, own utility kept."""
    c_me, c_other, lo, hi, best, u_best, budget = _instance(1, 100, 6)
    x = tradeoff_package(c_me, c_other, lo, hi, best, budget)
    for b in range(len(x)):
        res = linprog(-c_other[b], A_ub=[-c_me[b]], b_ub=[-(u_best[b] - budget[b])], bounds=list(zip(lo, hi)))
        assert c_other[b] @ x[b] == pytest.approx(-res.fun, abs=1e-9)
        assert c_me[b] @ x[b] >= u_best[b] - budget[b] - 1e-9
        assert np.all(x[b] >= lo - 1e-12) and np.all(x[b] <= hi + 1e-12)


def test_tradeoff_offer_beats_every_package_of_a_discrete_grid():
    """Brute force: no package of an 11-point grid per issue that keeps one's target is better for the other."""
    c_me, c_other, lo, hi, best, u_best, budget = _instance(2, 20, 3)
    x = tradeoff_package(c_me, c_other, lo, hi, best, budget)
    grid = np.array(list(itertools.product(*[np.linspace(lo[j], hi[j], 11) for j in range(3)])))
    for b in range(len(x)):
        feasible = grid[grid @ c_me[b] >= u_best[b] - budget[b] - 1e-12]
        assert c_other[b] @ x[b] >= (feasible @ c_other[b]).max() - 1e-9


def test_one_knapsack_order_serves_every_budget():
    """Sorted once and asked at budgets from none to all of one's room, against scipy's LP solver at each."""
    c_me, c_other, lo, hi, best, u_best, _ = _instance(3, 40, 5)
    room = u_best - np.minimum(c_me * lo, c_me * hi).sum(axis=1)
    tradeoffs = Tradeoffs(c_me, c_other, lo, hi, best)
    for share in (0.0, 0.3, 0.7, 1.0):
        x = tradeoffs.at(share * room)
        for b in range(len(x)):
            res = linprog(-c_other[b], A_ub=[-c_me[b]], b_ub=[-(u_best[b] - share * room[b])], bounds=list(zip(lo, hi)))
            assert c_other[b] @ x[b] == pytest.approx(-res.fun, abs=1e-9)
            assert c_me[b] @ x[b] >= u_best[b] - share * room[b] - 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_a_kept_order_gives_the_packages_sorting_every_time_gives_bit_for_bit(seed):
    """Invariant (not theory): one Tradeoffs asked at budget after budget gives what a new one sorted for each budget
    gives, bit for bit (what a party keeping its order relies on), with ties, zeros of both signs, tiny and huge
    losses, per-world boxes and a firmness. (That no number changed against the code before the order was kept was
    checked on the shipped experiments' tables; the LP tests above check the theory.)"""
    rng = np.random.default_rng(seed)
    b, n = 300, 6
    special = np.array([0.0, -0.0, 1e-300, -1e-300, 1e300, 1.0, -1.0, 0.5])
    pick = lambda: np.where(rng.random((b, n)) < 0.3, rng.choice(special, (b, n)), rng.normal(size=(b, n)))  # noqa: E731
    c_me, c_other = pick(), pick()
    lo = rng.uniform(-1, 0, size=(b, n)) if seed % 2 else rng.uniform(-1, 0, size=n)
    hi = lo + rng.choice([0.0, 0.5, 2.0], size=lo.shape)
    best = np.where(c_me > 0, hi, lo) * np.ones((b, n))
    firmness = None if seed < 2 else rng.choice([1.0, 2.0, 3.0], size=(b, n))
    tradeoffs = Tradeoffs(c_me, c_other, lo, hi, best, firmness)
    for budget in (np.zeros(b), rng.uniform(0, 1, b), rng.uniform(0, 10, b), np.full(b, np.inf), -np.ones(b)):
        want = tradeoff_package(c_me, c_other, lo, hi, best, budget, firmness)
        assert np.array_equal(tradeoffs.at(budget).view(np.int64), want.view(np.int64))


def test_a_knapsack_order_is_kept_only_for_the_same_arguments_bit_for_bit():
    """Equal copies keep it; one number a bit larger, a zero of the other sign, fewer worlds or a firmness do not."""
    c_me, c_other, lo, hi, best, _, _ = _instance(4, 40, 5)
    best[3, 1] = 0.0
    kept = Tradeoffs(c_me, c_other, lo, hi, best)
    assert Tradeoffs.reuse(kept, c_me.copy(), c_other.copy(), lo.copy(), hi.copy(), best.copy()) is kept
    larger, signed = best.copy(), best.copy()
    larger[7, 2] = np.nextafter(larger[7, 2], np.inf)
    signed[3, 1] = -0.0
    for changed in ((c_me, c_other, lo, hi, larger), (c_me, c_other, lo, hi, signed),
                    (c_me[:30], c_other[:30], lo, hi, best[:30]), (c_me, c_other, lo, hi, best, np.ones_like(best))):
        assert Tradeoffs.reuse(kept, *changed) is not kept


def test_a_frozen_argument_is_known_by_identity_and_any_other_by_its_numbers():
    """Arrays that are read-only and own their memory (a party's bounds, its ideal, its believed box) keep the order
    when passed again. A read-only view of an array that is then changed, or a frozen array made writable again and
    changed, does not: the new order gives the packages :func:`tradeoff_package` gives for the new numbers. (An array
    made writable, changed and made read-only again between two rounds would pass as unchanged: nothing in the
    engine lifts the flag, and a plug-in that does breaks the contract :func:`frozen` states.)"""
    c_me, c_other, lo, hi, best, budget, _ = _instance(6, 30, 4)
    for array in (c_me, c_other, best):
        array.setflags(write=False)
    kept = Tradeoffs(c_me, c_other, lo, hi, best)
    assert Tradeoffs.reuse(kept, c_me, c_other, lo, hi, best) is kept

    base = np.array(best)
    view = base.view()
    view.setflags(write=False)  # read-only, but it changes with base
    viewed = Tradeoffs(c_me, c_other, lo, hi, view)
    base[:, 0] = lo[0]
    again = Tradeoffs.reuse(viewed, c_me, c_other, lo, hi, view)
    assert again is not viewed
    want = tradeoff_package(c_me, c_other, lo, hi, view, budget)
    assert np.array_equal(again.at(budget).view(np.int64), want.view(np.int64))

    thawed = np.array(c_other)
    thawed.setflags(write=False)
    kept = Tradeoffs(c_me, thawed, lo, hi, best)
    thawed.setflags(write=True)  # writable again: compared (made read-only again after a change, it would not be)
    thawed[:, 1] *= -1.0
    assert Tradeoffs.reuse(kept, c_me, thawed, lo, hi, best) is not kept


def test_a_party_states_read_only_copies_of_its_red_lines_and_leaves_its_inputs_alone():
    """What the other side's opponent model reads as its stated red lines, and its own bounds and ideal, are the
    party's read-only copies; the caller's input arrays keep their numbers and stay writable."""
    from tests.conftest import single_model

    model = single_model(seeds=3)
    for negotiator in model.negotiators:
        inputs = negotiator.inputs
        np.testing.assert_array_equal(negotiator.stated_lo, inputs.red_lo)
        np.testing.assert_array_equal(negotiator.stated_hi, inputs.red_hi)
        assert inputs.red_lo.flags.writeable and inputs.red_hi.flags.writeable
        for array in (negotiator.stated_lo, negotiator.stated_hi, negotiator.red_lo, negotiator.red_hi,
                      negotiator.best):
            assert not array.flags.writeable and array.flags.owndata
        believed = negotiator.other.opponent.believed_bounds()
        assert believed[0] is negotiator.stated_lo and believed[1] is negotiator.stated_hi


def test_a_kept_box_still_knows_its_frozen_bounds_after_the_batch_is_compacted():
    """Ended worlds dropped (the kept box, its copies and its frozen bounds cut to the same rows, the bounds still
    the very arrays the party holds): the box is reused, and is the one a hand computation gives for those rows."""
    from sim.engine.compaction import MIN_WORLDS
    from tests.conftest import single_model

    model = single_model(seeds=MIN_WORLDS + 44)
    negotiator = model.negotiators[0]
    negotiator.believed_common_box()
    model.keep(np.arange(0, MIN_WORLDS + 44, 3))
    copies, box, sources = negotiator._common_box
    assert sources[0] is negotiator.red_lo and sources[4] is negotiator.best
    assert sources[2] is negotiator.other.stated_lo
    assert negotiator.believed_common_box() is box
    for got, want in zip(box[:3], _common_box_by_hand(negotiator), strict=True):
        assert len(got) == len(range(0, MIN_WORLDS + 44, 3))
        np.testing.assert_array_equal(got, want)


def _at_by_put_along_axis(kept: Tradeoffs, budget: np.ndarray) -> np.ndarray:
    """The trade-off packages at ``budget`` as ``Tradeoffs.at`` computed them before it worked in place: a new array
    at each step and the sorted shares put back by ``np.put_along_axis`` (the reference for its bits)."""
    room = np.maximum(budget, 0.0)[:, None] - kept.spent_before
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        share_sorted = np.where(kept.sorted_loss > 0, np.clip(room / kept.sorted_loss, 0.0, 1.0), 1.0)
    share = np.empty_like(share_sorted)
    np.put_along_axis(share, kept.order, share_sorted, axis=1)
    return kept.best + np.where(kept.movable, share, 0.0) * kept.delta


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_packages_at_a_budget_have_the_bits_of_the_step_by_step_computation(dtype):
    """Random worlds whose every argument may be NaN, +-0, +-inf, the least subnormal or 1e300, in float64 and
    float32: the packages in place are those of a new array at each step, bit for bit, and of the same dtype."""
    rng = np.random.default_rng(11)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e300, 1.0])

    def draw(shape):
        x = rng.normal(size=shape) * rng.choice([1e-3, 1.0, 1e3])
        odd = rng.random(shape) < 0.2
        x[odd] = rng.choice(special, size=int(odd.sum()))
        return x.astype(dtype)

    with np.errstate(all="ignore"):
        for trial in range(200):
            b, n = int(rng.integers(1, 40)), int(rng.integers(1, 10))
            best = draw((b, n))
            lo, hi = best - np.abs(draw((b, n))), best + np.abs(draw((b, n)))
            kept = Tradeoffs(draw((b, n)), draw((b, n)), lo, hi, best, np.abs(draw((b, n))) + 1 if trial % 2 else None)
            for budget in (draw((b,)), draw((1,))):
                want, got = _at_by_put_along_axis(kept, budget), kept.at(budget)
                assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    with pytest.raises(ValueError, match="budget of shape"):
        kept.at(np.zeros(b + 1))


def _common_box_by_hand(negotiator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The believed common box world by world in plain Python: both sides' bounds where they meet, else its own."""
    other_lo, other_hi = negotiator.opponent.believed_bounds()
    lo, hi, best = [], [], []
    for b in range(len(negotiator.best)):
        own_lo, own_hi = negotiator.red_lo[b].tolist(), negotiator.red_hi[b].tolist()
        both_lo = [max(x, y) for x, y in zip(own_lo, other_lo[b].tolist(), strict=True)]
        both_hi = [min(x, y) for x, y in zip(own_hi, other_hi[b].tolist(), strict=True)]
        meet = all(x <= y for x, y in zip(both_lo, both_hi, strict=True))
        lo.append(both_lo if meet else own_lo)
        hi.append(both_hi if meet else own_hi)
        best.append([min(max(x, l), h) for x, l, h in zip(negotiator.best[b].tolist(), lo[-1], hi[-1], strict=True)])
    return np.array(lo), np.array(hi), np.array(best)


def test_the_believed_common_box_is_worked_out_again_when_its_bounds_change():
    """Asked twice with the same bounds, the same box (read-only: it is shared between rounds); after its own red line
    is replaced by a narrower one, the other side's stated bound is narrowed in place, or its ideal is replaced, the
    box a hand computation gives."""
    from tests.conftest import single_model

    negotiator = single_model(seeds=4).negotiators[0]
    first = negotiator.believed_common_box()
    assert negotiator.believed_common_box() is first
    with pytest.raises(ValueError, match="read-only"):
        first[0][0, 0] = 0.0

    def narrowed(column: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        hi = hi.copy()
        hi[:, column] = (lo[:, column] + hi[:, column]) / 2
        return hi

    other_lo, other_hi = (np.array(a) for a in negotiator.opponent.believed_bounds())
    negotiator.opponent.believed_bounds = lambda: (other_lo, other_hi)  # a plug-in's model, changing its own arrays
    changes = [lambda: setattr(negotiator, "red_hi", narrowed(0, negotiator.red_lo, negotiator.red_hi)),
               lambda: np.copyto(other_hi, narrowed(1, other_lo, other_hi)),
               lambda: setattr(negotiator, "best", np.clip(negotiator.best * 0.5, negotiator.red_lo, negotiator.red_hi))]
    for change in changes:
        before = negotiator.believed_common_box()
        change()
        lo, hi, best, u_best = negotiator.believed_common_box()
        expected = _common_box_by_hand(negotiator)
        assert not all(np.array_equal(x, y) for x, y in zip(before[:3], expected, strict=True))  # the change shows
        for got, want in zip((lo, hi, best), expected, strict=True):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(u_best, negotiator.utility(best))


def test_utility_per_unit_is_kept_until_its_coefficients_are_replaced():
    """a / span by hand, the same array while a and span are, a new one for new coefficients."""
    a, span = np.array([[2.0, -4.0], [1.0, 3.0]]), np.array([4.0, 2.0])
    utility = BatchUtility(a, np.zeros(2), np.zeros(2), span)
    first = utility.per_unit
    np.testing.assert_array_equal(first, [[0.5, -1.0], [0.5, 1.5]])
    assert utility.per_unit is first
    with pytest.raises(ValueError, match="read-only"):
        first[0, 0] = 1.0
    utility.a = np.array([[6.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(utility.per_unit, [[1.5, 0.0], [0.5, 0.5]])


def test_per_issue_concession_follows_each_issues_own_exponent():
    """Linear (beta = 1) on every issue but quality at beta = 0.1, on the toy scenario of tests/test_schema.py:
    by hand, a's offers in round 3 of a 13-round deadline sit 2/12 of the way on every issue, and (2/12) ** 10
    of the way on quality."""
    from sim.config.schema import Part
    from tests.test_schema import HARDLINER, toy

    scenario = toy(HARDLINER, opener="a")
    per_issue = Part("sim.engine.offering.TimeDependent", {"beta": 1.0, "per_issue": {"beta": {"quality": 0.1}}})
    scenario = dataclasses.replace(scenario, parties=(dataclasses.replace(scenario.parties[0], offering=per_issue),
                                                      scenario.parties[1]))
    model = scenario.model()
    a = model.negotiator("a")
    offer = a.offering.package(a, 3)
    share = (offer - a.best) / (a.other.best - a.best)
    names = model.space.names
    quality = names.index("quality")
    others = [j for j in range(len(names)) if j != quality]
    np.testing.assert_allclose(share[0, others], 2 / 12, rtol=1e-12)
    assert share[0, quality] == pytest.approx((2 / 12) ** 10, rel=1e-9)


def test_per_issue_parameters_name_issues_or_tags():
    with pytest.raises(Exception, match="per_issue.beta.nope: names no issue"):
        plan(compose_config("+us.offering.per_issue.beta.nope=2"))
    point = plan(compose_config("+japan.offering.per_issue.beta.package=4")).points[0]
    beta = point.inputs.parties[1].offering["beta"]
    kinds = [i.tag("sector") for i in point.structure.space.issues]
    assert [b for b, k in zip(beta, kinds) if k == "package"] == [4.0] * 5
    assert [b for b, k in zip(beta, kinds) if k != "package"] == [0.25] * 4


# -- opponent models: recovering known weights --------------------------------------------------
TRUE_WEIGHTS = np.array([0.5, 0.3, 0.15, 0.05])


def _tradeoff_offers(rounds: int = 10) -> np.ndarray:
    """A synthetic opponent with known importance weights (it prefers the top of every issue on [0, 1]) makes
    trade-off offers against a learner that weighs every issue equally, its target utility falling linearly
    from 1 to 0.4."""
    n = len(TRUE_WEIGHTS)
    learner = np.full((1, n), -1.0 / n)
    targets = np.linspace(1.0, 0.4, rounds)
    return np.stack([tradeoff_package(TRUE_WEIGHTS[None], learner, np.zeros(n), np.ones(n), np.ones((1, n)),
                                      np.array([1.0 - tau]))[0] for tau in targets])


def _learner(model_class, seeds=(1,), **params):
    n, b = len(TRUE_WEIGHTS), len(seeds)
    me = SimpleNamespace(n_worlds=b, index=0, box=(np.zeros(n), np.ones(n)), streams=RandomStreams(np.array(seeds)),
                         inputs=SimpleNamespace(belief_deadline_sd=np.zeros(b), belief_reservation_sd=np.zeros(b)),
                         utility=BatchUtility(np.full((b, n), -1.0 / n), np.zeros(b), np.zeros(b), np.ones(b)),
                         other=SimpleNamespace(best=np.ones((b, n))))
    model = model_class(**{k: np.full(b, v) for k, v in params.items()})
    model.attach(me)
    return model


@pytest.mark.parametrize("model_class", [FrequencyModel, BayesianModel])
def test_opponent_models_recover_known_weights(model_class):
    """Bound fixed before measuring: after 10 trade-off offers, the L1 error of the estimated importance weights
    is at most half that of the uninformed equal-weights estimate (0.6 / 2 = 0.3), the most important issue is
    found, and every preferred direction is right."""
    model = _learner(model_class)
    for offer in _tradeoff_offers():
        model.observe(np.zeros(1), offer[None])
    per_unit = model.weights()[0]
    assert np.all(per_unit > 0)  # the opponent prefers the top of every issue
    estimate = per_unit / per_unit.sum()  # ranges are 1: per-unit weights are the importance weights
    uninformed = np.abs(np.full(4, 0.25) - TRUE_WEIGHTS).sum()
    assert uninformed == pytest.approx(0.6)
    assert np.abs(estimate - TRUE_WEIGHTS).sum() <= 0.5 * uninformed
    assert np.argmax(estimate) == 0


@pytest.mark.parametrize("model_class", [FrequencyModel, BayesianModel])
def test_a_world_learns_the_same_weights_alone_as_in_a_batch(model_class):
    """A world's beliefs depend on the offers it received, not on its batch-mates: 300 worlds with offers of
    their own learn, bit for bit, what each learns alone (the Bayesian model's matrix products of a batch of one
    differed from a batch of many in the last bit: the BLAS product takes another path for one row)."""
    rng = np.random.default_rng(5)
    offers = rng.uniform(0, 1, (10, 300, len(TRUE_WEIGHTS)))
    batch = _learner(model_class, seeds=tuple(range(1, 301)))
    for offer in offers:
        batch.observe(np.zeros(300), offer)
    for world in (0, 1, 150, 299):
        alone = _learner(model_class, seeds=(world + 1,))
        for offer in offers:
            alone.observe(np.zeros(1), offer[world:world + 1])
        assert np.array_equal(alone.weights()[0], batch.weights()[world])


def test_frequency_model_learns_nothing_from_line_offers():
    """A line offer moves every issue by the same share: every issue is held as much, so the weights stay equal."""
    model = _learner(FrequencyModel)
    for share in np.linspace(0, 0.6, 8):
        model.observe(np.zeros(1), np.full((1, 4), 1.0 - share))
    np.testing.assert_allclose(model.weights()[0], 0.25)


# -- acceptance strategies, by hand --------------------------------------------------------------


def _me(next_time: float, discount: float = 1.0):
    """A responder whose share of its own time passed by its next response is ``next_time`` (what the time rules
    read: they act in the last response before T passes)."""
    return SimpleNamespace(discount=np.array([discount]), time_at_next_turn=lambda t: np.array([next_time]))


def test_acceptance_conditions_by_hand():
    u, nxt, no = np.array([0.6]), np.array([0.7]), np.array([False])
    assert not ACNext().accepts(_me(0.5), u, nxt, 5, no)[0]  # 0.6 < 0.7
    assert ACNext().accepts(_me(0.5, discount=0.8), u, nxt, 5, no)[0]  # 0.6 >= 0.8 * 0.7 = 0.56
    assert ACNext().accepts(_me(0.5), u, nxt, 5, np.array([True]))[0]  # final round: no next offer
    assert ACConst(alpha=np.array([0.6])).accepts(_me(0.1), u, nxt, 2, no)[0]
    assert not ACConst(alpha=np.array([0.61])).accepts(_me(0.1), u, nxt, 2, no)[0]
    assert not ACTime(T=np.array([0.9])).accepts(_me(0.85), u, nxt, 9, no)[0]
    assert not ACTime(T=np.array([0.9])).accepts(_me(0.9), u, nxt, 9, no)[0]  # still a response at T: it waits
    assert ACTime(T=np.array([0.9])).accepts(_me(0.95), u, nxt, 10, no)[0]


def test_ac_combi_accepts_late_what_beats_the_last_w_offers():
    """T = 0.5, W = 2; offers received worth 0.3, 0.5, 0.4, 0.45 with the own next offer always worth 0.9:
    AC_next never fires; the fourth offer (0.45) comes when T passes before the next response but is below max(0.5, 0.4) = 0.5, so it is
    rejected; a fifth worth 0.45 beats max(0.4, 0.45) = 0.45 and is accepted."""
    ac = ACCombi(T=np.array([0.5]), W=np.array([2.0]))
    nxt, no = np.array([0.9]), np.array([False])
    decisions = [bool(ac.accepts(_me(rt), np.array([u]), nxt, k, no)[0])
                 for k, (u, rt) in enumerate([(0.3, 0.1), (0.5, 0.2), (0.4, 0.4), (0.45, 0.6), (0.45, 0.7)])]
    assert decisions == [False, False, False, False, True]


# -- efficiency on the default scenario -----------------------------------------------------------


def test_tradeoff_agents_reach_the_frontier_and_line_offers_do_not():
    """Trade-off pairs (learning the other side's weights with the frequency model): median distance to the
    Pareto frontier at most 0.05; median joint utility within 10 % of the frontier's maximum, which for utilities
    affine over a box is a corner found issue by issue (HardHeaded, which concedes last and so learns least, is
    held to the distance only; experiments/strategies.md measures its welfare, 89.9 % of the maximum, 91.6 % with
    the weights known). Measured on the payoffs
    of the first calibration (RESERVATIONS_NOT_BINDING), where the claim was made; under the sourced payoffs of
    issue 11 (pass-through 0.6, wider ranges) the trade-off pair still reaches the frontier but its median joint
    utility is 1.07 of a maximum 1.26, below the 90 % (see the issue 11 report)."""
    p = plan(compose_config("sweep.pairs=[[tradeoff_boulware,tradeoff_boulware],[nice_tit_for_tat,nice_tit_for_tat],"
                            "[hardheaded,hardheaded],[boulware,boulware]]", "run.seeds=100", *RESERVATIONS_NOT_BINDING,
                            *NO_STANCES))
    point = p.points[0]
    (c1, k1), (c2, k2) = [(q.payoff_a / (q.p_max - q.p_min), (q.payoff_b - q.p_min) / (q.p_max - q.p_min))
                          for q in point.inputs.parties]
    lo, hi = point.structure.space.lo, point.structure.space.hi
    max_welfare = np.maximum((c1 + c2) * lo, (c1 + c2) * hi).sum() + k1 + k2
    assert 1.0 < max_welfare <= 2.0  # the straight line between the ideals has joint utility 1 (1.505 in the issue)
    o = simulate(p)[0]
    deals = o[o["deal"]]
    for pair in ("tradeoff_boulware", "nice_tit_for_tat", "hardheaded"):
        mine = deals[deals["us_strategy"] == pair]
        assert mine["pareto_dist"].median() <= 0.05
        if pair != "hardheaded":
            assert mine["welfare"].median() >= 0.9 * max_welfare
    line = deals[deals["us_strategy"] == "boulware"]
    # the straight line between the ideals has joint utility 1, up to the concession noise on each issue
    assert line["welfare"].median() == pytest.approx(1.0, abs=0.01)
