"""Per-world random streams that do not depend on the batch.

Every world of a batch owns a 64-bit seed. A draw is addressed by (world seed, stream, round,
index) and computed with the SplitMix64 generator (Steele, Lea & Flood 2014, the generator behind
Java's ``SplittableRandom``): the k-th output of a SplitMix64 stream seeded with ``s`` is
``mix(s + k * GAMMA)``. Here ``s`` is the world seed passed once through ``mix`` and ``k`` packs the
address. Because a draw depends only on its own world's seed and address, a world's result is the
same whatever the batch size B and whatever other worlds share its batch, while the draws for all B
worlds of a round are still computed as one vectorised NumPy expression (no loop over worlds).

World seeds themselves come from :class:`numpy.random.SeedSequence`; see :func:`world_seeds`.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["RandomStreams", "Stream", "point_key", "point_keys", "world_seeds"]

_GAMMA_INT = 0x9E3779B97F4A7C15
_GAMMA = np.uint64(_GAMMA_INT)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53


class Stream:
    """Stream identifiers: one per source of randomness (fits in 8 bits).

    The talks' own streams are constants; each party's streams are numbered by its position in the
    scenario (0 or 1), so that they do not depend on the parties' names.
    """

    EXTENSION = 1
    BREAKDOWN = 2
    _NOISE, _BELIEF, _STRATEGY, _RED_LINE = 3, 5, 7, 9

    @staticmethod
    def noise(party: int) -> int:
        """Noise on party ``party``'s concessions."""
        return Stream._NOISE + party

    @staticmethod
    def belief(party: int) -> int:
        """Party ``party``'s prior draws about the other side (deadline, reservation value)."""
        return Stream._BELIEF + party

    @staticmethod
    def strategy(party: int) -> int:
        """Draws of party ``party``'s randomising strategy."""
        return Stream._STRATEGY + party

    @staticmethod
    def red_line(party: int) -> int:
        """Whether each of party ``party``'s red lines holds in a world (drawn once, per issue)."""
        return Stream._RED_LINE + party


_S30, _S27, _S31, _S11, _S40 = (np.uint64(k) for k in (30, 27, 31, 11, 40))


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 output function (a bijective 64-bit finaliser), in place on ``z``."""
    shifted = np.empty_like(z)  # one scratch array for the three shifts, not a temporary each
    z ^= np.right_shift(z, _S30, out=shifted)
    z *= _M1
    z ^= np.right_shift(z, _S27, out=shifted)
    z *= _M2
    z ^= np.right_shift(z, _S31, out=shifted)
    return z


class RandomStreams:
    """Counter-addressed uniform and normal draws for a batch of worlds.

    Args:
        seeds: One unsigned 64-bit seed per world, shape ``(B,)``.
    """

    def __init__(self, seeds: np.ndarray) -> None:
        self.seeds = np.asarray(seeds, dtype=np.uint64)
        self._keys = _mix(self.seeds.copy())

    def uniform(self, stream: int, round_: int = 0, n: int | None = None) -> np.ndarray:
        """Uniform draws on [0, 1).

        Args:
            stream: A :class:`Stream` identifier.
            round_: The round the draw belongs to (0 for draws made once per world).
            n: Number of draws per world; ``None`` returns shape ``(B,)``, else ``(B, n)``.

        Returns:
            Array of uniforms, one row per world.
        """
        width = 1 if n is None else n
        u = (self._bits(stream, round_, width) >> _S11).astype(np.float64) * _TO_UNIT
        return u[:, 0] if n is None else u

    def _bits(self, stream: int, round_: int, width: int, first: int = 0) -> np.ndarray:
        """Raw 64-bit outputs number ``first`` to ``first + width - 1``, shape ``(B, width)``."""
        base = (stream << 56) | (round_ << 24)
        # the SplitMix64 state increments for these draws: (counter + 1) * GAMMA, wrapping mod 2**64
        steps = np.array([((base | k) + 1) * _GAMMA_INT % 2**64 for k in range(first, first + width)],
                         dtype=np.uint64)
        return _mix(self._keys[:, None] + steps)  # uint64 array arithmetic wraps silently

    def normal(self, stream: int, round_: int = 0, n: int | None = None) -> np.ndarray:
        """Standard normal draws by the Box–Muller transform of two uniform blocks.

        Args:
            stream: A :class:`Stream` identifier.
            round_: The round the draw belongs to.
            n: Number of draws per world; ``None`` returns shape ``(B,)``.

        Returns:
            Array of standard normal draws.
        """
        width = 1 if n is None else n
        half = (width + 1) // 2
        # 24-bit uniforms in float32: (0, 1] for the radius, [0, 1) for the angle. Single precision
        # is ample for noise (tails to 5.8 s.d.) and its log and cos are several times faster.
        # The radius's draws (outputs 0 to half - 1) and the angle's (half to 2 * half - 1) are made as two
        # contiguous blocks, and each step is done in place: the same numbers, fewer temporaries.
        radius = (self._bits(stream, round_, half) >> _S40).astype(np.float32)
        radius += 1
        radius *= np.float32(2.0**-24)
        np.log(radius, out=radius)
        radius *= np.float32(-2.0)
        np.sqrt(radius, out=radius)
        angle = (self._bits(stream, round_, half, first=half) >> _S40).astype(np.float32)
        angle *= np.float32(2.0 * np.pi * 2.0**-24)
        z = np.empty((len(radius), 2 * half), dtype=np.float64)
        np.multiply(radius, np.cos(angle), out=z[:, :half])
        np.multiply(radius, np.sin(angle, out=angle), out=z[:, half:])
        return z[:, 0] if n is None else z[:, :width]


def world_seeds(root_seed: int, seed_indices: np.ndarray, point_keys: np.ndarray | None = None) -> np.ndarray:
    """Derive each world's 64-bit seed from the run's root seed.

    A :class:`numpy.random.SeedSequence` built from the root seed (and, with ``point_keys``, the
    world's grid point) seeds a SplitMix64 stream whose output number ``i`` is the seed of
    replication ``i``. With ``point_keys=None`` the seed depends on the replication index only, so
    every grid point sees the same random draws for the same index (common random numbers:
    differences between grid points are then due to the parameters, not to sampling noise). With
    point keys, each grid point gets its own independent draws.

    Args:
        root_seed: The run's root seed (``run.seed``).
        seed_indices: Replication index of each world.
        point_keys: Optional 32-bit key of each world's grid point (see :func:`point_key`).

    Returns:
        ``uint64`` array of world seeds.
    """
    idx = np.asarray(seed_indices, dtype=np.uint64)
    keys = np.zeros(idx.shape, dtype=np.int64) if point_keys is None else np.asarray(point_keys, dtype=np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    states = np.empty(len(unique), dtype=np.uint64)
    for k, key in enumerate(unique.tolist()):
        spawn_key = () if point_keys is None else (key,)
        states[k] = np.random.SeedSequence(entropy=root_seed, spawn_key=spawn_key).generate_state(1, dtype=np.uint64)[0]
    bases = states[inverse.reshape(idx.shape)]
    return _mix(bases + (idx + np.uint64(1)) * _GAMMA)


def point_key(coordinates: dict) -> int:
    """A stable 32-bit key for a grid point, from its sorted coordinates."""
    text = repr(sorted((str(k), repr(v)) for k, v in coordinates.items()))
    return zlib.crc32(text.encode())


def point_keys(columns: dict[str, np.ndarray]) -> np.ndarray:
    """:func:`point_key` of many grid points at once, given as coordinate columns (one value per point).

    The same text is hashed. A column of numbers (bool, integer or float: Python values without quotes in their
    ``repr``) is written in one ``repr`` of the whole column, split at its commas; a column of other values once
    per distinct value where equal values are known to have equal text.

    Returns:
        ``int64`` array of keys, one per point.
    """
    pieces = []
    for name in sorted(columns, key=str):  # as sorted() orders the (name, text) pairs: the names are distinct
        head = "(" + repr(str(name)) + ", "
        column = np.asarray(columns[name])
        if column.dtype.kind in "biuf" and len(column):
            pieces.append([f"{head}'{text}')" for text in repr(column.tolist())[1:-1].split(", ")])
        else:
            pieces.append(_pieces(head, column.tolist()))
    n = len(next(iter(columns.values()))) if columns else 0
    return np.array([zlib.crc32(("[" + ", ".join(row) + "]").encode()) for row in zip(*pieces)] if pieces
                    else [zlib.crc32(b"[]")] * n, dtype=np.int64)


def _pieces(head: str, values: list) -> list[str]:
    """Each value's ``repr((name, repr(value)))``, written once per distinct value of the types whose equal values
    have equal text (not ``-0.0 == 0.0``, not containers)."""
    cache: dict = {}
    out = []
    for v in values:
        cacheable = type(v) in (str, int, bool) or v is None or (type(v) is float and v != 0.0)
        piece = cache.get((type(v), v)) if cacheable else None
        if piece is None:
            piece = head + repr(repr(v)) + ")"
            if cacheable:
                cache[(type(v), v)] = piece
        out.append(piece)
    return out
