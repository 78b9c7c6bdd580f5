"""``python -m sim VERB [overrides]``: dispatch a verb, checking the command line before Hydra runs.

Hydra parses the whole command line as overrides, so the verb is taken off ``sys.argv`` first
(the pattern from hydra#1964). ``run`` is checked with :func:`sim.preflight.prepare`, so a user's
mistake gets a one-line error and exit status 2 before any run folder exists. The verb table is here; the
verbs other than ``run`` are in :mod:`sim.verbs`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from sim.console import did_you_mean, error_line, quiet_broken_pipe
from sim.guard import interrupted, one_line
from sim.verbs import (
    _analyze,
    _backtest,
    _calibrate,
    _calibration,
    _codebook,
    _compare,
    _dashboard,
    _plot,
    _validate,
)

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
_RUN_FLAGS = {"-m", "--multirun", "-r", "--run"}  # the flags of a run the check takes (the others: Hydra's own)
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

        print(run_help(overrides=args))  # the config those overrides compose, described
        return 0
    from sim.preflight import UsageError, prepare

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
    checked = None
    if not any(a.split("=")[0] in _HYDRA_FLAGS_WITHOUT_CHECK for a in args):
        if flag := next((a for a in args if a.startswith("-") and a not in _RUN_FLAGS), None):
            print(f"error: {flag}: unknown option of run; python -m sim run --help lists them", file=sys.stderr)
            return 2
        _start_workers(args)
        multirun = any(a in ("-m", "--multirun") for a in args)
        overrides = [a for a in args if not a.startswith("-")]
        try:
            checked = prepare(overrides, multirun, claim=True)
        except UsageError as err:
            if interrupted(err):  # a stop during the check, hidden by an error raised while it unwound
                raise KeyboardInterrupt from None
            print("error: " + error_line(str(err), _suggestion(str(err))), file=sys.stderr)
            return 2
        args = [*args, *checked.overrides]  # the claimed run folder, recorded with the command line
    from sim.cli import main as hydra_main

    sys.argv = [sys.argv[0], *args]  # read by @hydra.main when there is no check (--cfg, --info, ...)
    hydra_main(checked)  # the configs composed and planned by the check, run by Hydra
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
        from sim.help import inputs  # the default config's keys, from the help's cache (composed on a miss)

        return did_you_mean(head.lstrip("+~"), _keys(inputs()["cfg"]))
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
    "dashboard": Verb("serve the interactive dashboard",
                      "python -m sim dashboard [--host 127.0.0.1] [--port 8765]", _dashboard),
    "analyze": Verb("which parameters drive each outcome, and where a condition holds (PRIM)", "python -m sim analyze RUN_DIR|EXPERIMENT [--prim no_deal]", _analyze),
    "compare": Verb("join run folders into one table and figure",
                    "python -m sim compare DIR|EXPERIMENT [DIR ...] [--out DIR]", _compare),
    "calibrate": Verb("fit the shared and per-case parameters to the panel's arrangements dated on or before DATE",
                      "python -m sim calibrate scenario.as_of=DATE [calibrate.seed=N] [--out DIR]", _calibrate),
    "backtest": Verb("forecast each panel arrangement from the day before, calibrated on what came before it",
                     "python -m sim backtest [calibrate.seed=N] [--out DIR]", _backtest),
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
