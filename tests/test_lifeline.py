"""Item 3 of issue 26: the fork server, the workers and the resource tracker end with the main process, however
it ends. A run is killed with SIGKILL (nothing of Python's runs) at several moments; 5 s later no process of its
session may be left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.run import lifeline

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")


def _session(sid: int) -> list[tuple[int, str]]:
    """Live processes of session ``sid`` (pid, command line)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            out.append((int(entry.name), cmdline[:120]))
    return out


def _chunks_done(run: Path) -> int:
    try:
        return len(json.loads((run / "manifest.json").read_text())["done"])
    except (OSError, ValueError, KeyError):
        return 0


def _kill_at(tmp_path: Path, moment: str, *extra: str) -> tuple[list, list]:
    """Start a sweep in its own session, SIGKILL its main process at ``moment``; the processes of the session
    alive just before the kill, and those left 5 s after it (none, or it waits the whole 5 s)."""
    run = tmp_path / "run"
    # killed at the figures, the run computes every chunk first: 400 seeds (8 chunks of 200, in the workers) are
    # enough to get there; killed earlier, the sweep is long so that it is still computing when killed
    seeds = 400 if moment == "figures" else 4000
    command = [sys.executable, "-m", "sim", "run", "+experiment=smoke", f"run.seeds={seeds}", "run.chunk_size=200",
               "run.workers=2", "run.record_rounds=none", f"hydra.run.dir={run}", *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path, env=env,
                            start_new_session=True)
    try:
        deadline = time.time() + 120
        if moment == "start-up":
            time.sleep(0.4)  # importing, checking the command line; the fork server importing the engine
        elif moment == "workers":
            while _chunks_done(run) < 2 and time.time() < deadline:
                assert proc.poll() is None, "the sweep ended before it could be killed; make it longer"
                time.sleep(0.02)
        elif moment == "figures":
            while not (run / "summary.csv").exists() and time.time() < deadline:
                assert proc.poll() is None, "the run ended before it could be killed"
                time.sleep(0.01)
        before = _session(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        # no process can join a session from outside it: once the session is empty it stays empty, so polling
        # up to 5 s checks the same as looking once 5 s after the kill
        waited = time.monotonic() + 5
        while (left := _session(proc.pid)) and time.monotonic() < waited:
            time.sleep(0.05)
    finally:
        for pid, _ in _session(proc.pid):  # never leave a process behind, whatever the test found
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return before, left


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["start-up", "workers", "figures"])
def test_no_process_of_a_killed_run_survives_5_seconds(tmp_path, moment):
    before, left = _kill_at(tmp_path, moment)
    if moment != "start-up":
        assert len(before) >= 3, f"the run had its fork server and workers when killed: {before}"
    assert left == [], f"processes outlived the killed run: {left}"


@pytest.mark.slow
def test_no_process_of_a_killed_dask_run_survives_5_seconds(tmp_path):
    pytest.importorskip("dask.distributed")
    # a local Dask cluster started for the run: its nannies' worker processes watch a pipe from the main process
    before, left = _kill_at(tmp_path, "workers", "run.executor=dask")
    assert len(before) >= 3, f"the run had its cluster's worker processes when killed: {before}"
    assert left == [], f"processes outlived the killed run: {left}"


def test_the_watchdog_ends_a_worker_whose_main_process_died(tmp_path):
    # a "main" process that starts a child armed as a worker of it, then is killed; the child must end
    # (its parent-death signal off, so that only the watchdog can end it)
    child_code = ("import time; from sim.run import lifeline; lifeline.parent_death_signal = lambda: False;"
                  "lifeline.arm_worker(); print('armed', flush=True); time.sleep(60)")
    main_code = ("import os, subprocess, sys, time; from sim.run import lifeline;"
                 "os.environ[lifeline.ENV] = f'{os.getpid()}:1';"
                 f"p = subprocess.Popen([sys.executable, '-c', {child_code!r}], start_new_session=True);"
                 "print(p.pid, flush=True); time.sleep(60)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    main = subprocess.Popen([sys.executable, "-c", main_code], stdout=subprocess.PIPE, text=True, env=env)
    child = int(main.stdout.readline())
    try:
        assert main.stdout.readline().strip() == "armed"  # the child (sharing the pipe) imported and armed itself
        assert lifeline.main_alive(child)
        main.kill()
        main.wait()
        deadline = time.time() + 5
        while lifeline.main_alive(child) and time.time() < deadline:
            time.sleep(0.05)
        assert not lifeline.main_alive(child), "the worker outlived its main process"
    finally:
        try:
            os.kill(child, signal.SIGKILL)
        except OSError:
            pass


def test_a_worker_is_not_armed_against_itself():
    # without the environment the run verb sets, arming is a no-op apart from the parent-death signal
    env = {k: v for k, v in os.environ.items() if k != lifeline.ENV}
    done = subprocess.run([sys.executable, "-c", "from sim.run import lifeline; lifeline.arm_worker(); print('ok')"],
                          capture_output=True, text=True, env={**env, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok"


def test_a_worker_forked_as_the_run_stops_ends_without_a_traceback():
    # a worker forked while the run stopped finds the semaphores its process object names already released:
    # rebuilding one raises FileNotFoundError in multiprocessing.synchronize (a run stopped 1.8 s after its
    # start printed that traceback below its one-line message); any other failure is still reported
    import multiprocessing.synchronize as synchronize

    reported = []
    hook = lifeline._quiet_when_the_run_is_gone(lambda *exc: reported.append(exc))
    lock = synchronize.SemLock.__new__(synchronize.SemLock)
    with pytest.raises(FileNotFoundError) as released:
        lock.__setstate__((0, 1, 1, "/sim-test-no-such-semaphore"))
    hook(released.type, released.value, released.tb)
    assert reported == []
    for error in (FileNotFoundError("a missing input file"), ValueError("a bug")):
        try:
            raise error
        except Exception as exc:  # noqa: BLE001 - any failure of a worker's start is reported as before
            hook(type(exc), exc, exc.__traceback__)
    assert [kind for kind, _, _ in reported] == [FileNotFoundError, ValueError]
    assert all(tb is not None for _, _, tb in reported)  # with its traceback
