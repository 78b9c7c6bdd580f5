"""What compiled kernels would buy the engine's rounds, measured before choosing one (issue 24, item 5).

Usage: pip install numba; python benchmarks/kernel_probe.py [--worlds 30000] [--repeats 4]

Three pieces of a round are written as numba kernels here, in this script only (the package does not use or need
numba): the trade-off package at a budget (:meth:`sim.domain.tradeoff.Tradeoffs.at`), the knapsack order it spends
along (``Tradeoffs.__init__``: a stable sort and a running sum per world) and the bit-for-bit comparison that
decides whether a kept order or box still holds (:func:`sim.domain.tradeoff.same_bits`, for arguments that are not
frozen). They were chosen because each is made of operations whose results IEEE 754 fixes exactly (``+ - * /``,
``min``, ``max``, comparisons, a sequential running sum, a stable sort): a kernel can give NumPy's bits, whatever
the processor. The rest of a round cannot, as things stand: utilities are ``einsum`` sums, whose order of additions
NumPy picks by processor (AVX-512 or not), and the offers and the noise use ``**``, ``log`` and ``cos``, whose last
bits depend on the library that computes them.

The kernels are put in place of those three pieces in this process (the engine's own code is not changed), and the
chunks of three workloads (``bench_sweep.py``'s reference sweep, default values, prior draws) are played with and
without them: every outcome column is compared bit for bit, then each chunk is timed alternately. The first call's
time is the kernels' compilation (``cache=False``: what a fresh machine pays once; a cache on disk makes it a load).
Timings are whatever this machine gives; never assert them in a test.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time

import numpy as np

try:
    from numba import njit
except ImportError:
    print("kernel_probe.py: needs numba (pip install numba); the package itself does not", file=sys.stderr)
    sys.exit(2)

from bench_sweep import OVERRIDES  # the reference sweep's settings (this script runs from benchmarks/)
from hydra import compose, initialize_config_dir

import sim.domain.tradeoff as tradeoff
import sim.engine.agents as agents
from sim.config import CONF_DIR, plan
from sim.config.points import laid_out
from sim.engine.inputs import take
from sim.engine.streams import point_keys, world_seeds
from sim.run.play import play
from sim.run.runner import _task, make_chunks

COMMON = ["run.record_rounds=none", "run.common_random_numbers=false", "run.chunk_size=10000"]


@njit(cache=False, nogil=True)
def at_kernel(budget, spent_before, sorted_loss, order, movable, best, delta):
    """``Tradeoffs.at``: each world's budget spent along its order, each issue's share put back in its place."""
    n_worlds, n = delta.shape
    out = np.empty((n_worlds, n))
    share = np.empty(n)
    for b in range(n_worlds):
        room0 = np.maximum(budget[b], 0.0)
        for k in range(n):
            loss = sorted_loss[b, k]
            share[order[b, k]] = np.minimum(np.maximum((room0 - spent_before[b, k]) / loss, 0.0), 1.0) \
                if loss > 0 else 1.0
        for j in range(n):
            out[b, j] = best[b, j] + (share[j] if movable[b, j] else 0.0) * delta[b, j]
    return out


@njit(cache=False, nogil=True)
def same_kernel(a, b):
    """Whether two int64 views hold the same words."""
    fa, fb = a.ravel(), b.ravel()
    for i in range(fa.size):
        if fa[i] != fb[i]:
            return False
    return True


@njit(cache=False, nogil=True)
def _before(x, y):
    """NumPy's sort order: ``x < y``, a NaN after every number."""
    if x != x:
        return False
    return True if y != y else x < y


@njit(cache=False, nogil=True)
def order_kernel(c_me, c_other, lo, hi, best, firmness, has_firmness):
    """``Tradeoffs.__init__``: each issue's move, loss and gain, and the issues by gain per unit of loss (a
    stable insertion sort, ties in issue order, as ``argsort(kind="stable")``), with the loss spent before each."""
    n_worlds, n = best.shape
    delta, movable = np.empty((n_worlds, n)), np.empty((n_worlds, n), dtype=np.bool_)
    order, sorted_loss, spent_before = np.empty((n_worlds, n), dtype=np.int64), np.empty((n_worlds, n)), \
        np.empty((n_worlds, n))
    loss, key, idx = np.empty(n), np.empty(n), np.empty(n, dtype=np.int64)
    for b in range(n_worlds):
        for j in range(n):
            c = c_other[b, j]
            d = (hi[b, j] if c > 0 else (lo[b, j] if c < 0 else best[b, j])) - best[b, j]
            delta[b, j] = d
            gain, movable[b, j] = c * d, c * d > 0
            loss[j] = np.maximum(-c_me[b, j] * d, 0.0) if gain > 0 else 0.0
            ratio = (gain / loss[j] if loss[j] > 0 else np.inf) if gain > 0 else -np.inf
            if has_firmness and np.isfinite(ratio):
                ratio = ratio / firmness[b, j]
            key[j], idx[j] = -ratio, j
        for i in range(1, n):
            kv, iv, p = key[i], idx[i], i - 1
            while p >= 0 and _before(kv, key[p]):
                key[p + 1], idx[p + 1] = key[p], idx[p]
                p -= 1
            key[p + 1], idx[p + 1] = kv, iv
        total = 0.0
        for k in range(n):
            spent = loss[idx[k]]
            order[b, k], sorted_loss[b, k] = idx[k], spent
            total = total + spent if k else spent
            spent_before[b, k] = total - spent
    return delta, movable, order, sorted_loss, spent_before


_NUMPY = {"init": tradeoff.Tradeoffs.__init__, "at": tradeoff.Tradeoffs.at, "same_bits": tradeoff.same_bits}


def _init(self, c_me, c_other, lo, hi, best, firmness=None):
    args = (c_me, c_other, lo, hi, best, firmness)
    self.given = tuple(None if a is None else np.array(a, dtype=float) for a in args)
    self.sources = tuple(a if tradeoff.frozen(a) else None for a in args)

    def full(a):
        return np.broadcast_to(np.asarray(a, dtype=float), best.shape)

    self.delta, self.movable, self.order, self.sorted_loss, self.spent_before = order_kernel(
        full(c_me), full(c_other), full(lo), full(hi), full(best),
        full(firmness) if firmness is not None else np.empty((0, 0)), firmness is not None)
    self.best = self.given[4]


def _at(self, budget):
    return at_kernel(np.asarray(budget, dtype=float), self.spent_before, self.sorted_loss, self.order, self.movable,
                     np.broadcast_to(self.best, self.delta.shape), self.delta)


def _same_bits(kept, now, source=None):
    if source is not None and now is source and not now.flags.writeable:
        return True
    if kept is None or now is None:
        return kept is None and now is None
    now = np.asarray(now)
    return now.dtype == np.float64 and now.shape == kept.shape and same_kernel(now.view(np.int64),
                                                                              kept.view(np.int64))


def use_kernels(on: bool) -> None:
    """Put the kernels in place of the three pieces (or NumPy's back), in this process."""
    tradeoff.Tradeoffs.__init__ = _init if on else _NUMPY["init"]
    tradeoff.Tradeoffs.at = _at if on else _NUMPY["at"]
    tradeoff.same_bits = agents.same_bits = _same_bits if on else _NUMPY["same_bits"]


def chunks_of(overrides: list[str]) -> list[tuple]:
    """Each chunk's structure, inputs and seeds, as a worker has them before the play."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[*COMMON, *overrides])
    the_plan = plan(cfg)
    out = []
    for chunk in make_chunks(the_plan):
        task = pickle.loads(pickle.dumps(_task(the_plan, chunk)))
        worlds = take(laid_out(task.point_inputs), task.local_point)
        keys = None if task.key_coordinates is None else point_keys(
            {k: np.asarray(v) for k, v in task.key_coordinates.items()})[task.local_point]
        out.append((task.structure, worlds, world_seeds(task.root_seed, task.seed_index, keys)))
    return out


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "fiub":
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return a.tolist() == b.tolist()


def probe(name: str, chunks: list[tuple], repeats: int) -> None:
    use_kernels(True)
    start = time.perf_counter()
    play(*chunks[0], None)
    first = time.perf_counter() - start
    tables = {}
    for on in (False, True):
        use_kernels(on)
        tables[on] = [play(*c, None)[0] for c in chunks]
    differing = sorted({key for a, b in zip(tables[False], tables[True], strict=True) for key in a
                        if not _same(a[key], b[key])})
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeats):
        for on in (False, True):
            use_kernels(on)
            for c in chunks:
                start = time.perf_counter()
                play(*c, None)
                seconds[on].append(time.perf_counter() - start)
    use_kernels(False)
    numpy_ms, kernel_ms = (float(np.median(seconds[on])) * 1e3 for on in (False, True))
    print(f"{name}: {len(chunks)} chunks of {len(chunks[0][2]):,} worlds; outcome columns that differ: "
          f"{', '.join(differing) or 'none'}")
    print(f"  play per chunk (median of {len(seconds[False])}): NumPy {numpy_ms:.1f} ms, with the kernels "
          f"{kernel_ms:.1f} ms, ratio {numpy_ms / kernel_ms:.2f}; first call with them {first:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    probe("reference sweep (bench_sweep.py)", chunks_of([*OVERRIDES, f"run.seeds={args.worlds}"]), args.repeats)
    probe("default values", chunks_of([f"run.seeds={args.worlds}"]), args.repeats)
    probe("prior draws", chunks_of(["sweep.sample.method=prior", f"sweep.sample.n={args.worlds}", "run.seeds=1"]),
          args.repeats)


if __name__ == "__main__":
    main()
