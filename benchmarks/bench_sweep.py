"""End-to-end sweep throughput against a plain NumPy lower bound of the same negotiation.

Usage: python benchmarks/bench_sweep.py [--negotiations 100000] [--workers 2] [--million]

Reference workload: 5 issues (the four US tariffs and Japan's investment pledge), a 100-round
deadline, Boulware (US) against Conceder (Japan), concession noise on. "End to end" is
:func:`sim.run.runner.execute` into a temporary run folder: planning, chunking, the worker processes,
writing the Parquet parts and the manifest, and merging them into ``outcomes.parquet``.

The lower bound is the same negotiation written as one bare NumPy loop over rounds in one process:
the same offers (Faratin curves, noise, the reservation-value floor) and the same AC_next rule, but
no agents, no model, no per-world seeds, no files. Its rate per core is what the simulator's rate
per core is compared with. ``--million`` also runs a 1,000,000-negotiation sweep and reports the
peak resident memory of the main process and of the largest worker.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from sim.config import CONF_DIR, plan
from sim.run.runner import execute

OVERRIDES = [
    "~scenario.issues.agriculture", "~scenario.issues.energy", "~scenario.issues.aircraft", "~scenario.issues.defence",
    "~scenario.ratification",
    "protocol.max_rounds=100", "scenario.deadline.round=100", "scenario.deadline.extension.rounds=0",
    "scenario.sides.japan.deadline=null", "scenario.breakdown_risk=0",
    "strategy@us=boulware", "strategy@japan=conceder",
    "run.record_rounds=none", "run.plot=false", "run.progress=false",
]


def config(negotiations: int, workers: int) -> dict:
    """The reference workload's resolved config."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[*OVERRIDES, f"run.seeds={negotiations}",
                                                       f"run.workers={workers}"])
    return OmegaConf.to_container(cfg, resolve=True)


def end_to_end(cfg: dict) -> tuple[float, int]:
    """Seconds for the whole sweep into a fresh folder, and the mean end round."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        execute(plan(cfg), Path(tmp), cfg, progress=False)
        seconds = time.perf_counter() - start
        import pyarrow.parquet as pq

        mean_round = float(np.mean(pq.read_table(Path(tmp) / "outcomes.parquet", columns=["end_round"])[0]))
    return seconds, mean_round


def numpy_bound(cfg: dict, n: int, batch: int = 10_000) -> tuple[float, float]:
    """Seconds for ``n`` negotiations of the same game as one bare NumPy loop, and the mean end round."""
    point = plan(cfg | {"run": cfg["run"] | {"seeds": 1}}).points[0]
    p = point.inputs
    lo, hi = point.structure.space.lo, point.structure.space.hi
    deadline = int(p.deadline)
    party = dict(zip(point.structure.party_ids, p.parties, strict=True))
    sides = ("japan", "us")  # Japan opens
    a = {s: party[s].payoff_a for s in sides}
    b = {s: party[s].payoff_b for s in sides}
    pmin = {s: party[s].p_min for s in sides}
    span = {s: party[s].p_max - party[s].p_min for s in sides}
    beta = {s: party[s].offering["beta"] for s in sides}
    noise = {s: party[s].noise for s in sides}
    best = {s: np.where(a[s] > 0, hi, lo) for s in sides}
    sq, esc = p.status_quo, p.status_quo.copy()
    esc[point.structure.space.index("reciprocal")] += p.escalation
    util = lambda s, x: (x @ a[s] + b[s] - pmin[s]) / span[s]  # noqa: E731
    u_sq = {s: util(s, sq) for s in sides}
    u_esc = {s: util(s, esc) for s in sides}
    window = p.valuation_rounds
    rng = np.random.default_rng(0)

    def offer(s: str, t: int, m: int) -> np.ndarray:
        w = min(max((deadline - t) / window, 0.0), 1.0)
        rv = w * u_sq[s] + (1 - w) * u_esc[s]
        alpha = ((t - 1) / (deadline - 1)) ** (1 / beta[s]) + noise[s] * rng.standard_normal((m, len(lo)))
        x = best[s] + np.clip(alpha, 0, 1) * (best[other[s]] - best[s])
        u = util(s, x)
        scale = np.where(u < rv, (1 - rv) / np.where(u < rv, 1 - u, 1), 1.0)
        return best[s] + scale[:, None] * (x - best[s]), rv

    other = {"japan": "us", "us": "japan"}
    start, rounds_total = time.perf_counter(), 0
    for first in range(0, n, batch):
        m = min(batch, n - first)
        talking = np.ones(m, dtype=bool)
        end = np.full(m, deadline)
        planned = None
        for t in range(1, deadline + 1):
            proposer = sides[(t - 1) % 2]
            responder = other[proposer]
            x = planned if planned is not None else offer(proposer, t, m)[0]
            u, (nxt, rv) = util(responder, x), offer(responder, t + 1, m)
            accept = talking & (u >= rv) & ((u >= util(responder, nxt)) | (t == deadline))
            end[accept] = t
            talking &= ~accept
            planned = nxt
            if not talking.any():
                break
        rounds_total += int(end.sum())
    return time.perf_counter() - start, rounds_total / n


def main() -> None:
    """Print the benchmark report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--negotiations", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--million", action="store_true", help="also run 1,000,000 negotiations for peak memory")
    args = parser.parse_args()
    n, workers = args.negotiations, args.workers

    cfg = config(n, workers)
    seconds, mean_round = end_to_end(cfg)
    rate = n / seconds
    bound_seconds, bound_round = numpy_bound(cfg, n)
    bound_rate = n / bound_seconds
    print(f"reference workload: {n} negotiations, 5 issues, 100-round deadline, boulware (US) vs conceder (Japan)")
    print(f"  sim end to end ({workers} workers):  {seconds:7.2f} s  {rate:9.0f} neg/s  "
          f"{rate / workers:9.0f} neg/s per core  (mean end round {mean_round:.1f})")
    print(f"  plain NumPy bound (1 process): {bound_seconds:7.2f} s  {bound_rate:9.0f} neg/s per core  "
          f"(mean end round {bound_round:.1f})")
    print(f"  ratio NumPy bound / sim, per core: {bound_rate / (rate / workers):.2f}")
    if args.million:
        cfg = config(1_000_000, workers)
        seconds, _ = end_to_end(cfg)
        main_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"1,000,000 negotiations: {seconds:.1f} s ({1e6 / seconds:.0f} neg/s); peak resident memory: "
              f"main process {main_mb:.0f} MB, largest worker {child_mb:.0f} MB")


if __name__ == "__main__":
    main()
