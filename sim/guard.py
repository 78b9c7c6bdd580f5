"""The command line's last line: a stop or a limit of the system is one line and an exit status, never a traceback.

``python -m sim`` runs its verb inside :func:`one_line`:

* Ctrl-C or SIGTERM at any moment (while Python imports, while the command line is checked, while the
  workers start) prints one line and exits with 130; a sweep stopped in its chunk loop says how to
  resume (:func:`sim.cli.guarded_run`), since its finished chunks are kept;
* an error of the file system that no verb foresaw (a file-size limit, ``ulimit -f``; a name too long;
  no permission) prints one line naming the file and exits with 2.

Bugs still show their traceback: only what the user's system does to a command is turned into a line.
"""

from __future__ import annotations

import errno
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable

__all__ = ["SYSTEM_ERRNOS", "interrupted", "one_line"]

# errors of the system, not of the program: the file system's limits and permissions
SYSTEM_ERRNOS = {errno.EFBIG, errno.ENAMETOOLONG, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC,
                 getattr(errno, "EDQUOT", errno.ENOSPC)}


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def interrupted(err: BaseException) -> bool:
    """Whether ``err`` was raised while a stop (Ctrl-C, SIGTERM) was being handled: a library that cleans up
    after the interrupt (OmegaConf while Hydra imports, a half-built config) may raise an error of its own from
    inside it, which hides the stop. The interrupt is then found in the chain of causes and contexts."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, KeyboardInterrupt):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


def _describe(err: OSError) -> str:
    where = f" ({err.filename})" if err.filename else ""
    if err.errno == errno.EFBIG:
        return f"a file grew past the size this process may write (ulimit -f){where}; raise the limit and run the " \
               "same command again to resume"
    return f"{err.strerror or err}{where}"


def _exit_now(status: int) -> None:
    """Exit at once with ``status``, the output flushed: a stop that came while the command started may have
    left the interpreter's exit handlers half set up (a second signal during them would end the process by
    that signal instead); the workers' fork server ends by itself (:mod:`sim.run.lifeline`)."""
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def _stopped() -> None:
    print("interrupted", file=sys.stderr)
    _exit_now(130)


def one_line(main: Callable[[], None]) -> Callable[[], None]:
    """Run ``main`` so that a signal or a system error ends it with one line (see the module)."""

    @functools.wraps(main)
    def guarded() -> None:
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _raise_interrupt)  # SIGTERM stops a command as Ctrl-C does
        try:
            main()
        except KeyboardInterrupt:
            _stopped()
        except BrokenPipeError:  # the reader of stdout went away (python -m sim ... | head)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(1) from None
        except OSError as err:
            if interrupted(err):
                _stopped()
            if err.errno not in SYSTEM_ERRNOS:
                raise
            print(f"error: {_describe(err)}", file=sys.stderr)
            raise SystemExit(2) from None
        except Exception as err:
            if interrupted(err):  # a stop hidden by an error raised while it unwound
                _stopped()
            raise

    return guarded
