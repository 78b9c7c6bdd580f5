"""Throughput of the batched model on a 100-round negotiation, for B = 1 and B = 10,000.

Usage: python benchmarks/bench_model.py [--repeats 3] [--parts]

Both sides play Boulware (beta = 0.25) to a 100-round deadline with concession noise, so most
negotiations run close to the deadline. Reported: negotiations per second and rounds per second
(model construction included; writing results excluded), and the process's peak resident memory.
With ``--parts``, also the cost per world-round of each negotiator part against the line offer, at
B = 10,000 in the same process: trade-off offers with known weights, with the frequency and the
Bayesian opponent model, Nice Tit-for-Tat, and the AC_combi acceptance strategy.
Timings are wall-clock on whatever machine runs it; never assert them in a test.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from hydra import compose, initialize_config_dir

from sim.config import CONF_DIR, plan
from sim.engine.inputs import stack, take
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds

OVERRIDES = [
    "protocol.max_rounds=100",
    "scenario.deadline.round=100",
    "scenario.deadline.extension.rounds=0",
    "scenario.sides.japan.deadline=null",
    "scenario.breakdown_risk=0",
    "scenario.sides.us.walk_away=false",
    "scenario.sides.japan.walk_away=false",
    "strategy@us=boulware",
    "strategy@japan=boulware",
]


# negotiator parts whose cost per world-round is compared with the line offer (--parts)
PARTS = {
    "line offer (boulware)": [],
    "trade-off, known weights": ["strategy@us=tradeoff_boulware", "strategy@japan=tradeoff_boulware",
                                 "opponent@us=noisy_prior", "opponent@japan=noisy_prior"],
    "trade-off + frequency model": ["strategy@us=tradeoff_boulware", "strategy@japan=tradeoff_boulware"],
    "trade-off + Bayesian model": ["strategy@us=tradeoff_boulware", "strategy@japan=tradeoff_boulware",
                                   "opponent@us=bayesian", "opponent@japan=bayesian"],
    "Nice Tit-for-Tat": ["strategy@us=nice_tit_for_tat", "strategy@japan=nice_tit_for_tat"],
    "line offer + AC_combi": ["acceptance@us=ac_combi", "acceptance@japan=ac_combi"],
}


def _point(*extra: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[*OVERRIDES, *extra])
    return plan(cfg).points[0]


def run(point, batch: int, first_seed: int) -> tuple[int, int]:
    """Run one model of ``batch`` worlds; return (negotiations, rounds played summed over worlds)."""
    inputs = take(stack([point.inputs]), np.zeros(batch, dtype=int))
    model = NegotiationModel(point.structure, inputs, world_seeds(1, np.arange(first_seed, first_seed + batch)))
    model.run_model()
    return batch, int(model.end_round.sum())


def measure(point, batch: int, total: int, repeats: int) -> dict[str, float]:
    """Best of ``repeats`` timings of ``total`` negotiations run in models of ``batch`` worlds."""
    best = None
    for _ in range(repeats):
        start, done, rounds = time.perf_counter(), 0, 0
        while done < total:
            n, r = run(point, batch, done)
            done, rounds = done + n, rounds + r
        elapsed = time.perf_counter() - start
        if best is None or elapsed < best[0]:
            best = (elapsed, done, rounds)
    elapsed, done, rounds = best
    return {"negotiations": done, "seconds": elapsed, "neg_per_s": done / elapsed, "rounds_per_s": rounds / elapsed,
            "mean_rounds": rounds / done}


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", action="store_true", help="also time each negotiator part against the line offer")
    args = parser.parse_args()
    point = _point()
    print(f"{'B':>7} {'negotiations':>12} {'seconds':>8} {'neg/s':>10} {'rounds/s':>12} {'mean rounds':>11}")
    for batch, total in ((1, 200), (10_000, 50_000)):
        r = measure(point, batch, total, args.repeats)
        print(f"{batch:>7} {r['negotiations']:>12} {r['seconds']:>8.2f} {r['neg_per_s']:>10.0f} "
              f"{r['rounds_per_s']:>12.0f} {r['mean_rounds']:>11.1f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:.0f} MB")
    if args.parts:
        print(f"\n{'negotiator (both sides), B = 10,000':<36} {'us/world-round':>15} {'x line offer':>13}")
        line = None
        for label, extra in PARTS.items():
            r = measure(_point(*extra), 10_000, 20_000, args.repeats)
            cost = 1e6 / r["rounds_per_s"]
            line = cost if line is None else line
            print(f"{label:<36} {cost:>15.3f} {cost / line:>13.2f}")


if __name__ == "__main__":
    main()
