"""The seeds of an ensemble's worlds: a 64-bit key of each world's coordinates, computed for a chunk at once.

The keys and seeds are checked against a plain-Python implementation of their definition (one row at a time,
Python integers), against the SplitMix64 generator's published first outputs, for collisions among a million
rows (random, on an integer grid, and consecutive floats), and in a run: every world's seed is the one its own
coordinates give, alone.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest

from sim.config import plan
from sim.engine.streams import _BOOL, _FLOAT, _GAMMA, _INT, _KEY_START, _mix, point_keys, world_seeds
from sim.run.runner import simulate
from tests.conftest import compose_config

MASK = 2**64 - 1
GAMMA = 0x9E3779B97F4A7C15
ENSEMBLE = ["sweep.sample.method=prior", "run.seeds=1", "run.common_random_numbers=false", "run.record_rounds=none"]


def mix(z: int) -> int:
    """SplitMix64's finaliser on a Python integer (Steele, Lea & Flood 2014)."""
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & MASK
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def text_word(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def word(value) -> int:
    """A value's word, by the definition in ``point_keys``'s docstring."""
    if isinstance(value, bool):
        return int(value) ^ _BOOL
    if isinstance(value, int):
        return (value % 2**64) ^ _INT
    if isinstance(value, float):
        return struct.unpack("<Q", struct.pack("<d", value))[0] ^ _FLOAT
    return text_word(f"{type(value).__name__} {value!r}")


def row_key(row: dict) -> int:
    key = _KEY_START
    for name in sorted(row):
        key = mix(key ^ text_word(f"column {name}") ^ word(row[name]))
    return key


def test_the_mixer_gives_splitmix64s_published_outputs():
    """SplitMix64 seeded with 0 starts 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4 (the reference C code's outputs):
    output k is mix(k * GAMMA)."""
    steps = np.array([GAMMA, 2 * GAMMA % 2**64], dtype=np.uint64)
    assert _mix(steps).tolist() == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]
    assert [mix(GAMMA), mix(2 * GAMMA % 2**64)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]


def test_keys_equal_the_definition_row_by_row():
    """Numbers, texts and other values, with the edge cases of each (signed zeros, NaN, infinities, subnormals,
    negative and huge integers), in columns of every dtype: each row's key is its plain-Python fold."""
    rng = np.random.default_rng(3)
    objects = np.empty(10, dtype=object)
    objects[:] = [0.0, -0.0, 1.5, 1.5, float("nan"), 2, True, None, "a", (1, -0.0)]
    columns = {"scenario.x": objects, "prior.draw": rng.normal(size=10) * 10.0 ** rng.integers(-20, 20, 10),
               "a_strategy": np.array(["x", "x", "y's", "z", "x", "x", "y's", "", "x", "é"], dtype=object),
               "one_text": np.array(["conceder"] * 10, dtype=object),  # a column of one text (hashed once)
               "deadline": rng.integers(-5, 30, 10), "flag": rng.random(10) < 0.5,
               "big": np.array([0, 2**64 - 1, 2**63, 1, 5, 6, 7, 8, 9, 10], dtype=np.uint64),
               "edge": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-320, 1e300, 0.1, -2.5, 3.0])}
    want = [row_key({k: c[i].item() if isinstance(c[i], np.generic) else c[i] for k, c in columns.items()})
            for i in range(10)]
    assert point_keys(columns).tolist() == want
    # the key does not depend on the columns' order in the mapping, nor on the dtype that holds a value
    assert point_keys(dict(reversed(columns.items()))).tolist() == want
    as_objects = {k: np.array(c.tolist() + [None], dtype=object)[:-1] for k, c in columns.items()}
    assert all(c.dtype == object for c in as_objects.values())
    assert point_keys(as_objects).tolist() == want


def test_equal_rows_give_equal_keys_and_one_changed_bit_another():
    x = np.array([0.25, 0.25, np.nextafter(0.25, 1.0), 0.25, 0.25])  # rows 0, 1 equal; row 2 its last bit changed
    y = np.array([3, 3, 3, 4, 3])
    text = np.array(["boulware", "boulware", "boulware", "boulware", "conceder"], dtype=object)
    keys = point_keys({"x": x, "y": y, "strategy": text}).tolist()
    assert keys[0] == keys[1] and len(set(keys[1:])) == 4
    # by hand: one column, one value
    start = _KEY_START ^ text_word("column x")
    assert point_keys({"x": np.array([0.25])})[0] == mix(start ^ 0x3FD0000000000000 ^ _FLOAT)
    assert point_keys({"x": np.array([0.25 + 2**-54])})[0] == mix(start ^ 0x3FD0000000000001 ^ _FLOAT)
    # 1, 1.0 and True are different coordinates (as their texts are), and so are equal values under other names
    one = [point_keys({"x": np.array([v], dtype=object)})[0] for v in (1, 1.0, True)]
    assert len(set(one)) == 3
    assert point_keys({"x": x[:1]})[0] != point_keys({"z": x[:1]})[0]
    # swapping two columns' values changes the key
    assert point_keys({"a": np.array([1.0]), "b": np.array([2.0])}) != point_keys({"a": np.array([2.0]),
                                                                                  "b": np.array([1.0])})


def test_a_million_distinct_rows_get_a_million_distinct_keys():
    """Random draws, an integer grid (a structured input) and a run of consecutive floats (rows one bit apart):
    no two keys equal. (The 32-bit CRC of the coordinates' text used before expects 116 colliding pairs among
    a million rows: n(n - 1) / 2 / 2**32.)"""
    n = 10**6
    rng = np.random.default_rng(11)
    random_rows = {"a": rng.random(n), "b": rng.normal(size=n), "c": rng.integers(0, 50, n),
                   "strategy": np.array(["boulware", "conceder"], dtype=object)[rng.integers(0, 2, n)]}
    i, j = np.divmod(np.arange(n), 1000)
    grid_rows = {"i": i, "j": j, "x": np.full(n, 0.5)}
    consecutive = {"x": 1.0 + np.arange(n) * np.finfo(float).eps}  # the floats just above 1.0, one by one
    assert len(np.unique(consecutive["x"])) == n
    for rows in (random_rows, grid_rows, consecutive):
        assert len(np.unique(point_keys(rows))) == n


def test_seeds_equal_the_definition():
    """Common random numbers: output i of a SplitMix64 stream at the root's SeedSequence state (unchanged, so
    grids keep their numbers). Keyed: the stream starts at mix(state ^ key), the state of spawn key 2**32."""
    index = np.arange(3000) % 7
    state = int(np.random.SeedSequence(entropy=9).generate_state(1, dtype=np.uint64)[0])
    want = [mix((state + (i + 1) * GAMMA) & MASK) for i in index.tolist()]
    assert world_seeds(9, index).tolist() == want
    keys = np.random.default_rng(4).integers(0, 2**63, 3000).astype(np.uint64) * np.uint64(2)  # any 64 bits
    keys[::3] = keys[0]  # repeated keys
    keyed = int(np.random.SeedSequence(entropy=9, spawn_key=(2**32,)).generate_state(1, dtype=np.uint64)[0])
    want = [mix((mix(keyed ^ k) + (i + 1) * GAMMA) & MASK) for k, i in zip(keys.tolist(), index.tolist(), strict=True)]
    assert world_seeds(9, index, keys).tolist() == want
    assert np.uint64(GAMMA) == _GAMMA


@pytest.mark.parametrize("chunk_size", [10000, 3])
def test_every_worlds_seed_is_the_one_its_coordinates_give_alone(chunk_size):
    """In an ensemble run (one chunk, or chunks of 3), each world's seed is that of its own coordinates keyed
    alone, as a one-row column set: it depends on its parameters, the root seed and its seed index only."""
    p = plan(compose_config(*ENSEMBLE, "sweep.sample.n=25", f"run.chunk_size={chunk_size}", "run.seed=17"))
    outcomes, _ = simulate(p)
    columns = p.blocks[0].coordinates
    assert len(p.blocks) == 1 and len(outcomes) == 25
    alone = [world_seeds(17, [0], point_keys({k: c[w:w + 1] for k, c in columns.items()}))[0] for w in range(25)]
    assert outcomes["seed"].tolist() == [int(s) for s in alone]
    assert len(set(alone)) == 25
