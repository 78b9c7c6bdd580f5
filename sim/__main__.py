"""``python -m sim VERB [overrides]``: dispatch a verb, checking the command line before Hydra runs.

Hydra parses the whole command line as overrides, so the verb is taken off ``sys.argv`` first
(the pattern from hydra#1964). ``run`` is checked with :func:`sim.preflight.check`, so a user's
mistake gets a one-line error and exit status 2 before any run folder exists.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from sim.guard import one_line

USAGE = """usage: python -m sim VERB [OVERRIDES...]

verbs:
  run     simulate: python -m sim run [+experiment=NAME] [GROUP=OPTION] [key=value] [-m]
          (python -m sim run --help lists every parameter with its default and meaning)
  plot    draw the figures of a run folder: python -m sim plot RUN_DIR [--format png,svg,pdf]
          [--figures NAME,...] [--dpi N] [--scale F]   (python -m sim plot --help)
  validate  reproduce known bargaining results: python -m sim validate [--out DIR] [CASE ...]
  codebook  write docs/codebook.md (unit and meaning of every output column): python -m sim codebook [--check]
  calibration  write docs/calibration.md (value, unit, source and prior of every scenario parameter):
          python -m sim calibration [--check]
  dashboard serve the interactive dashboard: python -m sim dashboard [--host 127.0.0.1] [--port 8765]
  analyze   which parameters drive each outcome (Sobol'/Morris/FAST, else feature scoring) and where a
            condition holds (PRIM): python -m sim analyze RUN_DIR [--prim no_deal]  (analyze --help)
  compare   join run folders into one table and figure: python -m sim compare DIR [DIR ...] [--out DIR]

config groups and their options:
{groups}
examples:
  python -m sim run +experiment=deadline_pressure
  python -m sim run strategy@{first}=hardliner strategy@{second}=conceder run.seeds=200
  python -m sim run scenario.deadline.round=12 hydra.run.dir=results/my_run
  python -m sim run -m +experiment=deadline_pressure scenario.breakdown_risk=0,0.02
"""

_HYDRA_FLAGS_WITHOUT_CHECK = {"--help", "-h", "--hydra-help", "--cfg", "-c", "--info", "--resolve", "--version",
                              "--shell-completion", "-sc", "--config-path", "-cp", "--config-name", "-cn",
                              "--config-dir", "-cd", "--package", "-p", "--experimental-rerun"}


def _groups() -> str:
    from sim.config import available
    from sim.help import party_ids

    first, second = party_ids()
    lines = []
    for group, how in (("scenario", "scenario=NAME"), ("strategy", f"strategy@{first}=NAME, strategy@{second}=NAME"),
                       ("acceptance", f"acceptance@{first}=NAME"), ("opponent", f"opponent@{first}=NAME"),
                       ("protocol", "protocol=NAME"), ("experiment", "+experiment=NAME")):
        lines.append(f"  {group:<11}{', '.join(available(group))}    ({how})")
    return "\n".join(lines) + "\n"


def _usage() -> str:
    from sim.help import party_ids

    first, second = party_ids()
    return USAGE.format(groups=_groups(), first=first, second=second)


def _run(args: list[str]) -> int:
    if any(a in ("--help", "-h") for a in args):
        from sim.help import run_help

        print(run_help())
        return 0
    from sim.preflight import UsageError, check

    if not any(a.split("=")[0] in _HYDRA_FLAGS_WITHOUT_CHECK for a in args):
        _start_workers(args)
        multirun = any(a in ("-m", "--multirun") for a in args)
        overrides = [a for a in args if not a.startswith("-")]
        try:
            args = [*args, *check(overrides, multirun, claim=True)]  # the run folder, when the command names none
        except UsageError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    from sim.cli import main as hydra_main

    sys.argv = [sys.argv[0], *args]
    hydra_main()
    return 0


def _start_workers(args: list[str]) -> None:
    """Start the workers' fork server first, so that it imports the engine (and the figure code, unless
    the command says ``run.plot=false``) while this process checks the command line and composes the
    config (:mod:`sim.run.workers`). It is a separate process that writes nothing: a refused command
    line still exits with one line, and this process imports none of it."""
    from sim.report import PRELOAD
    from sim.run.workers import start

    plotting = not any(a.lower() in ("run.plot=false", "++run.plot=false") for a in args)
    start(PRELOAD if plotting else (), ahead=True)


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
            raise argparse.ArgumentTypeError(f"unknown {what} {bad[0] if bad else text!r}; choose from "
                                             f"{', '.join(allowed)}")
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
    from pathlib import Path

    from sim.report.plots import FIGURES
    from sim.report.style import DPI, FORMATS

    parser = _Parser(prog="python -m sim plot", description="Draw the figures of a run folder (single run or "
                     "sweep, finished or not) into RUN_DIR/figures/.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the run folder")
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
    from sim.cli import plot

    return plot(Path(ns.run_dir), formats=ns.formats, only=ns.figures, dpi=ns.dpi, scale=ns.scale)


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
        print(f"error: unknown validation case {unknown[0]!r}; choose from {', '.join(CASES)}", file=sys.stderr)
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
    from pathlib import Path

    parser = _Parser(prog="python -m sim analyze", description="Sensitivity indices per outcome (sensitivity.csv, "
                     "figures/sensitivity.png) and, with --prim, the PRIM box where a condition holds.")
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a run folder written by python -m sim run")
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
    if ns.run_dir.is_dir() and not os.access(ns.run_dir, os.W_OK | os.X_OK):
        print(f"error: {ns.run_dir}: cannot be written (analyze writes sensitivity.csv there); copy the run folder "
              "to a place you can write", file=sys.stderr)
        return 2
    from sim.analysis.analyze import AnalyzeError, analyze_run, format_report

    try:
        result = analyze_run(ns.run_dir, ns.outcome, ns.method, ns.prim, not ns.no_figures, ns.seed,
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
    parser.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="run folders, or multirun folders")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where to write (default: the multirun folder, else results/compare/<timestamp>)")
    parser.add_argument("--no-figures", action="store_true", help="write the tables only")
    ns = _parsed(parser, args)
    if ns is None:
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


@one_line  # Ctrl-C, SIGTERM or a limit of the system: one line and an exit status, never a traceback
def main() -> None:
    """Entry point of ``python -m sim`` and of the ``sim`` script."""
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        raise SystemExit(0 if args else 2)
    verb, rest = args[0], args[1:]
    if verb == "run":
        raise SystemExit(_run(rest))
    if verb == "plot":
        raise SystemExit(_plot(rest))
    if verb == "validate":
        raise SystemExit(_validate(rest))
    if verb == "codebook":
        from sim.report.codebook import main as codebook

        raise SystemExit(codebook(rest))
    if verb == "calibration":
        from sim.report.calibration import main as calibration

        raise SystemExit(calibration(rest))
    if verb == "dashboard":
        from sim.dashboard.serve import main as dashboard

        raise SystemExit(dashboard(rest))
    if verb == "analyze":
        raise SystemExit(_analyze(rest))
    if verb == "compare":
        raise SystemExit(_compare(rest))
    print(f"error: unknown verb {verb!r}; choose one of: run, plot, validate, codebook, calibration, dashboard, "
          "analyze, compare "
          "(python -m sim --help)",
          file=sys.stderr)
    raise SystemExit(2)


if __name__ == "__main__":
    main()
