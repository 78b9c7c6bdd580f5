"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC), with batched simulator calls.

The algorithm is the adaptive SMC-ABC of Drovandi & Pettitt (2011, Biometrics 67: 225-233; after Del Moral,
Doucet & Jasra 2012): generation 0 draws ``particles`` parameter vectors from the prior and simulates each once;
each later generation sets its threshold ``eps_t`` to the ``quantile`` of the population's distances, keeps the
particles within it, replaces the others by copies of survivors drawn at random, and moves each copy by ``moves``
ABC-MCMC steps (a Gaussian random walk with the survivors' covariance times 2.38^2 / d, accepted if its simulated
distance is within ``eps_t`` and with probability prior ratio, Marjoram et al. 2003). The weights stay equal, so
the effective sample size never collapses as it does for importance-weighted ABC-PMC in a dozen dimensions (this
module's first version; measured in docs/calibrate.md); the diagnostics give the MCMC acceptance rate and the
number of distinct particles instead.

The sampler works on an unbounded scale, ``z = logit(F(theta))`` with ``F`` the prior's distribution function, on
which the prior is standard logistic: no move falls outside the prior's support.

Every simulator call gets a whole batch (an array of parameter vectors: all the copies of one step) and one
generator, so a model that runs many worlds at once (this project's ensemble runner) pays its overhead once per
batch, and a seed fixes the result. The prior is :class:`BoxPrior`: independent uniform and triangular marginals.

A :class:`Checkpoint` given to :func:`abc_smc` receives each finished generation's :class:`State` (the particles
on the sampler's scale, their distances, every generation's record and the generator's state), and gives the last
one back when a stopped run starts again, so that it goes on from there and ends with the same population; it is
also told, before each simulator call, which step the call is (``gen_00``, ``gen_01/move_1``, ...).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

__all__ = ["BoxPrior", "Checkpoint", "Generation", "Result", "State", "abc_smc", "effective_sample_size"]

Simulator = Callable[[np.ndarray, np.random.Generator], np.ndarray]  # (n, d) parameters -> (n,) distances


@dataclass(frozen=True)
class BoxPrior:
    """Independent marginals, each uniform on ``[lo, hi]`` or triangular ``(lo, mode, hi)`` (``mode`` None: uniform).

    Attributes:
        lo: Lower bounds, shape (d,).
        hi: Upper bounds, shape (d,).
        mode: Per parameter the triangular mode, or NaN for a uniform marginal.
    """

    lo: np.ndarray
    hi: np.ndarray
    mode: np.ndarray

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws by inverse transform of uniforms, shape (n, d)."""
        u = rng.random((n, len(self.lo)))
        return self.ppf(u)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The inverse distribution function of each marginal at ``u`` (shape (n, d), values in [0, 1])."""
        lo, hi, c = self.lo, self.hi, self.mode
        width = hi - lo
        tri = ~np.isnan(c)
        out = lo + u * width
        if tri.any():
            f = np.where(tri, (np.nan_to_num(c) - lo) / np.where(width > 0, width, 1.0), 0.5)
            left = lo + np.sqrt(np.clip(u * f, 0, None)) * width
            right = hi - np.sqrt(np.clip((1 - u) * (1 - f), 0, None)) * width
            out = np.where(tri, np.where(u < f, left, right), out)
        return out

    def pdf(self, theta: np.ndarray) -> np.ndarray:
        """The joint density of each row (0 outside the support)."""
        lo, hi, c = self.lo, self.hi, self.mode
        width = hi - lo
        dens = np.broadcast_to(1.0 / width, theta.shape).copy()
        tri = ~np.isnan(c)
        if tri.any():
            cc = np.nan_to_num(c)
            up = 2 * (theta - lo) / (width * np.where(cc > lo, cc - lo, 1.0))
            down = 2 * (hi - theta) / (width * np.where(hi > cc, hi - cc, 1.0))
            dens = np.where(tri, np.where(theta < cc, up, down), dens)
        dens = np.where((theta >= lo) & (theta <= hi), dens, 0.0)
        return np.prod(dens, axis=1)


@dataclass
class Generation:
    """One generation: its threshold, simulations, accepted MCMC moves and their rate, the effective sample size
    of its weights and its number of distinct particles."""

    threshold: float
    simulations: int
    accepted: int
    acceptance_rate: float
    ess: float
    distinct: int


@dataclass
class Result:
    """The final population and how it was reached.

    Attributes:
        theta: Accepted parameter vectors, shape (particles, d).
        weights: Their normalised importance weights.
        distances: Their simulated distances.
        generations: Per generation, its :class:`Generation`.
        simulations: Simulator evaluations in all (one per parameter vector simulated).
        wall_s: Wall time, seconds.
    """

    theta: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    generations: list[Generation] = field(default_factory=list)
    simulations: int = 0
    wall_s: float = 0.0


@dataclass
class State:
    """Everything needed to go on after a finished generation.

    Attributes:
        generation: The generations done after the prior sample (0: the prior sample only).
        z: The particles on the sampler's scale, shape (particles, d).
        distances: Their simulated distances.
        generations: Per generation so far, its :class:`Generation`.
        rng: The generator's state after the generation (``bit_generator.state``: plain ints and text).
        wall_s: Wall time spent so far, over every run that contributed, seconds.
    """

    generation: int
    z: np.ndarray
    distances: np.ndarray
    generations: list[Generation]
    rng: dict
    wall_s: float


class Checkpoint(Protocol):
    """Where :func:`abc_smc` keeps its finished generations (:mod:`sim.inference.folder`)."""

    def load(self) -> State | None:
        """The last finished generation's state, or None to start afresh."""

    def save(self, state: State) -> None:
        """Keep a finished generation's state (atomically: a stop leaves the previous one intact)."""

    def at(self, step: str) -> None:
        """The simulator calls that follow are of ``step`` (``gen_00``, ``gen_01/move_1``, ...)."""


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size of weights ``w``: (sum w)^2 / sum w^2."""
    w = np.asarray(w, dtype=float)
    return float(w.sum() ** 2 / np.sum(w**2)) if w.size and np.sum(w**2) > 0 else 0.0


def _logistic_pdf(z: np.ndarray) -> np.ndarray:
    """The joint density of independent standard logistic coordinates (the prior on the sampler's scale)."""
    s = 1.0 / (1.0 + np.exp(-np.abs(z)))
    return np.prod(s * (1.0 - s), axis=1)


def _move_cov(z: np.ndarray) -> np.ndarray:
    """The random-walk covariance: the survivors' covariance scaled by 2.38^2 / d (Roberts, Gelman & Gilks 1997),
    with a small floor so no direction collapses."""
    d = z.shape[1]
    cov = np.atleast_2d(np.cov(z.T, ddof=0)) if len(z) > 1 else np.eye(d)
    return (2.38**2 / d) * cov + 1e-6 * np.eye(d)


def _to_theta(prior: BoxPrior, z: np.ndarray) -> np.ndarray:
    """Parameters from the sampler's scale: theta = F^-1(logistic(z)), F the prior's distribution function."""
    return prior.ppf(1.0 / (1.0 + np.exp(-z)))


def _generation(simulate: Simulator, prior: BoxPrior, rng: np.random.Generator, prev: Result, quantile: float,
                moves: int, at: Callable[[str], None]) -> tuple[Result, Generation]:
    """One generation: drop the particles beyond the threshold, replenish them from the survivors, move the copies
    by ``moves`` ABC-MCMC steps (``z`` on the sampler's scale); ``at`` is told each move's name before its call."""
    eps = float(np.quantile(prev.distances, quantile))
    alive = np.flatnonzero(prev.distances <= eps)
    n = len(prev.distances)
    z, d = prev.theta.copy(), prev.distances.copy()
    dead = np.setdiff1d(np.arange(n), alive)
    parents = rng.choice(alive, size=len(dead))
    z[dead], d[dead] = z[parents], d[parents]
    cov = _move_cov(prev.theta[alive])
    sims = accepted = 0
    for m in range(moves if len(dead) else 0):
        prop = z[dead] + rng.multivariate_normal(np.zeros(z.shape[1]), cov, size=len(dead), method="cholesky")
        at(f"move_{m + 1}")
        dp = np.asarray(simulate(_to_theta(prior, prop), rng), dtype=float)
        ratio = _logistic_pdf(prop) / _logistic_pdf(z[dead])
        ok = (dp <= eps) & (rng.random(len(dead)) < ratio)
        z[dead[ok]], d[dead[ok]] = prop[ok], dp[ok]
        sims += len(dead)
        accepted += int(ok.sum())
    distinct = len(np.unique(z, axis=0))
    return (Result(z, np.full(n, 1.0 / n), d),
            Generation(eps, sims, accepted, accepted / sims if sims else 0.0, float(n), distinct))


def _prior_sample(simulate: Simulator, prior: BoxPrior, seed: int, particles: int,
                  at: Callable[[str], None]) -> tuple[State, np.random.Generator]:
    """Generation 0: ``particles`` draws of the prior, simulated once each."""
    rng = np.random.default_rng(seed)
    u = rng.random((particles, len(prior.lo)))
    z = np.log(u) - np.log1p(-u)  # the prior on the sampler's scale: independent standard logistic
    at("gen_00")
    dist = np.asarray(simulate(_to_theta(prior, z), rng), dtype=float)
    first = Generation(float(dist.max()), particles, particles, 1.0, float(particles), particles)
    return State(0, z, dist, [first], rng.bit_generator.state, 0.0), rng


def abc_smc(simulate: Simulator, prior: BoxPrior, seed: int, particles: int = 200, generations: int = 4,
            quantile: float = 0.5, moves: int = 3, progress: Callable[[int, int], None] | None = None,
            checkpoint: Checkpoint | None = None) -> Result:
    """Run ABC-SMC and return the final population.

    Args:
        simulate: Batched simulator returning each parameter vector's distance to the observations; it must
            draw its randomness only from the generator it is given.
        prior: The prior.
        seed: Root seed: the same seed gives the same population.
        particles: Particles of the population.
        generations: Generations after generation 0 (the prior sample).
        quantile: Each threshold is this quantile of the population's distances.
        moves: ABC-MCMC steps per replenished particle and generation.
        progress: Called after each generation with (generation done, generations in all).
        checkpoint: Keeps each finished generation, and gives back the last one of a stopped run to go on from.

    Returns:
        The :class:`Result`: the last generation's particles, weights and distances, and every generation's
        threshold, simulations, acceptance rate and distinct particles.
    """
    start = time.perf_counter()
    at = checkpoint.at if checkpoint else (lambda step: None)
    state = checkpoint.load() if checkpoint else None
    if state is None:
        state, rng = _prior_sample(simulate, prior, seed, particles, at)
        state.wall_s = time.perf_counter() - start
        if checkpoint:
            checkpoint.save(state)
    else:  # a stopped run goes on from its last finished generation, with the generator where it was
        rng = np.random.default_rng(seed)
        rng.bit_generator.state = state.rng
    start = time.perf_counter() - state.wall_s  # wall time counts every run that contributed
    if progress:
        progress(state.generation + 1, generations + 1)
    for g in range(state.generation + 1, generations + 1):
        prev = Result(state.z, np.full(particles, 1.0 / particles), state.distances)
        pop, gen = _generation(simulate, prior, rng, prev, quantile, moves, lambda m, g=g: at(f"gen_{g:02d}/{m}"))
        state = State(g, pop.theta, pop.distances, [*state.generations, gen], rng.bit_generator.state,
                      time.perf_counter() - start)
        if checkpoint:
            checkpoint.save(state)
        if progress:
            progress(g + 1, generations + 1)
    return Result(_to_theta(prior, state.z), np.full(particles, 1.0 / particles), state.distances,
                  state.generations, sum(g.simulations for g in state.generations), time.perf_counter() - start)
