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
target) with array operations only: a sort and a cumulative sum along the issue axis.
"""

from __future__ import annotations

import numpy as np

__all__ = ["tradeoff_package"]


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
    sorted_loss = np.take_along_axis(loss, order, axis=1)
    spent_before = np.cumsum(sorted_loss, axis=1) - sorted_loss
    room = np.maximum(budget, 0.0)[:, None] - spent_before
    # a loss so small that room / loss overflows: the whole move fits (inf, clipped to 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        share_sorted = np.where(sorted_loss > 0, np.clip(room / sorted_loss, 0.0, 1.0), 1.0)
    share = np.empty_like(share_sorted)
    np.put_along_axis(share, order, share_sorted, axis=1)
    share = np.where(movable, share, 0.0)
    return best + share * delta
