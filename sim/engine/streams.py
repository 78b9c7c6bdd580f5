"""Per-world random streams that do not depend on the batch.

Every world of a batch owns a 64-bit seed. A draw is addressed by (world seed, stream, round,
index) and computed with the SplitMix64 generator (Steele, Lea & Flood 2014, the generator behind
Java's ``SplittableRandom``): the k-th output of a SplitMix64 stream seeded with ``s`` is
``mix(s + k * GAMMA)``. Here ``s`` is the world seed passed once through ``mix`` and ``k`` packs the
address. Because a draw depends only on its own world's seed and address, a world's result is the
same whatever the batch size B and whatever other worlds share its batch, while the draws for all B
worlds of a round are still computed as one vectorised NumPy expression (no loop over worlds).

World seeds come from one :class:`numpy.random.SeedSequence` state of the root seed and the world's seed index
(see :func:`world_seeds`); without common random numbers also from a 64-bit key of the world's coordinates
(:func:`point_keys`), so each world of an ensemble (its own prior draw or design row) has its own draws, computed
for a whole chunk at once.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

__all__ = ["RandomStreams", "Stream", "point_keys", "world_seeds"]

_GAMMA_INT = 0x9E3779B97F4A7C15
_GAMMA = np.uint64(_GAMMA_INT)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53
# point keys: the fold's start, the type constants of a value's word, and the spawn key of the root state of keyed
# seeds (beyond any 32-bit key of the earlier scheme, and apart from the samplers' 2**32 - 1 and 2**32 - 2)
_KEY_START = 0x243F6A8885A308D3  # the first hexadecimal digits of pi's fraction
_FLOAT, _INT, _BOOL = 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89
_KEYED_SPAWN = 2**32


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
    """Derive each world's 64-bit seed from the run's root seed, vectorised (no loop over worlds).

    One :class:`numpy.random.SeedSequence` state is drawn from the root seed; world ``i`` of a SplitMix64
    stream started at a base state gets output number ``i`` (its seed index) as its seed.

    * ``point_keys=None`` (common random numbers, ``run.common_random_numbers=true``): the base is that state,
      so the seed depends on the seed index only and every grid point sees the same random draws for the same
      index (differences between grid points are then due to the parameters, not to sampling noise).
    * With point keys (``run.common_random_numbers=false``: every world of an ensemble, each its own prior draw
      or design row, and every grid point of such a run): the state comes from a separate spawn key
      (``2**32``), and each world's base is ``mix(state ^ key)``. As ``mix`` is a bijection, distinct keys get
      distinct bases and, at one seed index, distinct seeds; a world's seed depends on the root seed, its key
      and its seed index only, never on its chunk or its batch-mates.

    Args:
        root_seed: The run's root seed (``run.seed``).
        seed_indices: Replication index of each world.
        point_keys: Optional 64-bit key of each world's coordinates (see :func:`point_keys`).

    Returns:
        ``uint64`` array of world seeds.
    """
    idx = np.asarray(seed_indices, dtype=np.uint64)
    spawn_key = () if point_keys is None else (_KEYED_SPAWN,)
    state = np.random.SeedSequence(entropy=root_seed, spawn_key=spawn_key).generate_state(1, dtype=np.uint64)[0]
    if point_keys is None:
        bases = np.full(idx.shape, state, dtype=np.uint64)
    else:
        bases = _mix(np.asarray(point_keys, dtype=np.uint64) ^ state)
    return _mix(bases + (idx + np.uint64(1)) * _GAMMA)


def point_keys(columns: dict[str, np.ndarray]) -> np.ndarray:
    """A 64-bit key for each point, from its coordinate columns (one value per point), vectorised.

    Each value becomes a 64-bit word: a float's IEEE-754 double bit pattern, an integer modulo ``2**64``, a
    bool's 0 or 1 (each XORed with a constant of its type, so ``1``, ``1.0`` and ``True`` differ, as their
    texts do), and any other value (text, ``None``, a tuple) the first 8 bytes of the BLAKE2b hash of its
    type and ``repr`` (once per distinct text). Words depend on the values, not on the column's dtype: a
    float in an object column gives the same word as in a float column. The columns are folded in
    sorted-name order, each with a constant from its name: ``key = mix(key ^ name_word ^ value_word)``
    starting from a fixed constant, ``mix`` being SplitMix64's bijective finaliser.

    Equal rows get equal keys. Rows that differ in one coordinate always get different keys (each step is
    a bijection of the value's word); other distinct rows collide with probability about ``2**-64`` a
    pair: about 3e-8 expected collisions among a million draws, against about 116 with the 32-bit CRC of
    the coordinates' text used before (which gave two worlds the same random draws).

    Returns:
        ``uint64`` array of keys, one per point.
    """
    n = len(next(iter(columns.values()))) if columns else 0
    key = np.full(n, _KEY_START, dtype=np.uint64)
    for name in sorted(columns, key=str):
        key ^= _column_words(np.asarray(columns[name]))
        key ^= np.uint64(_text_word(f"column {name}"))
        _mix(key)
    return key


def _column_words(column: np.ndarray) -> np.ndarray:
    """Each value's 64-bit word (see :func:`point_keys`): numeric columns as one array expression."""
    kind = column.dtype.kind
    if kind == "f":
        return column.astype(np.float64).view(np.uint64) ^ np.uint64(_FLOAT)
    if kind in "iu":
        return column.astype(np.uint64) ^ np.uint64(_INT)  # two's complement: modulo 2**64
    if kind == "b":
        return column.astype(np.uint64) ^ np.uint64(_BOOL)
    values = column.tolist()
    if values and type(values[0]) is str and values.count(values[0]) == len(values):  # one text (a strategy)
        return np.full(len(values), _text_word("str " + repr(values[0])), dtype=np.uint64)
    if not all(type(v) is str for v in values):
        return np.array([_value_word(v) for v in values], dtype=np.uint64)
    # texts (strategies, agendas, constraints): each distinct text hashed once, then looked up by its number
    numbers: dict[str, int] = {}
    index = np.fromiter((numbers.setdefault(v, len(numbers)) for v in values), dtype=np.int64, count=len(values))
    return np.array([_text_word("str " + repr(v)) for v in numbers], dtype=np.uint64)[index]


def _value_word(value: object) -> int:
    """One value's 64-bit word, as :func:`_column_words` makes it for a column of its type."""
    if isinstance(value, np.generic):
        value = value.item()
    kind = type(value)
    if kind is float:
        return struct.unpack("<Q", struct.pack("<d", value))[0] ^ _FLOAT
    if kind is bool:
        return int(value) ^ _BOOL
    if kind is int and -(2**63) <= value < 2**64:
        return (value % 2**64) ^ _INT
    return _text_word(f"{kind.__name__} {value!r}")


def _text_word(text: str) -> int:
    """The first 8 bytes (little-endian) of the BLAKE2b hash of ``text`` (UTF-8): stable across processes."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
