"""Utility: affine payoffs over the outcome box, normalised to [0, 1] with their exact extremes.

Every payoff model of the project (the tariff stakes, the pie split, a constituency's interest) is
affine in the package, ``P(x) = a @ x + b`` in USD bn per year (or in the model's own unit). Over a
box of issue ranges its extremes lie at corners and are found exactly, so the utility

    u(x) = (P(x) - P_min) / (P_max - P_min)

is affine too and lies in [0, 1] for every package. This module is the one place that computes it:
:class:`LinearPayoff` for one world (config compilation, metrics, figures) and :class:`BatchUtility`
for the B worlds of a batch (the agents, ratification).

A payoff of one package, ``a @ x``, is summed issue by issue in order (:func:`ordered_dot`), never by the BLAS
dot product: how that adds a short vector depends on the processor (OpenBLAS's AVX-512 kernel fuses the multiply
and the add: a quarter to a half of the sums over 2 to 9 issues differ in the last bit), and one world's numbers
must be those that the plan's layout and the batched frontier compute for many worlds at once, adding in order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.domain.outcome_space import OutcomeSpace

__all__ = ["BatchUtility", "LinearPayoff", "ordered_dot"]


def ordered_dot(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The sum over the last axis (the issues) of ``x * a``, broadcast, the products added in issue order:
    ``x[..., 0] * a[..., 0] + x[..., 1] * a[..., 1] + ...`` (not a matrix product), the same numbers on every
    processor and for one package as for many."""
    x, a = np.asarray(x, dtype=float), np.asarray(a, dtype=float)
    if x.shape[-1:] != a.shape[-1:]:
        raise ValueError(f"ordered_dot: {x.shape[-1:]} and {a.shape[-1:]} issues")
    if x.shape[-1] == 0:  # no issue: the payoff is its constant
        return np.zeros(np.broadcast_shapes(x.shape, a.shape)[:-1])[()]
    total = x[..., 0] * a[..., 0]
    for k in range(1, x.shape[-1]):
        total = total + x[..., k] * a[..., k]
    return total


@dataclass(frozen=True)
class LinearPayoff:
    """An affine payoff ``P(x) = a @ x + b`` over a box, with its exact extremes.

    Attributes:
        a: Coefficient per issue (payoff per unit of the issue, e.g. USD bn/yr per pp).
        b: Constant.
        p_min: Lowest payoff over the outcome box.
        p_max: Highest payoff over the outcome box.
    """

    a: np.ndarray
    b: float
    p_min: float
    p_max: float

    @classmethod
    def over(cls, space: OutcomeSpace, a: np.ndarray, b: float) -> LinearPayoff:
        """Build the payoff and find its extremes at the corners of ``space``."""
        a = np.asarray(a, dtype=float)
        lo_term, hi_term = a * space.lo, a * space.hi
        p_min = b + np.minimum(lo_term, hi_term).sum()
        p_max = b + np.maximum(lo_term, hi_term).sum()
        return cls(a=a, b=float(b), p_min=float(p_min), p_max=float(p_max))

    def payoff(self, x: np.ndarray) -> np.ndarray:
        """Payoff of package(s) ``x``."""
        return ordered_dot(x, self.a) + self.b

    def utility(self, x: np.ndarray) -> np.ndarray:
        """Normalised utility of package(s) ``x`` in [0, 1]."""
        return (self.payoff(x) - self.p_min) / (self.p_max - self.p_min)

    def normalised(self) -> tuple[np.ndarray, float]:
        """``(c, k)`` with ``u(x) = c @ x + k``; a payoff constant over the box gives ``c = 0``, ``k = 1``."""
        return normalised(self.a, self.b, self.p_min, self.p_max)


def normalised(a, b, p_min, p_max) -> tuple[np.ndarray, float]:
    """Coefficients ``(c, k)`` of the normalised utility ``u = c @ x + k`` of one payoff ``P = a @ x + b``.

    A payoff that is the same for every package (zero span) has ``c = 0`` and ``k = 1``: every package is as
    good as its best.
    """
    span = p_max - p_min
    a = np.asarray(a, dtype=float)
    if span > 0:
        return a / span, float((b - p_min) / span)
    return a * 0.0, 1.0


class BatchUtility:
    """One party's utility in each of B worlds: ``u(x) = (a @ x + b - p_min) / (p_max - p_min)``.

    Args:
        a: Payoff coefficients per world and issue, ``(B, n)``.
        b: Payoff constant per world, ``(B,)``.
        p_min: Lowest payoff over the box per world, ``(B,)``.
        p_max: Highest payoff over the box per world, ``(B,)``.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, p_min: np.ndarray, p_max: np.ndarray) -> None:
        self.a, self.b, self.p_min = a, b, p_min
        self.span = p_max - p_min

    @property
    def per_unit(self) -> np.ndarray:
        """Utility per unit of each issue, ``a / span``, ``(B, n)`` (what a trade-off weighs issues by). Made once
        and kept while ``a`` and ``span`` are the same arrays (the engine replaces them, never changes them in place;
        a batch's compaction replaces them and this together); read-only, since every caller shares it."""
        kept = self.__dict__.get("_per_unit")
        if kept is None or kept[0] is not self.a or kept[1] is not self.span:
            per_unit = self.a / self.span[:, None]
            per_unit.setflags(write=False)
            kept = self._per_unit = (self.a, self.span, per_unit)
        return kept[2]

    def payoff(self, x: np.ndarray) -> np.ndarray:
        """Payoff of packages ``x``, one per world (``(B, n)`` -> ``(B,)``)."""
        return np.einsum("bn,bn->b", x, self.a) + self.b

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Normalised utility in [0, 1] of packages ``x``, one per world."""
        return (self.payoff(x) - self.p_min) / self.span

    def payoff_of_utility(self, u: np.ndarray) -> np.ndarray:
        """The payoff that has utility ``u`` (the inverse normalisation)."""
        return self.p_min + self.span * u

    def step(self, issue: int, delta: float) -> np.ndarray:
        """Utility change of moving issue ``issue`` by ``delta`` (its unit), per world."""
        return self.a[:, issue] * delta / self.span
