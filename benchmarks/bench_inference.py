"""Which likelihood-free inference library to ship: accuracy and cost on a problem with a known posterior.

Usage: python benchmarks/bench_inference.py [--repeats 5] [--methods inhouse,pyabc,elfi] [--out FILE.json]

The problem: two unknown means theta = (mu1, mu2), each with a uniform prior on [-5, 5]; the data are n = 20 draws
of N(mu_k, 1) per mean; the summaries are the two sample means (sufficient), the distance their Euclidean gap to
the observed ones. The exact posterior of each mean is N(ybar_k, 1/n) truncated to [-5, 5] (conjugate up to the
truncation, which is 20 standard deviations away). Each method gets about the same budget of simulations, and is
scored, per repeat (a new observed data set and seed each), by
- the 1-Wasserstein distance between its weighted posterior sample of each mean and the exact posterior, in
  units of the posterior standard deviation (averaged over both means);
- whether the exact posterior mean lies inside the method's central 80 % interval;
- simulations and wall time.
pyabc and ELFI are imported if installed (they are not dependencies of the project: install them in a separate
environment, ``pip install pyabc elfi``, and run this file with that environment's python and the repository on
PYTHONPATH). Timings are wall-clock on whatever machine runs it; never assert them in a test.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy import stats

from sim.inference.abc import BoxPrior, abc_smc

N_OBS, D, LO, HI = 20, 2, -5.0, 5.0
PARTICLES, GENERATIONS = 500, 6          # pyabc and ELFI: 7 populations of 500
INHOUSE_GENERATIONS, INHOUSE_MOVES = 10, 3  # in-house: about the same number of simulations as pyabc (~8,000)


def simulate_means(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sample means of N_OBS draws of N(theta, 1), batched: shape (n, D)."""
    return theta + rng.standard_normal(theta.shape) / np.sqrt(N_OBS)


def score(sample: np.ndarray, weights: np.ndarray, ybar: np.ndarray) -> dict:
    """Wasserstein-1 (in posterior s.d.) and 80 % coverage of the exact posterior mean, per method."""
    sd = 1 / np.sqrt(N_OBS)
    w = weights / weights.sum()
    exact = stats.norm(ybar[None, :], sd)
    ref = exact.ppf((np.arange(2000)[:, None] + 0.5) / 2000)
    wass, inside = [], []
    for k in range(D):
        wass.append(stats.wasserstein_distance(sample[:, k], ref[:, k], u_weights=w) / sd)
        order = np.argsort(sample[:, k])
        cdf = np.cumsum(w[order])
        lo, hi = np.interp([0.1, 0.9], cdf, sample[order, k])
        inside.append(bool(lo <= ybar[k] <= hi))
    return {"wasserstein_sd": float(np.mean(wass)), "inside80": float(np.mean(inside))}


def run_inhouse(ybar: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    prior = BoxPrior(np.full(D, LO), np.full(D, HI), np.full(D, np.nan))
    res = abc_smc(lambda th, rng: np.linalg.norm(simulate_means(th, rng) - ybar, axis=1), prior, seed,
                  particles=PARTICLES, generations=INHOUSE_GENERATIONS, quantile=0.5,
                  moves=INHOUSE_MOVES)
    return res.theta, res.weights, res.simulations


def run_pyabc(ybar: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    import logging
    import os
    import tempfile

    import pyabc

    logging.getLogger("ABC").setLevel(logging.ERROR)
    np.random.seed(seed)
    prior = pyabc.Distribution(**{f"mu{k}": pyabc.RV("uniform", LO, HI - LO) for k in range(D)})

    def model(p):
        theta = np.array([[p[f"mu{k}"] for k in range(D)]])
        return {"ybar": simulate_means(theta, np.random.default_rng(np.random.randint(2**31)))[0]}

    abc = pyabc.ABCSMC(model, prior, lambda x, y: float(np.linalg.norm(x["ybar"] - y["ybar"])),
                       population_size=PARTICLES, sampler=pyabc.sampler.SingleCoreSampler())
    db = os.path.join(tempfile.mkdtemp(), "abc.db")
    abc.new("sqlite:///" + db, {"ybar": ybar})
    history = abc.run(max_nr_populations=GENERATIONS + 1)
    df, w = history.get_distribution()
    sims = int(history.get_all_populations()["samples"].sum())
    return df[[f"mu{k}" for k in range(D)]].to_numpy(), np.asarray(w), sims


def run_elfi(ybar: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    import elfi

    elfi.new_model()
    mus = [elfi.Prior("uniform", LO, HI - LO, name=f"mu{k}") for k in range(D)]

    def sim(*args, batch_size=1, random_state=None):
        theta = np.column_stack([np.broadcast_to(a, (batch_size,)) for a in args])
        rng = np.random.default_rng(random_state.randint(2**31) if random_state is not None else None)
        return simulate_means(theta, rng)

    y = elfi.Simulator(sim, *mus, observed=ybar[None, :])
    s = elfi.Summary(lambda x: x, y)
    d = elfi.Distance("euclidean", s)
    smc = elfi.SMC(d, batch_size=PARTICLES, seed=seed)
    # ELFI's SMC takes explicit thresholds; halving them each generation matches the others' 0.5 quantile roughly
    res = smc.sample(PARTICLES, thresholds=[2.0 / 2**g for g in range(GENERATIONS + 1)])
    theta = np.column_stack([res.samples[f"mu{k}"] for k in range(D)])
    return theta, np.asarray(res.weights), int(res.n_sim)


def project_call_cost(sizes: tuple[int, ...] = (1, 150)) -> dict[int, float]:
    """Seconds per world of this project's simulator called with a batch of ``n`` parameter vectors (a panel case
    from its origin, :class:`sim.inference.ensemble.PanelSimulator`): what a one-parameter-set-per-call library
    (pyabc) pays against a batched one."""
    from sim.inference.calibrate import load_settings
    from sim.inference.ensemble import PanelSimulator, box_prior

    sim = PanelSimulator(load_settings(), ["us_uk_2025"])
    prior = box_prior(sim.params)
    out = {}
    for n in sizes:
        theta = prior.sample(n, np.random.default_rng(0))
        sim.outcomes("us_uk_2025", theta, 1)  # warm-up (imports, caches)
        t = time.perf_counter()
        for r in range(3):
            sim.outcomes("us_uk_2025", theta, r)
        out[n] = (time.perf_counter() - t) / 3 / n
    return out


METHODS = {"inhouse": run_inhouse, "pyabc": run_pyabc, "elfi": run_elfi}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--methods", default="inhouse,pyabc,elfi")
    parser.add_argument("--out", help="write the table as JSON")
    parser.add_argument("--project", action="store_true",
                        help="also time this project's simulator per world, one world per call against 150")
    ns = parser.parse_args()
    if ns.project:
        for n, s in project_call_cost().items():
            print(f"project simulator, {n:>4} worlds per call: {1000 * s:8.1f} ms per world")
    rows = []
    for name in ns.methods.split(","):
        try:
            METHODS[name](np.zeros(D), 0) if name != "inhouse" else None  # import check and warm-up
        except ImportError as err:
            print(f"{name}: not installed ({err})")
            continue
        for r in range(ns.repeats):
            rng = np.random.default_rng(1000 + r)
            truth = rng.uniform(-2, 2, D)
            ybar = simulate_means(truth[None, :], rng)[0]
            t = time.perf_counter()
            sample, w, sims = METHODS[name](ybar, r)
            rows.append({"method": name, "repeat": r, "simulations": sims, "wall_s": time.perf_counter() - t,
                         **score(sample, w, ybar)})
    print(f"{'method':<9}{'W1 (post. s.d.)':>17}{'inside80':>10}{'simulations':>13}{'wall s':>9}")
    for name in dict.fromkeys(r["method"] for r in rows):
        sub = [r for r in rows if r["method"] == name]
        print(f"{name:<9}{np.mean([r['wasserstein_sd'] for r in sub]):>17.3f}"
              f"{np.mean([r['inside80'] for r in sub]):>10.2f}{np.mean([r['simulations'] for r in sub]):>13.0f}"
              f"{np.mean([r['wall_s'] for r in sub]):>9.2f}")
    if ns.out:
        with open(ns.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
