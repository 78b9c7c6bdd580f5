"""The batch runner: determinism however a sweep is split, crash safety, resume, sampling, summaries."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim.config import ConfigError, plan
from sim.report.summary import by_point
from sim.run.runner import execute, make_chunks, simulate
from tests.conftest import compose_config

SWEEP = ["+experiment=smoke", "run.seeds=40", "+sweep.grid.scenario.escalation=[0,14]", "run.plot=false",
         "run.record_rounds=2"]


def _sweep(out_dir: Path, *overrides: str) -> Path:
    cfg = compose_config(*SWEEP, *overrides)
    container = OmegaConf.to_container(cfg, resolve=True)
    execute(plan(container), out_dir, container, progress=False)
    return out_dir


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The sweep run in one process, one chunk per strategy pair."""
    return _sweep(tmp_path_factory.mktemp("reference"), "run.workers=1", "run.chunk_size=100000")


@pytest.mark.parametrize(
    "how",
    [
        ["run.workers=1", "run.chunk_size=7"],
        # two worker processes; each pair's 160 worlds in chunks of 53, 53, 53 and a batch of a single world
        ["run.workers=2", "run.chunk_size=53"],
        ["run.executor=dask", "run.workers=2", "run.chunk_size=50"],
    ],
    ids=["1-worker-chunks-of-7", "2-workers-and-a-chunk-of-1", "dask-local-cluster"],
)
def test_the_same_sweep_gives_byte_identical_files_however_it_is_split(reference, tmp_path, how):
    out = _sweep(tmp_path, *how)
    for name in ("outcomes.parquet", "rounds.parquet"):
        assert _digest(out / name) == _digest(reference / name), name
    table = pd.read_parquet(out / "outcomes.parquet")
    assert table["world"].tolist() == list(range(2 * 2 * 2 * 40))
    if "run.chunk_size=53" in how:  # the split the comment above says
        sizes = [c.n_worlds for c in make_chunks(plan(compose_config(*SWEEP, *how)))]
        assert sizes == [53, 53, 53, 1] * 2


def test_the_files_match_the_in_memory_run(reference):
    outcomes, rounds = simulate(plan(compose_config(*SWEEP)))
    pd.testing.assert_frame_equal(pd.read_parquet(reference / "outcomes.parquet"), outcomes)
    pd.testing.assert_frame_equal(pd.read_parquet(reference / "rounds.parquet"), rounds)


def test_dask_against_a_separately_started_local_cluster(reference, tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster:
        out = _sweep(tmp_path, "run.executor=dask", f"run.dask_address={cluster.scheduler_address}",
                     "run.chunk_size=25")
    assert _digest(out / "outcomes.parquet") == _digest(reference / "outcomes.parquet")


def test_chunks_cover_every_world_once_and_never_mix_strategy_pairs():
    p = plan(compose_config(*SWEEP, "run.chunk_size=13"))
    chunks = make_chunks(p)
    worlds = [pt * p.seeds + s for c in chunks for pt, a, b in c.spans for s in range(a, b)]
    assert worlds == list(range(p.n_worlds))
    assert all(c.n_worlds <= 13 for c in chunks)
    for c in chunks:
        assert len({p.points[pt].structure for pt, _, _ in c.spans}) == 1


def _command(run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim", "run", "+experiment=smoke", "run.seeds=300", "run.chunk_size=40",
            "run.workers=1", "run.plot=false", "run.record_rounds=none", f"hydra.run.dir={run_dir}", *extra]


def _wait_for_parts(run_dir: Path, at_least: int, proc: subprocess.Popen, timeout: float = 120) -> int:
    manifest = run_dir / "manifest.json"
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "the sweep finished before it could be interrupted; make it longer"
        try:
            done = len(json.loads(manifest.read_text())["done"])
        except (OSError, ValueError, KeyError):
            done = 0
        if done >= at_least:
            return done
        time.sleep(0.05)
    raise AssertionError("no progress")


@pytest.mark.slow
def test_kill_9_mid_sweep_then_rerun_loses_and_duplicates_nothing(tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = subprocess.Popen(_command(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    done = _wait_for_parts(killed, 5, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "outcomes.parquet").exists()  # the sweep really was cut short
    parts = list((killed / "outcomes").glob("part-*.parquet"))
    assert done <= len(parts) < 2 * 2 * 300 // 40

    rerun = subprocess.run(_command(killed), capture_output=True, text=True, timeout=600, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed" in rerun.stdout
    subprocess.run(_command(clean), capture_output=True, timeout=600, check=True)
    table = pd.read_parquet(killed / "outcomes.parquet")
    assert table["world"].is_unique and len(table) == 2 * 2 * 300
    assert _digest(killed / "outcomes.parquet") == _digest(clean / "outcomes.parquet")


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    run_dir = tmp_path / "run"
    # Ctrl-C's default action in the child: a shell that starts the suite in the background (`pytest &`, a
    # script under nohup) makes its children ignore SIGINT, and Python then installs no KeyboardInterrupt
    proc = subprocess.Popen(_command(run_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for_parts(run_dir, 3, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "To resume" in err and f"hydra.run.dir={run_dir}" in err
    assert "Traceback" not in err
    again = subprocess.run(_command(run_dir), capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0 and len(pd.read_parquet(run_dir / "outcomes.parquet")) == 2 * 2 * 300


def test_resuming_into_a_folder_of_another_config_refuses_and_names_the_keys(tmp_path):
    _sweep(tmp_path, "run.workers=1")
    cfg = compose_config(*SWEEP, "run.seeds=41", "scenario.breakdown_risk=0.1")
    container = OmegaConf.to_container(cfg, resolve=True)
    with pytest.raises(ConfigError, match=r"run\.seeds \(40 -> 41\).*scenario\.breakdown_risk"):
        execute(plan(container), tmp_path, container, progress=False)
    # how it runs may change: more workers, another executor
    cfg = compose_config(*SWEEP, "run.workers=2")
    container = OmegaConf.to_container(cfg, resolve=True)
    result = execute(plan(container), tmp_path, container, progress=False)
    assert result.resumed == result.n_chunks == 2  # one chunk per strategy pair, all already done


def test_latin_hypercube_points_stratify_each_range():
    n = 20
    p = plan(compose_config("sweep.sample.method=lhs", f"sweep.sample.n={n}", "run.seeds=1",
                            "+sweep.sample.ranges.scenario.escalation=[0,15]",
                            "+sweep.sample.ranges.scenario.deadline.round=[4,23]"))
    esc = np.array([pt.coordinates["scenario.escalation"] for pt in p.points])
    rounds = np.array([pt.coordinates["scenario.deadline.round"] for pt in p.points])
    # one sample in each of the n equal strata of each range (the Latin hypercube property)
    assert sorted(np.floor(esc / 15 * n).astype(int).tolist()) == list(range(n))
    assert sorted(rounds.tolist()) == list(range(4, 24))  # 20 whole rounds in [4, 23]: each once
    again = plan(compose_config("sweep.sample.method=lhs", f"sweep.sample.n={n}", "run.seeds=1",
                                "+sweep.sample.ranges.scenario.escalation=[0,15]",
                                "+sweep.sample.ranges.scenario.deadline.round=[4,23]"))
    assert [pt.coordinates for pt in again.points] == [pt.coordinates for pt in p.points]


def test_summary_gives_wilson_intervals_per_grid_point():
    outcomes = pd.DataFrame({"us_strategy": ["a"] * 10 + ["b"] * 4, "deal": [True] * 7 + [False] * 3 + [False] * 4,
                             "end_round": [3] * 14, "cars": [1.0] * 7 + [np.nan] * 7})
    space = plan(compose_config()).points[0].structure.space
    for name in space.names:
        if name not in outcomes:
            outcomes[name] = np.nan
    table = by_point(outcomes, ["us_strategy"], space, rounded=False).set_index("us_strategy")
    # Wilson (1927) by hand, z = 1.959964
    z, k, n = 1.959963984540054, 7, 10
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert table.loc["a", "deal_rate"] == 0.7
    assert table.loc["a", "deal_rate_low"] == pytest.approx(centre - half, abs=1e-12)
    assert table.loc["a", "deal_rate_high"] == pytest.approx(centre + half, abs=1e-12)
    assert table.loc["b", "deal_rate_low"] == 0.0 and np.isnan(table.loc["b", "median_round"])
