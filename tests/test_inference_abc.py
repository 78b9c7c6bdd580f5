"""The in-house ABC-SMC (sim/inference/abc.py): its prior against scipy, and simulation-based calibration on a
problem whose posterior is known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.inference.abc import BoxPrior, abc_smc, effective_sample_size

N_OBS = 20  # draws per data set; the posterior of each mean is N(ybar, 1/N_OBS), truncated to the prior's box


def _means(theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The sample mean of N_OBS draws of N(theta, 1), per row: a sufficient summary."""
    return theta + rng.standard_normal(theta.shape) / np.sqrt(N_OBS)


def test_box_prior_matches_scipy():
    prior = BoxPrior(np.array([0.0, 0.3]), np.array([2.0, 1.0]), np.array([np.nan, 0.6]))
    u = np.linspace(0.01, 0.99, 9)[:, None].repeat(2, axis=1)
    got = prior.ppf(u)
    np.testing.assert_allclose(got[:, 0], stats.uniform(0, 2).ppf(u[:, 0]))
    np.testing.assert_allclose(got[:, 1], stats.triang((0.6 - 0.3) / 0.7, 0.3, 0.7).ppf(u[:, 1]))
    dens = prior.pdf(got)
    expected = stats.uniform(0, 2).pdf(got[:, 0]) * stats.triang((0.6 - 0.3) / 0.7, 0.3, 0.7).pdf(got[:, 1])
    np.testing.assert_allclose(dens, expected)
    assert prior.pdf(np.array([[2.5, 0.5]]))[0] == 0.0


def test_effective_sample_size_by_hand():
    assert effective_sample_size(np.ones(10)) == pytest.approx(10.0)
    assert effective_sample_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert effective_sample_size(np.array([3.0, 1.0])) == pytest.approx(16 / 10)


def _run(ybar: np.ndarray, seed: int, prior: BoxPrior):
    return abc_smc(lambda th, rng: np.linalg.norm(_means(th, rng) - ybar, axis=1), prior, seed, particles=200,
                   generations=9, quantile=0.5, moves=3)


def test_same_seed_same_population():
    prior = BoxPrior(np.full(2, -5.0), np.full(2, 5.0), np.full(2, np.nan))
    a, b = _run(np.array([0.5, -1.0]), 7, prior), _run(np.array([0.5, -1.0]), 7, prior)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert a.simulations == b.simulations
    c = _run(np.array([0.5, -1.0]), 8, prior)
    assert not np.array_equal(a.theta, c.theta)


def test_simulation_based_calibration_coverage_and_recovery():
    """Simulation-based calibration (Talts et al. 2018), stated before measuring.

    K = 60 data sets, each from parameters drawn from the prior (two means, uniform on [-3, 3]); for each, the
    central 50 % and 80 % intervals of the ABC posterior of each mean are checked for the true value: 2K = 120
    checks per level. If the intervals have their nominal coverage the counts are Binomial(120, 0.5) and
    Binomial(120, 0.8); the test accepts the central 99.9 % range of each (scipy.stats.binom.interval), so a
    correct sampler fails it once in a thousand runs, and it is deterministic under its seeds. ABC with a
    threshold above zero widens the posterior (over-coverage): the bound catches that as well as under-coverage.
    Recovery: the posterior mean's mean absolute error over the K data sets is smaller than the prior mean's.
    """
    bounds = {level: stats.binom.interval(0.999, 120, level) for level in (0.5, 0.8)}
    prior = BoxPrior(np.full(2, -3.0), np.full(2, 3.0), np.full(2, np.nan))
    rng = np.random.default_rng(2025)
    inside = {0.5: 0, 0.8: 0}
    err_post, err_prior = [], []
    for k in range(60):
        truth = prior.sample(1, rng)[0]
        ybar = _means(truth[None, :], rng)[0]
        res = _run(ybar, 100 + k, prior)
        for j in range(2):
            for level in inside:
                lo, hi = np.quantile(res.theta[:, j], [(1 - level) / 2, (1 + level) / 2])
                inside[level] += int(lo <= truth[j] <= hi)
        err_post.append(np.abs(res.theta.mean(axis=0) - truth).mean())
        err_prior.append(np.abs(0.0 - truth).mean())
    for level, (lo, hi) in bounds.items():
        assert lo <= inside[level] <= hi, f"{level:.0%} intervals cover {inside[level]} of 120, outside [{lo}, {hi}]"
    assert np.mean(err_post) < np.mean(err_prior)
