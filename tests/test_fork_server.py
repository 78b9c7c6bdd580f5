"""Item 3 of issue 24: the workers' fork server is a single-threaded process when it forks, so Python does not
warn that ``fork()`` may deadlock, and a run under ``-W error::DeprecationWarning`` finishes cleanly; its workers'
allocator keeps the memory they free for their next arrays (no page faults for every round's temporaries)."""

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


# in a fresh interpreter: a worker forked from the server allocates eight 720 KB arrays (a 10,000-world chunk's
# (worlds, issues) arrays, as a round's temporaries) and frees them, 50 times, and writes the page faults that
# took (the kernel's count) to a file; with the allocator's defaults the heap's top is given back each time, and
# the arrays' pages are faulted in again
IN_WORKER = """
import resource
import numpy as np
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    arrays = [np.ones((10_000, 9)) for _ in range(8)]
    del arrays
open(OUT, "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before))
"""
FAULTS = """
import sys
from sim.run import workers
worker = workers.start().Process(target=exec, args=(CODE, {"OUT": sys.argv[1]}))
worker.start()
worker.join()
"""


def test_a_worker_keeps_the_memory_it_frees_for_its_next_arrays(tmp_path):
    out = tmp_path / "faults"
    done = subprocess.run([sys.executable, "-c", FAULTS.replace("CODE", repr(IN_WORKER)), str(out)],
                          capture_output=True, text=True, env=ENV, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    pages = 8 * 10_000 * 9 * 8 // 4096
    assert int(out.read_text()) < 3 * pages  # the first arrays' pages, not 50 times them (70,000 faults)
