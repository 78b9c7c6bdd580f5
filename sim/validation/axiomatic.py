"""Axiomatic bargaining and efficiency: the Nash bargaining solution by brute force, and trade-off offers
reaching the Pareto frontier.

Part of :mod:`sim.validation` (see its docstring).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from sim.domain.bargaining import frontier, nash_discrete, nash_point, pareto_indices, rational_part
from sim.validation.check import Check, _close, _outcomes


# -- 3. Nash bargaining solution (1950) ---------------------------------------------------------


def _brute_force_nash(u: np.ndarray, d: tuple[float, float]) -> np.ndarray:
    rational = u[(u[:, 0] >= d[0]) & (u[:, 1] >= d[1])]
    return rational[np.argmax((rational[:, 0] - d[0]) * (rational[:, 1] - d[1]))]


def _domains() -> dict[str, tuple[np.ndarray, tuple[float, float]]]:
    k = np.arange(101) / 100
    a, b = np.meshgrid(np.arange(11), np.arange(11))
    rng = np.random.default_rng(1950)
    grid = np.stack(np.meshgrid(*[np.arange(6)] * 3), -1).reshape(-1, 3)
    w_us, w_jp = rng.uniform(0.2, 1.0, 3), rng.uniform(0.2, 1.0, 3)
    return {
        "symmetric pie, 101 splits, d=(0,0)": (np.c_[k, 1 - k], (0.0, 0.0)),
        "symmetric two issues 11x11, d=(0.1,0.1)": (np.c_[(a + b).ravel() / 20, (20 - a - b).ravel() / 20], (0.1, 0.1)),
        "asymmetric pie u_JP=sqrt(1-x), d=(0,0)": (np.c_[k, np.sqrt(1 - k)], (0.0, 0.0)),
        "asymmetric 3 issues 6x6x6, d=(0.2,0.1)": (np.c_[grid @ w_us / (5 * w_us.sum()),
                                                          (5 - grid) @ w_jp / (5 * w_jp.sum())], (0.2, 0.1)),
    }


def nash() -> list[Check]:
    """Discrete domains: the computed Nash point equals the brute-force argmax of the Nash product;
    and Rubinstein's split tends to the Nash split as discounting vanishes (Binmore et al. 1986)."""
    checks = []
    for name, (u, d) in _domains().items():
        computed, brute = nash_discrete(u, d), _brute_force_nash(u, d)
        product = lambda p, d=d: (p[0] - d[0]) * (p[1] - d[1])  # noqa: E731
        checks.append(Check("Nash", f"{name}: Nash product at the computed point", round(product(brute), 12),
                            round(product(computed), 12), 1e-12,
                            bool(abs(product(computed) - product(brute)) <= 1e-12 and len(pareto_indices(u)) > 0)))
    pie = frontier(np.array([1.0]), np.array([-1.0]), 0.0, 1.0, np.zeros(1), np.ones(1))
    for r_us, r_jp in ((1.0, 1.0), (1.0, 3.0)):
        weight = r_jp / (r_us + r_jp)  # bargaining weight of player 1, proportional to 1 / r_1
        target = nash_point(rational_part(pie, (0, 0)), (0, 0), weight=weight)[0]
        previous = None
        for step in (0.1, 0.01, 0.001):
            d_us, d_jp = math.exp(-r_us * step), math.exp(-r_jp * step)
            o = _outcomes("scenario=rubinstein_split", "strategy@p1=rubinstein", "strategy@p2=rubinstein",
                          "protocol.opener=p1", f"scenario.sides.p1.discount={d_us!r}",
                          f"scenario.sides.p2.discount={d_jp!r}").iloc[0]
            gap = abs(float(o["share"]) - target)
            shrinking = previous is None or gap < previous
            previous = gap
            # Rubinstein's first-mover edge is O(step): (1 - d2)/(1 - d1 d2) - r2/(r1 + r2) ~ r1 r2 step / (2 (r1 + r2))
            tol = r_us * r_jp * step / (r_us + r_jp)
            checks.append(Check("Nash (BRW limit)", f"r=({r_us}, {r_jp}), Δ={step}: player 1's share → Nash split {target:.4f}",
                                round(target, 6), round(float(o["share"]), 6), round(tol, 6),
                                bool(gap <= tol and shrinking)))
    return checks


# -- 7. Trade-off offers (Faratin, Sierra & Jennings 2002) -----------------------------------------


def _best_vertex(c_me: np.ndarray, c_other: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: float) -> float:
    """Brute force: the other side's best value over every basic solution of the LP ``max c_other @ x`` s.t.
    ``c_me @ x >= target`` over the box: every issue at a bound, or all but one at a bound and that one set
    so the constraint binds. The optimum of a linear programme lies at one of them."""
    n, best = len(c_me), -np.inf
    for corner in itertools.product(*[(lo[j], hi[j]) for j in range(n)]):
        x = np.array(corner, dtype=float)
        if c_me @ x >= target - 1e-12:
            best = max(best, c_other @ x)
        for free in range(n):
            if c_me[free] == 0:
                continue
            y = x.copy()
            y[free] = (target - (c_me @ x - c_me[free] * x[free])) / c_me[free]
            if lo[free] - 1e-12 <= y[free] <= hi[free] + 1e-12:
                best = max(best, c_other @ y)
    return best


def tradeoffs() -> list[Check]:
    """The trade-off offer a negotiator makes through the model is the package best for the other side at its
    target utility, against brute-force enumeration of the LP's basic solutions (example_bilateral, 4 issues)."""
    from sim.scenario_model import ScenarioModel

    checks = []
    model = ScenarioModel(scenario="example_bilateral", strategies={"north": "tradeoff_boulware"},
                          overrides=["opponent@north=noisy_prior"], rng=5)
    me = model.negotiator("north")
    c_me = me.utility.a[0] / me.utility.span[0]
    c_other = me.opponent.weights()[0]
    lo, hi = me.red_lo[0], me.red_hi[0]
    constant = float((me.utility.b[0] - me.utility.p_min[0]) / me.utility.span[0])  # u = c_me @ x + constant
    for t in (1, 4, 8, 10, 11, 12):
        target = float(max(me.offering.target(me, t)[0], min(me.reservation(t)[0], me.u_best[0])))
        offer = me.offering.package(me, t)
        kept = float(me.utility(offer)[0])
        checks.append(_close("Trade-off", f"north round {t}: own utility of the offer = its target", target, kept,
                             1e-9))
        brute = _best_vertex(c_me, c_other, lo, hi, target - constant)
        checks.append(_close("Trade-off", f"north round {t}: other side's value = brute-force best at the target",
                             brute, float(c_other @ offer[0]), 1e-9))
    return checks
