"""Item 3 of issue 24: the workers' fork server is a single-threaded process when it forks, so Python does not
warn that ``fork()`` may deadlock, and a run under ``-W error::DeprecationWarning`` finishes cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir() or sys.platform != "linux",
                                reason="reads the fork server's threads from /proc")

# in a fresh interpreter: start the fork server as the run verb does (engine and figure modules), fork a worker
# from it (so its imports are done), then print how many threads the server has, from the kernel's count
THREADS = """
import multiprocessing.forkserver as forkserver
from sim.run import workers
ctx = workers.start(["sim.report.plots"], ahead=True)
worker = ctx.Process(target=int)
worker.start()
worker.join()
pid = forkserver._forkserver._forkserver_pid
print([line.split()[1] for line in open(f"/proc/{pid}/status") if line.startswith("Threads:")][0])
"""


def test_the_fork_server_has_one_thread_after_its_imports():
    done = subprocess.run([sys.executable, "-c", THREADS], capture_output=True, text=True, env=ENV, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"  # BLAS and Arrow's allocator start none of their helper threads in it


@pytest.mark.parametrize("flag", ["error::DeprecationWarning", "always::DeprecationWarning"])
def test_a_run_with_workers_and_figures_raises_and_prints_no_deprecation_warning(tmp_path, flag):
    # "always" shows a warning from any process the run starts (the flag reaches the fork server, which would
    # print its fork() warning for every worker); "error" is the command, which must still finish
    command = [sys.executable, "-W", flag, "-m", "sim", "run", "+experiment=smoke", "run.workers=2",
               "run.chunk_size=5", "run.progress=false", f"hydra.run.dir={tmp_path / 'run'}"]
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "multi-threaded" not in done.stderr, done.stderr
    assert (tmp_path / "run" / "figures").is_dir() and "figures (png)" in done.stdout  # the figure workers ran
