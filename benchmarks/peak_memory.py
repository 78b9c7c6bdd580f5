"""Peak resident memory of a command and of every process it starts, read from ``/proc``.

Usage:
    python benchmarks/peak_memory.py [--every 0.05] -- COMMAND [ARG ...]

The command runs as a child of this process, which makes itself a child subreaper (so a fork server the
command leaves behind is reparented here, not to init). Every ``--every`` seconds it reads ``VmHWM`` (the
peak resident set size the kernel kept for the process) of each descendant from ``/proc/PID/status``, and
keeps the last value seen per process; the command's own peak also comes from ``wait4`` (``ru_maxrss``).
A process that lives less than one sampling interval may be missed. Prints, per process, its peak in MiB
and its command line, then the wall time, the largest process's peak and the sum of all peaks (an upper
bound on what was resident at once), and the CPU seconds of every process it reaped. Linux only; measures this machine, never asserted in a test.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def _status_kib(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process in ``/proc``."""
    out: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(stat.parent.name))
    return out


def _descendants(root: int) -> list[int]:
    tree, out, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += tree.get(pid, [])
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def measure(command: list[str], every: float) -> int:
    """Run ``command``; print every process's peak RSS; return the command's exit status."""
    import resource

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    me = os.getpid()
    peaks: dict[int, int] = {}
    names: dict[int, str] = {}
    start = time.perf_counter()
    child = subprocess.Popen(command)
    status = None
    while status is None:
        for pid in _descendants(me):
            if pid == me:
                continue
            hwm = _status_kib(pid, "VmHWM")
            if hwm is not None:
                peaks[pid] = max(peaks.get(pid, 0), hwm)
                names.setdefault(pid, _cmdline(pid))
        done, code, usage = os.wait4(child.pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(code)
            peaks[child.pid] = max(peaks.get(child.pid, 0), usage.ru_maxrss)
            break
        time.sleep(every)
    wall = time.perf_counter() - start
    child.returncode = status
    while True:  # reap what the command left to this subreaper (its fork server), waiting for it to end
        try:
            os.wait()
        except ChildProcessError:
            break
    for pid, kib in sorted(peaks.items(), key=lambda item: -item[1]):
        print(f"{kib / 1024:9.1f} MiB  pid {pid}  {names.get(pid, '?')[:110]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # every descendant, each reaped by its parent or here
    print(f"wall {wall:.1f} s; CPU of all processes {usage.ru_utime + usage.ru_stime:.1f} s; exit {status}; "
          f"largest process {max(peaks.values()) / 1024:.1f} MiB; "
          f"sum of the peaks {sum(peaks.values()) / 1024:.1f} MiB over {len(peaks)} processes; "
          f"load average at the end {os.getloadavg()[0]:.2f}")
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=0.05, help="seconds between samples")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    raise SystemExit(measure(command, args.every))


if __name__ == "__main__":
    main()
