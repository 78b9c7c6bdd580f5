"""The pre-run check of a command line: swept keys, Hydra's sweep syntax, one-line errors."""

from __future__ import annotations

import pytest
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser

from sim.config import available
from sim.jobs import jobs as _jobs
from sim.preflight import UsageError, check


@pytest.mark.parametrize("overrides, multirun, key", [
    (["+experiment=deadline_pressure", "scenario.escalation=high"], False, "scenario.escalation"),
    (["+experiment=deadline_pressure", "scenario.escalation=14"], False, "scenario.escalation"),
    # the README's former multirun example: each job's value was ignored by the experiment's grid
    (["+experiment=deadline_pressure", "scenario.escalation=0,14"], True, "scenario.escalation"),
    (["+experiment=deadline_pressure", "scenario.deadline=12"], False, "scenario.deadline"),
    (["sweep.sample.method=lhs", "sweep.sample.n=5", "+sweep.sample.ranges.scenario.breakdown_risk=[0,0.1]",
      "scenario.breakdown_risk=0.2"], False, "scenario.breakdown_risk"),
    (["+experiment=deadline_pressure", "strategy@us=hardliner"], False, "strategy@us=hardliner"),
    (["+experiment=smoke", "japan.offering.beta=3"], False, "japan.offering.beta=3"),
    (["+experiment=smoke", "opponent@us=frequency"], False, "opponent@us=frequency"),
])
def test_a_value_the_sweep_overrides_is_an_error_naming_the_key(overrides, multirun, key):
    with pytest.raises(UsageError) as err:
        check(overrides, multirun)
    message = str(err.value)
    assert message.startswith(f"{key}:") and "ignored" in message and "\n" not in message


def test_the_advice_for_a_part_the_pairs_override_works():
    # the refusal suggests clearing the pairs and setting the party's parts; that command passes the check
    with pytest.raises(UsageError, match=r"sweep\.pairs=\[\]"):
        check(["+experiment=smoke", "opponent@us=frequency"], False)
    check(["+experiment=smoke", "sweep.pairs=[]", "opponent@us=frequency"], False)


def test_other_settings_combine_with_an_experiment_sweep():
    # (the README's multirun example, the experiment under two breakdown risks, is run through this check by
    # tests/test_cli.py::test_the_readme_multirun_example_repeats_the_experiment_per_value)
    check(["+experiment=deadline_pressure", "scenario=us_korea_2025"], False)  # a group, not a key
    check(["+experiment=smoke", "scenario.escalation=3"], False)  # smoke sweeps the deadline only


def _hydra_jobs(overrides: list[str]) -> list[list[str]]:
    """The jobs Hydra's basic sweeper launches for these overrides."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from sim.config import CONF_DIR

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
            return BasicSweeper.split_arguments(parser.parse_overrides(overrides), None)[0]
    finally:
        GlobalHydra.instance().clear()


@pytest.mark.parametrize("overrides", [
    # glob(*) itself: its expansion is test_glob_covers_every_strategy, and that every strategy passes the check
    # is tests/test_config.py::test_every_group_option_composes; here two jobs suffice
    ["strategy@us=glob(h*)", "run.seeds=1"],
    ["strategy@japan=glob(*,exclude=[b*,d*,l*,n*,r*,s*,t*])", "scenario.escalation=range(0,10,5)"],  # 3 x 2 jobs
    ["scenario.deadline.round=choice(5,9)", "protocol=package,sequential"],
])
def test_hydra_sweep_syntax_expands_as_hydra_does_and_every_job_is_checked(overrides):
    jobs = _jobs(overrides, multirun=True)
    assert sorted(map(sorted, jobs)) == sorted(map(sorted, _hydra_jobs(overrides)))
    check(overrides, multirun=True)


def test_glob_covers_every_strategy():
    jobs = _jobs(["strategy@us=glob(*)"], multirun=True)
    assert sorted(job[0].split("=")[1] for job in jobs) == available("strategy")


@pytest.mark.parametrize("overrides, multirun, words", [
    (["scenario.escalation=interval(0,5)"], True, "interval"),
    (["scenario.escalation=range(0,15,5)"], False, "needs -m"),
    (["strategy@us=glob(nothing*)"], True, "no values"),
    (["strategy@us=glob(*)", "scenario.escalation=99"], True, "scenario.escalation"),  # every job is validated
])
def test_a_sweep_hydra_cannot_run_is_one_line(overrides, multirun, words):
    with pytest.raises(UsageError) as err:
        check(overrides, multirun)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_error_shows_how_to_set_the_axis_and_that_way_works():
    with pytest.raises(UsageError) as err:
        check(["+experiment=deadline_pressure", "scenario.escalation=14"], False)
    suggestion = str(err.value).split("instead: ")[1].strip("'")
    assert suggestion == "sweep.grid={scenario.escalation:[14]}"
    check(["+experiment=deadline_pressure", suggestion], False)
    from sim.config import plan
    from tests.conftest import compose_config

    p = plan(compose_config("+experiment=deadline_pressure", suggestion))
    assert {pt.coordinates["scenario.escalation"] for pt in p.points} == {14}
    assert {pt.coordinates["scenario.deadline.round"] for pt in p.points} == {5, 9, 13, 17}


def test_the_run_is_handed_the_checks_plan_and_plans_again_only_for_another_config(tmp_path, monkeypatch):
    """The plan travels from the check to the run as an argument: the run uses it for the config it was made of
    (the run makes no plan of its own), and plans again for any other config. Wiring only: the values of a
    run made either way are compared by benchmarks/value_tables.py."""
    from omegaconf import OmegaConf

    import sim.cli
    from sim.config.compose import compose_config
    from sim.preflight import prepare

    overrides = ["+experiment=smoke", "run.plot=false", "run.progress=false", "run.workers=1"]
    checked = prepare(overrides, multirun=False).plan
    cfg = compose_config(*overrides)
    assert checked.container == OmegaConf.to_container(cfg, resolve=True) and "hydra" not in checked.container
    planned = []
    real_plan = sim.cli.plan
    monkeypatch.setattr(sim.cli, "plan", lambda c: planned.append(c) or real_plan(c))
    sim.cli.run_experiment(cfg, tmp_path / "same", checked=checked)
    assert planned == []  # the check's plan was used
    other = compose_config(*overrides, "run.seed=7")
    sim.cli.run_experiment(other, tmp_path / "other", checked=checked)
    assert len(planned) == 1 and planned[0]["run"]["seed"] == 7  # not the check's plan: planned again
    assert (tmp_path / "same" / "summary.csv").read_text() != "" and (tmp_path / "other" / "summary.csv").is_file()


def test_hydras_own_overrides_are_composed_with_the_job(monkeypatch):
    """A command line with Hydra's own keys is composed once per job (the keys' _target_s checked in that
    compose), not once more for them alone."""
    import sim.preflight as preflight

    composed = []
    real = preflight._compose
    monkeypatch.setattr(preflight, "_compose", lambda job, *a, **k: composed.append(list(job)) or real(job, *a, **k))
    preflight.prepare(["+experiment=smoke", "hydra.job.chdir=false"], multirun=False)
    runs = [job for job in composed if "+experiment=smoke" in job]
    assert runs == [["+experiment=smoke", "hydra.job.chdir=false", "hydra.mode=RUN"]]
    with pytest.raises(UsageError, match="hydra.callbacks.x._target_"):
        preflight.prepare(["+experiment=smoke", "+hydra.callbacks.x._target_=os.system"], multirun=False)
