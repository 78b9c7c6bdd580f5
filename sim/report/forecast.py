"""Forecasts from a vantage date: each agreed term's distribution, the agreement date, P(deal by date).

A forecast run draws an ensemble of worlds from the scenario's priors (``sweep.sample.method=prior``),
from one vantage date (``scenario.as_of``) or several (``sweep.grid.scenario.as_of``). Over the worlds
of each vantage date this module writes:

* ``forecast.csv``: per vantage date and term (each issue in its unit, over the worlds that reach a
  deal; and the agreement date), the number of worlds and deals, the deal rate, the median and the
  central 50 % and 80 % bands (the 25th–75th and 10th–90th percentiles);
* ``deal_by_date.csv``: per vantage date and calendar round from the vantage on, P(deal by that
  date), the share of all worlds (deal or not) agreed in that round or before;
* ``figures/forecast_fan`` (with two or more vantage dates): a fan chart of each term over the vantage dates
  (median, 50 % and 80 % bands), and ``figures/deal_by_date``: P(deal by date), one step line per vantage date.

Percentiles of a term use linear interpolation; those of the agreement date are dates on which a round
was held (the inverted empirical distribution function).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.sweep import column_name
from sim.domain.calendar import round_date
from sim.run.outputs import atomic_write

__all__ = ["BANDS", "VANTAGE", "applies", "deal_by_date", "draw", "forecast_table", "start", "write_forecast",
           "write_tables"]

VANTAGE = "scenario.as_of"
BANDS = {"p10": 0.10, "p25": 0.25, "median": 0.50, "p75": 0.75, "p90": 0.90}
AS_WRITTEN = "as written"  # the vantage label of a run without scenario.as_of


def applies(cfg: dict) -> bool:
    """Whether a run is a forecast: an ensemble drawn from priors, or a vantage date set or swept."""
    sweep = cfg.get("sweep") or {}
    grid = sweep.get("grid") or {}
    swept = VANTAGE in grid or "as_of" in ((grid.get("scenario") or {}) if isinstance(grid.get("scenario"), dict)
                                           else {})
    method = (sweep.get("sample") or {}).get("method")
    return method == "prior" or swept or (cfg.get("scenario") or {}).get("as_of") is not None


def _vantages(outcomes: pd.DataFrame, cfg: dict) -> tuple[list[str], np.ndarray | None]:
    """The vantage dates of the worlds, sorted (as text), and each world's index into them (``None``: one
    vantage date for all: the run's ``scenario.as_of``, or :data:`AS_WRITTEN`)."""
    column = column_name(VANTAGE)
    if column not in outcomes.columns:
        value = (cfg.get("scenario") or {}).get("as_of")
        return [AS_WRITTEN if value is None else str(value)], None
    codes, uniques = pd.factorize(outcomes[column], use_na_sentinel=False)  # each distinct value once, as text
    text = pd.Series(uniques).astype(str).tolist()  # as the column's own astype(str) writes each
    labels = sorted(set(text))
    return labels, np.array([labels.index(t) for t in text], dtype=np.int64)[codes]


def _days(dates) -> np.ndarray:
    """Dates (``datetime.date`` objects or ``datetime64``) as days since 1970-01-01."""
    return np.asarray(dates).astype("datetime64[D]").astype(np.int64)


def _quantiles(values: np.ndarray, **how) -> np.ndarray | None:
    """The percentiles of :data:`BANDS` of ``values`` (``None`` without any; ``values`` is a copy of the
    caller's, partitioned in place)."""
    return np.quantile(values, list(BANDS.values()), overwrite_input=True, **how) if len(values) else None


def forecast_table(outcomes: pd.DataFrame, issues: list[tuple[str, str]], cfg: dict) -> pd.DataFrame:
    """Median and central 50 % and 80 % bands of each term per vantage date.

    Args:
        outcomes: The run's outcomes (one row per world; ``end_date`` as dates or ``datetime64``).
        issues: ``(name, unit)`` of each issue, in scenario order.
        cfg: The run's resolved config (for a single vantage date).

    Returns:
        One row per vantage date and term: ``vantage``, ``term``, ``unit``, ``worlds``, ``deals``,
        ``deal_rate``, and the percentiles ``p10``, ``p25``, ``median``, ``p75``, ``p90`` (empty without a
        deal; ISO dates for the term ``agreement_date``).
    """
    labels, codes = _vantages(outcomes, cfg)
    deal = outcomes["deal"].astype(bool).to_numpy()
    terms = {name: outcomes[name].to_numpy(dtype=float) for name, _ in issues}  # each column once, not per date
    rows = []
    for k, v in enumerate(labels):
        worlds = len(deal) if codes is None else int(np.count_nonzero(codes == k))
        deals = deal if codes is None else deal & (codes == k)  # the worlds of this vantage date with a deal
        n_deals = int(np.count_nonzero(deals))
        base = {"vantage": v, "worlds": worlds, "deals": n_deals, "deal_rate": round(n_deals / worlds, 4)}
        for name, unit in issues:
            q = _quantiles(terms[name][deals])
            q = [np.nan] * len(BANDS) if q is None else q
            rows.append(base | {"term": name, "unit": unit} | {k: round(float(x), 2) for k, x in zip(BANDS, q,
                                                                                                 strict=True)})
        q = _quantiles(_days(outcomes["end_date"].to_numpy()[deals]), method="inverted_cdf") if n_deals else None
        dates = dict.fromkeys(BANDS, "") if q is None else {
            k: str(np.datetime64(int(x), "D")) for k, x in zip(BANDS, q, strict=True)}
        rows.append(base | {"term": "agreement_date", "unit": "date"} | dates)
    return pd.DataFrame(rows, columns=["vantage", "term", "unit", "worlds", "deals", "deal_rate", *BANDS])


def deal_by_date(outcomes: pd.DataFrame, cfg: dict, start: dt.date, round_days: int,
                 first_rounds: dict[str, int], last_round: int,
                 meetings: dict[str, tuple[dt.date, ...]] | None = None) -> pd.DataFrame:
    """P(deal by date) per vantage date: a step function over the calendar rounds.

    Args:
        outcomes: The run's outcomes.
        cfg: The run's resolved config (for a single vantage date).
        start: Date of round 1.
        round_days: Days per round.
        first_rounds: The first simulated round of each vantage date.
        last_round: The last round of the table (the protocol's horizon).
        meetings: Per vantage date, the dates of its first rounds (its calendar's meetings; none: weekly).

    Returns:
        ``vantage``, ``round``, ``date``, ``p_deal_by``: the share of the vantage date's worlds that agreed
        in that round or before; it rises with the date and ends at the deal rate.
    """
    labels, codes = _vantages(outcomes, cfg)
    agreed = np.where(outcomes["deal"].astype(bool).to_numpy(), outcomes["end_round"].to_numpy(dtype=np.int64),
                      np.iinfo(np.int64).max)
    rows = []
    for k, v in enumerate(labels):
        rounds = np.arange(first_rounds.get(v, 1), last_round + 1)
        ordered = np.sort(agreed if codes is None else agreed[codes == k])
        by = np.searchsorted(ordered, rounds, side="right") / len(ordered)  # the share agreed in round r or before
        days = round_date(rounds, start, round_days, (meetings or {}).get(v, ())).astype(dt.date)
        rows += [{"vantage": v, "round": int(r), "date": day.isoformat(), "p_deal_by": round(float(x), 4)}
                 for r, day, x in zip(rounds, days, by, strict=True)]
    return pd.DataFrame(rows, columns=["vantage", "round", "date", "p_deal_by"])


def _fan(table: pd.DataFrame, out_dir: Path, space) -> list[Path]:
    import matplotlib.pyplot as plt

    from sim.report.style import PALETTE, figure_style, issue_title, save, sized

    terms = [t for t in dict.fromkeys(table["term"])
             if t == "agreement_date" or table.loc[table["term"] == t, ["p10", "p90"]].notna().all(axis=None)]
    cols = 3
    rows = -(-len(terms) // cols)
    with figure_style():
        fig, axes = plt.subplots(rows, cols, figsize=sized(11, 2.6 * rows), squeeze=False)
        for ax, term in zip(axes.flat, terms, strict=False):
            t = table[table["term"] == term].sort_values("vantage")
            dated = all(v != AS_WRITTEN for v in t["vantage"])
            x = pd.to_datetime(t["vantage"]) if dated else np.arange(len(t))
            val = {k: pd.to_datetime(t[k]) if term == "agreement_date" else t[k].astype(float) for k in BANDS}
            ax.fill_between(x, val["p10"], val["p90"], color=PALETTE[0], alpha=0.2, lw=0, label="80 % band")
            ax.fill_between(x, val["p25"], val["p75"], color=PALETTE[0], alpha=0.4, lw=0, label="50 % band")
            ax.plot(x, val["median"], "o-", color=PALETTE[1], label="median")
            unit = t["unit"].iloc[0]
            ax.set_title(issue_title(term, space) if term != "agreement_date" else "Agreement date")
            if unit != "date":
                ax.set_ylabel(unit)
            if dated:  # a tick per vantage date, at most six labelled (they overlap beyond that)
                step = max(1, -(-len(x) // 6))
                ax.set_xticks(list(x))
                ax.set_xticklabels([d.strftime("%d %b %y") if k % step == 0 else "" for k, d in enumerate(x)],
                                   rotation=45, ha="right")
            if term == "agreement_date":
                import matplotlib.dates as mdates

                ax.yaxis.set_major_formatter(mdates.DateFormatter("%d %b %y"))
            ax.set_xlabel("vantage date")
        for ax in list(axes.flat)[len(terms):]:
            ax.set_visible(False)
        axes.flat[0].legend(loc="best", fontsize=8)
        fig.suptitle("Forecast of the agreed terms by vantage date (over the worlds with a deal)")
        fig.tight_layout()
        return save(fig, out_dir, "forecast_fan")


def _deal_by_date_figure(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from sim.report.style import PALETTE, figure_style, save, sized

    with figure_style():
        fig, ax = plt.subplots(figsize=sized(7, 3.6))
        for k, (v, t) in enumerate(table.groupby("vantage", sort=True)):
            ax.step(pd.to_datetime(t["date"]), t["p_deal_by"], where="post", color=PALETTE[k % len(PALETTE)],
                    label=f"from {v}")
        dates = pd.to_datetime(table["date"])
        moves = table.groupby("vantage")["p_deal_by"].diff().fillna(table["p_deal_by"]) > 0
        last = dates[moves].max() if moves.any() else dates.max()
        ax.set_xlim(dates.min() - pd.Timedelta(days=3), min(dates.max(), last + pd.Timedelta(days=21)))
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("P(deal by date)")
        ax.set_xlabel("date (a step per weekly round)")
        ax.legend(loc="upper left")
        fig.autofmt_xdate()
        fig.tight_layout()
        return save(fig, out_dir, "deal_by_date")


def write_tables(out_dir: Path, outcomes: pd.DataFrame, plan, cfg: dict) -> tuple[list[Path], pd.DataFrame,
                                                                                   pd.DataFrame]:
    """Write ``forecast.csv`` and ``deal_by_date.csv`` into a run folder.

    Args:
        out_dir: The run folder.
        outcomes: Its outcomes.
        plan: Its :class:`~sim.config.sweep.Plan`.
        cfg: Its resolved config.

    Returns:
        The files written, and the two tables (:func:`forecast_table`, :func:`deal_by_date`).
    """
    out_dir = Path(out_dir)
    structure = plan.points[0].structure
    issues = [(i.name, i.unit) for i in structure.space.issues]
    table = forecast_table(outcomes, issues, cfg)
    firsts, meetings = {}, {}
    default = (cfg.get("scenario") or {}).get("as_of")
    for block in plan.blocks:  # a block's points share its calendar: no object per point (an ensemble has many)
        column = block.coordinates.get(VANTAGE)
        values = [default] if column is None else dict.fromkeys(column.tolist())
        for v in values:
            firsts[AS_WRITTEN if v is None else str(v)] = block.structure.first_round
            meetings[AS_WRITTEN if v is None else str(v)] = block.structure.meetings
    by_date = deal_by_date(outcomes, cfg, structure.start_date, structure.round_days, firsts, structure.max_rounds,
                           meetings)
    written = []
    for name, frame in (("forecast.csv", table), ("deal_by_date.csv", by_date)):
        atomic_write(out_dir / name, lambda p, f=frame: f.to_csv(p, index=False))
        written.append(out_dir / name)
    return written, table, by_date


def draw(table: pd.DataFrame, by_date: pd.DataFrame, figures: Path, space) -> list[Path]:
    """Draw ``figures/forecast_fan`` (with two or more vantage dates) and ``figures/deal_by_date`` from the two
    tables of :func:`write_tables`, in the formats of the current :func:`~sim.report.style.figure_output`."""
    figures = Path(figures)
    figures.mkdir(exist_ok=True)
    written = []
    if table["vantage"].nunique() > 1:  # a fan needs several vantage dates; one gives lone bars (forecast.csv)
        written += _fan(table, figures, space)
    return written + _deal_by_date_figure(by_date, figures)


def _draw_here(formats: list[str], *args) -> list[Path]:
    from sim.report.style import figure_output

    with figure_output(formats):
        return draw(*args)


def write_forecast(out_dir: Path, outcomes: pd.DataFrame, plan, cfg: dict, plot: bool = True) -> list[Path]:
    """Write ``forecast.csv``, ``deal_by_date.csv`` and (with ``plot``) their figures into a run folder.

    Args:
        out_dir: The run folder.
        outcomes: Its outcomes.
        plan: Its :class:`~sim.config.sweep.Plan`.
        cfg: Its resolved config.
        plot: Whether to draw the figures (in the current :func:`~sim.report.style.figure_output`).

    Returns:
        The files written.
    """
    written, table, by_date = write_tables(out_dir, outcomes, plan, cfg)
    if plot:
        written += draw(table, by_date, Path(out_dir) / "figures", plan.points[0].structure.space)
    return written


def start(out_dir: Path, outcomes: pd.DataFrame, plan, cfg: dict, formats: list[str] | None,
          drawing=None) -> Callable[[], list[Path]]:
    """Write the forecast's tables now and start its figures: in the figure workers of ``drawing`` (a
    :class:`sim.report.parallel.Drawing`) beside the run's other figures, or here when the result is called.

    Args:
        out_dir: The run folder.
        outcomes: Its outcomes.
        plan: Its plan.
        cfg: Its resolved config.
        formats: The figures' file formats (``None``: no figures).
        drawing: The run's figures being drawn in workers, or ``None``.

    Returns:
        A function that waits for the figures (or draws them) and returns every file written, as
        :func:`write_forecast` does.
    """
    written, table, by_date = write_tables(out_dir, outcomes, plan, cfg)
    if formats is None:
        return lambda: written
    args = (table, by_date, Path(out_dir) / "figures", plan.points[0].structure.space)
    if drawing is None:
        return lambda: written + _draw_here(list(formats), *args)
    figures = drawing.submit(draw, *args)
    return lambda: written + figures.result()


def describe(out_dir: Path) -> str:
    """The forecast for the terminal: per vantage date, the deal rate and each term's median and 80 % band."""
    table = pd.read_csv(Path(out_dir) / "forecast.csv", dtype={"vantage": str})
    lines = []
    for v, t in table.groupby("vantage", sort=True):
        lines.append(f"from {v}: deal rate {t['deal_rate'].iloc[0]:.1%} of {t['worlds'].iloc[0]:,} worlds")
        for _, row in t.iterrows():
            unit = "" if row["unit"] == "date" else f" {row['unit']}"
            lines.append(f"  {row['term']}: median {row['median']}{unit} (80 %: {row['p10']} to {row['p90']})")
    return "\n".join(lines)
