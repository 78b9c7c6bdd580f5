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
  validate  reproduce known bargaining results: python -m sim validate [--out DIR] [CASE ...]
  dashboard serve the interactive dashboard: python -m sim dashboard [--host 127.0.0.1] [--port 8765]

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


def _validate(args: list[str]) -> int:
    from pathlib import Path

    from sim.validation import CASES, figure, format_table, run_all

    out = None
    if "--out" in args:
        k = args.index("--out")
        if k + 1 >= len(args):
            print("usage: python -m sim validate [--out DIR] [CASE ...]", file=sys.stderr)
            return 2
        out = Path(args[k + 1])
        args = args[:k] + args[k + 2:]
    unknown = [a for a in args if a not in CASES]
    if unknown:
        print(f"error: unknown validation case {unknown[0]!r}; choose from {', '.join(CASES)}", file=sys.stderr)
        return 2
    table = run_all(args or None)
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
    if verb == "validate":
        raise SystemExit(_validate(rest))
    if verb == "dashboard":
        from sim.dashboard.serve import main as dashboard

        raise SystemExit(dashboard(rest))
    print(f"error: unknown verb {verb!r}; choose one of: run, plot, validate, dashboard (python -m sim --help)",
          file=sys.stderr)
    raise SystemExit(2)


if __name__ == "__main__":
    main()
