"""Parts dropped after a verified merge (issue 24, item 4): a finished run keeps only its merged tables, unless
``run.keep_parts=true``; a resume of a finished run works from them; an unfinished run keeps its parts."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf

import sim.run.runner
from sim.config import plan
from sim.run.manifest import part_path, read_manifest
from sim.run.readback import load_run
from sim.run.runner import Interrupted, execute
from sim.run.store import drop_parts
from tests.conftest import compose_config

# 2 strategy pairs x 2 grid points x 30 seeds in chunks of 20: 6 chunks, every negotiation's rounds recorded
SWEEP = ["+experiment=smoke", "run.seeds=30", "+sweep.grid.scenario.escalation=[0,14]", "run.plot=false",
         "run.record_rounds=all", "run.workers=1", "run.chunk_size=20"]


def _sweep(out_dir: Path, *overrides: str):
    container = OmegaConf.to_container(compose_config(*SWEEP, *overrides), resolve=True)
    return execute(plan(container), out_dir, container, progress=False)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _parts(run: Path) -> list[Path]:
    return sorted(run.glob("*/part-*.parquet"))


@pytest.fixture(scope="module")
def kept(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kept")
    _sweep(out, "run.keep_parts=true")
    return out


@pytest.fixture(scope="module")
def dropped(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dropped")
    _sweep(out)
    return out


def test_keep_parts_keeps_every_part_and_the_default_drops_them_after_the_merge(kept, dropped):
    manifest = read_manifest(kept)
    assert manifest.chunks == len(manifest.parts) > 1 and not manifest.dropped
    assert len(_parts(kept)) == 2 * manifest.chunks  # an outcomes and a rounds part per chunk
    assert _parts(dropped) == [] and not (dropped / "outcomes").exists() and not (dropped / "rounds").exists()
    record = json.loads((dropped / "manifest.json").read_text())
    assert record["parts_dropped"] is True and len(record["parts"]) == manifest.chunks  # digests still recorded
    for name in ("outcomes.parquet", "rounds.parquet"):  # the merged tables are the same either way
        assert _digest(dropped / name) == _digest(kept / name)
        assert record["merged"][name.split(".")[0]] == _digest(dropped / name)  # and check against the record


def test_a_finished_run_whose_parts_were_dropped_resumes_from_its_merged_tables(dropped, tmp_path, monkeypatch):
    run = tmp_path / "run"
    shutil.copytree(dropped, run)
    before = {name: _digest(run / name) for name in ("outcomes.parquet", "rounds.parquet", "manifest.json")}

    def no_chunk(*args, **kwargs):
        raise AssertionError("a finished run computed a chunk again")

    monkeypatch.setattr(sim.run.runner, "run_and_store", no_chunk)
    result = _sweep(run)
    assert result.n_worlds == pq.read_metadata(run / "outcomes.parquet").num_rows  # read from the merged table
    assert result.resumed == result.n_chunks == read_manifest(run).chunks and result.workers == 0
    assert {name: _digest(run / name) for name in before} == before  # nothing rewritten


def test_a_damaged_merged_table_of_a_run_without_parts_is_computed_again(dropped, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(dropped, run)
    data = bytearray((run / "outcomes.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (run / "outcomes.parquet").write_bytes(bytes(data))
    result = _sweep(run)
    assert result.resumed == 0  # its parts are gone: every chunk again
    for name in ("outcomes.parquet", "rounds.parquet"):
        assert _digest(run / name) == _digest(dropped / name)


def test_parts_are_not_dropped_unless_the_merged_tables_match_their_digests(kept, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(kept, run)
    (run / "rounds.parquet").write_bytes((run / "rounds.parquet").read_bytes()[:-10])  # truncated
    manifest = read_manifest(run)
    assert drop_parts(run, manifest) == 0
    assert len(_parts(run)) == len(_parts(kept)) and read_manifest(run).dropped is False
    (run / "rounds.parquet").write_bytes((kept / "rounds.parquet").read_bytes())  # mended: now they go
    assert drop_parts(run, manifest) == len(_parts(kept)) and read_manifest(run).dropped is True


def test_an_unfinished_run_keeps_its_parts_and_is_loaded_from_them(tmp_path, monkeypatch):
    real = sim.run.runner.run_and_store
    calls = []

    def stop_at_the_fourth(task, *args):
        calls.append(task.index)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(task, *args)

    monkeypatch.setattr(sim.run.runner, "run_and_store", stop_at_the_fourth)
    run = tmp_path / "run"
    with pytest.raises(Interrupted):
        _sweep(run)
    assert not (run / "outcomes.parquet").exists()
    assert [p.name for p in sorted((run / "outcomes").glob("part-*.parquet"))] == \
        [part_path(run, "outcomes", i).name for i in range(3)]
    data, notice = load_run(run)
    assert len(data.outcomes) == 3 * 20 and "unfinished" in notice
    monkeypatch.setattr(sim.run.runner, "run_and_store", real)
    _sweep(run)  # the resume finishes it, then drops the parts
    assert _parts(run) == [] and read_manifest(run).dropped
