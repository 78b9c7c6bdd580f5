"""Worker processes end with the process that started them, however it ends (kill -9, the OOM killer, a CI cancel).

The workers are forked from a fork server (:mod:`sim.run.workers`), which Python keeps alive as long as
any of its workers lives, and each worker waits on its task queue, whose writing end it holds itself:
without help, a hard kill of the main process would leave the fork server, the workers and the
resource tracker running for ever. Two lifelines prevent that:

* **the parent-death signal** (Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``): the fork server gets
  SIGKILL when the main process dies (set while it imports its preload list, when the main process
  started it from its main thread: the signal follows the thread that made the process), and each
  worker when the fork server dies;
* **a watchdog thread** in every worker that checks twice a second whether the main process still
  lives (any platform), and ends the worker if not.

With the workers gone, the fork server sees the end of its "alive" pipe and exits, and the resource
tracker exits once no process holds its pipe.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

__all__ = ["ENV", "arm_forkserver", "arm_worker", "main_alive", "parent_death_signal"]

# "PID:THREAD": the main process's pid, and 1 if it started the fork server from its main thread; set
# while the fork server starts (the fork server and its workers inherit it), then removed
ENV = "SIM_RUN_MAIN"
WATCH_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def parent_death_signal(signum: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``signum`` to this process when its parent (thread) dies; Linux only.

    Returns:
        Whether the request was made.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _main_pid() -> tuple[int | None, bool]:
    text = os.environ.get(ENV, "")
    pid, _, thread = text.partition(":")
    return (int(pid), thread == "1") if pid.isdigit() else (None, False)


def main_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (and is not a zombie, where ``/proc`` tells)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def arm_forkserver() -> None:
    """In the fork server, while it imports its preload list: die with the main process (see the module)."""
    pid, main_thread = _main_pid()
    if pid is None or os.getppid() != pid:
        return  # not a fork server started by :func:`sim.run.workers.start`
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle (no traceback here)
    sys.excepthook = _quiet_when_the_run_is_gone(sys.excepthook)  # the server's forks report through it
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked while the server started
    if main_thread:
        parent_death_signal()
        if os.getppid() != pid:  # the main process died before the request: nobody is left to serve
            os._exit(1)


def _quiet_when_the_run_is_gone(report):
    """The fork server's ``sys.excepthook``, which a worker that fails to start calls: ``report``, except for a
    worker forked as the run stopped, which finds the semaphores its process object names already released by
    the main process (``FileNotFoundError`` while ``multiprocessing.synchronize`` rebuilds them). That worker
    ends without a traceback: the main process has said the run was interrupted, and nobody would collect it."""

    def hook(kind, value, tb) -> None:
        frames, at = [], tb
        while at is not None:
            frames.append((os.path.basename(at.tb_frame.f_code.co_filename), at.tb_frame.f_code.co_name))
            at = at.tb_next
        if issubclass(kind, FileNotFoundError) and ("synchronize.py", "__setstate__") in frames:
            return
        report(kind, value, tb)

    return hook


def arm_worker() -> None:
    """In a worker: die with the fork server (parent-death signal) and with the main process (a watchdog)."""
    parent = os.getppid()
    parent_death_signal()
    if os.getppid() != parent:
        os._exit(1)
    pid, _ = _main_pid()
    if pid is None or pid == os.getpid():
        return

    def watch() -> None:
        while main_alive(pid):
            time.sleep(WATCH_SECONDS)
        os._exit(1)  # the main process is gone: nobody will collect this worker's results

    threading.Thread(target=watch, name="sim-lifeline", daemon=True).start()


arm_forkserver()  # first in the fork server's preload list (:data:`sim.run.workers.PRELOAD`)
