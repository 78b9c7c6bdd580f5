"""Configs compose through Hydra's compose API, and bad values are refused with the key named."""

from __future__ import annotations

import pytest

from sim.config import available, plan
from sim.preflight import UsageError, check
from tests.conftest import compose_config


@pytest.mark.parametrize("experiment", available("experiment"))
def test_every_experiment_composes_and_plans(experiment):
    cfg = compose_config(f"+experiment={experiment}")
    p = plan(cfg)
    assert cfg.run.name == experiment
    assert p.n_worlds == len(p.points) * p.seeds >= 1


def test_deadline_pressure_sweeps_deadline_and_escalation_over_strategy_pairs():
    p = plan(compose_config("+experiment=deadline_pressure"))
    assert p.seeds >= 100
    assert set(p.swept_keys) == {"scenario.deadline.round", "scenario.escalation"}
    pairs = {(pt.coordinates["us_strategy"], pt.coordinates["japan_strategy"]) for pt in p.points}
    assert len(pairs) >= 3
    assert len(p.points) == len(pairs) * 4 * 4


@pytest.mark.parametrize("group", ["scenario", "strategy", "acceptance", "opponent", "protocol"])
def test_every_group_option_composes(group):
    key = {"strategy": "strategy@us", "acceptance": "acceptance@japan", "opponent": "opponent@us"}.get(group, group)
    for option in available(group):
        plan(compose_config(f"{key}={option}"))


def test_overrides_reach_the_compiled_parameters():
    p = plan(compose_config("scenario.deadline.round=12", "strategy@us=hardliner", "strategy@japan=conceder",
                            "run.seeds=200"))
    point = p.points[0]
    assert point.inputs.deadline == 12 and p.seeds == 200
    assert point.structure.party("us").strategy == "hardliner"
    assert point.inputs.parties[1].offering["beta"] == 4.0


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"),
    [
        (["strategy@us=nope"], "strategy@us=nope", "boulware"),
        (["scenario=nope"], "scenario=nope", "us_japan_2025"),
        (["+experiment=nope"], "+experiment=nope", "deadline_pressure"),
        (["scenario.issues.cars.status_quo=40"], "scenario.issues.cars.status_quo", "[2.5, 27.5]"),
        (["scenario.issues.reciprocal.min=-1"], "scenario.issues.reciprocal.min", "[0, 1000]"),
        (["scenario.deadline.round=40"], "scenario.deadline.round", "protocol.max_rounds"),
        (["scenario.deadline.extension.rounds=20"], "scenario.deadline.extension.rounds", "protocol.max_rounds"),
        (["scenario.sides.japan.deadline=99"], "scenario.sides.japan.deadline", "[1, 26]"),
        (["scenario.deadline.extension.probability=1.5"], "scenario.deadline.extension.probability", "[0, 1]"),
        (["scenario.breakdown_risk=-0.1"], "scenario.breakdown_risk", "probability"),
        (["scenario.issues.investment.max=-5"], "scenario.issues.investment.max", "USD bn"),
        (["scenario.sides.us.delay_cost=-1"], "scenario.sides.us.delay_cost", "cannot be negative"),
        (["scenario.deadline.round=abc"], "scenario.deadline.round", "integer"),
        (["scenario.deadline.round=12.5"], "scenario.deadline.round", "integer"),
        (["scenario.sides.us.walk_away=maybe"], "scenario.sides.us.walk_away", "true or false"),
        (["scenario.escalation=40"], "scenario.escalation", "reciprocal.max"),  # 10 + 40 > the 46 % max
        (["protocol.opener=china"], "protocol.opener", "us, japan"),
        (["us.offering.beta=0"], "us.offering.beta", "[0.001, 1000]"),
        (["+us.offering.betta=2"], "us.offering.betta", "allowed: beta, kappa"),
        (["+us.acceptance.gamma=2"], "us.acceptance.gamma", "allowed: alpha, beta"),
        (["acceptance@us=nope"], "acceptance@us=nope", "ac_next"),
        (["run.seeds=0"], "run.seeds", "[1,"),
        (["run.record_rounds=some"], "run.record_rounds", "auto, all, none"),
        (["scenario.issues.energy.max=80"], "scenario.issues", "surplus"),
        (["scenario.deadline.rounds=3"], "scenario.deadline.rounds", "no such config key"),
        (["+sweep.grid.scenario.nope=[1,2]"], "sweep.grid.scenario.nope", "does not exist"),
        (["+sweep.grid.scenario.escalation=[]"], "sweep.grid.scenario.escalation", "non-empty"),
        (["+sweep.grid.scenario.escalation=[0,99]"], "scenario.escalation", "sweep point"),
        (["sweep.pairs=[[boulware,nope]]"], "sweep.pairs", "unknown strategy 'nope'"),
        (["+sweep.grid.run.seeds=[1,2]"], "sweep.grid.run.seeds", "-m"),
        (["run.workers=0"], "run.workers", "[1, 4096]"),
        (["run.executor=spark"], "run.executor", "local, dask"),
        (["sweep.sample.method=lhs"], "sweep.sample.n", "sample size"),
        (["sweep.sample.method=lhs", "sweep.sample.n=3"], "sweep.sample.ranges", "at least one"),
        (["sweep.sample.method=lhs", "sweep.sample.n=3", "+sweep.sample.ranges.scenario.escalation=[5,1]"],
         "sweep.sample.ranges.scenario.escalation", "low < high"),
        (["run.seeds=[1,"], "malformed override", "viable"),
        # a sweep too large to plan is refused at once, with its size (it used to hang in planning)
        (["+experiment=strategy_tournament", "run.seeds=1000000000",
          "+sweep.grid.scenario.escalation=[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]"], "sweep", "negotiations"),
        (["sweep.sample.method=lhs", "sweep.sample.n=20000000", "+sweep.sample.ranges.scenario.escalation=[0,15]"],
         "sweep.sample.n", "sample size"),
        # entries of a list are named by the user's key, not an internal one
        (["scenario.ratification.japan.threshold_changes=[{date: '2025-07-20', threshold: 1.5}]"],
         "scenario.ratification.japan.threshold_changes[0].threshold", "[0, 1]"),
        (["scenario.schedule=[{issue: steel_aluminium, value: 400, effective: '2025-06-04'}]"],
         "scenario.schedule[0].value", "within the issue's range"),
        (["scenario.schedule=[{issue: steel_aluminium, value: 40, effective: 'June'}]"],
         "scenario.schedule[0].effective", "YYYY-MM-DD"),
        (["scenario.escalation=0,14"], "scenario.escalation=0,14", "-m"),
    ],
)
def test_bad_input_gets_one_line_naming_the_key(overrides, key, allowed):
    with pytest.raises(UsageError) as err:
        check(overrides, multirun=False)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(key), message
    assert allowed in message, message


def test_multirun_jobs_are_each_checked():
    check(["+experiment=smoke", "scenario.escalation=0,14"], multirun=True)
    with pytest.raises(UsageError, match=r"^scenario\.escalation: .*got 99"):
        check(["+experiment=smoke", "scenario.escalation=0,99"], multirun=True)


# -- composing fast without changing what is composed ------------------------------------------------------

def test_each_compose_gets_its_own_copy_of_a_kept_result(monkeypatch):
    """The composed configs kept by compose_config (the parse cache of the files: tests/test_conf_cache.py)."""
    from omegaconf import OmegaConf

    import sim.config.compose as compose_module

    overrides = ("+experiment=deadline_pressure", "strategy@us=boulware", "scenario.escalation=7")
    monkeypatch.setattr(compose_module, "_results", compose_module.OrderedDict())
    first = compose_module.compose_config(*overrides)  # composed by Hydra
    reference = OmegaConf.to_yaml(first)
    first.scenario.escalation = 99.0  # a caller changing its copy
    second = compose_module.compose_config(*overrides)  # the whole result kept
    assert len(compose_module._results) == 1
    assert OmegaConf.to_yaml(second) == reference
    assert second.scenario.escalation == 7 and OmegaConf.is_struct(second)


def test_an_edited_config_file_is_read_again(monkeypatch, tmp_path):
    import shutil

    import sim.config.compose as compose_module
    from sim.config.values import CONF_DIR

    conf = tmp_path / "conf"
    shutil.copytree(CONF_DIR, conf)
    monkeypatch.setattr(compose_module, "CONF_DIR", conf)  # the kept results; the parse cache: test_conf_cache.py
    assert compose_module.compose_config().scenario.escalation == 14
    scenario = conf / "scenario" / "us_japan_2025.yaml"
    text = scenario.read_text()
    assert text.count("\nescalation: 14.0") == 1
    scenario.write_text(text.replace("\nescalation: 14.0", "\nescalation: 9.5"))
    assert compose_module.compose_config().scenario.escalation == 9.5


def test_copy_on_write_copies_only_the_paths_it_sets():
    from sim.config.values import copy_on_write

    tree = {"a": {"b": {"c": 1}, "d": [1, 2]}, "e": {"f": 2}}
    out, put = copy_on_write(tree)
    put("a.b.c", 5)
    put("a.b.g", 6)
    assert tree == {"a": {"b": {"c": 1}, "d": [1, 2]}, "e": {"f": 2}}  # the original is untouched
    assert out == {"a": {"b": {"c": 5, "g": 6}, "d": [1, 2]}, "e": {"f": 2}}
    assert out["e"] is tree["e"] and out["a"]["d"] is tree["a"]["d"]  # what was not set is shared
    assert out["a"] is not tree["a"] and out["a"]["b"] is not tree["a"]["b"]


def test_a_grid_point_s_config_leaves_the_run_s_config_and_the_other_points_alone():
    cfg = compose_config("+experiment=deadline_pressure")
    p = plan(cfg)
    deadlines = sorted({pt.coordinates["scenario.deadline.round"] for pt in p.points})
    assert deadlines == sorted(cfg.sweep.grid["scenario.deadline.round"])
    assert {pt.inputs.deadline for pt in p.points} == set(deadlines)
    for pt in p.points:
        assert pt.inputs.deadline == pt.coordinates["scenario.deadline.round"]
