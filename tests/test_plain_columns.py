"""Columns with nearly every value their own are written without Parquet dictionaries: an ensemble's drawn columns
and its text per world (marked ``encoding: plain``, ``sim.run.columns.plain_drawn``), and in every table the floats
and 64-bit integers (``sim.run.columns.dictionary_columns``); text, dates and small integers keep theirs.

A dictionary page built for such a column is abandoned for nothing. These tests check which columns are written
how, from the file's own column-chunk metadata, and that the encoding changes no value.
"""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
from omegaconf import OmegaConf

import sim.run.store as store
from sim.config import plan
from sim.run.runner import execute
from tests.conftest import compose_config
from tests.test_ensemble import ENSEMBLE

QUIET = ("run.plot=false", "run.record_rounds=none", "run.workers=1", "run.progress=false")


def _run(out, *overrides: str):
    cfg = OmegaConf.to_container(compose_config(*overrides, *QUIET), resolve=True)
    cfg.pop("hydra", None)
    the_plan = plan(cfg)
    execute(the_plan, out, cfg, progress=False)
    return the_plan


def _dictionary_encoded(path) -> dict[str, bool]:
    """Per column (booleans left out: Parquet never writes them with a dictionary): whether every row group of the
    file has it dictionary-encoded."""
    meta = pq.ParquetFile(path).metadata
    out = {}
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            chunk = group.column(c)
            if chunk.physical_type == "BOOLEAN":
                continue
            used = chunk.has_dictionary_page or any("DICTIONARY" in e for e in chunk.encodings)
            out[chunk.path_in_schema] = out.get(chunk.path_in_schema, True) and used
    return out


def test_an_ensembles_drawn_columns_are_plain_and_its_values_unchanged(tmp_path, monkeypatch):
    the_plan = _run(tmp_path / "plain", *ENSEMBLE, "sweep.sample.n=60")
    drawn = {the_plan.columns[k] for k in the_plan.prior_keys} | {the_plan.columns["constraints"]}
    assert len(drawn) > 10
    encoded = _dictionary_encoded(tmp_path / "plain" / "outcomes.parquet")
    assert not any(encoded[c] for c in drawn)
    assert all(encoded[c] for c in ("end_reason", "end_round", "end_date"))  # text, small integers, dates
    assert not any(encoded[c] for c in ("world", "seed", "cars", "us_utility"))  # 64-bit integers, floats
    monkeypatch.setattr(store, "dictionary_columns", lambda schema: True)  # every column with a dictionary
    _run(tmp_path / "dictionaries", *ENSEMBLE, "sweep.sample.n=60")
    assert all(_dictionary_encoded(tmp_path / "dictionaries" / "outcomes.parquet").values())
    pd.testing.assert_frame_equal(pq.read_table(tmp_path / "plain" / "outcomes.parquet").to_pandas(),
                                  pq.read_table(tmp_path / "dictionaries" / "outcomes.parquet").to_pandas(),
                                  check_exact=True)


def test_a_grid_keeps_dictionaries_for_its_labels_only_and_its_values(tmp_path, monkeypatch):
    _run(tmp_path / "grid", "+experiment=smoke")
    path = tmp_path / "grid" / "outcomes.parquet"
    schema = pq.read_schema(path)
    assert not any(b"encoding" in (f.metadata or {}) for f in schema)  # no column marked: a grid draws nothing
    encoded = _dictionary_encoded(path)
    for field in schema:
        if field.name in encoded:
            few = str(field.type) in ("string", "large_string", "date32[day]") or str(field.type) in (
                "int8", "int16", "int32", "uint8", "uint16", "uint32")
            assert encoded[field.name] == few, field.name
    monkeypatch.setattr(store, "dictionary_columns", lambda schema: True)  # every column with a dictionary
    _run(tmp_path / "dictionaries", "+experiment=smoke")
    assert all(_dictionary_encoded(tmp_path / "dictionaries" / "outcomes.parquet").values())
    pd.testing.assert_frame_equal(pq.read_table(path).to_pandas(),
                                  pq.read_table(tmp_path / "dictionaries" / "outcomes.parquet").to_pandas(),
                                  check_exact=True)
