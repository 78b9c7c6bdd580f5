"""What a sweep will cost before it starts: an estimate of its time and of the disk it fills.

Both come from measured rates, kept here with where they were measured, and err on the high side:

* **disk**: about :data:`BYTES_PER_NEGOTIATION` per negotiation for its outcome row (the chunk's part and
  the merged ``outcomes.parquet``; 84 B merged and 120 B in parts were measured for
  ``+experiment=deadline_pressure run.seeds=1000``), and :data:`BYTES_PER_ROUND` per recorded round (49 B
  merged) for at most :data:`ROUNDS_PER_NEGOTIATION` rounds of each recorded negotiation;
* **time**: :data:`SECONDS_PER_NEGOTIATION` of one worker per negotiation, divided among the workers
  (2.3 s for those 64,000 negotiations on 2 workers of the 2-core development machine, 36 µs a worker;
  a 120-million sweep of ``+experiment=smoke`` ran at 27,000 a second on the same 2 workers while
  other work shared the machine, 74 µs a worker).

The run verb's check (:mod:`sim.preflight`) refuses a sweep that would not fit on the disk, and asks
for ``run.confirm=true`` before one that would take longer than :data:`CONFIRM_SECONDS`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CONFIRM_SECONDS", "Estimate", "estimate", "free_bytes", "human_bytes", "human_seconds"]

BYTES_PER_NEGOTIATION = 250
BYTES_PER_ROUND = 120  # 49 B merged, the rest in the parts
ROUNDS_PER_NEGOTIATION = 20
SECONDS_PER_NEGOTIATION = 80e-6
CONFIRM_SECONDS = 3600.0


@dataclass(frozen=True)
class Estimate:
    """A sweep's estimated cost.

    Attributes:
        negotiations: Negotiations in the sweep.
        seconds: Wall time of the simulation, writing and merging (not the figures).
        bytes: Disk the run folder will take (parts and merged tables).
    """

    negotiations: int
    seconds: float
    bytes: int

    def describe(self) -> str:
        """'N negotiations: about T and B' for a message."""
        return (f"{self.negotiations:,} negotiations: about {human_seconds(self.seconds)} and "
                f"{human_bytes(self.bytes)} (an estimate)")


def _recorded(plan) -> int:
    """Negotiations whose rounds are recorded (``run.record_rounds``)."""
    if plan.record_rounds == "all":
        return plan.n_worlds
    if plan.record_rounds == "none":
        return 0
    return len(plan.points) * min(int(plan.record_rounds), plan.seeds)


def estimate(plan, workers: int | None = None) -> Estimate:
    """The estimated time and disk of ``plan`` (a :class:`sim.config.sweep.Plan`) on ``workers`` processes."""
    n = plan.n_worlds
    size = n * BYTES_PER_NEGOTIATION + _recorded(plan) * ROUNDS_PER_NEGOTIATION * BYTES_PER_ROUND
    workers = max(1, workers or plan.workers)
    return Estimate(negotiations=n, seconds=n * SECONDS_PER_NEGOTIATION / workers, bytes=int(size))


def free_bytes(folder: Path) -> tuple[Path, int]:
    """The nearest existing folder at or above ``folder``, and the bytes free on its device."""
    folder = Path(folder).absolute()
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path(os.sep))
    return existing, shutil.disk_usage(existing).free


def human_bytes(n: float) -> str:
    """Bytes in the largest unit that keeps a number >= 1 (kB, MB, GB, TB)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:.0f} B"


def human_seconds(s: float) -> str:
    """Seconds as s, min or h."""
    if s >= 3600:
        return f"{s / 3600:,.1f} h"
    if s >= 60:
        return f"{s / 60:.0f} min"
    return f"{s:.0f} s"
