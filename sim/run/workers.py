"""The worker processes: a fork server that has imported what the workers need, started once per process.

Starting a worker with ``spawn`` costs about 1.5 s of imports (Mesa, pandas, PyArrow, the engine; and
Matplotlib for figures). A fork server imports them once; every worker is then forked from it ready to
work. The server is a single-threaded process (its libraries are told to start no helper threads,
:data:`SINGLE_THREADED`), so forking it is safe whatever threads this process runs, and Python does not
warn that ``fork()`` may deadlock. The ``run`` verb starts it right after checking the command line, so that its imports overlap
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

__all__ = ["PRELOAD", "REUSED_MEMORY", "SINGLE_THREADED", "ahead", "context", "preloaded", "start", "worker_init"]

# what a sweep's workers need (Mesa comes with the model); the lifeline first, so that the server is armed
# before its long imports
PRELOAD = ["sim.run.lifeline", "sim.run.runner", "sim.engine.model"]

_started: dict = {}

# the fork server's environment: the libraries it imports start no helper threads (NumPy's and SciPy's OpenBLAS
# would start one per core, PyArrow's jemalloc a background thread), so the server is a single-threaded process
# when it forks; each worker is one process on one core anyway
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "JE_ARROW_MALLOC_CONF": "background_thread:false"}
# the fork server's C allocator (glibc; others ignore these): memory a worker frees is kept for its next arrays.
# By default an array over 128 KiB (a 10,000-world chunk's (worlds, issues) array is 720 KB) is mapped afresh and
# returned on free, or the heap's top is given back, so every temporary of every round costs its pages zeroed and
# faulted in again: measured on the default scenario at 10,000 worlds, a world-round took 1.9-2.2 us, and 1.0-1.2 us
# with these (docs/performance.md). A worker's memory then stays at its largest chunk's, which it needs anyway.
REUSED_MEMORY = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20)}


def start(extra: Sequence[str] = (), ahead: bool = False):
    """Start the fork server (if not yet started) and return the context that forks workers from it.

    Args:
        extra: Modules the server imports besides the engine, e.g. the figure modules, so that figures
            can be drawn in workers (:func:`preloaded`). Only the first call decides what is imported.
        ahead: The server is started ahead of the work (by the ``run`` verb), so a worker will cost a
            fork, not a start-up: even a small sweep is worth running in workers (:func:`ahead`).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():  # Windows: workers are spawned (slower start)
        _started["ahead"] = False  # nothing preloaded: figures are drawn in this process
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    if "preload" not in _started:
        preload = PRELOAD + [m for m in extra if m not in PRELOAD]
        ctx.set_forkserver_preload(preload)
        main_thread = threading.current_thread() is threading.main_thread()
        # inherited by the server only (and its workers): the main process's pid for the lifeline, and no
        # helper threads in the server, so that forking it is safe (and Python does not warn that it is not);
        # and an allocator that keeps freed memory for the next arrays (REUSED_MEMORY)
        server_env = {lifeline.ENV: f"{os.getpid()}:{int(main_thread)}", **SINGLE_THREADED, **REUSED_MEMORY}
        before = {key: os.environ.get(key) for key in server_env}
        os.environ.update(server_env)
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
            for key, value in before.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
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
