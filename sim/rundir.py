"""Read a run folder back: its config, outcomes and recorded rounds, for plotting or analysis.

Errors are one line and name the file: a folder that is not a run folder, and a Parquet file that
is partial or corrupt (it is never silently skipped).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.config import ConfigError, plan
from sim.plots import RunData

__all__ = ["RunDirError", "load_run"]


class RunDirError(Exception):
    """A run folder that cannot be read, with a one-line reason."""


def _read(path: Path) -> pd.DataFrame:
    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as err:
        reason = " ".join(str(err).split())
        raise RunDirError(f"{path}: cannot read this Parquet file; it is partial or corrupt ({reason})") from None


def load_run(run_dir: Path) -> tuple[RunData, str | None]:
    """Read ``run_dir``; return the data and a notice if the sweep in it is unfinished.

    Raises:
        RunDirError: the folder is not a run folder, or one of its files cannot be read.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such folder")
    config_path = run_dir / "config_resolved.yaml"
    merged, parts = run_dir / "outcomes.parquet", sorted((run_dir / "outcomes").glob("part-*.parquet"))
    if not config_path.exists() or not (merged.exists() or parts):
        raise RunDirError(f"{run_dir} is not a run folder: it needs config_resolved.yaml and outcomes.parquet "
                          "(written by python -m sim run)")
    try:
        the_plan = plan(OmegaConf.to_container(OmegaConf.load(config_path), resolve=True))
    except (ConfigError, OmegaConfBaseException) as err:
        raise RunDirError(f"{config_path}: cannot be used to re-make the run ({err})") from None
    notice = None
    if merged.exists():
        outcomes = _read(merged)
    else:
        outcomes = pd.concat([_read(p) for p in parts], ignore_index=True)
        notice = (f"the sweep in {run_dir} is unfinished: plotting the {len(parts)} chunks done so far "
                  f"({len(outcomes)} of {the_plan.n_worlds} negotiations)")
    rounds_path = run_dir / "rounds.parquet"
    if rounds_path.exists():
        rounds = _read(rounds_path)
    else:
        round_parts = sorted((run_dir / "rounds").glob("part-*.parquet"))
        rounds = pd.concat([_read(p) for p in round_parts], ignore_index=True) if round_parts else pd.DataFrame()
    return RunData(outcomes=outcomes, rounds=rounds, plan=the_plan), notice
