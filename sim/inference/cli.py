"""``python -m sim calibrate scenario.as_of=DATE [calibrate.KEY=VALUE ...] [run.KEY=VALUE ...] [--out DIR]
[--no-figures]``.

Every argument is checked before anything runs or is written: a bad one gets one line naming the key and what it
allows, and exit status 2. A calibration stopped by Ctrl-C or SIGTERM (or killed) goes on from its last finished
generation when the same command is run again with ``--out`` its folder.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

__all__ = ["main", "parse"]

USAGE = ("usage: python -m sim calibrate scenario.as_of=YYYY-MM-DD [calibrate.particles=N] "
         "[calibrate.generations=N] [calibrate.quantile=Q] [calibrate.moves=N] [calibrate.seed=N] "
         "[calibrate.chunk_size=N] [run.workers=N|null] [run.executor=local|dask] [run.dask_address=ADDRESS] "
         "[--out DIR] [--no-figures]")
_INTS = {"particles": (10, 100_000), "generations": (0, 50), "moves": (1, 100), "seed": (0, 2**32 - 1),
         "chunk_size": (1, 1_000_000)}
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2025, 12, 31)


class UsageError(Exception):
    """A bad argument: its one line."""


def _number(key: str, text: str):
    name = key.split(".", 1)[1]
    if name == "quantile":
        try:
            q = float(text)
        except ValueError:
            q = None
        if q is None or not 0 < q < 1:
            raise UsageError(f"{key}: must be a number between 0 and 1 (exclusive), got {text!r}")
        return q
    lo, hi = _INTS[name]
    if not text.lstrip("-").isdigit() or not lo <= int(text) <= hi:
        raise UsageError(f"{key}: must be an integer from {lo} to {hi}, got {text!r}")
    return int(text)


def _run_setting(key: str, text: str):
    """``run.workers``, ``run.executor`` or ``run.dask_address``: where the calibration's batches run."""
    if key == "run.workers":
        if text == "null":
            return None
        if not text.isdigit() or not 1 <= int(text) <= 1024:
            raise UsageError(f"run.workers: must be an integer from 1 to 1024, or null (this machine's cores), "
                             f"got {text!r}")
        return int(text)
    if key == "run.executor":
        if text not in ("local", "dask"):
            raise UsageError(f"run.executor: must be local or dask, got {text!r}")
        if text == "dask":
            import importlib.util

            if importlib.util.find_spec("distributed") is None:
                raise UsageError("run.executor: dask needs the dask extra: pip install -e '.[dask]'")
        return text
    if key == "run.dask_address":
        if text != "null" and not (text.startswith(("tcp://", "tls://")) and len(text) > 6):
            raise UsageError(f"run.dask_address: must be a scheduler address such as tcp://HOST:8786, or null, "
                             f"got {text!r}")
        return None if text == "null" else text
    raise UsageError(f"{key}: unknown; choose one of run.workers, run.executor, run.dask_address")


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not FIRST <= day <= LAST:
        raise UsageError(f"scenario.as_of: must be a date YYYY-MM-DD from {FIRST} to {LAST}, got {text!r}")
    return day


def parse(args: list[str], verb: str = "calibrate") -> tuple[dt.date | None, dict, Path | None, bool]:
    """The date, the settings overrides, the output folder and whether to draw figures.

    Raises:
        UsageError: naming the first bad argument.
    """
    as_of, overrides, out, figures = None, {}, None, True
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--no-figures":
            figures = False
        elif arg == "--out":
            if not rest:
                raise UsageError("--out: needs a folder")
            out = Path(rest.pop(0))
        elif arg.startswith("scenario.as_of="):
            as_of = _date(arg.split("=", 1)[1])
        elif arg.startswith("run.") and "=" in arg:
            key, value = arg.split("=", 1)
            overrides[key.split(".", 1)[1]] = _run_setting(key, value)
        elif arg.startswith("calibrate.") and "=" in arg:
            key, value = arg.split("=", 1)
            if key.split(".", 1)[1] in ("workers", "executor", "dask_address"):  # the runner's, as for a run
                raise UsageError(f"{key}: set where the batches run as run.{key.split('.', 1)[1]}=VALUE")
            if key.split(".", 1)[1] not in (*_INTS, "quantile"):
                raise UsageError(f"{key}: unknown; choose one of calibrate.{', calibrate.'.join([*_INTS, 'quantile'])}")
            overrides[key.split(".", 1)[1]] = _number(key, value)
        else:
            raise UsageError(f"{arg!r}: not an argument of python -m sim {verb} ({USAGE.split(': ', 1)[1]})")
    return as_of, overrides, out, figures


def check_out(out: Path) -> None:
    """Refuse a folder that holds a calibration already, or a file: nothing in results/ is overwritten."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file; give a new folder")
    if (out / "posterior.parquet").exists():
        raise UsageError(f"--out {out}: holds a calibration already; give a new folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "calibration.json").is_file():
        raise UsageError(f"--out {out}: holds other files and no stopped calibration; give a new folder")


def bar(total: int, desc: str):
    """A progress callback over ``total`` steps (a tqdm bar on a terminal), and the bar to close."""
    from tqdm.auto import tqdm

    b = tqdm(total=total, desc=desc, unit="gen", disable=None)

    def step(done: int, _total: int) -> None:
        b.update(done - b.n)

    return step, b


def main(args: list[str]) -> int:
    """Entry point of the ``calibrate`` verb; the exit status."""
    if any(a in ("-h", "--help") for a in args):
        print(USAGE + "\n\nFit the shared US objectives and the per-case parameters to the panel's arrangements "
              "announced on or before the date, by ABC-SMC (docs/calibrate.md). Run the same command with --out "
              "the folder of a stopped calibration to resume it.")
        return 0
    from sim.inference.calibrate import load_settings
    from sim.inference.folder import CalibrationFolder, FolderError, record_of

    try:
        as_of, overrides, out, figures = parse(args)
        if as_of is None:
            raise UsageError("scenario.as_of: required, a date YYYY-MM-DD (the observations dated on or before it)")
        out = out or Path("results/calibrate") / f"{as_of}_{dt.datetime.now():%Y-%m-%d_%H-%M-%S}"
        check_out(out)
        settings = load_settings(overrides)
        folder = CalibrationFolder(out, settings)
        folder.claim(record_of(as_of, settings))
    except (UsageError, FolderError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return _run(as_of, settings, folder, figures)


def _run(as_of: dt.date, settings: dict, folder, figures: bool) -> int:
    """Calibrate into ``folder`` (resuming what it holds) and write the posterior's files; the exit status."""
    from tqdm.auto import tqdm

    from sim.config import ConfigError
    from sim.inference.calibrate import calibrate
    from sim.inference.posterior import write
    from sim.run.executors import sigterm_as_interrupt
    from sim.run.runner import Interrupted

    out, resumed = folder.folder, folder.done()
    if resumed:
        print(f"resuming {out}: {resumed} generation(s) done", file=sys.stderr)
    folder.bar = tqdm(total=None, desc=f"calibrate as of {as_of}", unit="neg", disable=None)

    def step(done: int, total: int) -> None:
        folder.bar.set_postfix_str(f"generation {min(done + 1, total)}/{total}" if done < total else "check")

    try:
        with sigterm_as_interrupt():
            cal = calibrate(as_of, settings, progress=step, folder=folder)
    except (KeyboardInterrupt, Interrupted):
        print(f"\nstopped: {folder.done()} generation(s) kept in {out}; run the same command with --out {out} to "
              "resume", file=sys.stderr)
        return 130
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        folder.bar.close()
        folder.close()
    if not cal.observed:
        print(f"note: no panel arrangement was announced on or before {as_of}: the posterior is the prior sample")
    written = write(cal, out, figures)
    inside = int(cal.ppc["inside"].sum())
    print(f"{len(cal.observed)} observations, {cal.result.simulations} simulations, {cal.result.wall_s:.1f} s; "
          f"posterior predictive: {inside} of {len(cal.ppc)} observations inside their 10-90 % band")
    print(f"written to {out}: " + ", ".join(str(p.relative_to(out)) for p in written))
    return 0


def calibrate_first(args: list[str]) -> list[str] | int:
    """For ``run ... forecast.source=posterior`` without ``forecast.calibration``: calibrate as of the forecast's
    ``scenario.as_of`` into a new folder under results/calibrate/ and return the arguments with
    ``forecast.calibration=<that folder>``; the arguments unchanged otherwise, or an exit status after one line.

    The rest of the command line is checked first (as a prior forecast), so a mistake in it is reported before the
    calibration's minute of work.
    """
    overrides = [a for a in args if not a.startswith("-")]
    if "forecast.source=posterior" not in overrides or any(a.startswith("forecast.calibration=") for a in overrides):
        return args
    from omegaconf import OmegaConf

    from sim.config.compose import compose_config
    from sim.config.posterior_draws import vantage_dates
    from sim.preflight import UsageError as Refused
    from sim.preflight import check

    try:
        check([o for o in overrides if o != "forecast.source=posterior"], False, claim=False)
    except Refused:
        return args  # the run verb reports it, in its own words
    _, dates = vantage_dates(OmegaConf.to_container(compose_config(*overrides), resolve=True))
    if not dates:
        print("error: forecast.source=posterior: needs scenario.as_of (the posterior is calibrated as of it)",
              file=sys.stderr)
        return 2
    as_of = min(dates)  # the earliest vantage date of the run's worlds (a sweep of scenario.as_of: its first)
    out = Path("results/calibrate") / f"{as_of}_{dt.datetime.now():%Y-%m-%d_%H-%M-%S}"
    status = main([f"scenario.as_of={as_of}", "--out", str(out)])
    return [*args, f"forecast.calibration={out}"] if status == 0 else status


def backtest_main(args: list[str]) -> int:
    """Entry point of the ``backtest`` verb; the exit status."""
    usage = ("usage: python -m sim backtest [calibrate.KEY=VALUE ...] [--out DIR]\n\nFor each panel arrangement in "
             "date order: calibrate on the observations dated before it, forecast it from the day before its "
             "announcement, and score the bands against the prior-only forecast (docs/calibrate.md).")
    if any(a in ("-h", "--help") for a in args):
        print(usage)
        return 0
    try:
        as_of, overrides, out, _ = parse(args, "backtest")
        ignored = [k for k in ("workers", "executor", "dask_address") if k in overrides]
        if ignored:
            raise UsageError(f"run.{ignored[0]}: not an argument of backtest (its calibrations run in this process)")
        if as_of is not None:
            raise UsageError("scenario.as_of: not an argument of backtest (each case is forecast from the day before "
                             "its own announcement)")
        out = out or Path("results/backtest") / f"{dt.datetime.now():%Y-%m-%d_%H-%M-%S}"
        if out.exists() and not out.is_dir() or (out / "backtest.csv").exists():
            raise UsageError(f"--out {out}: is a file or holds a backtest already; give a new folder")
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from sim.inference.backtest import COLUMNS, backtest, scores
    from sim.inference.calibrate import load_settings
    from sim.run.outputs import atomic_write

    settings = load_settings(overrides)
    step, b = bar(len(settings["cases"]), "backtest")
    table = backtest(settings, progress=step)
    b.close()
    summary = scores(table)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "backtest.csv", lambda p: table[COLUMNS + ["source", "interval_score"]].to_csv(p, index=False))
    atomic_write(out / "backtest_scores.csv", lambda p: summary.to_csv(p, index=False))
    print(summary.round(3).to_string(index=False))
    print(f"written to {out}: backtest.csv, backtest_scores.csv")
    return 0
