"""The figure registry: every figure of a run folder, each drawn when the data supports it, all in the shared
style (:mod:`sim.report.style`), by one module per family under :mod:`sim.report.figures`.

=====================  =====================================================================
figure                 what it shows
=====================  =====================================================================
``concession_paths``   each side's offers per round on every issue for one recorded
                       negotiation, with dates, the deadline, any extension and the agreement
``utility_plane``      utility space: the Pareto frontier, the Nash and Kalai–Smorodinsky
                       points, the disagreement point and the agreements
``deal_rate``          deal rate against each swept numeric parameter, one line per strategy
                       pair, with 95 % Wilson bands
``strategy_heatmap``   strategy against strategy: deal rate and mean utility to each party
``timing``             when agreements come relative to the final deadline (deadline effect)
``terms``              agreed terms per issue, in the issue's units, by pair or swept value
``pressure``           deal rate, timing and terms against a swept deadline or escalation
``agenda``             package against piecemeal talks: outcomes, timing, terms, welfare
``two_level``          against a swept ratification threshold (Putnam's two-level game)
``ranking``            a tournament's ranked strategies with 95 % intervals (:mod:`sim.report.ranking`)
=====================  =====================================================================

Each figure is written under ``RUN_DIR/figures/`` in the formats asked for (``run.figure_formats``; ``sim plot
--format``): PNG at 150 dpi by default, SVG and PDF on request.
The rules every figure follows are in ``docs/figures.md``; ``tests/test_figures.py`` checks those a program can.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.report.figures.agreements import terms, timing
from sim.report.figures.bargaining import utility_plane
from sim.report.figures.common import BINS, MAX_LINES, Skip, binned
from sim.report.figures.negotiation import concession_paths
from sim.report.figures.pressure import pressure
from sim.report.figures.protocols import agenda, two_level
from sim.report.figures.rates import deal_rate, strategy_heatmap
from sim.report.style import DPI, figure_output
from sim.report.summary import headline_issue
from sim.run.readback import RunData

__all__ = ["BINS", "FIGURES", "MAX_LINES", "RunData", "Skip", "agenda", "binned", "concession_paths", "deal_rate",
           "draw_all", "headline_issue", "pressure", "strategy_heatmap", "terms", "timing", "two_level",
           "utility_plane"]

Figure = Callable[[RunData, Path], list[Path]]  # run data, figures folder -> files written; or raises Skip


def _ranking(run: RunData, out_dir: Path) -> list[Path]:
    """A tournament's ranking (:mod:`sim.report.ranking`): ranking.csv and pairwise.csv beside ``out_dir``, and its figure."""
    from sim.report.ranking import NotATournament, write

    try:  # the tables are written too; only the figure files count as figures
        return [p for p in write(run.outcomes, run.plan.parties, Path(out_dir).parent) if p.suffix != ".csv"]
    except NotATournament as why:
        raise Skip(str(why)) from None


FIGURES: dict[str, Figure] = {  # name -> drawing function, in the order they are drawn
    "concession_paths": concession_paths,
    "utility_plane": utility_plane,
    "deal_rate": deal_rate,
    "strategy_heatmap": strategy_heatmap,
    "timing": timing,
    "terms": terms,
    "pressure": pressure,
    "agenda": agenda,
    "two_level": two_level,
    "ranking": _ranking,
}


def draw_all(run: RunData, run_dir: Path, formats: tuple[str, ...] | list[str] = ("png", "svg"),
             only: list[str] | None = None, dpi: int = DPI,
             scale: float = 1.0) -> tuple[list[Path], list[tuple[str, str]]]:
    """Draw every figure the data supports (or those in ``only``) into ``run_dir/figures``.

    Args:
        run: The run's data.
        run_dir: The run folder.
        formats: File formats, some of png, svg, pdf.
        only: Names of the figures to draw (keys of :data:`FIGURES`); ``None`` draws all.
        dpi: PNG resolution.
        scale: Scale on every figure's size (1 = the size the figure was designed for).

    Returns:
        The files written, and ``(figure, reason)`` for each figure skipped.
    """
    out_dir = Path(run_dir) / "figures"
    written, skipped = [], []
    with figure_output(formats, dpi, scale):
        for name, draw in FIGURES.items():
            if only is not None and name not in only:
                continue
            try:
                written += draw(run, out_dir)
            except Skip as why:
                skipped.append((name, str(why)))
    return written, skipped
