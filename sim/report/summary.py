"""Summaries of a run: per grid point (``summary.csv``) and for the terminal.

Per grid point, ``summary.csv`` gives the number of negotiations, the deal rate with its 95 % Wilson
interval, how the talks ended (agreement, walk-away, deadline, breakdown, refused protocol), the
partial deals (stages agreed before the deadline that stay in force), the median agreement round and
agreed terms (over the deals), and the median utility, payoff (USD bn a year) and joint welfare (over
all negotiations: one without a deal counts at its no-deal value). Numbers are rounded to what they
can mean: shares and utilities to 4 decimals, tariffs (pp) and money (USD bn) to 2, rounds to 1.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from sim.domain.outcome_space import OutcomeSpace
from sim.engine.inputs import Structure
from sim.engine.protocols import END_REASONS
from sim.report.labels import heading, issue_title
from sim.run.readback import OutcomeColumns, party_ids  # the one reading of a table's party ids

__all__ = ["by_pair", "by_point", "deal_rows", "format_points", "headline_issue", "lead", "median_interval", "report",
           "summary_columns", "wilson_interval"]

SHARE_DECIMALS = 4  # deal rates, utilities, welfare (0-1 or 0-2)
MONEY_DECIMALS = 2  # USD bn, USD bn/yr, and tariffs in pp
ROUND_DECIMALS = 1  # a median of whole rounds is a whole or a half round



def value_medians(parties: tuple[str, ...]) -> list[tuple[str, str]]:
    """Per negotiation: (column, summary column) of the values whose median over all negotiations is given."""
    return ([(f"{p}_utility", f"median_{p}_utility") for p in parties]
            + [(f"{p}_payoff", f"median_{p}_payoff") for p in parties] + [("welfare", "median_welfare")])


def summary_columns(coordinates: list[str], space: OutcomeSpace, parties: list[str] | tuple[str, ...]) -> list[str]:
    """The columns of an outcomes table that :func:`by_point`, :func:`report` and :func:`lead` read (so a
    large run's table can be read without the rest).

    Args:
        coordinates: The columns that identify a grid point.
        space: The outcome space (its issues' columns).
        parties: The parties' ids, in scenario order.
    """
    per_party = [f"{p}_strategy" for p in parties] + [column for column, _ in value_medians(tuple(parties))]
    return list(dict.fromkeys([*coordinates, *per_party, "deal", "zopa", "end_reason", "partial_deal", "end_round",
                               "final_deadline", *space.names]))


def deal_rows(outcomes: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The negotiations that ended in a deal, with only ``columns`` (a copy of those, not of the whole table)."""
    return outcomes.loc[outcomes["deal"].to_numpy(dtype=bool), [c for c in dict.fromkeys(columns) if c in outcomes]]


def _median(read: OutcomeColumns, keys: list[str], column: str, deals: np.ndarray | None = None, **how):
    """The median of ``column`` (over the rows ``deals`` only, when given) per group of ``keys`` (a Series; the
    groups made as ``how`` says), or over all when there are no keys (a float): that column and the keys read
    now, and no other."""
    frame = read([*keys, column])
    if deals is not None:
        frame = frame.loc[deals]
    return frame.groupby(keys, **how)[column].median() if keys else frame[column].median()


class _Numbered:
    """The rows of a table numbered once by their group of ``keys`` (the groups ``frame.groupby(keys, **how)``
    makes, in its order), so that each median or mean groups its own column by the numbers: the keys are read
    and grouped once, not again per column.

    Attributes:
        number: Each row's group, 0 … groups - 1.
        index: The groups' keys, in the order of the groupby's tables.
    """

    def __init__(self, frame: pd.DataFrame, keys: list[str], how: dict) -> None:
        groups = frame.groupby(keys, **how)
        self.number = groups.ngroup().to_numpy()
        self.index = groups.size().index

    def _by(self, values: pd.Series, rows: np.ndarray | None):
        values = values.to_numpy()
        number = self.number
        if rows is not None:
            values, number = values[rows], number[rows]
        # the numbers as the codes of categories 0 … groups - 1: grouped as they are, not hashed again
        groups = pd.Categorical.from_codes(number, categories=pd.RangeIndex(len(self.index)))
        return pd.Series(values).groupby(groups, sort=True, observed=False)

    def _indexed(self, result: pd.Series) -> pd.Series:
        """Per group of :attr:`index` (NaN for a group without rows)."""
        return pd.Series(result.reindex(range(len(self.index))).to_numpy(), index=self.index)

    def median(self, values: pd.Series, rows: np.ndarray | None = None) -> pd.Series:
        """The median of ``values`` (one per row of the table; only ``rows``, when given) per group."""
        return self._indexed(self._by(values, rows).median())

    def mean(self, values: pd.Series) -> pd.Series:
        """The mean of ``values`` (one per row of the table) per group."""
        return self._indexed(self._by(values, None).mean())


def wilson_interval(deals, runs, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson (1927) score interval for each deal rate ``deals / runs``, in closed form, vectorised.

    With ``p = k/n`` and ``z`` the two-sided normal quantile of ``level``, the bounds are
    ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``; they equal
    ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`` (tested). ``runs`` of 0 gives NaN.

    Args:
        deals: Number of deals ``k`` per group.
        runs: Number of negotiations ``n`` per group.
        level: Confidence level.

    Returns:
        The lower and the upper bounds, as arrays.
    """
    k = np.asarray(deals, dtype=float)
    n = np.asarray(runs, dtype=float)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denominator = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denominator
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
        low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        high = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    bad = ~(n > 0)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def median_interval(values, z: float = 1.96) -> tuple[float, float, float]:
    """The median and its distribution-free 95 % interval: the order statistics of ranks ``n/2 - z sqrt(n)/2``
    (down) and ``n/2 + 1 + z sqrt(n)/2`` (up), the normal approximation of the binomial(n, 1/2) interval of the
    rank (Conover 1999, sec. 3.2), clipped to the sample."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0:
        return np.nan, np.nan, np.nan
    half = z * np.sqrt(n) / 2
    lo = int(np.clip(np.floor(n / 2 - half) - 1, 0, n - 1))  # ranks are 1-based
    hi = int(np.clip(np.ceil(n / 2 + 1 + half) - 1, 0, n - 1))
    return float(np.median(x)), float(x[lo]), float(x[hi])


def headline_issue(structure: Structure) -> tuple[str, str]:
    """The issue a figure shows when it has room for one: the one that escalates without a deal (the
    reciprocal tariff in the 2025 scenario), else the first; with its unit."""
    space = structure.space
    issue = space.issues[structure.escalation_issue if structure.escalation_issue is not None else 0]
    return issue.name, issue.unit


def _decimals(unit: str) -> int:
    """Decimals for a value in ``unit``: money and tariffs to cents of a bn / hundredths of a pp."""
    return MONEY_DECIMALS if unit.startswith(("pp", "USD")) else SHARE_DECIMALS


def by_point(outcomes: pd.DataFrame | OutcomeColumns, coordinates: list[str], space: OutcomeSpace,
             rounded: bool = True) -> pd.DataFrame:
    """The ``summary.csv`` table: one row per grid point.

    Columns after the coordinates: ``runs``, ``deals``, ``deal_rate`` with its 95 % Wilson interval
    (``deal_rate_low``, ``deal_rate_high``), ``ended_<reason>`` (negotiations per end reason, every
    reason of :data:`sim.model.END_REASONS`, spaces as underscores), ``partial_deals``,
    ``median_round`` (median agreement round of the deals), ``median_<issue>`` (median agreed
    terms of the deals), and ``median_<party>_utility``, ``median_<party>_payoff`` (USD bn a year) for each
    party and ``median_welfare`` over all negotiations.

    Args:
        outcomes: One row per negotiation (a frame, or :class:`~sim.run.readback.OutcomeColumns`: each median
            then reads its own column, so a million negotiations' summary holds a few columns at once).
        coordinates: The columns that identify a grid point.
        space: The outcome space (issue names and units).
        rounded: Round as described in the module docstring (``False``: full precision).
    """
    read = OutcomeColumns.of(outcomes)
    outcomes = read([*coordinates, "deal", "zopa", "end_reason", "partial_deal"])  # the counts' columns
    how = {"sort": False, "observed": True, "dropna": False}
    groups = outcomes.groupby(coordinates, **how)
    numbered = _Numbered(outcomes, coordinates, how)  # each median's column grouped by these, not by the keys again
    table = groups.agg(runs=("deal", "size"), deals=("deal", "sum"))
    columns = {"deal_rate": table["deals"] / table["runs"]}  # built apart and joined once (no fragmented frame)
    columns["deal_rate_low"], columns["deal_rate_high"] = wilson_interval(table["deals"], table["runs"])
    if "zopa" in outcomes:
        columns |= dict(_zopa_rates(outcomes, coordinates).items())
    if "end_reason" in outcomes:
        ended = outcomes.groupby([*coordinates, "end_reason"], **how).size()
        ended = ended.unstack("end_reason")
        ended.columns = ended.columns.astype(str)  # plain labels, also when the reasons are read as categories
        ended = ended.reindex(columns=list(END_REASONS.values())).reindex(table.index)
        for reason in END_REASONS.values():
            columns[f"ended_{reason.replace(' ', '_').replace('-', '_')}"] = ended[reason].fillna(0).astype("int64")
    if "partial_deal" in outcomes:
        columns["partial_deals"] = groups["partial_deal"].sum().astype("int64")
    # each median from its own column, read when it is taken (not the whole table at once)
    deals = outcomes["deal"].to_numpy(dtype=bool)
    columns["median_round"] = numbered.median(read(["end_round"])["end_round"], deals)
    columns |= {f"median_{name}": numbered.median(read([name])[name], deals) for name in space.names}
    medians = value_medians(party_ids(read))
    columns |= {name: numbered.median(read([column])[column]) for column, name in medians if column in read}
    table = pd.concat([table, pd.DataFrame(columns, index=table.index)], axis=1)
    if rounded:
        decimals = {"deal_rate": SHARE_DECIMALS, "deal_rate_low": SHARE_DECIMALS, "deal_rate_high": SHARE_DECIMALS,
                    "deal_rate_zopa": SHARE_DECIMALS,
                    "median_round": ROUND_DECIMALS, "median_welfare": SHARE_DECIMALS}
        decimals |= {name: MONEY_DECIMALS if column.endswith("_payoff") else SHARE_DECIMALS
                     for column, name in medians[:-1]}
        decimals |= {f"median_{i.name}": _decimals(i.unit) for i in space.issues}
        table = table.round({k: v for k, v in decimals.items() if k in table})
    return table.reset_index()


def _zopa_rates(outcomes: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group: ``zopa_runs`` (negotiations with a zone of agreement) and ``deal_rate_zopa`` (the deal rate among
    them; NaN without any)."""
    zopa = outcomes["zopa"].astype(bool)
    frame = outcomes[[*keys, "zopa"]].assign(_zd=outcomes["deal"] & zopa)  # the keys only, not the whole table
    groups = frame.groupby(keys, sort=False, observed=True, dropna=False)
    runs = groups["zopa"].sum().astype("int64")
    rate = groups["_zd"].sum() / runs.where(runs > 0)
    return pd.DataFrame({"zopa_runs": runs, "deal_rate_zopa": rate})


def by_pair(outcomes: pd.DataFrame | OutcomeColumns, space: OutcomeSpace) -> pd.DataFrame:
    """Per strategy pair: runs, deal rate, median agreement round, median agreed terms and median
    utility to each side.

    Medians of terms and rounds are over the negotiations that ended in a deal; medians of utility
    over all negotiations (one without a deal at its no-deal value). Each median and mean reads its own column.
    """
    read = OutcomeColumns.of(outcomes)
    parties = party_ids(read)
    keys = [f"{p}_strategy" for p in parties]
    utilities = [f"{side}_utility" for side in parties if f"{side}_utility" in read]
    outcomes = read([*keys, "deal", "zopa"])
    deals, how = outcomes["deal"].to_numpy(dtype=bool), {"observed": True, "sort": False}
    table = outcomes.groupby(keys, **how).agg(runs=("deal", "size"), deal_rate=("deal", "mean"))
    numbered = _Numbered(outcomes, keys, how)  # each median's column grouped by these, not by the keys again
    columns = {}  # built apart and joined once (no fragmented frame)
    if "zopa" in outcomes:
        columns["deal_rate_zopa"] = _zopa_rates(outcomes, keys)["deal_rate_zopa"]
    columns["median_round"] = numbered.median(read(["end_round"])["end_round"], deals)
    columns |= {name: numbered.median(read([name])[name], deals) for name in space.names}
    for column in utilities:
        values = read([column])[column]
        columns[column] = numbered.median(values)
        columns[f"{column}_deals"] = numbered.median(values, deals)
        columns[f"{column}_mean"] = numbered.mean(values)
    return pd.concat([table, pd.DataFrame(columns, index=table.index)], axis=1)


def _count(n: int) -> str:
    return f"{n:,}"


def _number(x: float, decimals: int = 1, strip: bool = False) -> str:
    """A number for the terminal with ``decimals`` decimals (``strip``: no trailing zeros, as for a
    median round of 12 or 11.5); NaN as '-'."""
    if x is None or not np.isfinite(x):
        return "-"
    text = f"{x:,.{decimals}f}"
    if strip and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _ended(outcomes: pd.DataFrame) -> str:
    """The terminal's line of how the talks ended, with the partial deals."""
    ended = outcomes["end_reason"].value_counts()
    ended = ended[ended > 0]  # (a reason read as a category that no negotiation has is not shown)
    ended.index = ended.index.astype(str)
    ended = ended.reindex([r for r in END_REASONS.values() if r in ended.index]
                          + [r for r in ended.index if r not in END_REASONS.values()])
    partial = int(outcomes["partial_deal"].sum()) if "partial_deal" in outcomes else 0
    return ("ended by: " + ", ".join(f"{k} {_count(v)}" for k, v in ended.items())
            + f"; partial deals (stages agreed before the talks ended, in force): {_count(partial)}")


def report(outcomes: pd.DataFrame | OutcomeColumns, space: OutcomeSpace, wall_seconds: float,
           names: dict[str, str] | None = None) -> str:
    """A short, plain-text summary for the terminal (``names``: each party's display name, by id); each median
    reads its own column."""
    read = OutcomeColumns.of(outcomes)
    n = len(read)
    (a, b) = parties = party_ids(read)
    names = {p: (names or {}).get(p, p) for p in parties}
    outcomes = read(["deal", "zopa", "end_reason", "partial_deal"])
    deals = outcomes["deal"].to_numpy(dtype=bool)
    n_deals = int(deals.sum())
    lines = [f"{_count(n)} negotiation{'s' if n != 1 else ''} in {wall_seconds:.1f} s"]
    rate = f"deal rate {n_deals / n:.1%} ({_count(n_deals)} of {_count(n)})" if n else "no negotiations"
    if n_deals:
        lines.append(f"{rate}; median agreement round {_number(_median(read, [], 'end_round', deals), strip=True)}")
    else:
        lines.append(f"{rate}; no agreements")
    if "zopa" in outcomes:
        zopa = outcomes["zopa"].astype(bool)
        with_zopa = f"{outcomes.loc[zopa, 'deal'].mean():.1%}" if zopa.any() else "-"
        lines.append(f"zone of agreement in {_count(int(zopa.sum()))} of {_count(n)}; deal rate among them {with_zopa}")
    lines.append(_ended(outcomes))
    if n_deals:
        units = {i.name: i.unit for i in space.issues}
        terms = {k: _median(read, [], k, deals) for k in space.names}
        lines.append("median agreed terms: " + ", ".join(
            f"{k} {_number(v, 1 if _decimals(units[k]) == MONEY_DECIMALS else 3)} {units[k]}"
            for k, v in terms.items()))
    columns = [column for column, _ in value_medians(parties)]
    if set(columns) <= set(read.columns):
        med = {column: _median(read, [], column) for column in columns}
        if n_deals:
            over = {column: _median(read, [], column, deals) for column in (f"{a}_utility", f"{b}_utility")}
            lines.append(f"median utility over the deals: {names[a]} {_number(over[f'{a}_utility'], 2)}, "
                         f"{names[b]} {_number(over[f'{b}_utility'], 2)}")
        lines.append(f"medians over all negotiations (no deal at its no-deal value): utility {names[a]} "
                     f"{_number(med[f'{a}_utility'], 2)}, {names[b]} {_number(med[f'{b}_utility'], 2)}; payoff "
                     f"{names[a]} {_number(med[f'{a}_payoff'], 1)}, {names[b]} {_number(med[f'{b}_payoff'], 1)} "
                     f"USD bn/yr; joint welfare {_number(med['welfare'], 2)}")
    table = by_pair(read, space)
    shown = pd.DataFrame({
        "negotiations": table["runs"].map(_count),
        "deal rate": table["deal_rate"].map("{:.1%}".format),
        **({"deal rate with a zopa": table["deal_rate_zopa"].map(lambda v: "-" if pd.isna(v) else f"{v:.1%}")}
           if "deal_rate_zopa" in table else {}),
        "median agreement round": table["median_round"].map(lambda v: _number(v, strip=True)),
    }, index=table.index)
    for side in parties:
        if f"{side}_utility" in table:
            shown[f"median utility {names[side]} (deals)"] = table[f"{side}_utility_deals"].map(lambda v: _number(v, 2))
            shown[f"mean utility {names[side]} (all)"] = table[f"{side}_utility_mean"].map(lambda v: _number(v, 2))
    shown.index = [f"{x} ({names[a]}) vs {y} ({names[b]})" for x, y in table.index]
    lines += ["", "by strategy pair (utility over the deals, and over all negotiations with a no-deal at its "
              "no-deal value):", shown.to_string()]
    return "\n".join(lines)


def format_points(table: pd.DataFrame, coordinates: dict[str, str], most: int = 30,
                  names: dict[str, str] | None = None) -> str:
    """The per-point summary for the terminal: all of it up to ``most`` points, else a pointer to the file.

    Both strategies are always shown; a swept key whose column repeats another column is left out.

    Args:
        table: The per-point table (:func:`by_point`).
        coordinates: The columns that identify a grid point, each with its config key (for its heading).
        most: The most points shown.
        names: Display name of each party id.
    """
    if len(table) > most:
        return f"summary.csv: {len(table)} grid points (deal rate with 95 % interval, how the talks ended, " \
               "median agreement round, terms, utilities, payoffs and welfare)"
    parties = party_ids(table)
    names = {p: (names or {}).get(p, p) for p in parties}
    always = {f"{p}_strategy" for p in parties}
    columns = list(coordinates)
    kept = [c for k, c in enumerate(columns)  # a swept key that repeats a recorded column adds nothing
            if c in always or not any(table[c].equals(table[other]) for other in columns[:k])]
    shown = table[kept].copy()
    titles = {f"{p}_strategy": f"{names[p]} strategy" for p in parties}
    shown.columns = [titles.get(c, heading(coordinates[c], names)) for c in kept]
    shown["negotiations"] = table["runs"]
    shown["deal rate [95% CI]"] = [f"{r:.1%} [{lo:.1%}, {hi:.1%}]" for r, lo, hi in
                                  zip(table["deal_rate"], table["deal_rate_low"], table["deal_rate_high"], strict=True)]
    shown["median agreement round"] = table["median_round"].map(lambda v: _number(v, strip=True))
    return "summary.csv, per grid point:\n" + shown.to_string(index=False)


def _few_numbers(column: pd.Series) -> bool:
    """Whether a swept column holds numbers, more than one and at most 12 distinct (a table's rows or columns)."""
    return pd.api.types.is_numeric_dtype(column) and 1 < column.nunique() <= 12


PRESSURE_KEYS = ("scenario.deadline.round", "scenario.escalation")  # what deadline_pressure exists for


def lead(outcomes: pd.DataFrame | OutcomeColumns, keys: dict[str, str], structure: Structure,
         heading_of=lambda key: key) -> str:
    """The result a run exists for, first in its terminal summary: by its two main swept settings (the
    deadline and the escalation when both are swept), the deal rate, the share of deals struck in the
    deadline round and the median agreed headline term, each with its 95 % interval. Empty when the run
    sweeps no numeric setting (the per-pair table then leads).

    Args:
        outcomes: One row per negotiation.
        keys: Output column -> config key, of the swept settings.
        structure: The structure of a grid point (the headline issue and its unit).
        heading_of: A readable heading of a config key.
    """
    read = OutcomeColumns.of(outcomes)  # each swept column read alone, then the cells' columns only
    numeric = [c for c, k in keys.items() if not c.endswith("_strategy") and c in read and _few_numbers(read([c])[c])]
    if not numeric:
        return ""
    pressure = [c for c, k in keys.items() if k in PRESSURE_KEYS and c in numeric]
    rows, cols = (pressure + [c for c in numeric if c not in pressure])[:2] + [None] * (2 - min(2, len(numeric)))
    issue, unit = headline_issue(structure)
    used = [c for c in (rows, cols) if c is not None]
    outcomes = read([*used, "deal", issue, "end_round", "final_deadline"])
    deals = deal_rows(outcomes, [*used, issue, "end_round", "final_deadline"])
    outcomes = outcomes[[*used, "deal"]]  # the cells' columns only: the groups below are copies

    def rate(frame: pd.DataFrame, hit: pd.Series) -> str:
        k, n = int(hit.sum()), len(frame)
        lo, hi = wilson_interval(k, n)
        return f"{k / n:.0%} [{float(lo):.0%}, {float(hi):.0%}]" if n else "-"

    def median(frame: pd.DataFrame) -> str:
        m, lo, hi = median_interval(frame[issue])
        return f"{m:.1f} [{lo:.1f}, {hi:.1f}]" if len(frame) else "-"

    tables = [("deal rate [95% CI]", outcomes, lambda f: rate(f, f["deal"])),
              ("deals struck in the deadline round [95% CI]", deals,
               lambda f: rate(f, f["end_round"] >= f["final_deadline"])),
              (f"median agreed {issue_title(issue, structure.space).lower()} ({unit}) [95% CI], over the deals",
               deals, median)]
    title = heading_of(keys[rows]) + (f" x {heading_of(keys[cols])}" if cols else "")
    out = [f"by {title} (all strategy pairs):"]
    for name, frame, cell in tables:
        groups = [rows] + ([cols] if cols else [])
        cells = {key: cell(group) for key, group in frame.groupby(groups)}
        if not cells:  # no deals: nothing to time or to take the terms of
            out += [f"{name}: no deals", ""]
            continue
        table = pd.Series(list(cells.values()), index=pd.MultiIndex.from_tuples(list(cells), names=groups))
        if cols:
            table = table.unstack(cols)
        else:
            table = table.to_frame(name)
            table.index = table.index.get_level_values(0)
        table.index.name = heading_of(keys[rows])
        if cols:
            table.columns = [f"{heading_of(keys[cols])} {v:g}" for v in table.columns]
        out += [f"{name}:", table.to_string(), ""]
    return "\n".join(out).rstrip()
