"""The ``run`` verb: a thin ``@hydra.main`` wrapper around plan -> execute -> summarise -> plot.

Only this module touches Hydra's runtime (the output folder); everything it calls takes explicit
arguments, so tests can call :func:`run_experiment` with a composed config and a temporary folder.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import hydra
import pyarrow.parquet as pq
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.config import CONF_DIR, ConfigError, plan
from sim.outputs import atomic_write, write_metadata
from sim.runner import Interrupted, execute, read_outcomes
from sim.summary import by_point, format_points, report

__all__ = ["main", "run_experiment"]

log = logging.getLogger("sim")


def run_experiment(cfg: DictConfig, out_dir: Path, progress: bool | None = None) -> str:
    """Run (or resume) the experiment ``cfg`` describes in ``out_dir`` and write its run folder.

    Args:
        cfg: A composed config (validated here again).
        out_dir: The run folder.
        progress: Progress bar on or off; ``None`` uses ``run.progress`` (default: only on a terminal).

    Returns:
        The terminal summary.
    """
    start = time.perf_counter()
    container = OmegaConf.to_container(cfg, resolve=True)
    the_plan = plan(container)
    progress = cfg.run.progress if progress is None else progress
    sweep = execute(the_plan, out_dir, container, progress=progress)
    outcomes = read_outcomes(out_dir).to_pandas()
    space = the_plan.points[0].structure.space
    coords = list(the_plan.coordinate_dtypes)
    table = by_point(outcomes, coords, space)
    atomic_write(Path(out_dir) / "summary.csv", lambda p: table.to_csv(p, index=False))
    wall = time.perf_counter() - start
    write_metadata(out_dir, cfg, {
        "root_seed": the_plan.root_seed,
        "seeds_per_point": the_plan.seeds,
        "grid_points": len(the_plan.points),
        "negotiations": the_plan.n_worlds,
        "chunks": sweep.n_chunks,
        "chunks_resumed": sweep.resumed,
        "swept_keys": the_plan.swept_keys,
        "common_random_numbers": the_plan.common_random_numbers,
        "executor": the_plan.executor,
        "workers": the_plan.workers,
        "wall_seconds": round(wall, 3),
        "stakes_usd": the_plan.points[0].stakes_usd,
    })
    names = dict(the_plan.parties)
    summary = report(outcomes, space, sweep.seconds, names) + "\n\n" + format_points(table, coords, names=names)
    if sweep.resumed:
        summary = f"resumed: {sweep.resumed} of {sweep.n_chunks} chunks were already done\n" + summary
    if cfg.run.plot:
        from sim.plots import RunData, draw_all

        rounds_path = Path(out_dir) / "rounds.parquet"
        rounds = pq.read_table(rounds_path).to_pandas() if rounds_path.exists() else outcomes.iloc[:0]
        written, skipped = draw_all(RunData(outcomes=outcomes, rounds=rounds, plan=the_plan), out_dir,
                                    formats=container["run"].get("figure_formats", ["png"]))
        summary += "\n\n" + describe_figures(written, skipped)
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
    """
    from sim.plots import draw_all
    from sim.rundir import RunDirError, load_run
    from sim.style import DPI, FORMATS

    try:
        data, notice = load_run(run_dir)
    except RunDirError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if notice:
        print(f"note: {notice}")
    if not data.outcomes["deal"].any():
        print("note: no negotiation in this run ended in a deal; figures about agreements are skipped")
    if formats is None:
        there = {p.suffix.lstrip(".") for p in (Path(run_dir) / "figures").glob("*.*")}
        formats = [f for f in FORMATS if f in there] or ["png"]
    written, skipped = draw_all(data, run_dir, formats=formats, only=only, dpi=dpi or DPI, scale=scale)
    print(describe_figures(written, skipped))
    print(f"written to {_relative(Path(run_dir) / 'figures')}")
    return 0


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    """Run one experiment into Hydra's run folder and print its summary."""
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        summary = run_experiment(cfg, out_dir)
    except Interrupted as stop:
        print(f"\ninterrupted: {stop.done} of {stop.total} chunks are saved in {_relative(out_dir)}.\n"
              f"To resume, run the same command again with hydra.run.dir={_relative(out_dir)}", file=sys.stderr)
        raise SystemExit(130) from None
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    print(summary)
    print(f"\nrun folder: {_relative(out_dir)}")


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
