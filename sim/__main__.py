"""``python -m sim VERB [overrides]``: dispatch a verb, checking the command line before Hydra runs.

Hydra parses the whole command line as overrides, so the verb is taken off ``sys.argv`` first
(the pattern from hydra#1964). ``run`` is checked with :func:`sim.preflight.check`, so a user's
mistake gets a one-line error and exit status 2 before any run folder exists.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from sim.console import did_you_mean, error_line, quiet_broken_pipe
from sim.guard import one_line

USAGE = """usage: python -m sim VERB [ARGUMENTS...]   (python -m sim VERB --help)

verbs:
{verbs}

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
                              "--config-dir", "-cd", "--package", "-p"}
_REFUSED_HYDRA_FLAGS = {
    # Hydra unpickles the file it names (a crafted pickle runs code); re-run from the run folder instead
    "--experimental-rerun": "is not supported: it unpickles a file, which can run code; to re-run a run, paste the "
                            "command recorded in its metadata.json (\"command\")",
}


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
    verbs = "\n".join(f"  {name:<12}{verb.summary}\n  {'':<12}{verb.usage}" for name, verb in VERBS.items())
    return USAGE.format(verbs=verbs, groups=_groups(), first=first, second=second)


def _run(args: list[str]) -> int:
    if any(a in ("--help", "-h") for a in args):
        from sim.help import run_help

        print(run_help())
        return 0
    from sim.preflight import UsageError, check

    for a in args:
        if a.split("=")[0] in _REFUSED_HYDRA_FLAGS:
            print(f"error: {a.split('=')[0]} {_REFUSED_HYDRA_FLAGS[a.split('=')[0]]}", file=sys.stderr)
            return 2
    if problem := _unsupported_plugin(args):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from sim.inference.cli import calibrate_first  # forecast.source=posterior without a calibration folder

    if isinstance(args := calibrate_first(args), int):
        return args
    if not any(a.split("=")[0] in _HYDRA_FLAGS_WITHOUT_CHECK for a in args):
        _start_workers(args)
        multirun = any(a in ("-m", "--multirun") for a in args)
        overrides = [a for a in args if not a.startswith("-")]
        try:
            args = [*args, *check(overrides, multirun, claim=True)]  # the run folder, when the command names none
        except UsageError as err:
            print("error: " + error_line(str(err), _suggestion(str(err))), file=sys.stderr)
            return 2
    from sim.cli import main as hydra_main

    sys.argv = [sys.argv[0], *args]
    hydra_main()
    return 0


# Hydra plugins a run may choose: sim runs a multirun's jobs one after another (the basic launcher) and
# parallelises inside each job (run.workers, run.executor=dask); its grids are the basic sweeper's
_PLUGINS = {"hydra/launcher": ("basic",), "hydra/sweeper": ("basic",)}


def _unsupported_plugin(args: list[str]) -> str | None:
    """One line for a Hydra launcher or sweeper sim does not support, else None."""
    for arg in args:
        group, _, option = arg.lstrip("+").partition("=")
        if group in _PLUGINS and option not in _PLUGINS[group]:
            return (f"{group}={option}: not supported; sim runs a multirun's jobs one after another and "
                    f"parallelises inside each job (run.workers=N, or run.executor=dask for a cluster)")
    return None


def _suggestion(message: str) -> str:
    """'did you mean ...' for the misspelt name of a refused command line (an option or a config key)."""
    import re

    head, _, rest = message.partition(": ")
    options = re.search(r"choose one of ([^;(]+)", rest)
    if options:
        return did_you_mean(head.split("=", 1)[-1], [o.strip() for o in options[1].split(",")])
    if rest.startswith("no such config key"):
        from omegaconf import OmegaConf

        from sim.config.compose import compose_config

        tree = OmegaConf.to_container(compose_config(), resolve=False)
        tree.pop("hydra", None)
        return did_you_mean(head.lstrip("+~"), _keys(tree))
    return ""


def _keys(tree: dict, prefix: str = ""):
    """Every dotted key of a config tree, its sections included."""
    for key, value in tree.items():
        yield f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _keys(value, f"{prefix}{key}.")


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


def _calibration(args: list[str]) -> int:
    from sim.report.calibration import main as calibration

    return calibration(args)


def _calibrate(args: list[str]) -> int:
    from sim.inference.cli import main as calibrate

    return calibrate(args)


def _backtest(args: list[str]) -> int:
    from sim.inference.cli import backtest_main

    return backtest_main(args)


def _dashboard(args: list[str]) -> int:
    from sim.dashboard.serve import main as dashboard

    return dashboard(args)


@dataclass(frozen=True)
class Verb:
    """A verb of ``python -m sim``: what it does, how it is called, and its handler (arguments -> exit status).

    ``usage`` is printed for ``VERB --help`` when the handler has no argument parser of its own (``own_help``
    false)."""

    summary: str
    usage: str
    handler: Callable[[list[str]], int]
    own_help: bool = True


VERBS: dict[str, Verb] = {
    "run": Verb("simulate an experiment (python -m sim run --help lists every parameter)",
                "python -m sim run [+experiment=NAME] [GROUP=OPTION] [key=value] [-m]", _run),
    "plot": Verb("draw the figures of a run folder (or of an experiment's latest run)",
                 "python -m sim plot RUN_DIR|EXPERIMENT [--format png,svg,pdf] [--figures NAME,...] [--dpi N]", _plot),
    "validate": Verb("reproduce known bargaining results", "python -m sim validate [--out DIR] [CASE ...]", _validate),
    "codebook": Verb("write docs/codebook.md (unit and meaning of every output column)",
                     "python -m sim codebook [--check]", _codebook, own_help=False),
    "calibration": Verb("write docs/calibration.md (value, unit, source and prior of every scenario parameter)",
                        "python -m sim calibration [--check]", _calibration, own_help=False),
    "calibrate": Verb("fit the shared and per-case parameters to the panel's arrangements dated on or before DATE",
                      "python -m sim calibrate scenario.as_of=DATE [calibrate.seed=N] [--out DIR]", _calibrate),
    "backtest": Verb("forecast each panel arrangement from the day before, calibrated on what came before it",
                     "python -m sim backtest [calibrate.seed=N] [--out DIR]", _backtest),
    "dashboard": Verb("serve the interactive dashboard",
                      "python -m sim dashboard [--host 127.0.0.1] [--port 8765]", _dashboard),
    "analyze": Verb("which parameters drive each outcome, and where a condition holds (PRIM)", "python -m sim analyze RUN_DIR|EXPERIMENT [--prim no_deal]", _analyze),
    "compare": Verb("join run folders into one table and figure",
                    "python -m sim compare DIR|EXPERIMENT [DIR ...] [--out DIR]", _compare),
}


def _dispatch(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    verb = VERBS.get(name)
    if verb is None:
        print("error: " + error_line(f"unknown verb {name!r}; choose one of {', '.join(VERBS)} (python -m sim "
                                     "--help)", did_you_mean(name, VERBS)), file=sys.stderr)
        return 2
    if not verb.own_help and any(a in ("-h", "--help") for a in rest):
        print(f"usage: {verb.usage}\n\n{verb.summary}")
        return 0
    return verb.handler(rest)


@one_line  # Ctrl-C, SIGTERM or a limit of the system: one line and an exit status, never a traceback
def main() -> None:
    """Entry point of ``python -m sim`` and of the ``sim`` script."""
    try:
        status = _dispatch(sys.argv[1:])
        sys.stdout.flush()
    except BrokenPipeError:  # python -m sim --help | head -1
        quiet_broken_pipe()
        status = 141  # 128 + SIGPIPE, as a Unix tool stopped by a closed pipe
    raise SystemExit(status)


if __name__ == "__main__":
    main()
