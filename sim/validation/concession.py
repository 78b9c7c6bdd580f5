"""Time-dependent concession (Faratin, Sierra & Jennings 1998): where two concession curves cross, and how
a deadline's risk and privacy move agreement.

Part of :mod:`sim.validation` (see its docstring).
"""

from __future__ import annotations

import pandas as pd

from sim.config import load_option
from sim.validation.check import Check, _close, _outcomes


# -- 4. Faratin time-dependent tactics -----------------------------------------------------------


def faratin_alpha(t: int, deadline: int, beta: float) -> float:
    """Faratin's polynomial concession with kappa = 0 (Faratin, Sierra & Jennings 1998)."""
    return min(max((t - 1) / (deadline - 1), 0.0), 1.0) ** (1 / beta)


def faratin_agreement(deadline: int, beta: dict[str, float], opener: str) -> tuple[int, float]:
    """Round and player 1's share where the curves cross: the responder accepts when the share it is offered
    is worth at least its own next offer (all of it in the last round); on the pie, a side conceding
    alpha offers the other side alpha."""
    other = {"p1": "p2", "p2": "p1"}
    for t in range(1, deadline + 1):
        proposer = opener if t % 2 == 1 else other[opener]
        responder = other[proposer]
        offered = faratin_alpha(t, deadline, beta[proposer])
        if t == deadline or offered >= 1 - faratin_alpha(t + 1, deadline, beta[responder]) - 1e-12:
            return t, (1 - offered if proposer == "p1" else offered)
    raise AssertionError("unreachable: the last round always agrees")


def faratin() -> list[Check]:
    """Agreement round and split of time-dependent tactics against the analytic crossing."""
    presets = {name: float(load_option("strategy", name, "validation")["offering"]["beta"]) for name in ("boulware", "conceder", "linear")}
    checks = []
    for s1, s2 in (("boulware", "boulware"), ("boulware", "conceder"), ("linear", "linear"),
                      ("conceder", "boulware")):
        o = _outcomes("scenario=faratin_split", f"strategy@p1={s1}", f"strategy@p2={s2}").iloc[0]
        rnd, share = faratin_agreement(20, {"p1": presets[s1], "p2": presets[s2]}, "p2")
        checks.append(Check("Faratin", f"{s1} (player 1) vs {s2} (player 2), T=20: agreement round", rnd,
                            int(o["end_round"]), 0, bool(o["end_round"] == rnd)))
        checks.append(_close("Faratin", f"{s1} (player 1) vs {s2} (player 2), T=20: player 1's share", share,
                             float(o["share"]), 1e-9))
    return checks


# -- 5. The deadline effect ----------------------------------------------------------------------

DEADLINE_EFFECT = ["scenario=faratin_split", "strategy@p1=boulware", "strategy@p2=boulware",
                   "scenario.sides.p1.concession_noise=0.05", "scenario.sides.p2.concession_noise=0.05",
                   "scenario.sides.p1.deadline_private=true", "scenario.sides.p2.deadline_private=true"]


def _timing(*overrides: str, seeds: int = 1000) -> tuple[float, float, pd.DataFrame]:
    """Share of agreements in the last 10 % of the window, mean agreement time, and the outcomes."""
    o = _outcomes(*overrides, seeds=seeds)
    share = (o.loc[o["deal"], "end_round"] / o.loc[o["deal"], "final_deadline"])
    return float((share > 0.9).mean()), float(share.mean()), o


def _boulware(beta: float, risk: float, private: bool = True) -> tuple[float, float, pd.DataFrame]:
    public = [] if private else ["scenario.sides.p1.deadline_private=false", "scenario.sides.p2.deadline_private=false"]
    return _timing(*DEADLINE_EFFECT, f"p1.offering.beta={beta}", f"p2.offering.beta={beta}",
                   f"scenario.breakdown_risk={risk}", *public)


# Uncertainty about the other side's deadline, with nothing in the tactics that concedes late: each side
# concedes linearly (beta = 1, hold = 0) from the round it believes the other side's deadline falls.
UNCERTAIN_DEADLINES = ["scenario=faratin_split", "strategy@p1=deadline_aware", "strategy@p2=deadline_aware",
                       "p1.offering.hold=0", "p2.offering.hold=0", "scenario.sides.p1.deadline_private=true",
                       "scenario.sides.p2.deadline_private=true"]


def deadline_effect() -> list[Check]:
    """Agreements cluster before the deadline (Roth et al. 1988) and move earlier with a risk of
    breakdown (Yildiz 2004; Binmore et al. 1986).

    Both checks hold by construction, and the table says so: with beta = 0.1 the two concession curves
    cross at 2^-0.1 = 0.93 of the window, so agreements come late because the tactic concedes late; the
    private deadlines change nothing (time-dependent tactics never look at the other side's deadline:
    the outcomes are identical with public ones); and a tactic concedes by the round the talks will more
    likely than not have broken down, so a breakdown risk moves agreements earlier. Criterion, fixed
    before measuring: more than half of the agreements in the last 10 % of the window (uniform timing
    would put 10 % there).

    Information rows then look for a deadline effect that is not built in: uncertainty about the other
    side's deadline, with tactics that concede linearly once they believe the other side's deadline has
    come. It does not emerge: with exact beliefs both sides hold to the common deadline (the waiting is
    the tactic's rule), and uncertainty (a belief error of s.d. 8 rounds, never updated: the opponent
    model does not learn) spreads agreements earlier rather than later.
    """
    late, mean_time, private = _boulware(0.1, 0.0)
    checks = [Check("Deadline effect", "(by construction: β=0.1 curves cross at 0.93 of the window) Boulware, "
                                       "private deadlines, noise 0.05: share of agreements in the last 10 % of the "
                                       "window", "> 0.5", round(late, 3), "-", late > 0.5)]
    _, _, public = _boulware(0.1, 0.0, private=False)
    same = private.drop(columns=["constraints"], errors="ignore").equals(public.drop(columns=["constraints"],
                                                                                     errors="ignore"))
    checks.append(Check("Deadline effect", "(information) the same with public deadlines: outcomes identical",
                        "-", "identical" if same else "different", "-", True))
    for beta in (0.25, 1.0):  # for the record: weaker Boulware agrees earlier (where 2 y^(1/beta) = 1)
        share, _, _ = _boulware(beta, 0.0)
        checks.append(Check("Deadline effect", f"(information) β={beta}: share in the last 10 %; curves cross at "
                                               f"{2 ** -beta:.2f} of the window", "-", round(share, 3), "-", True))
    _, risky, _ = _boulware(0.1, 0.05)
    checks.append(Check("Deadline effect", "(by construction: tactics concede by the breakdown horizon) breakdown "
                                           "risk 5 %/round moves agreements earlier: mean agreement time (share of "
                                           "the window)", f"< {mean_time:.3f}", round(risky, 3), "-",
                        risky < mean_time))
    for sd in (0, 8):
        share, _, _ = _timing(*UNCERTAIN_DEADLINES, f"scenario.sides.p1.belief_noise.deadline={sd}",
                              f"scenario.sides.p2.belief_noise.deadline={sd}")
        checks.append(Check("Deadline effect", f"(information) not built in: uncertainty about the other's deadline "
                                               f"(deadline-aware, linear, hold 0), belief error s.d. {sd} rounds: "
                                               "share in the last 10 %", "-", round(share, 3), "-", True))
    return checks
