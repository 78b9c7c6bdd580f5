"""A calibration's run folder: each batch of worlds run by the project's runner, and each finished generation kept.

Every simulator call of a calibration (one batch of parameter vectors: the prior sample, one ABC-MCMC move of a
generation, the posterior predictive check) runs, per panel case, as an ensemble plan
(:func:`sim.config.sweep.plan` with the particles as its sample) executed by :func:`sim.run.runner.execute` into
its own folder, ``generations/<step>/<case>/``: chunked, on the local worker processes or a Dask cluster
(``workers``, ``executor``, ``dask_address`` of ``conf/inference/calibrate.yaml``), with the runner's resume and
its outcome table identical whatever the number of workers.

After each generation, ``state/gen_<g>.parquet`` (the particles on the sampler's scale, their distances and
weights) and then ``state/gen_<g>.json`` (the generation's record, the generator's state and the Parquet file's
SHA-256) are written, each atomically; the JSON file is the generation's commit. A calibration stopped at any
point and started again with the same command goes on from its last committed generation (a batch it had started
resumes chunk by chunk) and ends with the same posterior. ``calibration.json`` records what the folder is a
calibration of (date, settings, code version), so that a folder is resumed only by the same calibration. Every
file read back is Parquet or JSON: nothing is unpickled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from sim.inference.abc import Generation, State

__all__ = ["RUN_SETTINGS", "CalibrationFolder", "FolderError", "record_of"]

RUN_SETTINGS = ("workers", "executor", "dask_address")  # where a calibration runs: not what it computes
RECORD = "calibration.json"


class FolderError(Exception):
    """A folder that cannot hold this calibration: its one line."""


def record_of(as_of: dt.date, settings: dict, before: bool = False) -> dict:
    """What a calibration folder is a calibration of: the date, the settings that shape the posterior, the code."""
    from sim.run.manifest import code_version

    return {"as_of": as_of.isoformat(), "before": bool(before), "code": code_version(),
            "settings": {k: v for k, v in sorted(settings.items()) if k not in RUN_SETTINGS}}


def _samples_digest(columns: dict[str, np.ndarray]) -> str:
    """SHA-256 of a batch's sampled columns (names and float bytes), so a batch folder resumes only its batch."""
    h = hashlib.sha256()
    for key in sorted(columns):
        h.update(key.encode())
        h.update(np.ascontiguousarray(columns[key]).tobytes())
    return h.hexdigest()


class CalibrationFolder:
    """The run folder of one calibration: the runner's batches, and the generations' checkpoint.

    Args:
        folder: The calibration's folder.
        settings: The calibration's settings (``chunk_size``, and where to run: :data:`RUN_SETTINGS`).
        bar: Something with ``update(n)`` told of every world simulated (a tqdm bar), or None.
    """

    def __init__(self, folder: Path, settings: dict, bar=None):
        self.folder, self.bar, self.step = Path(folder), bar, "gen_00"
        self.run = {"workers": settings.get("workers"), "executor": settings.get("executor", "local"),
                    "dask_address": settings.get("dask_address"), "chunk_size": int(settings["chunk_size"]),
                    "progress": False, "plot": False}
        self.cluster = None

    # -- where it is recorded ------------------------------------------------------------------------

    def claim(self, record: dict) -> None:
        """Record what this folder is a calibration of, or check that it already holds the same one.

        Raises:
            FolderError: it holds another calibration (other date, settings or code), or a finished one.
        """
        from sim.run.outputs import atomic_write

        if (self.folder / "posterior.parquet").exists():
            raise FolderError(f"{self.folder}: holds a calibration already; give a new folder")
        path = self.folder / RECORD
        if path.exists():
            held = json.loads(path.read_text())
            if held != record:
                diff = sorted(k for k in set(held) | set(record) if held.get(k) != record.get(k))
                raise FolderError(f"{self.folder}: holds a stopped calibration with another {', '.join(diff)}; run the "
                                  "same command to resume it, or give a new folder")
            return
        atomic_write(path, lambda p: p.write_text(json.dumps(record, indent=1) + "\n"))

    def at(self, step: str) -> None:
        """The batches that follow are of ``step`` (their folders: ``generations/<step>/<case>``)."""
        self.step = step

    # -- the generations' checkpoint -----------------------------------------------------------------

    def save(self, state: State) -> None:
        """Write a finished generation: its particles (Parquet), then its record (JSON, the commit)."""
        from sim.run.manifest import file_digest
        from sim.run.outputs import atomic_write

        name = f"gen_{state.generation:02d}"
        frame = pd.DataFrame(state.z, columns=[f"z{k}" for k in range(state.z.shape[1])])
        frame["distance"] = state.distances
        frame["weight"] = np.full(len(frame), 1.0 / len(frame))
        table = self.folder / "state" / f"{name}.parquet"
        atomic_write(table, lambda p: frame.to_parquet(p, index=False))
        record = {"generation": state.generation, "particles": table.name, "sha256": file_digest(table),
                  "generations": [asdict(g) for g in state.generations], "rng": state.rng, "wall_s": state.wall_s}
        atomic_write(table.with_suffix(".json"), lambda p: p.write_text(json.dumps(record, indent=1) + "\n"))

    def load(self) -> State | None:
        """The last committed generation, or None (a new calibration).

        Raises:
            FolderError: its particles do not match the SHA-256 its record holds.
        """
        from sim.run.manifest import file_digest

        records = sorted((self.folder / "state").glob("gen_*.json"))
        if not records:
            return None
        record = json.loads(records[-1].read_text())
        table = records[-1].with_suffix(".parquet")  # its own name, never a path read from the record
        if not table.is_file() or file_digest(table) != record["sha256"]:
            raise FolderError(f"{table}: missing or damaged (its SHA-256 differs from {records[-1].name}); give a new "
                              "folder")
        frame = pd.read_parquet(table)
        z = frame[[c for c in frame.columns if c.startswith("z")]].to_numpy(dtype=np.float64)
        return State(int(record["generation"]), z, frame["distance"].to_numpy(dtype=np.float64),
                     [Generation(**g) for g in record["generations"]], record["rng"], float(record["wall_s"]))

    def done(self) -> int:
        """The generations committed (0: none, 1: the prior sample, ...)."""
        return len(list((self.folder / "state").glob("gen_*.json")))

    # -- the batches ---------------------------------------------------------------------------------

    def outcomes(self, case: str, cfg: dict, columns: dict[str, np.ndarray]) -> pd.DataFrame:
        """Run one batch of one case's worlds (``columns``: its sample) into ``generations/<step>/<case>`` and
        return its outcome table."""
        from sim.config.sweep import plan
        from sim.run.readback import read_outcomes
        from sim.run.runner import execute

        cfg = {**cfg, "run": {**cfg["run"], **self.run}}
        if self.run["executor"] == "dask" and not self.run["dask_address"]:
            cfg["run"]["dask_address"] = self._local_cluster()
        where = self.folder / "generations" / self.step / case
        # the batch's sample is part of the folder's fingerprint: a batch folder resumes only the same batch
        execute(plan(cfg, samples=columns), where, {**cfg, "inference": {"samples_sha256": _samples_digest(columns)}},
                progress=False)
        out = read_outcomes(where).to_pandas()
        if self.bar is not None:
            self.bar.update(len(out))
        return out

    def _local_cluster(self) -> str:
        """The address of a local Dask cluster started once for the whole calibration (not once per batch)."""
        from sim.run.executors import dask_client

        if self.cluster is None:
            workers = self.run["workers"]
            self.cluster = dask_client(None, int(workers) if workers else (os.cpu_count() or 1))
        return self.cluster.scheduler.address

    def close(self) -> None:
        """Stop the local Dask cluster, if one was started."""
        if self.cluster is not None:
            cluster = getattr(self.cluster, "cluster", None)
            self.cluster.close()
            if cluster is not None:
                cluster.close()
            self.cluster = None
