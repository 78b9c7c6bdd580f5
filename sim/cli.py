"""The ``run`` verb: a thin ``@hydra.main`` wrapper around plan -> execute -> write -> plot.

Only this module touches Hydra's runtime (the output folder); everything it calls takes explicit
arguments, so tests can call :func:`run_experiment` with a composed config and a temporary folder.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim import plots
from sim.config import CONF_DIR, plan
from sim.outputs import write_run
from sim.runner import execute
from sim.summary import report

__all__ = ["main", "run_experiment"]

log = logging.getLogger("sim")


def run_experiment(cfg: DictConfig, out_dir: Path, progress: bool | None = None) -> str:
    """Run the experiment ``cfg`` describes and write its run folder.

    Args:
        cfg: A composed config (validated here again).
        out_dir: The run folder.
        progress: Progress bar on or off; ``None`` shows it only on a terminal.

    Returns:
        The terminal summary.
    """
    start = time.perf_counter()
    the_plan = plan(cfg)
    result = execute(the_plan, progress=progress)
    wall = time.perf_counter() - start
    info = {
        "root_seed": the_plan.root_seed,
        "seeds_per_point": the_plan.seeds,
        "grid_points": len(the_plan.points),
        "negotiations": the_plan.n_worlds,
        "swept_keys": the_plan.swept_keys,
        "common_random_numbers": the_plan.common_random_numbers,
        "wall_seconds_simulation": round(wall, 3),
        "stakes_usd": the_plan.points[0].stakes_usd,
    }
    write_run(out_dir, cfg, result.outcomes, result.rounds, info)
    summary = report(result.outcomes, the_plan.points[0].structure.space, wall)
    if cfg.run.plot:
        figures = plots.draw_all(out_dir, result.outcomes, result.rounds, the_plan.points[0].structure,
                                 the_plan.swept_keys)
        summary += "\n\nfigures: " + ", ".join(p.name for p in figures if p.suffix == ".png")
    return summary


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    """Run one experiment into Hydra's run folder and print its summary."""
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        summary = run_experiment(cfg, out_dir)
    except KeyboardInterrupt:
        print(f"\ninterrupted: files already in {out_dir} are complete; re-run the command to start again")
        raise SystemExit(130) from None
    print(summary)
    print(f"\nrun folder: {_relative(out_dir)}")


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
