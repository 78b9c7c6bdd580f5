"""``python -m sim VERB [overrides]``: dispatch a verb, checking the command line before Hydra runs.

Hydra parses the whole command line as overrides, so the verb is taken off ``sys.argv`` first
(the pattern from hydra#1964). ``run`` is checked with :func:`sim.preflight.check`, so a user's
mistake gets a one-line error and exit status 2 before any run folder exists.
"""

from __future__ import annotations

import sys

USAGE = """usage: python -m sim VERB [OVERRIDES...]

verbs:
  run     simulate: python -m sim run [+experiment=NAME] [GROUP=OPTION] [key=value] [-m]
          (python -m sim run --help lists the config and every option)
  plot    draw the figures of a run folder: python -m sim plot RUN_DIR

config groups and their options:
{groups}
examples:
  python -m sim run +experiment=deadline_pressure
  python -m sim run strategy@us=hardliner strategy@japan=conceder run.seeds=200
  python -m sim run scenario.deadline.round=12 hydra.run.dir=results/my_run
  python -m sim run -m +experiment=deadline_pressure scenario.escalation=0,14
"""

_HYDRA_FLAGS_WITHOUT_CHECK = {"--help", "-h", "--hydra-help", "--cfg", "-c", "--info", "--resolve", "--version",
                              "--shell-completion", "-sc", "--config-path", "-cp", "--config-name", "-cn",
                              "--config-dir", "-cd", "--package", "-p", "--experimental-rerun"}


def _groups() -> str:
    from sim.config import available

    lines = []
    for group, how in (("scenario", "scenario=NAME"), ("strategy", "strategy@us=NAME, strategy@japan=NAME"),
                       ("protocol", "protocol=NAME"), ("experiment", "+experiment=NAME")):
        lines.append(f"  {group:<11}{', '.join(available(group))}    ({how})")
    return "\n".join(lines) + "\n"


def _run(args: list[str]) -> int:
    from sim.preflight import UsageError, check

    if not any(a.split("=")[0] in _HYDRA_FLAGS_WITHOUT_CHECK for a in args):
        multirun = any(a in ("-m", "--multirun") for a in args)
        overrides = [a for a in args if not a.startswith("-")]
        try:
            check(overrides, multirun)
        except UsageError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    from sim.cli import main as hydra_main

    sys.argv = [sys.argv[0], *args]
    hydra_main()
    return 0


def main() -> None:
    """Entry point of ``python -m sim`` and of the ``sim`` script."""
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE.format(groups=_groups()))
        raise SystemExit(0 if args else 2)
    verb, rest = args[0], args[1:]
    if verb == "run":
        raise SystemExit(_run(rest))
    if verb == "plot":
        if len(rest) != 1 or rest[0].startswith("-"):
            print("usage: python -m sim plot RUN_DIR", file=sys.stderr)
            raise SystemExit(2)
        from pathlib import Path

        from sim.cli import plot

        raise SystemExit(plot(Path(rest[0])))
    print(f"error: unknown verb {verb!r}; choose one of: run, plot (python -m sim --help)", file=sys.stderr)
    raise SystemExit(2)


if __name__ == "__main__":
    main()
