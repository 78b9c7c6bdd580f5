"""The counter-addressed random streams: distribution, independence and batch invariance."""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.engine.streams import RandomStreams, Stream, world_seeds


def test_uniforms_are_uniform_and_normals_are_normal():
    streams = RandomStreams(world_seeds(3, np.arange(2000)))
    u = streams.uniform(Stream.noise(0), 5, 10).ravel()
    z = streams.normal(Stream.noise(1), 5, 10).ravel()
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert 0.0 <= u.min() and u.max() < 1.0


def test_streams_rounds_and_indices_are_uncorrelated():
    streams = RandomStreams(world_seeds(3, np.arange(5000)))
    a = streams.uniform(Stream.noise(0), 1)
    for other in (streams.uniform(Stream.noise(0), 2), streams.uniform(Stream.noise(1), 1),
                  streams.uniform(Stream.noise(0), 1, 2)[:, 1]):
        assert abs(np.corrcoef(a, other)[0, 1]) < 0.05  # |r| < 0.05 with n = 5000: ~3.5 s.e.


def test_a_worlds_draws_do_not_depend_on_the_batch():
    seeds = world_seeds(11, np.arange(50))
    whole = RandomStreams(seeds).normal(Stream.BREAKDOWN, 7, 9)
    alone = np.vstack([RandomStreams(seeds[k:k + 1]).normal(Stream.BREAKDOWN, 7, 9) for k in range(50)])
    reversed_batch = RandomStreams(seeds[::-1]).normal(Stream.BREAKDOWN, 7, 9)[::-1]
    assert np.array_equal(whole, alone) and np.array_equal(whole, reversed_batch)
