"""The verbs of ``python -m sim`` other than ``run``, and their argument checks: ``plot``, ``validate``,
``analyze``, ``compare``, ``codebook``, ``calibration`` and ``dashboard``.

Each verb is a handler from its arguments to an exit status; :mod:`sim.__main__` names them in its verb table.
A bad argument is one line (``error: ...``) and exit status 2, before anything is read or written.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from sim.console import did_you_mean, error_line

class _Usage(Exception):
    """A bad argument to a verb: one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: ...``) instead of usage plus message."""

    def error(self, message: str) -> NoReturn:
        raise _Usage(f"{message} ({self.prog} --help)")


def _parsed(parser: _Parser, args: list[str]) -> argparse.Namespace | None:
    """The parsed arguments, or None after printing the one-line error."""
    try:
        return parser.parse_args(args)
    except _Usage as err:
        print(f"error: {err}", file=sys.stderr)
        return None


def _csv(allowed: tuple[str, ...] | list[str], what: str):
    """An argparse type: a comma-separated list, each item one of ``allowed``."""

    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in allowed]
        if bad or not items:
            hint = did_you_mean(bad[0], allowed) if bad else ""
            raise argparse.ArgumentTypeError(f"unknown {what} {bad[0] if bad else text!r}; choose from "
                                             f"{', '.join(allowed)}" + (f"; {hint}" if hint else ""))
        return items

    return parse


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0:
            raise argparse.ArgumentTypeError(f"must be a positive {'integer' if kind is int else 'number'}, "
                                             f"got {text!r}")
        return value

    return parse


def _bounded(kind, low, high):
    """An argparse type: a number of ``kind`` within [low, high] (finite)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            shown = (f"{low} to {high}" if kind is int else f"{low:g} to {high:g}")
            raise argparse.ArgumentTypeError(f"must be {'an integer' if kind is int else 'a number'} from {shown}, "
                                             f"got {text!r}")
        return value

    return parse


MAX_DPI, SCALES, MAX_PIXELS_PER_INCH = 1200, (0.25, 4.0), 1200  # a figure at 1200 px/inch takes about 0.5 GB


def _plot(args: list[str]) -> int:
    from sim.report.plots import FIGURES
    from sim.report.style import DPI, FORMATS

    parser = _Parser(prog="python -m sim plot", description="Draw the figures of a run folder (single run or "
                     "sweep, finished or not) into RUN_DIR/figures/.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the run folder, or an experiment's name for its latest "
                        "run (results/NAME/latest)")
    parser.add_argument("--format", dest="formats", type=_csv(FORMATS, "format"), metavar="png,svg,pdf",
                        help="file formats (default: those of the figure files already there, else png)")
    parser.add_argument("--figures", type=_csv(list(FIGURES), "figure"), metavar="NAME,...",
                        help=f"which figures (default: all the data supports): {', '.join(FIGURES)}")
    parser.add_argument("--dpi", type=_bounded(int, 20, MAX_DPI), default=DPI,
                        help=f"PNG resolution, 20 to {MAX_DPI} (default {DPI})")
    parser.add_argument("--scale", type=_bounded(float, *SCALES), default=1.0,
                        help=f"scale on each figure's size, {SCALES[0]:g} to {SCALES[1]:g}, text size unchanged "
                             "(default 1)")
    ns = _parsed(parser, args)
    if ns is None:
        return 2
    if ns.dpi * ns.scale > MAX_PIXELS_PER_INCH:  # memory grows with (dpi x scale) squared
        print(f"error: --dpi {ns.dpi} with --scale {ns.scale:g} draws {ns.dpi * ns.scale:g} pixels per inch of the "
              f"usual figure; at most {MAX_PIXELS_PER_INCH} (lower one of them) (python -m sim plot --help)",
              file=sys.stderr)
        return 2
    run_dir = _found(ns.run_dir)
    if run_dir is None:
        return 2
    from sim.cli import plot

    return plot(run_dir, formats=ns.formats, only=ns.figures, dpi=ns.dpi, scale=ns.scale)


def _found(arg: str):
    """The run folder an argument names (a folder, or an experiment's latest run), or None after one line."""
    from sim.latest import RunNotFound, find_run

    try:
        return find_run(arg)
    except RunNotFound as err:
        print(f"error: {err}", file=sys.stderr)
        return None


def _check_out(out) -> str | None:
    """Why ``validate --out DIR`` cannot be written, or None: checked before any case runs."""
    import tempfile

    if out.exists() and not out.is_dir():
        return f"--out {out}: is a file, not a folder; give a folder (it is created if needed)"
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"--out {out}: {parent} is a file, so no folder can be made under it"
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as err:
        return f"--out {out}: cannot write in {parent} ({err.strerror or err})"
    return None


def _validate(args: list[str]) -> int:
    from pathlib import Path

    from sim.validation import CASES

    parser = _Parser(prog="python -m sim validate", description="Run known results of bargaining theory "
                     "through the model and print expected against simulated values; exit 1 if any fails.")
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"cases to run (default: all): {', '.join(CASES)}")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="also write validation.csv, validation.txt and the figure into DIR")
    ns = _parsed(parser, args)
    if ns is None:
        return 2
    unknown = [a for a in ns.cases if a not in CASES]
    if unknown:
        print("error: " + error_line(f"unknown validation case {unknown[0]!r}; choose from {', '.join(CASES)}",
                                     did_you_mean(unknown[0], CASES)), file=sys.stderr)
        return 2
    out = ns.out
    if out is not None and (problem := _check_out(out)):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from sim.validation import figure, format_table, run_all

    table = run_all(ns.cases or None)
    print(format_table(table))
    failed = int((~table["passed"]).sum())
    checked = int((table["expected"] != "-").sum())  # informational rows are not checks
    print(f"\n{checked - failed} passed, {failed} failed")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        table.to_csv(out / "validation.csv", index=False)
        (out / "validation.txt").write_text(format_table(table) + "\n")
        figure(out)
        print(f"written to {out}: validation.csv, validation.txt, validation_splits.png/.svg")
    return 1 if failed else 0


def _analyze(args: list[str]) -> int:
    parser = _Parser(prog="python -m sim analyze", description="Sensitivity indices per outcome (sensitivity.csv, "
                     "figures/sensitivity.png) and, with --prim, the PRIM box where a condition holds.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by python -m sim run, or an "
                        "experiment's name for its latest run (results/NAME/latest)")
    parser.add_argument("--outcome", action="append", metavar="COLUMN",
                        help="an outcome column (repeatable; default: deal, agreement_time, the agreed terms, "
                             "each party's utility, welfare)")
    parser.add_argument("--method", choices=("sobol", "morris", "fast", "scores"),
                        help="default: the run's design (sobol, morris, fast), else feature scoring")
    parser.add_argument("--prim", metavar="CONDITION",
                        help='scenario discovery for a condition: no_deal, deal, or e.g. "reciprocal>=15"')
    parser.add_argument("--density", type=_positive(float), default=0.8,
                        help="the density the reported PRIM box must reach, else the densest box (default 0.8)")
    parser.add_argument("--no-figures", action="store_true", help="write the tables only")
    parser.add_argument("--seed", type=_bounded(int, 0, 2**32 - 1), default=0,
                        help="seed of the bootstrap and the extra-trees, 0 to 2^32-1 (default 0)")
    ns = _parsed(parser, args)
    if ns is None:
        return 2
    run_dir = _found(ns.run_dir)
    if run_dir is None:
        return 2
    if run_dir.is_dir() and not os.access(run_dir, os.W_OK | os.X_OK):
        print(f"error: {run_dir}: cannot be written (analyze writes sensitivity.csv there); copy the run folder "
              "to a place you can write", file=sys.stderr)
        return 2
    from sim.analysis.analyze import AnalyzeError, analyze_run, format_report

    try:
        result = analyze_run(run_dir, ns.outcome, ns.method, ns.prim, not ns.no_figures, ns.seed,
                             prim_density=ns.density)
    except AnalyzeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if result.notice:
        print(f"note: {result.notice}")
    print(format_report(result))
    print("\nwritten: " + ", ".join(p.name for p in result.written))
    return 0


def _compare(args: list[str]) -> int:
    import datetime as dt
    from pathlib import Path

    parser = _Parser(prog="python -m sim compare", description="Join run folders (or the jobs of a multirun "
                     "folder) into comparison.csv, comparison_runs.csv and comparison.png.")
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="run folders, or multirun folders, or experiment "
                        "names for their latest runs")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where to write (default: the multirun folder, else results/compare/<timestamp>)")
    parser.add_argument("--no-figures", action="store_true", help="write the tables only")
    ns = _parsed(parser, args)
    if ns is None:
        return 2
    ns.dirs = [_found(d) for d in ns.dirs]
    if None in ns.dirs:
        return 2
    import pandas as pd

    from sim.analysis.compare import CompareError, compare, figure, is_run, run_folders
    from sim.report.style import figure_output
    from sim.run.outputs import atomic_write

    try:
        runs = run_folders(ns.dirs)
        points, per_run = compare(runs)
    except CompareError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = ns.out
    if out is None:
        one_multirun = len(ns.dirs) == 1 and not is_run(ns.dirs[0])
        out = ns.dirs[0] if one_multirun else Path("results/compare") / dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    if is_run(out) or (out.exists() and not out.is_dir()):
        print(f"error: --out {out}: is a run folder or a file; choose another folder", file=sys.stderr)
        return 2
    problem = _check_out(out)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "comparison.csv", lambda p: points.to_csv(p, index=False))
    atomic_write(out / "comparison_runs.csv", lambda p: per_run.to_csv(p, index=False))
    written = ["comparison.csv", "comparison_runs.csv"]
    if not ns.no_figures:
        with figure_output(("png",)):
            written += [p.name for p in figure(per_run, per_run.attrs["keys"], out)]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(per_run.drop(columns=["deals", "finished"]).round(3).to_string(index=False))
    unfinished = per_run.loc[~per_run["finished"], "run"].tolist()
    if unfinished:
        print(f"note: unfinished runs (the chunks done so far): {', '.join(unfinished)}")
    print(f"\nwritten to {out}: {', '.join(written)}")
    return 0


def _codebook(args: list[str]) -> int:
    from sim.report.codebook import main as codebook

    return codebook(args)


def _calibrate(args: list[str]) -> int:
    from sim.inference.cli import main as calibrate

    return calibrate(args)


def _backtest(args: list[str]) -> int:
    from sim.inference.cli import backtest_main

    return backtest_main(args)


def _calibration(args: list[str]) -> int:
    from sim.report.calibration import main as calibration

    return calibration(args)


def _dashboard(args: list[str]) -> int:
    from sim.dashboard.serve import main as dashboard

    return dashboard(args)
