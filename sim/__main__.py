"""``python -m sim VERB [overrides]``: dispatch a verb, checking the command line before Hydra runs.

Hydra parses the whole command line as overrides, so the verb is taken off ``sys.argv`` first
(the pattern from hydra#1964). ``run`` is checked with :func:`sim.preflight.check`, so a user's
mistake gets a one-line error and exit status 2 before any run folder exists.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

USAGE = """usage: python -m sim VERB [OVERRIDES...]

verbs:
  run     simulate: python -m sim run [+experiment=NAME] [GROUP=OPTION] [key=value] [-m]
          (python -m sim run --help lists every parameter with its default and meaning)
  plot    draw the figures of a run folder: python -m sim plot RUN_DIR [--format png,svg,pdf]
          [--figures NAME,...] [--dpi N] [--scale F]   (python -m sim plot --help)
  validate  reproduce known bargaining results: python -m sim validate [--out DIR] [CASE ...]
  codebook  write docs/codebook.md (unit and meaning of every output column): python -m sim codebook [--check]
  dashboard serve the interactive dashboard: python -m sim dashboard [--host 127.0.0.1] [--port 8765]

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
    from sim.run.workers import start

    start(plotting=not any(a.lower() in ("run.plot=false", "++run.plot=false") for a in args), ahead=True)


class _Usage(Exception):
    """A bad argument to a verb: one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: ...``) instead of usage plus message."""

    def error(self, message: str) -> NoReturn:
        raise _Usage(f"{message} ({self.prog} --help)")


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
    parser.add_argument("--dpi", type=_positive(int), default=DPI, help=f"PNG resolution (default {DPI})")
    parser.add_argument("--scale", type=_positive(float), default=1.0,
                        help="scale on each figure's size, text size unchanged (default 1)")
    try:
        ns = parser.parse_args(args)
    except _Usage as err:
        print(f"error: {err}", file=sys.stderr)
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
    try:
        ns = parser.parse_args(args)
    except _Usage as err:
        print(f"error: {err}", file=sys.stderr)
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
    if verb == "dashboard":
        from sim.dashboard.serve import main as dashboard

        raise SystemExit(dashboard(rest))
    print(f"error: unknown verb {verb!r}; choose one of: run, plot, validate, codebook, dashboard "
          "(python -m sim --help)",
          file=sys.stderr)
    raise SystemExit(2)


if __name__ == "__main__":
    main()
