"""The ``analyze`` verb: which parameters drive each negotiation outcome, and where a condition holds.

``python -m sim analyze RUN_DIR`` reads a finished run folder and writes into it:

* ``sensitivity.csv``: per outcome (deal rate, agreement time, each agreed term, each side's utility,
  welfare) and parameter, Sobol' S1/ST, Morris mu*/sigma or FAST S1/ST with the half-widths of their
  95 % intervals, or, for grid/LHS/random runs, extra-trees feature scores (labelled as such);
* ``figures/sensitivity.png``: the indices with their intervals, one panel per outcome;
* with ``--prim CONDITION`` (``no_deal``, ``deal`` or e.g. ``"reciprocal>=15"``): ``prim_box.csv``,
  ``prim_trajectory.csv`` and ``figures/prim_peeling.png``, the PRIM box of the swept numeric
  parameters where the condition holds (:mod:`sim.analysis.discovery`).

Bad input (no such folder, not a run folder, an unknown outcome, Sobol' indices asked of a run that is
not a Sobol' design, an unfinished design) gets one line before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.analysis.discovery import PrimResult, parse_condition, prim, prim_figure
from sim.analysis.sensitivity import analyze, figure, load_design, outcome_names, top_parameters
from sim.config.sweep import column_name
from sim.report.style import figure_output
from sim.run.outputs import atomic_write
from sim.run.readback import RunData, RunDirError, load_run

__all__ = ["Analysis", "AnalyzeError", "analyze_run", "format_report"]


class AnalyzeError(Exception):
    """A one-line, user-facing error of the ``analyze`` verb."""


@dataclass
class Analysis:
    """What ``analyze`` found and wrote.

    Attributes:
        sensitivity: The tidy index table (``sensitivity.csv``).
        top: The three leading parameters per group and outcome.
        prim: The PRIM result, if a condition was given.
        written: The files written.
        notice: A note about the run (an unfinished sweep), or None.
    """

    sensitivity: pd.DataFrame
    top: pd.DataFrame
    prim: PrimResult | None = None
    written: list[Path] = field(default_factory=list)
    notice: str | None = None


def _prim_condition(prim_condition: str | None, table: pd.DataFrame, design, data: RunData) -> tuple:
    """The parsed ``--prim`` condition and the keys its box ranges over, ``(None, [])`` without one.

    Raises:
        AnalyzeError: a malformed condition, no numeric key swept, or no negotiation meeting it.
    """
    if prim_condition is None:
        return None, []
    try:
        condition = parse_condition(prim_condition, table.columns)
    except ValueError as err:
        raise AnalyzeError(str(err)) from None
    prim_keys = design.keys if design is not None else data.numeric_keys
    if not prim_keys:
        raise AnalyzeError("--prim: this run swept no numeric parameter, so there is no box to find")
    if not condition[1](table).any():
        raise AnalyzeError(f"--prim {prim_condition!r}: no negotiation in this run meets it, so there is "
                           "no box to find")
    return condition, prim_keys


def analyze_run(run_dir: Path, outcomes: list[str] | None = None, method: str | None = None,
                prim_condition: str | None = None, figures: bool = True, seed: int = 0,
                data: RunData | None = None, prim_density: float = 0.8) -> Analysis:
    """Analyse a run folder and write the tables (and figures) into it.

    Args:
        run_dir: The run folder.
        outcomes: Outcome columns (default: deal, agreement time, terms, utilities, welfare).
        method: ``sobol``, ``morris``, ``fast`` or ``scores``; ``None``: the design's own, else scores.
        prim_condition: A condition for scenario discovery (``no_deal``, ``deal``, ``"reciprocal>=15"``).
        figures: Draw the figures (PNG).
        seed: Seed of the bootstrap intervals and the extra-trees.
        data: The run's data if already loaded.
        prim_density: The density the reported PRIM box must reach (else the densest box is reported).

    Returns:
        The analysis.

    Raises:
        AnalyzeError: with a one-line reason, before anything is written.
    """
    run_dir = Path(run_dir)
    notice = None
    if data is None:
        try:
            data, notice = load_run(run_dir)
        except RunDirError as err:
            raise AnalyzeError(str(err)) from None
    try:
        design = load_design(run_dir)
    except ValueError as err:
        raise AnalyzeError(str(err)) from None
    table = data.outcomes
    if design is not None and design.is_sensitivity and method in (None, design.method) and notice:
        raise AnalyzeError(f"{run_dir}: the sweep is unfinished, and {design.method} indices need every design "
                           "row; resume it first (the same command with hydra.run.dir set to this folder)")
    condition, prim_keys = _prim_condition(prim_condition, table, design, data)
    names = outcomes or outcome_names(table, data.structure.space.names)
    try:
        sensitivity = analyze(table, design, data.plan.swept_keys, names, method, seed)
    except ValueError as err:
        raise AnalyzeError(str(err)) from None
    result = Analysis(sensitivity=sensitivity, top=top_parameters(sensitivity), notice=notice)
    atomic_write(run_dir / "sensitivity.csv", lambda p: sensitivity.to_csv(p, index=False))
    result.written.append(run_dir / "sensitivity.csv")
    party_names = data.party_names
    with figure_output(("png",)):
        if figures:
            result.written += figure(sensitivity, run_dir / "figures", party_names, space=data.structure.space)
        if condition is not None:
            text, holds = condition
            x = pd.DataFrame({k: table[column_name(k)] for k in prim_keys})
            result.prim = prim(x, holds(table), threshold=prim_density, condition=text)
            atomic_write(run_dir / "prim_box.csv", lambda p: result.prim.limits.to_csv(p, index=False))
            atomic_write(run_dir / "prim_trajectory.csv", lambda p: result.prim.trajectory.to_csv(p, index=False))
            result.written += [run_dir / "prim_box.csv", run_dir / "prim_trajectory.csv"]
            if figures:
                result.written += prim_figure(result.prim, run_dir / "figures", party_names)
    return result


def format_report(result: Analysis) -> str:
    """The terminal report: the three leading parameters per outcome, notes, and the PRIM box."""
    table = result.sensitivity
    lines = []
    if not table.empty:
        method = table["method"].iloc[0]
        what = {"sobol": "Sobol' total index ST", "fast": "FAST total index ST", "morris": "Morris mu*",
                "extra_trees": "extra-trees importance (feature scoring, not a variance decomposition)"}[method]
        lines.append(f"leading parameters per outcome, by {what}:")
        top = result.top
        show = top.drop(columns=["index"] + (["group"] if top["group"].nunique() == 1 else []))
        with pd.option_context("display.width", 200, "display.max_colwidth", 60):
            lines.append(show.fillna("").to_string(index=False))
        notes = table.loc[table["note"].fillna("") != "", ["outcome", "note"]].drop_duplicates()
        notes = notes[~notes["note"].str.startswith("feature scoring")]
        for note, part in notes.groupby("note", sort=False):
            lines.append(f"  note ({', '.join(part['outcome'])}): {note}")
    if result.prim is not None:
        lines += ["", result.prim.describe()]
    return "\n".join(lines)
