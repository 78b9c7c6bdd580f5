"""Trade-off packages: at a utility one means to keep, the package the other side likes best.

Faratin, Sierra & Jennings (2002) let a negotiator trade issues off: instead of conceding on every issue
at once, it offers, among the packages worth its target utility to itself, the one most similar to (here:
best for) the other side. With utilities affine over a box this is the linear programme

    maximise  c_o @ x   subject to   c_m @ x + k_m >= target,   lo <= x <= hi,

and its exact solution is a fractional knapsack: start from one's own best package and move issues, one
at a time, to the other side's preferred bound, in decreasing order of the other side's gain per unit of
one's own loss, until the utility budget ``u_best - target`` is spent (the last issue moved part way).
Issues on which the sides agree, or which the other side does not care about, stay at one's best.

**Firmness.** A side may hold some issues harder than others (``scenario.sides.PARTY.firmness``: an exponent
``e_j >= 1`` per issue, 1 for an ordinary issue). In the trade-off the other side's gain on a firm issue counts
``1 / e_j`` of its value, so the programme solved is

    maximise  sum_j (c_o,j / e_j) x_j   subject to   c_m @ x + k_m >= target,   lo <= x <= hi,

and its knapsack order is the gain per unit of loss divided by ``e_j``: a firm issue is given up later than it
would be otherwise (after every issue whose ratio is less than ``e_j`` times smaller), never at a different
utility to oneself. With every ``e_j = 1`` it is the programme above.

:func:`tradeoff_package` computes it for B worlds at once (each with its own coefficients, bounds and
target) with array operations only: a sort and a cumulative sum along the issue axis. The sort depends on the
coefficients, the box and the firmness, not on the budget: :class:`Tradeoffs` sorts once and gives the packages at
any budget, which is what a party asking every round with unchanged beliefs (its no-deal check), or at 41 budgets
at once (Nice Tit-for-Tat's Nash point), needs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Tradeoffs", "frozen", "same_bits", "tradeoff_package"]


def tradeoff_package(c_me: np.ndarray, c_other: np.ndarray, lo: np.ndarray, hi: np.ndarray, best: np.ndarray,
                     budget: np.ndarray, firmness: np.ndarray | None = None) -> np.ndarray:
    """The packages that maximise the other side's utility while costing oneself at most ``budget``.

    Args:
        c_me: One's own utility per unit of each issue, ``(B, n)`` (normalised: ``u = c_me @ x + k``).
        c_other: The other side's (believed) utility per unit of each issue, ``(B, n)``.
        lo: Lowest value one will offer per issue, ``(n,)`` or ``(B, n)``.
        hi: Highest value one will offer per issue, ``(n,)`` or ``(B, n)``.
        best: One's own best package within ``[lo, hi]``, ``(B, n)``.
        budget: Utility one gives up relative to ``best`` (``u(best) - target``), ``(B,)``; at least 0.
        firmness: One's firmness per issue, ``(B, n)`` (at least 1; ``None``: 1 everywhere): the other side's
            gain on issue ``j`` counts ``1 / firmness_j`` in the order.

    Returns:
        The packages, ``(B, n)``: worth ``u(best) - budget`` to oneself when the budget can be spent on
        issues the other side values, and the best such package for the other side.
    """
    return Tradeoffs(c_me, c_other, lo, hi, best, firmness).at(budget)


class Tradeoffs:
    """The trade-off packages of B worlds for given coefficients, box and firmness, at any budget.

    The knapsack's order (which issue is given way first) is sorted once, here; :meth:`at` then spends a budget
    along it. ``Tradeoffs(...).at(budget)`` is :func:`tradeoff_package`, the same operations on the same numbers.
    Arguments as :func:`tradeoff_package`'s, less the budget.
    """

    def __init__(self, c_me: np.ndarray, c_other: np.ndarray, lo: np.ndarray, hi: np.ndarray, best: np.ndarray,
                 firmness: np.ndarray | None = None) -> None:
        args = (c_me, c_other, lo, hi, best, firmness)
        self.given = tuple(None if a is None else np.array(a, dtype=float) for a in args)
        self.sources = tuple(a if frozen(a) else None for a in args)  # arrays nothing can write to, as given
        lo, hi = np.broadcast_to(lo, best.shape), np.broadcast_to(hi, best.shape)
        target = np.where(c_other > 0, hi, np.where(c_other < 0, lo, best))  # the other side's preferred bound
        delta = target - best
        loss = -c_me * delta  # >= 0: one's utility lost by moving the issue all the way
        gain = c_other * delta  # >= 0: the other side's gain
        movable = gain > 0
        loss = np.where(movable, np.maximum(loss, 0.0), 0.0)
        # most gain per unit of loss first; free moves (no loss) first of all
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.where(movable, np.where(loss > 0, gain / loss, np.inf), -np.inf)
        if firmness is not None:
            ratio = np.where(np.isfinite(ratio), ratio / firmness, ratio)
        order = np.argsort(-ratio, axis=1, kind="stable")
        self.sorted_loss = np.take_along_axis(loss, order, axis=1)
        self.spent_before = np.cumsum(self.sorted_loss, axis=1) - self.sorted_loss
        self.order = order
        self.best, self.delta, self.movable = self.given[4], delta, movable

    def at(self, budget: np.ndarray) -> np.ndarray:
        """The packages at ``budget``, ``(B,)`` (or ``(1,)``: one for every world): what :func:`tradeoff_package`
        returns for it, ``(B, n)``.

        Raises:
            ValueError: ``budget`` has another shape.
        """
        # the operations of ``best + where(movable, share, 0) * delta``, in place where the dtypes allow (no
        # temporary per step: at 10,000 worlds and 9 issues this was 600 us a call, most of it put_along_axis)
        n_worlds, n = self.order.shape
        if np.shape(budget) not in ((n_worlds,), (1,)):
            raise ValueError(f"a budget of shape {np.shape(budget)} for {n_worlds} worlds (one per world, or one)")
        share_sorted = np.subtract(np.maximum(budget, 0.0)[:, None], self.spent_before)  # the budget left
        # a loss so small that room / loss overflows: the whole move fits (inf, clipped to 1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            np.divide(share_sorted, self.sorted_loss, out=share_sorted)
            np.clip(share_sorted, 0.0, 1.0, out=share_sorted)
        np.copyto(share_sorted, 1.0, where=~(self.sorted_loss > 0))
        # the sorted issues put back in their own order, by their flat positions
        share = np.empty(n_worlds * n, dtype=share_sorted.dtype)
        share[(self.order + np.arange(n_worlds)[:, None] * n).ravel()] = share_sorted.ravel()
        share = share.reshape(n_worlds, n)
        np.copyto(share, 0.0, where=~self.movable)
        moved = np.multiply(share, self.delta, out=share if share.dtype == self.delta.dtype else None)
        if moved.dtype != np.result_type(self.best, moved):
            return self.best + moved
        return np.add(self.best, moved, out=moved)

    def holds(self, c_me: np.ndarray, c_other: np.ndarray, lo: np.ndarray, hi: np.ndarray, best: np.ndarray,
              firmness: np.ndarray | None = None) -> bool:
        """Whether these are the arguments it was made with, bit for bit (so :meth:`at` gives their packages)."""
        return all(same_bits(kept, now, source) for kept, now, source in
                   zip(self.given, (c_me, c_other, lo, hi, best, firmness), self.sources, strict=True))

    @classmethod
    def reuse(cls, kept: Tradeoffs | None, c_me: np.ndarray, c_other: np.ndarray, lo: np.ndarray, hi: np.ndarray,
              best: np.ndarray, firmness: np.ndarray | None = None) -> Tradeoffs:
        """``kept`` when it was made with these arguments (a party's beliefs unchanged since), else a new one."""
        if kept is not None and kept.holds(c_me, c_other, lo, hi, best, firmness):
            return kept
        return cls(c_me, c_other, lo, hi, best, firmness)


def frozen(a: object) -> bool:
    """Whether ``a`` is a frozen array: read-only and owning its memory (a read-only view of another array changes
    when that array does), as a party's own bounds, its ideal and its believed box are, each made read-only when it
    is made (so no writable view of it exists). It could still change if someone made it writable again
    (``setflags(write=True)``): nothing in the engine does, and a change made that way and undone before the next
    round (the flag cleared again) is not seen."""
    return isinstance(a, np.ndarray) and not a.flags.writeable and a.flags.owndata


def same_bits(kept: np.ndarray | None, now: np.ndarray | None, source: np.ndarray | None = None) -> bool:
    """Whether ``now`` holds the same float64 numbers as ``kept`` (a float64 copy kept by a cache), bit for bit (0.0
    and -0.0 differ, a NaN equals the same NaN); another dtype never does.

    ``source`` is the array ``kept`` was copied from if it was :func:`frozen` then (else ``None``): ``now`` being
    that very array, still frozen, holds the numbers it held then, and is not compared again.
    """
    if source is not None and now is source and frozen(now):
        return True
    if kept is None or now is None:
        return kept is None and now is None
    now = np.asarray(now)
    return (now.dtype == np.float64 and now.shape == kept.shape
            and np.array_equal(now.view(np.int64), kept.view(np.int64)))
