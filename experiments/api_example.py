"""Run an experiment, read its outcomes and analyse it from Python, as a notebook would (sim.api).

Usage (from the repository root): python experiments/api_example.py

It runs the `smoke` experiment with an LHS sample of the escalation and the breakdown risk (two strategy pairs x
two deadlines x 8 sampled points x 5 seeds = 160 negotiations, a few seconds), into results/api_example/, then
prints the deal rate per strategy pair, draws the figures and ranks the parameters by extra-trees feature
scoring (an LHS sample is not a sensitivity design). The run folder is the one `python -m sim run` would write:
`python -m sim analyze results/api_example --prim no_deal` works on it too.
"""

from __future__ import annotations

from sim import api

OVERRIDES = [
    "+experiment=smoke",
    "sweep.sample.method=lhs",
    "sweep.sample.n=8",
    "+sweep.sample.ranges.scenario.escalation=[0,15]",      # pp at the final deadline
    "+sweep.sample.ranges.scenario.breakdown_risk=[0,0.05]",  # per round
    "run.plot=false",
]


def main() -> None:
    """Run, summarise, draw and analyse."""
    run = api.run(overrides=OVERRIDES, out_dir="results/api_example")
    outcomes = run.outcomes
    print(f"{len(outcomes)} negotiations in {run.path}")
    print(outcomes.groupby(["us_strategy", "japan_strategy"])["deal"].mean().rename("deal rate").to_string())
    figures = run.plot()
    print(f"figures: {', '.join(p.name for p in figures)}")
    scores = run.analyze(outcomes=["deal", "reciprocal", "welfare"], figures=False).sensitivity
    top = scores.sort_values("value", ascending=False).groupby("outcome").head(2)
    print(top[["outcome", "method", "parameter", "value", "conf"]].to_string(index=False))


if __name__ == "__main__":
    main()
