"""Ranked tournament: which strategy gains most above its reservation value, against every opponent.

A *tournament* run plays every strategy of one party against every strategy of the other (a
Cartesian product of strategy pairs, e.g. ``+experiment=strategy_tournament``), many seeds each. A
strategy's score is its **advantage**: the utility it obtains above its reservation value in the end
round (``<party>_advantage``; 0 for a negotiation without a deal, which ends at the reservation value).

:func:`ranking` gives each strategy's mean advantage with a 95 % interval, playing as each party and
pooled over both roles (the ranking of NegMAS's Cartesian tournament, with intervals). The mean gives
every opponent the same weight: it is the mean over opponents (and, pooled, over roles) of the mean
over that pairing's negotiations (across every other swept value, if any), a stratified mean. Its standard error treats the opponents as fixed
(stratified: ``SE^2 = sum_k w_k^2 s_k^2 / n_k`` with ``w_k`` the stratum's weight, ``s_k^2`` its sample
variance and ``n_k`` its negotiations), and the interval uses Student's t with the Welch–Satterthwaite
degrees of freedom.

:func:`pairwise` tests every pair of strategies per role and pooled, with Welch's t-test on the two
stratified means (the same standard errors, so it agrees with the intervals; Student's t from
``scipy.stats``) and Holm's step-down correction within each role (:func:`holm`). The seeds of a run
share random draws across pairings (common random numbers), which this unpaired test ignores; with the
positive correlation that brings, it is conservative.

:func:`write` puts ``ranking.csv``, ``pairwise.csv`` and ``figures/ranking.png`` (and ``.svg``) into a
run folder; ``python -m sim run`` and ``python -m sim plot`` call it for every run that is a tournament
(at least :data:`MIN_STRATEGIES` strategies on each side, every pairing played).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["MIN_STRATEGIES", "NotATournament", "holm", "not_a_tournament", "pairwise", "ranking", "stratified_mean",
           "stratified_test", "write"]

MIN_STRATEGIES = 3  # a tournament has at least this many strategies on each side
LEVEL = 0.95  # confidence level of the intervals
ALPHA = 0.05  # family-wise error rate of the pairwise tests (Holm)
POOLED = "pooled"


class NotATournament(ValueError):
    """The run is not a tournament (too few strategies, or pairings missing)."""


def holm(p_values) -> np.ndarray:
    """Holm's (1979) step-down adjusted p-values, which control the family-wise error rate.

    Sort the m p-values ascending, ``p_(1) <= ... <= p_(m)``; the adjusted value of the i-th is
    ``max_{j <= i} min(1, (m - j + 1) p_(j))``. A hypothesis is rejected at level alpha when its
    adjusted p-value is at most alpha. NaN p-values are left NaN and do not count in m.

    Args:
        p_values: The raw p-values, any shape.

    Returns:
        The adjusted p-values, in the input's order and shape.
    """
    p = np.asarray(p_values, dtype=float)
    flat = p.ravel()
    out = np.full(flat.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(flat))
    order = idx[np.argsort(flat[idx], kind="stable")]
    m = len(order)
    scaled = (m - np.arange(m)) * flat[order]
    out[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return out.reshape(p.shape)


def not_a_tournament(outcomes: pd.DataFrame, parties: list[str]) -> str | None:
    """Why the run is not a tournament (``None`` if it is): too few strategies, or pairings missing."""
    columns = [f"{p}_strategy" for p in parties]
    if any(c not in outcomes or f"{p}_advantage" not in outcomes for c, p in zip(columns, parties, strict=True)):
        return "the outcomes have no strategy or advantage columns"
    counts = [outcomes[c].nunique() for c in columns]
    if min(counts) < MIN_STRATEGIES:
        return (f"a tournament needs at least {MIN_STRATEGIES} strategies on each side; this run has "
                + " and ".join(f"{n} for {p}" for p, n in zip(parties, counts, strict=True)))
    played = outcomes[columns].drop_duplicates()
    if len(played) < counts[0] * counts[1]:
        return f"only {len(played)} of the {counts[0] * counts[1]} strategy pairings were played"
    return None


def _strata(outcomes: pd.DataFrame, parties: list[str], strategy: str, role: str) -> list[np.ndarray]:
    """The strategy's advantages, one array per opponent (and, pooled, per role)."""
    roles = parties if role == POOLED else [role]
    out = []
    for me in roles:
        other = parties[1 - parties.index(me)]
        mine = outcomes[outcomes[f"{me}_strategy"] == strategy]
        out += [g.to_numpy(dtype=float) for _, g in mine.groupby(f"{other}_strategy", observed=True)[f"{me}_advantage"]]
    return out


def _variance_terms(strata: list[np.ndarray]) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean of the strata's means, and per stratum its term ``w^2 s_k^2 / n_k`` of the squared standard
    error (``w = 1 / K``) and its degrees of freedom ``n_k - 1``."""
    k = len(strata)
    mean = float(np.mean([s.mean() for s in strata]))
    terms = np.array([s.var(ddof=1) / len(s) / k**2 if len(s) > 1 else np.nan for s in strata])
    return mean, terms, np.array([len(s) - 1.0 for s in strata])


def _satterthwaite(terms: np.ndarray, dof: np.ndarray) -> float:
    """Welch–Satterthwaite degrees of freedom of a sum of variance terms."""
    return float(terms.sum() ** 2 / np.sum(terms**2 / dof))


def stratified_mean(strata: list[np.ndarray], level: float = LEVEL) -> tuple[float, float, float]:
    """Mean of the strata's means (equal weights) and its ``level`` interval.

    The standard error is ``sqrt(sum_k s_k^2 / n_k) / K`` over the K strata, and the interval is
    ``mean -/+ t * SE`` with Student's t at the Welch–Satterthwaite degrees of freedom
    ``(sum_k a_k)^2 / sum_k a_k^2 / (n_k - 1)``, ``a_k = s_k^2 / n_k``. A stratum of one value has no
    variance estimate, so the interval is NaN; with no variance at all it is the mean itself.

    Returns:
        ``(mean, low, high)``.
    """
    from scipy import stats

    strata = [s for s in strata if len(s)]
    if not strata:
        return np.nan, np.nan, np.nan
    mean, terms, dof = _variance_terms(strata)
    if np.isnan(terms).any():
        return mean, np.nan, np.nan
    se = float(np.sqrt(terms.sum()))
    if se == 0.0:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, _satterthwaite(terms, dof))) * se
    return mean, mean - half, mean + half


def stratified_test(strata_a: list[np.ndarray], strata_b: list[np.ndarray]) -> tuple[float, float]:
    """Welch's t-test of two stratified means (each opponent weighing the same, opponents fixed).

    ``t = (mean_a - mean_b) / sqrt(SE_a^2 + SE_b^2)`` with the standard errors of
    :func:`stratified_mean`, and a two-sided p-value from Student's t at the Welch–Satterthwaite degrees of
    freedom of all the strata of both. It is the test that matches the intervals: two strategies whose
    intervals are far apart differ significantly. Two samples without variance differ surely (p = 0)
    unless their means are equal (p = 1).

    Returns:
        ``(t, p)``; NaN if a stratum has a single negotiation.
    """
    from scipy import stats

    strata_a, strata_b = [s for s in strata_a if len(s)], [s for s in strata_b if len(s)]
    if not strata_a or not strata_b:
        return np.nan, np.nan
    mean_a, terms_a, dof_a = _variance_terms(strata_a)
    mean_b, terms_b, dof_b = _variance_terms(strata_b)
    terms, dof = np.r_[terms_a, terms_b], np.r_[dof_a, dof_b]
    if np.isnan(terms).any():
        return np.nan, np.nan
    se = float(np.sqrt(terms.sum()))
    diff = mean_a - mean_b
    if se == 0.0:
        return (0.0, 1.0) if diff == 0.0 else (float(np.sign(diff) * np.inf), 0.0)
    t = diff / se
    return t, float(2.0 * stats.t.sf(abs(t), _satterthwaite(terms, dof)))


def _strategies(outcomes: pd.DataFrame, parties: list[str]) -> list[str]:
    return sorted(set().union(*(outcomes[f"{p}_strategy"].astype(str).unique() for p in parties)))


def ranking(outcomes: pd.DataFrame, parties: list[str]) -> pd.DataFrame:
    """One row per strategy, best first: its mean advantage with a 95 % interval, pooled and per role.

    Args:
        outcomes: One row per negotiation, with ``<party>_strategy`` and ``<party>_advantage``.
        parties: The two party ids, in scenario order.

    Returns:
        Columns ``rank``, ``strategy``, ``mean_advantage``, ``ci_low``, ``ci_high``, ``negotiations``,
        ``deal_rate``, and per party ``as_<party>_mean_advantage``, ``as_<party>_ci_low``,
        ``as_<party>_ci_high``, ``as_<party>_negotiations``. Sorted by the pooled mean (a strategy that
        plays one side only has no pooled value and is ranked by its role's mean, after the others).
    """
    rows = []
    for s in _strategies(outcomes, parties):
        row: dict = {"strategy": s}
        plays = [p for p in parties if (outcomes[f"{p}_strategy"] == s).any()]
        for role in (POOLED, *parties):
            strata = _strata(outcomes, parties, s, role) if role == POOLED and len(plays) == 2 or role in plays else []
            mean, lo, hi = stratified_mean(strata)
            prefix = "" if role == POOLED else f"as_{role}_"
            row |= {f"{prefix}mean_advantage": mean, f"{prefix}ci_low": lo, f"{prefix}ci_high": hi,
                    f"{prefix}negotiations": int(sum(len(x) for x in strata))}
        deals = [outcomes.loc[outcomes[f"{p}_strategy"] == s, "deal"] for p in plays]
        row["deal_rate"] = float(pd.concat(deals).mean()) if "deal" in outcomes else np.nan
        row["_order"] = row["mean_advantage"] if len(plays) == 2 else -np.inf
        row["_tie"] = np.nanmean([row[f"as_{p}_mean_advantage"] for p in plays])
        rows.append(row)
    table = pd.DataFrame(rows).sort_values(["_order", "_tie", "strategy"], ascending=[False, False, True])
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    columns = ["rank", "strategy", "mean_advantage", "ci_low", "ci_high", "negotiations", "deal_rate"]
    columns += [f"as_{p}_{c}" for p in parties for c in ("mean_advantage", "ci_low", "ci_high", "negotiations")]
    return table[columns].reset_index(drop=True)


def pairwise(outcomes: pd.DataFrame, parties: list[str], table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every pair of strategies, pooled and per role: difference of mean advantage, a stratified Welch
    test (:func:`stratified_test`), and Holm's correction.

    Args:
        outcomes: One row per negotiation.
        parties: The two party ids.
        table: The :func:`ranking` table (computed if not given); pairs are listed in its order, the
            higher-ranked strategy first.

    Returns:
        Columns ``role`` (``pooled`` or a party id), ``strategy_a``, ``strategy_b``, ``difference``
        (mean advantage of a minus b, stratified means), ``t``, ``p_value``, ``p_holm`` (adjusted within
        the role) and ``significant`` (``p_holm <= 0.05``).
    """
    table = ranking(outcomes, parties) if table is None else table
    order = list(table["strategy"])
    rows = []
    for role in (POOLED, *parties):
        prefix = "" if role == POOLED else f"as_{role}_"
        means = dict(zip(table["strategy"], table[f"{prefix}mean_advantage"], strict=True))
        family = []
        for a, b in itertools.combinations(order, 2):
            if np.isnan(means[a]) or np.isnan(means[b]):
                continue
            t, p = stratified_test(_strata(outcomes, parties, a, role), _strata(outcomes, parties, b, role))
            family.append({"role": role, "strategy_a": a, "strategy_b": b, "difference": means[a] - means[b],
                           "t": t, "p_value": p})
        adjusted = holm([r["p_value"] for r in family])
        for r, p in zip(family, adjusted, strict=True):
            rows.append(r | {"p_holm": p, "significant": bool(p <= ALPHA)})
    columns = ["role", "strategy_a", "strategy_b", "difference", "t", "p_value", "p_holm", "significant"]
    return pd.DataFrame(rows, columns=columns)


def figure(table: pd.DataFrame, pairs: pd.DataFrame, parties: list[tuple[str, str]], out_dir: Path,
           negotiations: int) -> list[Path]:
    """The ranking with 95 % intervals (pooled and per role), and the pooled pairwise differences with
    the pairs that differ significantly after Holm's correction marked."""
    import matplotlib.pyplot as plt

    from sim.report.style import PARTY_COLOURS, figure_style, save

    ids = [p for p, _ in parties]
    names = dict(parties)
    strategies = list(table["strategy"])
    n = len(strategies)
    pooled = pairs[pairs["role"] == POOLED]
    with figure_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 0.5 * n + 2.4), width_ratios=[1.1, 1])
        y = np.arange(n)[::-1]  # the best at the top
        series = [("", "all negotiations (pooled)", "black", 0.0, "D")]
        series += [(f"as_{p}_", f"as {names[p]}", PARTY_COLOURS[k], (0.25 if k == 0 else -0.25), "o")
                   for k, p in enumerate(ids)]
        for prefix, label, colour, offset, marker in series:
            mean = table[f"{prefix}mean_advantage"].to_numpy(dtype=float)
            lo, hi = table[f"{prefix}ci_low"].to_numpy(dtype=float), table[f"{prefix}ci_high"].to_numpy(dtype=float)
            err = np.vstack([mean - lo, hi - mean])
            left.errorbar(mean, y + offset, xerr=np.nan_to_num(err), fmt=marker, color=colour, ms=6 if offset else 7,
                          capsize=2.5, lw=1.2, label=label)
        left.axvline(0.0, color="0.5", lw=0.8, ls="--")
        left.set_yticks(y, [f"{r}. {s.replace('_', ' ')}" for r, s in zip(table["rank"], strategies, strict=True)])
        left.set_xlabel("mean advantage: utility above the reservation value (0–1 utility scale)")
        left.set_title("Ranking, with 95 % intervals")
        left.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
        left.grid(axis="y", visible=False)

        matrix = np.full((n, n), np.nan)
        marks = np.zeros((n, n), dtype=bool)
        position = {s: i for i, s in enumerate(strategies)}
        for r in pooled.itertuples():
            i, j = position[r.strategy_a], position[r.strategy_b]
            matrix[i, j], matrix[j, i] = r.difference, -r.difference
            marks[i, j] = marks[j, i] = r.significant
        limit = float(np.nanmax(np.abs(matrix))) if np.isfinite(matrix).any() else 1.0
        image = right.imshow(matrix, cmap="PuOr", vmin=-limit, vmax=limit)
        for (i, j), value in np.ndenumerate(matrix):
            if not np.isnan(value):
                right.text(j, i, f"{value:+.2f}{'*' if marks[i, j] else ''}", ha="center", va="center",
                           fontsize=7.5, color="white" if abs(value) > 0.6 * limit else "black")
        labels = [s.replace("_", " ") for s in strategies]
        right.set_xticks(range(n), labels, rotation=40, ha="right")
        right.set_yticks(range(n), labels)
        right.set_title("Row minus column, pooled (* Holm-adjusted p ≤ 0.05)")
        right.grid(False)
        fig.colorbar(image, ax=right, shrink=0.8, label="difference of mean advantage")
        fig.suptitle(f"Ranked tournament: mean advantage against every opponent ({negotiations:,} negotiations;\n"
                     "each opponent weighs the same; Welch's t-tests with Holm's correction)")
        fig.tight_layout()
        return save(fig, out_dir, "ranking")


def write(outcomes: pd.DataFrame, parties: list[tuple[str, str]], run_dir: Path) -> list[Path]:
    """Write ``ranking.csv``, ``pairwise.csv`` and ``figures/ranking.{png,svg}`` into ``run_dir``.

    Args:
        outcomes: The run's outcomes.
        parties: The parties' ids and display names, in scenario order.
        run_dir: The run folder.

    Returns:
        The files written.

    Raises:
        NotATournament: the run is not a tournament (the message says why).
    """
    from sim.run.outputs import atomic_write

    ids = [p for p, _ in parties]
    why = not_a_tournament(outcomes, ids)
    if why is not None:
        raise NotATournament(why)
    table = ranking(outcomes, ids)
    pairs = pairwise(outcomes, ids, table)
    run_dir = Path(run_dir)
    written = []
    for name, frame in (("ranking.csv", table), ("pairwise.csv", pairs)):
        atomic_write(run_dir / name, lambda p, frame=frame: frame.to_csv(p, index=False))
        written.append(run_dir / name)
    return written + figure(table, pairs, parties, run_dir / "figures", len(outcomes))
