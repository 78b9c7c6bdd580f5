"""The ``run`` verb: a thin ``@hydra.main`` wrapper around plan -> execute -> summarise -> plot.

Only this module touches Hydra's runtime (the output folder); everything it calls takes explicit
arguments, so tests can call :func:`run_experiment` with a composed config and a temporary folder.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.config import CONF_DIR, ConfigError, plan
from sim.config.points import column_name
from sim.console import quiet_broken_pipe, route_logs
from sim.latest import link_latest
from sim.report.labels import heading
from sim.report.summary import by_point, format_points, lead, report, summary_columns
from sim.run.outputs import atomic_write, write_metadata
from sim.run.columns import drawn_columns, table_entries
from sim.run.executors import sigterm_as_interrupt
from sim.run.lock import RunLock
from sim.run.manifest import remembering
from sim.run.runner import Interrupted, execute
from sim.run.readback import OutcomeColumns, RunData, RunDirError, load_run, read_outcomes, read_table, to_frame
from sim.run.store import DiskFull, guard_disk, is_disk_full

__all__ = ["main", "run_experiment"]

log = logging.getLogger("sim")


# what metadata.json's wall_seconds covers
WALL_SECONDS = ("this invocation, from validating the config to the last figure: simulating, writing and "
                "merging the parts, the summary and the figures (not Python start-up and imports; after a "
                "resume, only the resumed part)")
FIGURES_BYTES = 4_000_000  # about what the figures of a run take (PNG and SVG), for a full-disk message


def run_experiment(cfg: DictConfig, out_dir: Path, progress: bool | None = None,
                   command: str | None = None, checked=None) -> str:
    """Run (or resume) the experiment ``cfg`` describes in ``out_dir`` and write its run folder.

    Args:
        cfg: A composed config.
        out_dir: The run folder.
        progress: Progress bar on or off; ``None`` uses ``run.progress`` (default: only on a terminal).
        command: The shell command that re-runs (or resumes) this run, for ``metadata.json``.
        checked: The plan the pre-run check made (:class:`sim.preflight.CheckedPlan`), used when it was made
            of this very config; else (or when None) the config is validated and planned here.

    Returns:
        The terminal summary.
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    container = OmegaConf.to_container(cfg, resolve=True)
    made = checked.for_config(container) if checked is not None else None
    the_plan = made if made is not None else plan(container)
    # one run at a time in a folder, released however this process ends; a merged file checked against its digest
    with RunLock(out_dir), remembering():  # is read without hashing it again while it is unchanged (this command)
        return _run_locked(cfg, container, the_plan, out_dir, progress, command, start)


def _run_locked(cfg: DictConfig, container: dict, the_plan, out_dir: Path, progress: bool | None,
                command: str | None, start: float) -> str:
    """:func:`run_experiment` once the run folder is locked."""
    progress = cfg.run.progress if progress is None else progress
    from sim.analysis.sensitivity import write_design

    design = write_design(out_dir, container, the_plan)  # design.json/.csv, so the analysis can be redone
    sweep = execute(the_plan, out_dir, container, progress=progress)
    # the whole table only for what reads all of it (the figures, the sensitivity indices); the summary and the
    # forecast read their own columns (text as categories), so that a large sweep's summary stays small in memory
    whole = bool(cfg.run.plot) or (design is not None and design.is_sensitivity)
    outcomes = to_frame(read_outcomes(out_dir)) if whole else None
    formats = container["run"].get("figure_formats", ["png"])
    drawing = _start_figures(outcomes, out_dir, the_plan, formats) if cfg.run.plot else None
    try:
        return _summarise(cfg, container, out_dir, the_plan, sweep, outcomes, drawing, formats, command, start,
                          design)
    finally:
        if drawing is not None:
            drawing.stop()


FIGURE_WORKERS = 2  # figures drawn at once when the fork server has the figure modules (the run verb)


def _start_figures(outcomes, out_dir: Path, the_plan, formats: list[str]):
    """Start drawing the figures in workers, while the summary is written, when the ``run`` verb has
    started a fork server with the figure modules; else None (they are drawn here, afterwards)."""
    from sim.report import PRELOAD
    from sim.run.workers import preloaded

    if not preloaded(*PRELOAD):
        return None
    from sim.report.parallel import draw_in_workers

    rounds = _rounds(out_dir, outcomes)
    return draw_in_workers(RunData(outcomes=outcomes, rounds=rounds, plan=the_plan), out_dir, formats,
                           FIGURE_WORKERS)


def _rounds(out_dir: Path, outcomes):
    rounds, _ = read_table(out_dir, "rounds")  # checked against its digest, as every read
    return to_frame(rounds) if rounds is not None else outcomes.iloc[:0]


def _metadata(the_plan, sweep, command: str | None) -> dict:
    """What ``metadata.json`` records of a finished sweep (its wall time is filled in when it is written)."""
    return {
        "command": command,
        "root_seed": the_plan.root_seed,
        "seeds_per_point": the_plan.seeds,
        "grid_points": len(the_plan.points),
        "negotiations": the_plan.n_worlds,
        "chunks": sweep.n_chunks,
        "chunks_resumed": sweep.resumed,
        "chunks_recomputed": sweep.recomputed,
        "code_versions": sweep.code_versions,
        "swept_keys": the_plan.swept_keys,
        "swept_columns": the_plan.swept_columns,
        "swept_columns_means": "output column -> the config key it holds (sim.config.sweep.column_name: a leading "
                               "'scenario.' dropped, '.' and '-' replaced by '_')",
        "prior_keys": the_plan.prior_keys,
        "common_random_numbers": the_plan.common_random_numbers,
        "executor": the_plan.executor,
        "workers": sweep.workers,
        "workers_means": "worker processes (Dask: threads) that computed chunks; 1 = in this process, "
                         "0 = every chunk was already done",
        "simulate_seconds": round(sweep.seconds, 3),
        "wall_seconds": None,
        "wall_seconds_means": WALL_SECONDS,
        "stakes_usd": the_plan.points[0].stakes_usd,
    }


def _summary_columns(the_plan) -> tuple[dict[str, str], list[str]]:
    """The grid point's columns (output column -> config key) and every column ``summary.csv`` and the terminal
    summary read."""
    space = the_plan.points[0].structure.space
    # the keys drawn from their priors are recorded per negotiation, but the summary is by grid point
    drawn = drawn_columns(the_plan)
    keys = {column: key for key, column in the_plan.columns.items() if column not in drawn}  # output column -> key
    written = table_entries(the_plan)["outcomes"]  # the columns this run's table has
    return keys, [c for c in summary_columns(list(keys), space, [pid for pid, _ in the_plan.parties]) if c in written]


def _point_summary(view: OutcomeColumns, the_plan, sweep):
    """``summary.csv``'s table and the terminal summary, from ``view`` (the run's outcomes, read a few columns at
    a time, text as categories), so that a large sweep's summary stays small in memory."""
    space = the_plan.points[0].structure.space
    keys, _ = _summary_columns(the_plan)
    table = by_point(view, list(keys), space)
    names = dict(the_plan.parties)
    summary = report(view, space, sweep.seconds, names) + "\n\n" + format_points(table, keys, names=names)
    head = lead(view, keys, the_plan.points[0].structure, lambda key: heading(key, names))
    if head:  # the result the run exists for comes first
        summary = head + "\n\n" + summary
    return table, summary


def _forecast_columns(the_plan) -> list[str]:
    """The outcome columns a forecast reads (its vantage date, whether and when a deal was made, the terms)."""
    from sim.report.forecast import VANTAGE

    written = table_entries(the_plan)["outcomes"]
    wanted = [column_name(VANTAGE), "deal", "end_round", "end_date", *the_plan.points[0].structure.space.names]
    return [c for c in wanted if c in written]


def _forecast_view(view: OutcomeColumns, the_plan):
    """The outcome columns a forecast reads, from ``view`` (its dates as ``datetime64``, not a million objects)."""
    return view(_forecast_columns(the_plan), dates_as_objects=False)


def _summarise(cfg: DictConfig, container: dict, out_dir: Path, the_plan, sweep, outcomes, drawing,
               formats: list[str], command: str | None, start: float, design) -> str:
    """summary.csv, metadata.json and the figures of a finished sweep; the terminal summary."""
    from sim.report import forecast

    finish_forecast, applies = None, forecast.applies(container)
    # the summary's and the forecast's columns from one view of the run's outcomes, checked against its digest once
    read = OutcomeColumns.from_run(out_dir, list(dict.fromkeys(
        [*_summary_columns(the_plan)[1], *(_forecast_columns(the_plan) if applies else [])])))
    if applies:  # an ensemble from the priors, or from a vantage date: its tables now, its
        with guard_disk(out_dir, lambda: FIGURES_BYTES):  # figures beside the others (in their workers, if any)
            view = outcomes if outcomes is not None else _forecast_view(read, the_plan)  # not a million
            finish_forecast = forecast.start(out_dir, view, the_plan, container,  # worlds' whole table
                                             formats if cfg.run.plot else None, drawing)
            del view  # not held while the summary reads its own columns
    table, summary = _point_summary(read, the_plan, sweep)
    info = _metadata(the_plan, sweep, command)

    def finish_metadata() -> None:
        info["wall_seconds"] = round(time.perf_counter() - start, 3)
        write_metadata(out_dir, cfg, info)

    with guard_disk(out_dir, lambda: FIGURES_BYTES):
        atomic_write(out_dir / "summary.csv", lambda p: table.to_csv(p, index=False))
        finish_metadata()  # written before the figures too, so a failed plot leaves it in place
    if sweep.resumed:
        summary = f"resumed: {sweep.resumed} of {sweep.n_chunks} chunks were already done\n" + summary
    if sweep.recomputed:
        summary = f"recomputed {len(sweep.recomputed)} chunk(s) whose parts were missing or damaged\n" + summary
    if cfg.run.plot:
        with guard_disk(out_dir / "figures", lambda: FIGURES_BYTES):
            if drawing is not None:
                written, skipped = drawing.result()
            else:
                from sim.report.plots import draw_all
            
                written, skipped = draw_all(RunData(outcomes=outcomes, rounds=_rounds(out_dir, outcomes),
                                                    plan=the_plan), out_dir, formats=formats)
            finish_metadata()
        summary += "\n\n" + describe_figures(written, skipped)
    if design is not None and design.is_sensitivity:  # the indices at the end of a sensitivity run
        from sim.analysis.analyze import analyze_run, format_report
    
        result = analyze_run(out_dir, figures=bool(cfg.run.plot),
                             data=RunData(outcomes=outcomes, rounds=outcomes.iloc[:0], plan=the_plan))
        summary += "\n\n" + format_report(result) + "\n(sensitivity.csv" + (
            ", figures/sensitivity.png)" if cfg.run.plot else ")")
    if finish_forecast is not None:
        with guard_disk(out_dir, lambda: FIGURES_BYTES):
            files = finish_forecast()
        summary += "\n\nforecast: " + ", ".join(f.name for f in files) + "\n" + forecast.describe(out_dir)
    return summary


def describe_figures(written: list[Path], skipped: list[tuple[str, str]]) -> str:
    """Which figures were drawn, and which were skipped and why."""
    names = list(dict.fromkeys(p.stem for p in written))
    formats = ", ".join(dict.fromkeys(p.suffix.lstrip(".") for p in written))
    lines = [f"figures ({formats}): " + ", ".join(names) if names else "figures: none"]
    lines += [f"  skipped {name}: {reason}" for name, reason in skipped]
    return "\n".join(lines)


def plot(run_dir: Path, formats: list[str] | None = None, only: list[str] | None = None, dpi: int | None = None,
         scale: float = 1.0) -> int:
    """The ``plot`` verb: draw every figure the run folder's data supports (or those in ``only``).

    Args:
        run_dir: The run folder.
        formats: File formats (png, svg, pdf); ``None``: those of the figure files already in the
            folder, so that a redraw replaces them all, else PNG.
        only: Figure names to draw; ``None`` draws all.
        dpi: PNG resolution; ``None``: 150.
        scale: Scale on each figure's size.

    Returns:
        0; 2 with one line on stderr for a folder that cannot be read or written; 1 for a full disk;
        130 on Ctrl-C.
    """
    from sim.report.plots import draw_all
    from sim.report.style import DPI, FORMATS

    run_dir = Path(run_dir)
    try:
        data, notice = load_run(run_dir)
    except RunDirError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    figures = run_dir / "figures"
    try:
        if figures.exists() and not figures.is_dir():
            raise NotADirectoryError(f"{figures} is a file, not a folder")
        figures.mkdir(exist_ok=True)
        if not os.access(figures, os.W_OK | os.X_OK):
            raise PermissionError("permission denied")
    except OSError as err:
        print(f"error: cannot write the figures into {figures} ({err.strerror or err})", file=sys.stderr)
        return 2
    if notice:
        print(f"note: {notice}")
    if not data.outcomes["deal"].any():
        print("note: no negotiation in this run ended in a deal; figures about agreements are skipped")
    if formats is None:
        there = {p.suffix.lstrip(".") for p in figures.glob("*.*")}
        formats = [f for f in FORMATS if f in there] or ["png"]
    try:
        written, skipped = draw_all(data, run_dir, formats=formats, only=only, dpi=dpi or DPI, scale=scale)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the figures drawn so far are in {_relative(figures)}; to draw them all, run "
              f"python -m sim plot {shlex.quote(_relative(run_dir))}", file=sys.stderr)
        return 130
    except OSError as err:
        if is_disk_full(err):
            print(f"error: no space left on the device of {figures}: about {FIGURES_BYTES / 1e6:.0f} MB is "
                  "needed for the figures", file=sys.stderr)
            return 1
        print(f"error: cannot write the figures into {figures} ({err.strerror or err})", file=sys.stderr)
        return 2
    print(describe_figures(written, skipped))
    print(f"written to {_relative(figures)}")
    return 0


def rerun_command(out_dir: Path, overrides: list[str]) -> str:
    """The shell command that re-runs (or resumes) a run: its overrides and its folder."""
    args = [a for a in overrides if not a.startswith(("hydra.run.dir=", "hydra.sweep.dir="))]
    return shlex.join(["python", "-m", "sim", "run", *args, f"hydra.run.dir={_relative(out_dir)}"])


def guarded_run(cfg: DictConfig, out_dir: Path, overrides: list[str], checked=None) -> int:
    """Run the experiment, print its summary, and turn a stop or failure into one message and a status.

    ``checked`` is the pre-run check's plan (see :func:`run_experiment`).

    Returns:
        0; 130 when stopped by Ctrl-C or SIGTERM (resumable); 2 for a config or folder refused; 1 for
        a full disk (the chunks finished so far are kept).
    """
    command = rerun_command(out_dir, overrides)
    link_latest(out_dir, str(cfg.run.name))
    try:
        with sigterm_as_interrupt():
            summary = run_experiment(cfg, out_dir, command=command, checked=checked)
    except Interrupted as stop:
        print(f"\ninterrupted: {stop.done} of {stop.total} chunks are saved in {_relative(out_dir)}.\n"
              f"To resume, run the same command again with hydra.run.dir={_relative(out_dir)}:\n  {command}",
              file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"\ninterrupted (outside the chunk loop: checking, merging, summarising or plotting): every "
              f"finished chunk is saved in {_relative(out_dir)}.\nTo finish, run the same command again with "
              f"hydra.run.dir={_relative(out_dir)}:\n  {command}", file=sys.stderr)
        return 130
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except DiskFull as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    try:
        print(summary)
        print(f"\nrun folder: {_relative(out_dir)}")
        sys.stdout.flush()
    except BrokenPipeError:  # python -m sim run ... | head: the run folder is complete
        quiet_broken_pipe()
    return 0


def main(checked=None) -> None:
    """Run the command line's experiment (or ``-m`` jobs) with Hydra: Hydra makes the run folder (its ``.hydra/``
    files) and calls the task once per job.

    Args:
        checked: What the pre-run check composed and planned (:class:`sim.preflight.Checked`): Hydra runs those
            configs (:func:`_launch`), each with its plan, without composing them again. None (``--cfg``,
            ``--info``, ...): ``@hydra.main`` reads the command line and composes the config itself.
    """

    earlier: dict[str, str] = {}  # this command's -m jobs run so far: job folder -> digest of its summary.csv

    def task(cfg: DictConfig) -> None:
        """Run one experiment into Hydra's run folder and print its summary."""
        route_logs(verbose=bool(cfg.run.get("verbose", False)))
        hydra_cfg = HydraConfig.get()
        out_dir = Path(hydra_cfg.runtime.output_dir)
        overrides = list(hydra_cfg.overrides.task)
        status = guarded_run(cfg, out_dir, overrides, checked.plan_for(overrides) if checked is not None else None)
        if status:
            raise SystemExit(status)
        if hydra_cfg.mode == RunMode.MULTIRUN and (note := same_table_note(out_dir, int(cfg.run.seeds), earlier)):
            print(note)

    if checked is None or not checked.jobs:
        hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")(task)()
    else:
        _launch(checked, task)


def _launch(checked, task) -> None:
    """Run the checked configs as ``@hydra.main`` runs a composed config (``Hydra.run`` and ``Hydra.multirun``):
    a run with Hydra's ``run_job``; a ``-m`` sweep with Hydra's sweeper and launcher, whose config loader hands
    them each job's config as the check composed it. Callbacks the config names (``hydra.callbacks``) are
    called as Hydra calls them."""
    from hydra._internal.callbacks import Callbacks  # Hydra's own caller of hydra.callbacks (no public name)
    from hydra.core.plugins import Plugins
    from hydra.core.utils import configure_log, run_job
    from hydra.types import HydraContext

    cfg = checked.sweep if checked.sweep is not None else checked.jobs[0].config
    configure_log(cfg.hydra.hydra_logging, cfg.hydra.verbose)
    callbacks = Callbacks(cfg)
    context = HydraContext(config_loader=checked.config_loader(), callbacks=callbacks)
    if checked.sweep is None:
        callbacks.on_run_start(config=cfg, config_name="config")
        done = run_job(task_function=task, config=cfg, job_dir_key="hydra.run.dir", job_subdir_key=None,
                       hydra_context=context)
        callbacks.on_run_end(config=cfg, config_name="config", job_return=done)
        _ = done.return_value  # a failed job's exception, raised
        return
    callbacks.on_multirun_start(config=cfg, config_name="config")
    sweeper = Plugins.instance().instantiate_sweeper(config=cfg, hydra_context=context, task_function=task)
    sweeper.sweep(arguments=list(cfg.hydra.overrides.task))
    callbacks.on_multirun_end(config=cfg, config_name="config")


def same_table_note(job_dir: Path, seeds: int, earlier: dict[str, str]) -> str | None:
    """A note when a multirun job's table (``summary.csv``) equals an earlier job's, with the likely cause;
    else None.

    Args:
        job_dir: The job's folder.
        seeds: ``run.seeds``, for the note.
        earlier: The jobs of this command run before it (one after another, in this process): job folder ->
            digest of its table; this job's is added. :func:`main` keeps one per command, so that a sweep run
            again in the same process (a resume from a notebook) is not compared with itself.
    """
    import hashlib

    summary = Path(job_dir) / "summary.csv"
    if not summary.is_file():
        return None
    digest = hashlib.sha256(summary.read_bytes()).hexdigest()
    twin = next((name for name, d in earlier.items() if d == digest), None)
    earlier[Path(job_dir).name] = digest
    if twin is None:
        return None
    return (f"note: this job's table is identical to that of job {twin}: the setting that differs changed no "
            f"negotiation. Likely cause: with {seeds} seed(s) per point and common random numbers, a small "
            "probability (a breakdown risk, a red line's strength) is never drawn, or the key does not apply to "
            "this scenario, protocol or strategy; raise run.seeds or check the key (python -m sim run --help)")


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
