"""Faults at the edges: run folders, signals, Dask addresses, and ``sim plot`` on bad folders."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sim.run.outputs
from sim.__main__ import _run
from sim.cli import plot, run_experiment
from sim.config import ConfigError
from sim.preflight import UsageError, check
from sim.run.executors import dask_client, dask_in_flight
from tests.conftest import compose_config, sim_in_process

ROOT = Path(__file__).resolve().parent.parent


def _sim(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout, check=False)


# -- 4. run folders: unique, accepted before anything is written ------------------------------------


def test_two_runs_started_at_once_get_two_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = check(["+experiment=smoke"], multirun=False, claim=True)
    second = check(["+experiment=smoke", "scenario.escalation=0"], multirun=False, claim=True)
    assert len(first) == len(second) == 1 and first != second
    for extra in (first, second):
        key, folder = extra[0].split("=", 1)
        assert key == "hydra.run.dir" and Path(folder).is_dir() and not any(Path(folder).iterdir())
        assert Path(folder).parent == Path("results/smoke")


def test_a_taken_folder_name_gets_a_suffix(tmp_path, monkeypatch):
    from sim.run_folder import claim_folder

    monkeypatch.chdir(tmp_path)
    assert claim_folder("results/x/2025") == Path("results/x/2025")
    assert claim_folder("results/x/2025") == Path("results/x/2025-2")
    assert claim_folder("results/x/2025") == Path("results/x/2025-3")


@pytest.mark.parametrize("where", ["under-a-file", "a-file"])
def test_a_run_folder_that_cannot_be_made_is_one_line_and_exit_2(tmp_path, capsys, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    folder = blocker / "run" if where == "under-a-file" else blocker
    assert _run(["+experiment=smoke", f"hydra.run.dir={folder}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: hydra.run.dir: cannot create or write the folder") and err.count("\n") == 1
    assert blocker.read_text() == "a file"


def test_resuming_into_a_folder_with_a_damaged_manifest_is_refused_before_hydra(tmp_path, capsys):
    run = tmp_path / "run"
    run_experiment(compose_config("+experiment=smoke", "run.plot=false", "run.progress=false"), run)
    capsys.readouterr()  # the first run's own lines
    (run / "manifest.json").write_text('{"format": 2, "chun')
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert _run(["+experiment=smoke", "run.plot=false", f"hydra.run.dir={run}"]) == 2
    err = capsys.readouterr().err
    assert "manifest.json is damaged" in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_a_refused_multirun_leaves_the_existing_sweep_untouched(tmp_path, monkeypatch, capsys):
    # in process: the refusal is made by the run verb's check, before Hydra, whatever process runs it
    monkeypatch.chdir(tmp_path)
    sweep = tmp_path / "multi"
    args = ["run", "-m", "+experiment=smoke", "scenario.escalation=0,14", "run.plot=false", f"hydra.sweep.dir={sweep}"]
    done = sim_in_process(monkeypatch, capsys, *args)
    assert done.returncode == 0, done.stderr
    before = {p: p.read_bytes() for p in sweep.rglob("*") if p.is_file()}
    refused = sim_in_process(monkeypatch, capsys, *args, "scenario.breakdown_risk=0.1")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1
    assert "scenario.breakdown_risk" in refused.stderr and "job 0" in refused.stderr
    assert {p: p.read_bytes() for p in sweep.rglob("*") if p.is_file()} == before
    # the same sweep again is a resume of each job
    again = sim_in_process(monkeypatch, capsys, *args)
    assert again.returncode == 0 and again.stdout.count("resumed:") == 2


# -- 6. SIGTERM stops a sweep like Ctrl-C ---------------------------------------------------------


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.add(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_sigterm_stops_the_sweep_cleanly_without_orphans_and_it_resumes(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    command = [sys.executable, "-m", "sim", "run", "+experiment=smoke", "run.seeds=500", "run.chunk_size=50",
               "run.workers=2", "run.plot=false", "run.record_rounds=none", f"hydra.run.dir={run}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env=env, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            assert proc.poll() is None, "the sweep finished before it could be stopped; make it longer"
            try:
                if len(json.loads((run / "manifest.json").read_text())["done"]) >= 2:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        children = _children(proc.pid)
        assert children, "the sweep runs worker processes"
        proc.send_signal(signal.SIGTERM)  # to the main process only
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert "To resume" in err and "Traceback" not in err
    waited = time.time() + 10
    while any(_alive(c) for c in children) and time.time() < waited:
        time.sleep(0.1)
    assert not [c for c in children if _alive(c)], "worker or resource-tracker processes outlived the run"
    monkeypatch.chdir(tmp_path)  # the resume, in this process: what it reads is the stopped run's folder
    again = sim_in_process(monkeypatch, capsys, *command[3:])
    assert again.returncode == 0 and "resumed:" in again.stdout
    assert len(pd.read_parquet(run / "outcomes.parquet")) == 2 * 2 * 500


# -- 16. the recorded command re-runs the run ------------------------------------------------------


@pytest.mark.slow
def test_the_recorded_command_can_be_pasted_back(tmp_path, monkeypatch, capsys):
    # the first run is a real ``python -m sim``: the command it records comes from that interpreter's argv
    done = _sim("run", "+experiment=smoke", "run.plot=false", "scenario.escalation=7", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (meta_path,) = (p for p in (tmp_path / "results" / "smoke").glob("*/metadata.json") if not p.parent.is_symlink())
    meta = json.loads(meta_path.read_text())
    argv = shlex.split(meta["command"])
    assert argv[:4] == ["python", "-m", "sim", "run"]
    assert argv[4:] == ["+experiment=smoke", "run.plot=false", "scenario.escalation=7",
                        f"hydra.run.dir={meta_path.parent.relative_to(tmp_path)}"]
    monkeypatch.chdir(tmp_path)  # pasted back in the folder it was run from (its run folder is relative)
    again = sim_in_process(monkeypatch, capsys, *argv[3:])
    assert again.returncode == 0 and "resumed: 2 of 2" in again.stdout


# -- 11. Dask addresses that are not a scheduler ----------------------------------------------------


@pytest.fixture
def http_server():
    """A server that answers every connection with an HTTP error, as a web server does to bytes it cannot parse."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2)
            try:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
                             b"Connection: close\r\n\r\nBad Request")
                time.sleep(0.5)
            except OSError:
                pass

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture
def silent_server():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held = []

    def accept() -> None:
        while True:
            try:
                held.append(sock.accept())
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.mark.slow
@pytest.mark.parametrize("server", ["http_server", "silent_server"])
def test_an_address_that_is_not_a_dask_scheduler_is_one_line(request, server):
    address = request.getfixturevalue(server)
    outcome: dict = {}

    def connect() -> None:
        try:
            dask_client(address, 1)
        except ConfigError as err:
            outcome["error"] = str(err)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(60)  # an unbounded wait would hang here
    assert not thread.is_alive(), "connecting to a non-scheduler did not give up"
    assert outcome["error"].startswith("run.dask_address: ") and "\n" not in outcome["error"]
    assert address in outcome["error"]


def test_work_in_flight_is_sized_from_the_cluster():
    class Cluster:
        def nthreads(self) -> dict[str, int]:
            return {"tcp://a:1": 4, "tcp://b:1": 4}  # 8 worker threads, whatever this machine has

    assert dask_in_flight(Cluster()) == 16


# -- 14. sim plot on bad folders -------------------------------------------------------------------


def _one_line_error(capsys, *words: str) -> None:
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    for word in words:
        assert word in captured.err, (word, captured.err)


def test_plot_a_malformed_config(copy, capsys):
    (copy / "config_resolved.yaml").write_text("run: [unclosed\n  seeds: {")
    assert plot(copy) == 2
    _one_line_error(capsys, "config_resolved.yaml")


def _without_merged_digests(run: Path) -> None:
    """The manifest of a folder written before the merged tables' digests were recorded (read unchecked)."""
    manifest = json.loads((run / "manifest.json").read_text())
    del manifest["merged"]
    (run / "manifest.json").write_text(json.dumps(manifest))


def test_plot_an_outcomes_table_with_no_rows(copy, capsys):
    path = copy / "outcomes.parquet"
    _without_merged_digests(copy)  # (with them, any change is "damaged": test_safety.py)
    pq.write_table(pq.read_table(path).slice(0, 0), path)
    assert plot(copy) == 2
    _one_line_error(capsys, str(path), "no rows")


def test_plot_an_outcomes_table_with_the_wrong_columns(copy, capsys):
    path = copy / "outcomes.parquet"
    _without_merged_digests(copy)
    pq.write_table(pa.table({"x": [1, 2, 3]}), path)
    assert plot(copy) == 2
    _one_line_error(capsys, str(path), "deal")


def test_plot_when_figures_is_a_file(copy, capsys):
    (copy / "figures").write_text("not a folder")
    assert plot(copy) == 2
    _one_line_error(capsys, "figures")


def test_plot_into_a_folder_that_cannot_be_written(copy, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # a read-only folder (root ignores the mode bits, so the refusal is injected where files are created)
    monkeypatch.setattr(sim.run.outputs.tempfile, "mkstemp", refuse)
    assert plot(copy) == 2
    _one_line_error(capsys, "figures", "Permission denied")


def test_check_refuses_a_resume_of_another_config_before_anything_is_written(tmp_path):
    run = tmp_path / "run"
    run_experiment(compose_config("+experiment=smoke", "run.plot=false", "run.progress=false"), run)
    with pytest.raises(UsageError, match="different config"):
        check(["+experiment=smoke", "scenario.escalation=3", f"hydra.run.dir={run}"], multirun=False)
    assert not (run / ".hydra").exists()
