"""The worker processes: a fork server that has imported what the workers need, started once per process.

Starting a worker with ``spawn`` costs about 1.5 s of imports (Mesa, pandas, PyArrow, the engine; and
Matplotlib for figures). A fork server imports them once; every worker is then forked from it ready to
work. The server is a single-threaded process, so forking it is safe whatever threads this process
runs. The ``run`` verb starts it right after checking the command line, so that its imports overlap
with the main process's own work (composing the config, simulating); this module itself imports
nothing heavy.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver as forkserver

__all__ = ["PLOTTING", "PRELOAD", "ahead", "context", "plotting_ready", "start"]

PRELOAD = ["sim.run.runner", "sim.engine.model"]  # what a sweep's workers need (Mesa comes with the model)
PLOTTING = ["sim.report.plots"]  # what a figure's worker needs

_started: dict[str, bool] = {}


def start(plotting: bool = False, ahead: bool = False):
    """Start the fork server (if not yet started) and return the context that forks workers from it.

    Args:
        plotting: Preload the figure modules too, so that figures can be drawn in workers
            (:func:`sim.report.parallel.draw_in_workers`). Only the first call decides what is preloaded.
        ahead: The server is started ahead of the work (by the ``run`` verb), so a worker will cost a
            fork, not a start-up: even a small sweep is worth running in workers (:func:`ahead`).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():  # Windows: workers are spawned (slower start)
        _started.setdefault("plotting", False)
        _started["ahead"] = False
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    if "plotting" not in _started:
        ctx.set_forkserver_preload(PRELOAD + (PLOTTING if plotting else []))
        forkserver.ensure_running()
        _started["plotting"] = plotting
    _started["ahead"] = _started.get("ahead", False) or ahead
    return ctx


def context():
    """The workers' context (starting the fork server, without the figure modules, if not yet started)."""
    return start(False)


def plotting_ready() -> bool:
    """Whether the fork server was started with the figure modules, so figures are drawn in workers."""
    return _started.get("plotting", False)


def ahead() -> bool:
    """Whether the fork server was started ahead of the work (:func:`start`)."""
    return _started.get("ahead", False)
