"""What each option of the component groups is: one line per protocol and negotiator part, for
``python -m sim run --help`` and the dashboard.

An option is a file ``conf/<group>/<name>.yaml`` whose ``_target_`` names the class it builds; several
options may build one class with different parameters (``boulware``, ``conceder`` and ``linear`` are all the
time-dependent tactic), so the line belongs to the option, not to the class. The opening comment of each
file says the same at more length, for a reader of the file. Scenarios and experiments are data (a case
study names its parties), so their descriptions stay in their files.
"""

from __future__ import annotations

__all__ = ["OPTIONS"]

OPTIONS: dict[str, dict[str, str]] = {
    "protocol": {
        "linked": "Stage by stage, but \"nothing is agreed until everything is agreed\": stages are settled in the "
                  "scenario's order (scenario.stages) as in `sequential`, yet every partial agreement is "
                  "provisional and falls if the talks end before the last stage is agreed.",
        "meeting": "Meetings: in every round both sides table a whole package and each answers the other's; a side "
                   "that accepts the other's package agrees to it, and if both accept they agree on the midpoint "
                   "of the two.",
        "package": "Whole-package alternating offers (Rubinstein 1982): each round one party proposes a full "
                   "package and the other accepts, counters (its counter-offer is the next round's proposal) or "
                   "walks away.",
        "sequential": "Stage by stage: alternating offers on one stage of issues at a time, in the scenario's stage "
                      "order (scenario.stages).",
    },
    "strategy": {
        "boulware": "Faratin time-dependent tactic, Boulware: holds near its opening offer, concedes late "
                    "(THEORY §4b).",
        "conceder": "Faratin time-dependent tactic, Conceder: concedes early (THEORY §4b).",
        "deadline_aware": "Holds firm at kappa until `hold` of its deadline has passed (longer if it believes the "
                          "other side's deadline comes first), then concedes with exponent beta to its reservation "
                          "value at its deadline.",
        "hardheaded": "Reference agent in the style of HardHeaded (van Krimpen, Looije & Hajizadeh 2013, ANAC 2011 "
                      "winner): concedes very late (beta = 0.1) and offers, at its target utility, the package its "
                      "frequency model rates best for the other side.",
        "hardliner": "Never concedes: always offers its own ideal package.",
        "linear": "Faratin time-dependent tactic, linear (beta = 1; THEORY §4b).",
        "nice_tit_for_tat": "Reference agent: Nice Tit-for-Tat (Baarslag, Hindriks & Jonker 2013): reciprocates the "
                            "other side's concessions (as shares of each side's room down to the estimated Nash "
                            "point) and offers trade-off packages.",
        "random": "Baseline: a concession level drawn uniformly from [0, 1] every round (never below its "
                  "reservation value).",
        "rubinstein": "Subgame-perfect play of alternating offers over a pie with discounting (Rubinstein 1982; "
                      "THEORY §1): keep (1 - d_other) / (1 - d_me d_other), accept anything worth at least d_me "
                      "times one's own share.",
        "stahl": "Subgame-perfect play with a hard final round (Stahl 1972; THEORY §1): the share found by backward "
                 "induction from the side's deadline; the last proposer keeps the whole pie.",
        "tit_for_tat": "Faratin's relative tit-for-tat (THEORY §4b): cooperates first (kappa of its room), then "
                       "answers every move of the other side with the same share of its own room; two tit-for-tat "
                       "sides concede kappa per move in turn (experiments/strategies.md).",
        "tradeoff_boulware": "Reference agent: Boulware in utility (beta = 0.25, as `boulware`) with trade-off offers "
                             "(Faratin, Sierra & Jennings 2002): at its target utility it offers the package its "
                             "frequency opponent model rates best for the other side, within the other side's "
                             "stated red lines, giving a firm issue up later (sim/domain/tradeoff.py).",
    },
    "acceptance": {
        "ac_combi": "AC_combi(T, MAX^W) (Baarslag, Hindriks & Jonker 2014): AC_next, and after a share T of one's "
                    "own time (as ac_time counts it) also any offer at least as good as the best received in the "
                    "last W rounds one responded in.",
        "ac_const": "AC_const(alpha) (Baarslag, Hindriks & Jonker 2014): accept any offer worth at least alpha to "
                    "oneself (and never below the reservation value).",
        "ac_next": "AC_next (Baarslag, Hindriks & Jonker 2014): accept an offer worth at least one's own next offer, "
                   "alpha * u(offer) + beta >= delta * u(next offer), with delta the party's discount factor; never "
                   "below the reservation value, outside the red lines or the win-set.",
        "ac_time": "AC_time(T) (Baarslag, Hindriks & Jonker 2014): accept any offer at or above the reservation "
                   "value once a share T of one's own time has passed, counting a share that passes before one's "
                   "next response.",
    },
    "opponent": {
        "bayesian": "Bayesian model (Hindriks & Tykhonov 2008): a posterior over `hypotheses` weight vectors, "
                    "updated by exp(-rationality * regret): how far, in one's own utility, an offer falls short of "
                    "the package an efficient opponent with weights h would have offered.",
        "frequency": "Frequency model (HardHeaded; van Krimpen, Looije & Hajizadeh 2013), continuous: after each "
                     "offer an issue gains `learning_rate` times how far it is still held in the other side's "
                     "favour; the weights are normalised to sum to 1.",
        "noisy_prior": "Beliefs about the other side drawn once from a prior around the truth and never updated: "
                       "its private deadline (s.d. scenario.sides.PARTY.belief_noise.deadline rounds) and its "
                       "reservation value (s.d. belief_noise.reservation).",
    },
}
"""Group -> option name -> what the option is (one or two sentences)."""
