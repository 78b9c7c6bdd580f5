"""Rubinstein (1982) and Ståhl (1972): the subgame-perfect split of a pie, and one-shot deviations from it.

Part of :mod:`sim.validation` (see its docstring).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config.sweep import column_name
from sim.validation.check import Check, _close, _outcomes


# -- 1. Rubinstein (1982) -----------------------------------------------------------------------


def rubinstein_share(d1: float, d2: float) -> float:
    """The first proposer's subgame-perfect share, (1 - d2) / (1 - d1 d2) (Rubinstein 1982)."""
    return (1 - d2) / (1 - d1 * d2)


RUBINSTEIN_PAIRS = [(0.9, 0.9), (0.9, 0.8), (0.8, 0.9), (0.5, 0.95), (0.99, 0.6), (0.7, 0.7)]


def rubinstein() -> list[Check]:
    """Subgame-perfect play over a pie: the first-period split and agreement in round 1."""
    checks = []
    for opener in ("p1", "p2"):
        for d_us, d_jp in RUBINSTEIN_PAIRS:
            o = _outcomes("scenario=rubinstein_split", "strategy@p1=rubinstein", "strategy@p2=rubinstein",
                          f"protocol.opener={opener}", f"scenario.sides.p1.discount={d_us}",
                          f"scenario.sides.p2.discount={d_jp}").iloc[0]
            first, second = (d_us, d_jp) if opener == "p1" else (d_jp, d_us)
            x1 = rubinstein_share(first, second)
            expected = x1 if opener == "p1" else 1 - x1  # player 1's share
            case = f"δ_1={d_us}, δ_2={d_jp}, {_name(opener)} opens: player 1's share"
            checks.append(_close("Rubinstein", case, expected, float(o["share"]), 1e-9))
            if opener == "p1" and (d_us, d_jp) == RUBINSTEIN_PAIRS[1]:
                checks.append(Check("Rubinstein", f"δ_1={d_us}, δ_2={d_jp}: agreement round", 1,
                                    int(o["end_round"]), 0, bool(o["end_round"] == 1 and o["deal"])))
    return checks


DEVIATION_CASES = [((0.9, 0.8), "p1"), ((0.9, 0.8), "p2"), ((0.5, 0.95), "p1"), ((0.99, 0.6), "p1")]
STAHL_DEVIATION_HORIZONS = (2, 3, 6)


def _deviation_shares(equilibrium: float, include_equilibrium: bool) -> list[float]:
    """Shares a deviator asks to keep: a grid over the pie, and just either side of its equilibrium share
    (and the equilibrium share itself, where keeping it is still a deviation: after rejecting)."""
    near = [equilibrium - 1e-3, equilibrium + 1e-3] + ([equilibrium] if include_equilibrium else [])
    grid = [k for k in np.linspace(0.0, 1.0, 11) if abs(k - equilibrium) > 1e-9 or include_equilibrium]
    return sorted({round(float(k), 12) for k in [*grid, *near] if 0.0 <= k <= 1.0})


def _deviate(opener: str, deviator: str, discounts: dict[str, float], shares: list[float],
             reject_first: bool, extra: tuple[str, ...] = (), game: str = "rubinstein") -> pd.DataFrame:
    """Play one one-shot deviation per share through the model (one sweep): ``deviator`` keeps each share
    in its first offer (round 1 as the opener; round 2, after rejecting round 1, as the responder).
    ``game`` is ``rubinstein`` (stationary play) or ``stahl`` (a hard final round)."""
    overrides = [f"scenario={game}_split", f"strategy@p1={game}", f"strategy@p2={game}",
                 f"protocol.opener={opener}", f"{deviator}.offering._target_=sim.validation.deviations.OneShotOffer",
                 f"{deviator}.offering.name=deviation", f"+{deviator}.offering.keep=0.5",
                 f"+{deviator}.offering.at_round={2 if reject_first else 1}",
                 f"+sweep.grid.{deviator}.offering.keep=[{','.join(repr(k) for k in shares)}]",
                 *(f"scenario.sides.{p}.discount={d!r}" for p, d in discounts.items())]
    if reject_first:
        overrides += [f"{deviator}.acceptance._target_=sim.validation.deviations.RejectOnce", f"+{deviator}.acceptance.at_round=1"]
    return _outcomes(*overrides, *extra)


def _deviation_checks(group: str, setting: str, opener: str, discounts: dict[str, float], kept, game: str,
                      extra: tuple[str, ...] = ()) -> list[Check]:
    """No one-shot deviation gains, and each deviation is worth what backward induction predicts.

    ``kept(t, party)`` is the equilibrium share kept by ``party`` proposing in round ``t`` (0 if the talks
    end before ``t``). With x = kept(1, opener), y = kept(2, responder) and z = kept(3, opener) (z = 0 when
    round 2 is the last: the opener then accepts anything):

    * the opener keeps k in round 1: the responder accepts if 1 - k >= d_r y (that is, k <= x), and it is
      worth k; otherwise the responder counters with its equilibrium offer, worth d_p (1 - y);
    * the responder rejects round 1 and keeps k in round 2: the opener accepts if 1 - k >= d_p z, worth
      d_r k; otherwise the opener offers its equilibrium share in round 3, worth d_r^2 (1 - z). Countering
      with k = y is worth exactly its equilibrium payoff 1 - x = d_r y: the responder is indifferent.
    """
    responder = next(p for p in discounts if p != opener)
    d_p, d_r = discounts[opener], discounts[responder]
    x, y, z = kept(1, opener), kept(2, responder), kept(3, opener)
    checks = []
    for deviator, reject_first in ((opener, False), (responder, True)):
        equilibrium = x if deviator == opener else 1.0 - x
        shares = _deviation_shares(x if deviator == opener else y, include_equilibrium=reject_first)
        o = _deviate(opener, deviator, discounts, shares, reject_first, extra, game)
        k = o[column_name(f"{deviator}.offering.keep")].to_numpy(dtype=float)
        payoff = np.where(o["deal"], o[f"{deviator}_utility"] * discounts[deviator] ** (o["end_round"] - 1.0), 0.0)
        if deviator == opener:
            predicted = np.where(1.0 - k >= d_r * y - 1e-12, k, d_p * (1.0 - y))
            what = f"{_name(deviator)} (opener) keeps another share in round 1"
        else:
            predicted = np.where(1.0 - k >= d_p * z - 1e-12, d_r * k, d_r**2 * (1.0 - z))
            what = f"{_name(deviator)} (responder) rejects round 1, keeps another share in round 2"
        gain = float(np.max(payoff - equilibrium))
        miss = float(np.max(np.abs(payoff - predicted)))
        label = f"{setting}, {_name(opener)} opens: {what} ({len(k)} shares)"
        checks.append(Check(group, f"{label}: largest gain over equilibrium payoff {equilibrium:.4f}", "<= 0",
                            round(gain, 12), 1e-9, gain <= 1e-9))
        checks.append(_close(group, f"{label}: largest |payoff - backward induction|", 0.0, miss, 1e-9))
    return checks


def rubinstein_deviations() -> list[Check]:
    """The subgame-perfect profiles are equilibria when played through the model: no one-shot deviation
    gains the deviator (to 1e-9), and each deviation's payoff is what backward induction predicts
    (:func:`_deviation_checks`). The deviator's payoff is its utility discounted to round 1,
    u * delta^(round - 1).

    Rubinstein: stationary play, x = (1 - d_r) / (1 - d_p d_r) whatever the rounds left (the scenario's
    deadline, round 26, is never reached: every deviation ends by round 3). Ståhl: a hard final round T,
    the proposer with n rounds left keeps :func:`stahl_share` of them; T = 2 makes the responder's counter
    the last offer, which the opener accepts whatever it is.
    """
    checks = []
    for (d_us, d_jp), opener in DEVIATION_CASES:
        discounts = {"p1": d_us, "p2": d_jp}

        def stationary(t, party, d=discounts):
            return rubinstein_share(d[party], d[_other(party)])

        checks += _deviation_checks("Rubinstein deviations", f"δ_1={d_us}, δ_2={d_jp}", opener, discounts,
                                    stationary, "rubinstein")
    discounts = {"p1": 0.9, "p2": 0.8}
    for horizon in STAHL_DEVIATION_HORIZONS:

        def backward(t, party, horizon=horizon):  # the proposer of round t has horizon - t + 1 rounds left
            left = horizon - t + 1
            return stahl_share(discounts[party], discounts[_other(party)], left) if left >= 1 else 0.0

        checks += _deviation_checks("Ståhl deviations", f"T={horizon}, δ_1=0.9, δ_2=0.8", "p1", discounts,
                                    backward, "stahl", (f"scenario.deadline.round={horizon}",))
    return checks


def _name(party: str) -> str:
    return {"p1": "player 1", "p2": "player 2"}.get(party, party)


def _other(party: str) -> str:
    return "p2" if party == "p1" else "p1"


# -- 2. Ståhl (1972), finite horizon -----------------------------------------------------------


def stahl_share(d1: float, d2: float, horizon: int) -> float:
    """The first proposer's share with a hard final round ``horizon`` (backward induction, closed form).

    With m = floor(T / 2) full exchanges: x(T) = (1 - d2) (1 - (d1 d2)^m) / (1 - d1 d2) + [T odd] (d1 d2)^m.
    """
    m = horizon // 2
    x = (1 - d2) * (1 - (d1 * d2) ** m) / (1 - d1 * d2)
    return x + ((d1 * d2) ** m if horizon % 2 == 1 else 0.0)


def stahl() -> list[Check]:
    """Backward induction with a hard final round T = 1..10, and the last proposer's advantage."""
    d_us, d_jp = 0.9, 0.8
    checks = []
    stationary = rubinstein_share(d_us, d_jp)
    for horizon in range(1, 11):
        o = _outcomes("scenario=stahl_split", "strategy@p1=stahl", "strategy@p2=stahl", "protocol.opener=p1",
                      f"scenario.deadline.round={horizon}", f"scenario.sides.p1.discount={d_us}",
                      f"scenario.sides.p2.discount={d_jp}").iloc[0]
        expected = stahl_share(d_us, d_jp, horizon)
        checks.append(_close("Ståhl", f"T={horizon}, δ=({d_us}, {d_jp}), player 1 opens: player 1's share", expected,
                             float(o["share"]), 1e-9))
        last_is_us = horizon % 2 == 1
        advantage = o["share"] > stationary if last_is_us else o["share"] < stationary
        checks.append(Check("Ståhl", f"T={horizon}: the last proposer ({'player 1' if last_is_us else 'player 2'}) beats "
                                     "its Rubinstein share", f"{'>' if last_is_us else '<'} {stationary:.4f}",
                            round(float(o["share"]), 4), "-", bool(advantage)))
    return checks
