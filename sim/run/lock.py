"""One run at a time in a run folder: a lock held for as long as a run writes to it.

The lock is an exclusive ``flock`` on ``.run.lock`` in the run folder, which also records who holds it
(pid, host, start time, command). The kernel releases an ``flock`` when its holder dies, however it
dies, so a lock left by a killed run never blocks the next one: only a live run does. A second run
into a folder in use is refused in one line naming the holder, before it writes anything (the
command-line check, :func:`holder`), and again when it would take the lock (:class:`RunLock`), so two
runs started at the same moment cannot both pass.

On a system without ``fcntl`` (Windows) there is no lock.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
from pathlib import Path

from sim.config import ConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["LOCK", "RunLock", "holder", "refuse_if_locked"]

LOCK = ".run.lock"


def _describe(text: str) -> str:
    """'pid N on HOST, started TIME' from a lock file's text (what is known of it)."""
    try:
        info = json.loads(text)
        return f"pid {info['pid']} on {info['host']}, started {info['started']}"
    except (ValueError, KeyError, TypeError):
        return "a process whose details are not recorded"


def holder(out_dir: Path) -> str | None:
    """Who holds the lock of ``out_dir`` ('pid N on HOST, started TIME'), or None if no live run does.

    Creates nothing: a folder or lock file that does not exist is not locked.
    """
    path = Path(out_dir) / LOCK
    if fcntl is None or not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        with os.fdopen(os.dup(fd)) as f:
            return _describe(f.read())
    finally:
        os.close(fd)  # closing releases the lock if it was taken
    return None


def _refusal(out_dir: Path, who: str) -> ConfigError:
    return ConfigError("hydra.run.dir", f"{out_dir} is in use by another run ({who}); wait for it to end, or run "
                                        "into another folder")


def refuse_if_locked(out_dir: Path) -> None:
    """Raise the one-line refusal if a live run holds ``out_dir``'s lock.

    Raises:
        ConfigError: (``hydra.run.dir``) naming the holder.
    """
    who = holder(out_dir)
    if who is not None:
        raise _refusal(out_dir, who)


class RunLock:
    """``with RunLock(out_dir):`` holds the run folder's lock (creating the folder if needed).

    Raises:
        ConfigError: (``hydra.run.dir``) another live run holds it; one line naming the holder.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.fd: int | None = None

    def __enter__(self) -> RunLock:
        if fcntl is None:
            return self
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.out_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            with os.fdopen(os.dup(fd)) as f:
                who = _describe(f.read())
            os.close(fd)
            raise _refusal(self.out_dir, who) from None
        started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": started,
                "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> bool:
        if self.fd is not None:
            os.close(self.fd)  # releases the lock; the file stays, recording the last holder
            self.fd = None
        return False
