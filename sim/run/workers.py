"""The worker processes: a fork server that has imported what the workers need, started once per process.

Starting a worker with ``spawn`` costs about 1.5 s of imports (Mesa, pandas, PyArrow, the engine; and
Matplotlib for figures). A fork server imports them once; every worker is then forked from it ready to
work. The server is a single-threaded process, so forking it is safe whatever threads this process
runs. The ``run`` verb starts it right after checking the command line, so that its imports overlap
with the main process's own work (composing the config, simulating); this module itself imports
nothing heavy.

What the server imports besides the engine is the caller's choice (``extra``): the ``run`` verb names
the figure modules (:data:`sim.report.PRELOAD`), so this floor names nothing above it. The server and
its workers end with this process, however it ends (:mod:`sim.run.lifeline`).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver as forkserver
from multiprocessing import resource_tracker
import os
import signal
import threading
from collections.abc import Sequence

from sim.run import lifeline

__all__ = ["PRELOAD", "ahead", "context", "preloaded", "start", "worker_init"]

# what a sweep's workers need (Mesa comes with the model); the lifeline first, so that the server is armed
# before its long imports
PRELOAD = ["sim.run.lifeline", "sim.run.runner", "sim.engine.model"]

_started: dict = {}


def start(extra: Sequence[str] = (), ahead: bool = False):
    """Start the fork server (if not yet started) and return the context that forks workers from it.

    Args:
        extra: Modules the server imports besides the engine, e.g. the figure modules, so that figures
            can be drawn in workers (:func:`preloaded`). Only the first call decides what is imported.
        ahead: The server is started ahead of the work (by the ``run`` verb), so a worker will cost a
            fork, not a start-up: even a small sweep is worth running in workers (:func:`ahead`).
    """
    ctx = multiprocessing.get_context("forkserver")
    if "preload" not in _started:
        preload = PRELOAD + [m for m in extra if m not in PRELOAD]
        ctx.set_forkserver_preload(preload)
        main_thread = threading.current_thread() is threading.main_thread()
        before = os.environ.get(lifeline.ENV)
        os.environ[lifeline.ENV] = f"{os.getpid()}:{int(main_thread)}"  # inherited by the server only
        # the server starts with Ctrl-C blocked (a signal mask survives exec) until it ignores it, so a Ctrl-C
        # while it imports is this process's alone: one line here, no traceback from the server
        blocked = main_thread and hasattr(signal, "pthread_sigmask")
        resource_tracker.ensure_running()  # first: starting it unblocks Ctrl-C again
        if blocked:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            forkserver.ensure_running()
        finally:
            if blocked:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            if before is None:
                os.environ.pop(lifeline.ENV, None)
            else:
                os.environ[lifeline.ENV] = before
        _started["preload"] = tuple(preload)
    _started["ahead"] = _started.get("ahead", False) or ahead
    return ctx


def context():
    """The workers' context (starting the fork server, with the engine only, if not yet started)."""
    return start()


def preloaded(*modules: str) -> bool:
    """Whether the fork server was started with ``modules`` imported (so those workers start ready)."""
    return bool(modules) and all(m in _started.get("preload", ()) for m in modules)


def ahead() -> bool:
    """Whether the fork server was started ahead of the work (:func:`start`)."""
    return _started.get("ahead", False)


def worker_init() -> None:
    """In a worker: end with the main process (:mod:`sim.run.lifeline`); leave Ctrl-C to the main process,
    which stops the pool (no traceback per worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lifeline.arm_worker()
