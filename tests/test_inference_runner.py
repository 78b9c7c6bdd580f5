"""A calibration on the project's runner (sim/inference/folder.py): the same posterior in this process, on one
worker and on two, and after a stop and a resume; its checkpoint read back as data; its folder refused when it
holds another calibration. The references are the same calibration run straight through (an invariant: where
and in how many pieces it runs must not change a single bit)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import numpy as np
import pytest

from sim.inference.abc import BoxPrior, abc_smc
from sim.inference.folder import CalibrationFolder, FolderError, record_of

DAY = dt.date(2025, 6, 26)


class Stop(KeyboardInterrupt):
    """What Ctrl-C raises, at a chosen simulator call."""


def _toy(stop_at: int | None = None):
    """A 2-parameter problem: the distance of a noisy mean to 0.3 (each call counted, stopped at ``stop_at``)."""
    calls = []

    def simulate(theta, rng):
        calls.append(len(theta))
        if stop_at is not None and len(calls) == stop_at:
            raise Stop
        return np.abs(theta.mean(axis=1) + 0.05 * rng.standard_normal(len(theta)) - 0.3)

    return simulate


def test_abc_resumed_after_a_stop_ends_with_the_same_population(tmp_path):
    prior = BoxPrior(np.zeros(2), np.ones(2), np.full(2, np.nan))
    kw = dict(particles=40, generations=3, moves=2, quantile=0.5)
    straight = abc_smc(_toy(), prior, 7, **kw)
    folder = CalibrationFolder(tmp_path / "c", {"chunk_size": 1})
    with pytest.raises(Stop):  # stopped in generation 2, at its second move (calls: 1 prior + 2 + 2)
        abc_smc(_toy(stop_at=5), prior, 7, checkpoint=folder, **kw)
    assert folder.done() == 2  # the prior sample and generation 1 are kept
    again = CalibrationFolder(tmp_path / "c", {"chunk_size": 1})
    resumed = abc_smc(_toy(), prior, 7, checkpoint=again, **kw)
    np.testing.assert_array_equal(resumed.theta, straight.theta)
    np.testing.assert_array_equal(resumed.distances, straight.distances)
    assert [g.threshold for g in resumed.generations] == [g.threshold for g in straight.generations]
    assert resumed.simulations == straight.simulations == 40 + 3 * 2 * 20
    # the checkpoint is data: Parquet and JSON, its generator state plain integers
    record = json.loads((tmp_path / "c" / "state" / "gen_03.json").read_text())
    assert record["rng"]["bit_generator"] == "PCG64" and isinstance(record["rng"]["state"]["state"], int)


def test_a_damaged_checkpoint_is_refused(tmp_path):
    prior = BoxPrior(np.zeros(2), np.ones(2), np.full(2, np.nan))
    folder = CalibrationFolder(tmp_path, {"chunk_size": 1})
    abc_smc(_toy(), prior, 7, particles=20, generations=1, moves=1, checkpoint=folder)
    (tmp_path / "state" / "gen_01.parquet").write_bytes(b"PAR1 not a table")
    with pytest.raises(FolderError, match="gen_01.parquet: missing or damaged"):
        CalibrationFolder(tmp_path, {"chunk_size": 1}).load()


@pytest.fixture(scope="module")
def uk():
    from sim.inference.calibrate import load_settings
    from sim.inference.ensemble import case_config
    from sim.inference.observations import origin

    settings = load_settings({"cases": ["us_uk_2025"], "particles": 10, "generations": 1, "moves": 1,
                              "chunk_size": 4})
    plain = case_config("us_uk_2025", None, settings)
    return settings, {"us_uk_2025": case_config("us_uk_2025", origin(plain), settings)}


def _calibrate(uk, folder=None, workers=1, stop: str | None = None):
    from sim.inference.calibrate import calibrate

    settings, configs = uk
    settings = {**settings, "workers": workers}
    runner = None
    if folder is not None:
        runner = CalibrationFolder(folder, settings)
        runner.claim(record_of(DAY, settings))
        if stop:  # Ctrl-C as the batch of step ``stop`` starts
            run = runner.outcomes

            def outcomes(case, cfg, columns):
                if runner.step == stop:
                    raise Stop
                return run(case, cfg, columns)

            runner.outcomes = outcomes
    return calibrate(DAY, settings, configs=dict(configs), folder=runner)


def test_the_same_posterior_whatever_the_workers_and_after_a_stop(uk, tmp_path):
    from sim.run.runner import Interrupted

    one = _calibrate(uk, tmp_path / "one", workers=1)
    two = _calibrate(uk, tmp_path / "two", workers=2)
    assert one.posterior().columns.tolist() == two.posterior().columns.tolist()
    np.testing.assert_array_equal(two.posterior().to_numpy(), one.posterior().to_numpy())
    # each batch went through the runner into its own folder, cut into chunks of 4 worlds
    batch = tmp_path / "two" / "generations" / "gen_00" / "us_uk_2025"
    manifest = json.loads((batch / "manifest.json").read_text())
    assert manifest["chunks"] == 3 and (batch / "outcomes.parquet").is_file()  # 10 worlds in chunks of 4
    # stopped as generation 1's move starts (the prior sample kept); resumed by the same call
    with pytest.raises((Stop, Interrupted)):
        _calibrate(uk, tmp_path / "stopped", workers=1, stop="gen_01/move_1")
    assert CalibrationFolder(tmp_path / "stopped", uk[0]).done() == 1
    resumed = _calibrate(uk, tmp_path / "stopped", workers=1)
    np.testing.assert_array_equal(resumed.posterior().to_numpy(), one.posterior().to_numpy())
    assert resumed.result.simulations == one.result.simulations


def test_a_folder_is_resumed_only_by_the_same_calibration(uk, tmp_path):
    settings, _ = uk
    folder = CalibrationFolder(tmp_path, settings)
    folder.claim(record_of(DAY, settings))
    folder.claim(record_of(DAY, {**settings, "workers": 2}))  # where it runs is not what it computes
    with pytest.raises(FolderError, match="another as_of"):
        folder.claim(record_of(dt.date(2025, 7, 15), settings))
    with pytest.raises(FolderError, match="another settings"):
        folder.claim(record_of(DAY, {**settings, "seed": 1}))


@pytest.mark.parametrize("args, key", [(["run.executor=spark"], "run.executor: must be local or dask"),
                                       (["run.workers=0"], "run.workers"),
                                       (["run.dask_address=localhost"], "run.dask_address"),
                                       (["run.chunk_size=3"], "run.chunk_size: unknown"),
                                       (["calibrate.chunk_size=0"], "calibrate.chunk_size")])
def test_bad_run_settings_one_line_exit_2(args, key, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "sim", "calibrate", "scenario.as_of=2025-06-26", *args, "--out",
                           str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and key in lines[0]
    assert not out.exists()


def test_a_folder_of_another_calibration_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "calibration.json").write_text(json.dumps({"as_of": "2025-07-15"}))
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = subprocess.run([sys.executable, "-m", "sim", "calibrate", "scenario.as_of=2025-06-26", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "holds a stopped calibration with another" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before
