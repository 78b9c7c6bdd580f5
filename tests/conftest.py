"""Shared fixtures: compose configs with Hydra's compose API and build small runs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from omegaconf import DictConfig

from sim.config import plan
from sim.config.compose import compose_config as compose
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds

# Settings of the case study (us_japan_2025) for the few tests that are about it, not about a mechanism: the
# claims made on its first calibration (test_tradeoffs' frontier test) and its calibration (test_calibration).
# Mechanism tests build a small scenario of their own instead (tests/scenarios.py, tests/test_schema.py,
# tests/test_schema_trade.py: ratification runs on a small two-way trade scenario), so that a new stance in the
# case study cannot change what they test.
#
# The default scenario's stances from the record (docs/stances.md) switched off: the US floor on the reciprocal
# tariff (a red line that holds with probability 0.9, so also a source of randomness) and the firmness per issue.
NO_STANCES = [
    "~scenario.sides.us.red_lines.reciprocal",
    "~scenario.sides.us.firmness.autos",
    "~scenario.sides.us.firmness.steel",
    "~scenario.sides.japan.firmness.autos",
]

# The exporter bearing every tariff (pass-through 0) within the narrower issue ranges of the first calibration:
# the payoffs under which the hand calculations of the strategy tests (agreement where two concession curves
# cross) hold, because no reservation value binds. They test the strategies, not the calibration.
RESERVATIONS_NOT_BINDING = [
    "scenario.payoff.pass_through=0",
    "scenario.issues.reciprocal.max=25",
    "scenario.issues.investment.max=300",
    "scenario.issues.agriculture.max=8",
]


# The payoffs before volumes and pledge delivery (issue 21): every elasticity 0 and every pledge worth its
# headline. The hand calculations of the incidence (who bears the bill) use them; tests/test_volumes.py checks the
# volume effect and the delivery shares by hand.
AT_FACE_VALUE = [
    *(f"scenario.stakes.elasticity.{flow}=0" for flow in ("vehicles", "auto_parts", "steel", "other_goods")),
    "scenario.payoff.pledges.equity.delivery=1",
    "scenario.payoff.pledges.purchase_intentions.delivery=1",
]


# The test files whose tests take longest together, longest first (per-file sums of `pytest --durations=0`
# on a shared 2-core machine, 7 December 2026; every file of 14 s or more). They are collected first, and xdist
# hands whole files to its workers in collection order (`--dist loadfile --no-loadscope-reorder` in
# pyproject.toml), so that no long file starts last and keeps one worker busy after the other has finished; the
# other files follow in their usual (alphabetical) order. Only the order of files changes, never which tests run
# or the order of the tests within a file.
LONGEST_FILES_FIRST = (
    "test_sweep.py", "test_compose_once.py", "test_hardening.py", "test_safety.py", "test_config.py",
    "test_dashboard_browser.py", "test_readme.py", "test_ensemble.py", "test_plots.py", "test_cli.py",
    "test_model.py", "test_fork_server.py", "test_preflight.py", "test_strategies.py", "test_store.py",
    "test_console.py", "test_lifeline.py", "test_wheel.py", "test_figures.py", "test_forecast.py",
    "test_validation.py", "test_code_from_data.py", "test_sensitivity_cli.py", "test_calibration.py",
    "test_lazy_imports.py", "test_schema.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first (see :data:`LONGEST_FILES_FIRST`); a stable sort keeps each file's own order."""
    rank = {name: i for i, name in enumerate(LONGEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def compose_config(*overrides: str) -> DictConfig:
    """Compose ``conf/config.yaml`` with overrides, as the command line would."""
    return compose(*overrides)


def single_model(*overrides: str, seeds: int = 1, root_seed: int = 7) -> NegotiationModel:
    """A model of ``seeds`` worlds of the (single-point) config, run to the end."""
    p = plan(compose_config(*overrides))
    assert len(p.points) == 1
    point = p.points[0]
    inputs = stack([point.inputs] * seeds)
    model = NegotiationModel(point.structure, inputs, world_seeds(root_seed, np.arange(seeds)))
    model.run_model()
    return model


def sim_in_process(monkeypatch, capsys, *args: str) -> subprocess.CompletedProcess:
    """``python -m sim ARGS`` in this process (its entry point and its one-line guard, which ends in
    ``SystemExit``): the exit status and what it printed, as :func:`subprocess.run` would give them. For the
    checks that do not depend on a fresh interpreter (a verb's refusals, a resume); the status is the one the
    process would end with. The caller sets the working folder (``monkeypatch.chdir``)."""
    from sim.__main__ import main

    capsys.readouterr()  # what earlier steps printed
    status = 0
    with monkeypatch.context() as m:
        m.setattr(sys, "argv", ["sim", *args])
        try:
            main()
        except SystemExit as stop:
            status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), status, captured.out, captured.err)


@pytest.fixture
def compose_cfg():
    """The compose helper, as a fixture."""
    return compose_config


@pytest.fixture(autouse=True)
def _worker_state_per_test():
    """Each test sees the workers' state it sets up itself: the ``run`` verb, run in process by a test, starts
    the fork server ahead with the figure modules, after which a run draws its figures in workers and runs
    even small sweeps in workers; the next test must not inherit that (the server itself keeps running)."""
    import sim.run.workers

    saved = dict(sim.run.workers._started)
    yield
    sim.run.workers._started.clear()
    sim.run.workers._started.update(saved)


@pytest.fixture(autouse=True)
def _log_handlers_per_test():
    """Each test sees the log handlers it sets up itself: a run in process (Hydra's job logging) adds a console
    handler to the ``sim`` and root loggers, which would print the next test's progress lines on its stderr."""
    import logging

    loggers = (logging.getLogger(), logging.getLogger("sim"), logging.getLogger("hydra"))
    before = [list(logger.handlers) for logger in loggers]
    yield
    for logger, kept in zip(loggers, before, strict=True):
        for handler in list(logger.handlers):
            if type(handler) is logging.StreamHandler and handler not in kept:  # not pytest's own capture
                logger.removeHandler(handler)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A finished smoke run folder (no figures, one worker), made once per test module."""
    from sim.cli import run_experiment

    out = tmp_path_factory.mktemp("small")
    run_experiment(compose_config("+experiment=smoke", "run.plot=false", "run.progress=false", "run.workers=1"), out)
    return out


@pytest.fixture
def copy(small_run, tmp_path):
    """A copy of :func:`small_run` that a test may damage."""
    import shutil

    target = tmp_path / "run"
    shutil.copytree(small_run, target)
    return target

