"""The run store under faults: resume integrity, damaged files, mixed configs or code, full disk, temporaries.

Each test damages a finished run folder the way a kill, a disk or a user would, and checks the resumed
run against an uninterrupted one byte for byte (the merged files are deterministic, see test_sweep.py).
"""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf

import sim.report.plots
import sim.run.runner
import sim.run.manifest
import sim.run.store
from sim.cli import guarded_run
from sim.config import ConfigError, plan
from sim.config.sweep import column_name
from sim.preflight import UsageError, check
from sim.run.runner import execute
from sim.run.manifest import DamagedPart, check_resume, part_path, read_manifest
from sim.run.store import merge
from tests.conftest import compose_config

# 2 pairs x 4 grid points x 60 seeds: 6 chunks of 40 worlds per strategy pair (12 chunks), every negotiation's rounds recorded
# the parts kept after the merge (run.keep_parts), so that the tests can damage them (tests/test_keep_parts.py)
SWEEP = ["+experiment=smoke", "run.seeds=60", "+sweep.grid.scenario.escalation=[0,14]", "run.plot=false",
         "run.record_rounds=all", "run.workers=1", "run.chunk_size=40", "run.keep_parts=true"]


def _container(*overrides: str) -> dict:
    return OmegaConf.to_container(compose_config(*SWEEP, *overrides), resolve=True)


def _sweep(out_dir: Path, *overrides: str):
    container = _container(*overrides)
    return execute(plan(container), out_dir, container, progress=False)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    _sweep(out)
    return out


@pytest.fixture
def finished(reference, tmp_path) -> Path:
    """A copy of the finished reference run, to damage."""
    copy = tmp_path / "run"
    shutil.copytree(reference, copy)
    return copy


def _same_files(run: Path, reference: Path) -> None:
    for name in ("outcomes.parquet", "rounds.parquet"):
        assert _digest(run / name) == _digest(reference / name), name


def _edit_manifest(run: Path, edit) -> None:
    body = json.loads((run / "manifest.json").read_text())
    edit(body)
    (run / "manifest.json").write_text(json.dumps(body))


def test_the_fixture_has_several_chunks_each_with_both_parts(reference):
    manifest = read_manifest(reference)
    assert manifest.chunks == 12 and manifest.done == set(range(12))
    assert all(entry["rounds"] is not None for entry in manifest.parts.values())


# -- 1. a chunk is done only when all its parts are --------------------------------------------


def test_a_chunk_whose_rounds_part_was_never_written_is_computed_again(finished, reference):
    # the issue's recipe: merged files and one rounds part gone, the chunk not yet recorded as done
    for name in ("outcomes.parquet", "rounds.parquet"):
        (finished / name).unlink()
    part_path(finished, "rounds", 4).unlink()
    _edit_manifest(finished, lambda body: body["parts"].pop("4"))
    result = _sweep(finished)
    assert result.resumed == 11
    _same_files(finished, reference)


def test_a_chunk_recorded_done_but_missing_its_rounds_part_is_computed_again(finished, reference):
    (finished / "rounds.parquet").unlink()
    part_path(finished, "rounds", 2).unlink()
    result = _sweep(finished)
    assert result.recomputed == [2] and result.resumed == 11
    _same_files(finished, reference)
    rounds = pd.read_parquet(finished / "rounds.parquet")
    assert set(rounds["world"]) == set(range(4 * 60 * 2))  # every negotiation's rounds are there


# -- 2. and 5. damaged or truncated parts are recomputed ------------------------------------------


@pytest.mark.parametrize("damage", ["flip-8-bytes", "truncate"])
def test_a_damaged_part_is_detected_by_its_checksum_and_recomputed(finished, reference, damage):
    path = part_path(finished, "outcomes", 3)
    data = bytearray(path.read_bytes())
    if damage == "flip-8-bytes":  # inside the data pages, footer intact: the file still reads
        middle = len(data) // 3
        data[middle:middle + 8] = bytes(b ^ 0xFF for b in data[middle:middle + 8])
    else:
        data = data[: len(data) // 2]
    path.write_bytes(bytes(data))
    result = _sweep(finished)
    assert result.recomputed == [3]
    _same_files(finished, reference)


def test_the_merge_checks_each_part_against_its_checksum(finished):
    path = part_path(finished, "outcomes", 1)
    data = bytearray(path.read_bytes())
    data[100:108] = bytes(b ^ 0xFF for b in data[100:108])
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedPart, match="part-000001"):
        merge(finished, "outcomes", read_manifest(finished))


def test_a_part_damaged_after_the_resume_check_is_recomputed_at_the_merge(finished, reference, monkeypatch):
    real_merge = sim.run.runner.merge
    damaged = []

    def damage_then_merge(out_dir, kind, manifest, *stream):
        if not damaged:  # the bytes change between the resume check and the merge
            path = part_path(out_dir, "rounds", 5)
            path.write_bytes(path.read_bytes()[:-40])
            damaged.append(5)
        return real_merge(out_dir, kind, manifest, *stream)

    monkeypatch.setattr(sim.run.runner, "merge", damage_then_merge)
    result = _sweep(finished)
    assert result.recomputed == [5]
    _same_files(finished, reference)


# -- 3. configs and code versions are never mixed -------------------------------------------------


def test_parts_without_a_manifest_are_refused(finished):
    (finished / "manifest.json").unlink()
    (finished / "outcomes.parquet").unlink()
    with pytest.raises(ConfigError, match="no manifest.json"):
        _sweep(finished, "scenario.escalation=20")
    assert len(list((finished / "outcomes").glob("part-*.parquet"))) == 12  # nothing deleted


def test_a_resume_across_code_versions_is_refused_unless_forced(finished, reference, monkeypatch):
    _edit_manifest(finished, lambda body: body["parts"]["0"].update(code="sim 0.0.9 @ 0123abc"))
    with pytest.raises(ConfigError, match=r"run\.force_resume: .*'sim 0\.0\.9 @ 0123abc'"):
        _sweep(finished)
    result = _sweep(finished, "run.force_resume=true")
    assert result.code_versions == sorted(["sim 0.0.9 @ 0123abc", sim.run.manifest.code_version()])
    _same_files(finished, reference)  # the code did not really change here


def test_the_code_version_names_the_package_and_the_commit():
    from importlib import metadata

    from sim.run.outputs import git_commit

    version = sim.run.manifest.code_version()
    assert version.startswith(f"sim {metadata.version('sim')} @ ")
    commit = git_commit()
    if commit is not None:
        assert commit in version


def test_force_resume_must_be_a_flag():
    with pytest.raises(ConfigError, match=r"run\.force_resume: must be true or false"):
        plan(compose_config("run.force_resume=maybe"))


# -- 5. a damaged manifest is refused in one line -------------------------------------------------


@pytest.mark.parametrize("content", ["", '{"format": 2, "chunks": 6, "done": [0, 1], "par'],
                         ids=["empty", "truncated"])
def test_a_damaged_manifest_is_refused_in_one_line(finished, content):
    (finished / "manifest.json").write_text(content)
    with pytest.raises(ConfigError) as err:
        check_resume(finished, sim.run.manifest.config_fingerprint(_container()))
    message = str(err.value)
    assert "manifest.json is damaged" in message and "\n" not in message


# -- 7. temporary files are cleaned on resume ---------------------------------------------------


def test_temporary_files_left_by_killed_writes_are_removed_on_resume(finished):
    (finished / "figures").mkdir()
    stale = [finished / ".outcomes.parquet.k2j4.tmp", finished / ".manifest.json.x81z.tmp",
             finished / "figures" / ".pressure.png.a0b1.tmp", finished / "outcomes" / ".part-000002.parquet.q.tmp"]
    for path in stale:
        path.write_bytes(b"half")
    kept = finished / "notes.tmp"  # not a name the writer makes
    kept.write_text("mine")
    _sweep(finished)
    assert not any(path.exists() for path in stale)
    assert kept.read_text() == "mine"


# -- 8. a full disk: one line, nothing lost --------------------------------------------------


def test_a_full_disk_gives_one_line_naming_the_folder_and_keeps_what_was_written(reference, tmp_path, monkeypatch,
                                                                                 capsys):
    run = tmp_path / "run"
    real_write = sim.run.store.pq.write_table
    calls = []

    def write_until_full(table, where, *args, **kwargs):
        calls.append(where)
        if len(calls) > 5:  # chunks 0 and 1 (outcomes and rounds), then the outcomes part of chunk 2
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(table, where, *args, **kwargs)

    monkeypatch.setattr(sim.run.store.pq, "write_table", write_until_full)
    status = guarded_run(compose_config(*SWEEP), run, [])
    err = capsys.readouterr().err
    err = "".join(line for line in err.splitlines(keepends=True) if " - progress: " not in line)  # stderr too
    assert status == 1
    assert err.startswith("error: no space left") and err.count("\n") == 1 and "Traceback" not in err
    assert str(run) in err and " MB more is needed" in err
    manifest = read_manifest(run)
    assert manifest.done == {0, 1}  # what was written is intact and recorded
    assert not list(run.rglob("*.tmp"))
    monkeypatch.setattr(sim.run.store.pq, "write_table", real_write)
    assert guarded_run(compose_config(*SWEEP), run, []) == 0
    _same_files(run, reference)


# -- 6. Ctrl-C after the simulation ---------------------------------------------------------------


@pytest.mark.parametrize("where", ["merge", "plot"])
def test_ctrl_c_during_the_merge_or_the_plotting_gives_a_resume_hint(tmp_path, monkeypatch, capsys, where):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if where == "merge":
        monkeypatch.setattr(sim.run.runner, "merge", interrupt)
    else:
        monkeypatch.setattr(sim.report.plots, "draw_all", interrupt)
    cfg = compose_config(*SWEEP[:-3], "run.workers=1", f"run.plot={where == 'plot'}")
    status = guarded_run(cfg, tmp_path / "run", ["+experiment=smoke"])
    err = capsys.readouterr().err
    assert status == 130
    assert "To finish, run the same command again" in err and "hydra.run.dir=" in err
    assert "python -m sim run +experiment=smoke hydra.run.dir=" in err


# -- 19. rounds carry the strategy pair and the grid point ----------------------------------------


def test_rounds_carry_the_strategy_pair_and_grid_point_of_their_negotiation(reference):
    rounds = pd.read_parquet(reference / "rounds.parquet")
    outcomes = pd.read_parquet(reference / "outcomes.parquet")
    keys = ["us_strategy", "japan_strategy", "escalation"]
    for key in keys:
        assert key in rounds.columns
    joined = rounds[["world", *keys]].merge(outcomes[["world", *keys]], on="world", suffixes=("", "_outcome"))
    assert len(joined) == len(rounds)
    for key in keys:
        assert (joined[key] == joined[f"{key}_outcome"]).all(), key


# -- 17. the codebook ------------------------------------------------------------------------------


def test_every_column_has_a_unit_and_meaning_in_the_parquet_files(reference):
    for name in ("outcomes.parquet", "rounds.parquet"):
        schema = pq.read_schema(reference / name)
        for field in schema:
            meta = field.metadata or {}
            assert meta.get(b"unit") and meta.get(b"meaning"), (name, field.name)
        assert schema.field("escalation").metadata[b"config_key"] == b"scenario.escalation"
    assert pq.read_schema(reference / "outcomes.parquet").field("cars").metadata[b"unit"] == b"pp"


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Path:
    """The sweep run as the command line runs it: with summary.csv and metadata.json."""
    from sim.cli import run_experiment

    run = tmp_path_factory.mktemp("experiment") / "run"
    run_experiment(compose_config(*SWEEP), run, progress=False)
    return run


def test_the_codebook_document_is_current_and_lists_every_column(experiment):
    from sim.report.codebook import DOC, default_scenario, markdown, summary_entries

    text = DOC.read_text()
    space, parties = default_scenario()
    assert text == markdown(space, parties), "docs/codebook.md is out of date: run python -m sim codebook"
    issues = {i.name for i in space.issues}
    the_plan = plan(compose_config(*SWEEP))
    swept = set(the_plan.swept_columns)
    assert the_plan.swept_columns == {"deadline_round": "scenario.deadline.round", "escalation": "scenario.escalation"}
    listed = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            listed.add(line.split("`")[1])
    run = experiment
    for name in ("outcomes.parquet", "rounds.parquet"):
        for column in pq.read_schema(run / name).names:
            generic = ("ISSUE" if column in issues else "*swept key*" if column in swept
                       else "*ISSUE*_at_bound" if column.removesuffix("_at_bound") in issues else column)
            assert column in listed or generic in {"ISSUE", "*swept key*"} | listed, (name, column)
    summary = pd.read_csv(run / "summary.csv")
    space = the_plan.points[0].structure.space
    assert list(summary.columns) == list(summary_entries(space, the_plan.swept_keys, the_plan.parties))
    for column in summary.columns:
        assert column in listed or column in swept or column.removeprefix("median_") in issues, column
    for word in ("deadline", "deadline_extended", "final_deadline"):
        assert f"`{word}`" in text


def test_swept_keys_are_identifier_columns_mapped_back_to_their_keys(experiment):
    # the rule, by hand: drop a leading "scenario.", then "." and "-" -> "_"
    assert column_name("scenario.escalation") == "escalation"
    assert column_name("scenario.sides.japan.deadline") == "sides_japan_deadline"
    assert column_name("scenario.issues.steel-aluminium.negotiable") == "issues_steel_aluminium_negotiable"
    assert column_name("us.offering.beta") == "us_offering_beta"
    assert column_name("protocol.agenda") == "protocol_agenda"
    assert column_name("us_strategy") == "us_strategy"
    meta = json.loads((experiment / "metadata.json").read_text())
    assert meta["swept_columns"] == {"deadline_round": "scenario.deadline.round", "escalation": "scenario.escalation"}
    outcomes = pd.read_parquet(experiment / "outcomes.parquet")
    tables = {"outcomes": outcomes, "rounds": pd.read_parquet(experiment / "rounds.parquet"),
              "summary": pd.read_csv(experiment / "summary.csv")}
    for name, table in tables.items():
        assert all(c.isidentifier() for c in table.columns), (name, [c for c in table.columns if "." in c])
        assert {"deadline_round", "escalation"} <= set(table.columns), name
    for name in ("outcomes.parquet", "rounds.parquet"):  # the way back is in the file itself
        schema = pq.read_schema(experiment / name)
        for column, key in meta["swept_columns"].items():
            assert schema.field(column).metadata[b"config_key"] == key.encode()
    # usable as an attribute and in query: 2 strategy pairs x 2 deadlines x 60 seeds at escalation 14
    assert len(outcomes.query("escalation == 14")) == (outcomes.escalation == 14).sum() == 2 * 2 * 60


def test_swept_keys_that_would_share_a_column_are_refused_in_one_line():
    both = ["+sides.us.deadline=3", "+sweep.grid.sides.us.deadline=[1,2]",
            "+sweep.grid.scenario.sides.us.deadline=[5,9]"]
    with pytest.raises(ConfigError, match="sides.us.deadline and scenario.sides.us.deadline .* 'sides_us_deadline'"):
        plan(compose_config(*both))
    # a swept key whose column an outcome column already has: refused before anything runs
    extension = "extension: {probability: 0.3, rounds: 2}"
    with pytest.raises(UsageError, match="scenario.deadline would be the output column 'deadline'"):
        check([f"+sweep.grid.scenario.deadline=[{{round: 5, {extension}}},{{round: 9, {extension}}}]"],
              multirun=False)


# -- 16. metadata ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_metadata_records_the_workers_used_the_whole_wall_time_and_a_rerun_command(tmp_path, monkeypatch):
    import time

    real_draw, spent = sim.report.plots.draw_all, []

    def timed_draw(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real_draw(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    monkeypatch.setattr(sim.report.plots, "draw_all", timed_draw)
    run = tmp_path / "run"
    # workers left to default: a 20-negotiation run stays in this process, unless the run verb has started
    # the workers' fork server ahead (an earlier test in this process may have), when a worker costs a fork
    monkeypatch.setattr(sim.run.runner, "workers_started_ahead", lambda: False)
    cfg = compose_config("+experiment=smoke", "run.progress=false")
    start = time.perf_counter()
    assert guarded_run(cfg, run, ["+experiment=smoke", "run.progress=false"]) == 0
    outer = time.perf_counter() - start
    meta = json.loads((run / "metadata.json").read_text())
    assert meta["workers"] == 1
    assert spent and spent[0] <= meta["wall_seconds"] <= outer  # the figures are inside the measured time
    assert meta["simulate_seconds"] <= meta["wall_seconds"]
    assert meta["command"] == f"python -m sim run +experiment=smoke run.progress=false hydra.run.dir={run}"
