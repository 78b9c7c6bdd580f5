"""Small scenarios for the mechanism tests, built in Python (sim.config.schema), not carved out of a case study.

A mechanism test states the scenario it needs here or in its own file, so a new stance or issue in a case-study
file cannot change what it tests. :func:`config` writes a :class:`~sim.config.schema.Scenario` as the full
config tree a run reads (the run settings of ``conf/config.yaml``, no sweep) and merges in the scenario keys the
typed object does not carry (ratification, stages, firmness...); :func:`simulate_config` plans and runs it
through the same runner as the command line, writing nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim.config import plan
from sim.config.schema import Scenario
from sim.run.runner import simulate

RUN = {"name": "test", "seed": 1, "seeds": 1, "chunk_size": 10000, "workers": 1, "executor": "local",
       "dask_address": None, "record_rounds": "all", "common_random_numbers": True, "progress": False,
       "plot": False, "figure_formats": ["png"], "force_resume": False}
SWEEP = {"pairs": [], "grid": {}, "sample": {"method": "none", "n": 0, "ranges": {}}}


def _merge(tree: dict, changes: Mapping[str, Any]) -> dict:
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(tree.get(key), dict):
            _merge(tree[key], value)
        else:
            tree[key] = copy.deepcopy(value)
    return tree


def config(scenario: Scenario, scenario_keys: Mapping[str, Any] | None = None,
           strategies: tuple[str, str] | None = None, **run: Any) -> dict:
    """The scenario as a run's config tree, with ``scenario_keys`` merged into ``scenario``, the two parties
    playing the named ``strategies`` (options of ``conf/strategy/``, through ``sweep.pairs``; ``None``: the
    parties' own parts) and ``run`` merged into the run settings (``seeds=20``, ``seed=7``...)."""
    cfg = scenario.to_config()
    _merge(cfg["scenario"], scenario_keys or {})
    sweep = copy.deepcopy(SWEEP) | ({"pairs": [list(strategies)]} if strategies else {})
    return cfg | {"run": RUN | run, "sweep": sweep}


def simulate_config(cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plan and run a config tree in this process: its outcome and round tables."""
    return simulate(plan(cfg))


def run(scenario: Scenario, scenario_keys: Mapping[str, Any] | None = None,
        strategies: tuple[str, str] | None = None, **settings: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plan and run a scenario (see :func:`config`): its outcome and round tables."""
    return simulate_config(config(scenario, scenario_keys, strategies, **settings))
