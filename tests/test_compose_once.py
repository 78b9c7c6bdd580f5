"""How many times a command composes its config: once per job, plus what answers another question.

Each whole-command case runs ``python -m sim ...`` (or :func:`sim.api.run`) in a fresh interpreter in which
Hydra's config loader counts its composes (``load_configuration``: the call behind ``hydra.compose``,
``@hydra.main`` and the launcher's ``load_sweep_config``) by config and overrides, and ``sim.cli`` counts the plans
it makes. The expected numbers are derived from the command: one compose per job; for ``-m``, one more for the
sweep as a whole (Hydra's master config, from which the jobs are split); one more for the scenario alone when the
command changes a key the scenario-as-written check reads (:mod:`sim.scenario_written`); one ``strategy/NAME``
compose per distinct strategy the experiment's ``sweep.pairs`` names. Wiring only: what the runs compute is
checked elsewhere (tests/test_cli.py, benchmarks/value_tables.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
import yaml
from omegaconf import OmegaConf

from sim.config import CONF_DIR
from sim.config.calibration import BLOCK
from sim.config.compose import compose_config
from sim.config.components import with_part_defaults
from sim.config.parties import parties
from sim.config.values import lookup
from sim.preflight import UsageError

PROBE = """
import json, sys
from hydra._internal.config_loader_impl import ConfigLoaderImpl

composed = []
real = ConfigLoaderImpl.load_configuration
def counted(self, config_name, overrides, *args, **kwargs):
    composed.append([config_name, list(overrides)])
    return real(self, config_name, overrides, *args, **kwargs)
ConfigLoaderImpl.load_configuration = counted

import sim.cli
planned = []
real_plan = sim.cli.plan
sim.cli.plan = lambda cfg: planned.append(1) or real_plan(cfg)

if __name__ == "__main__":
    args, status = json.loads(sys.argv[1]), None
    if args[0] == "api":
        from sim import api
        api.run(args[2:], out_dir=args[1])
    else:
        sys.argv = ["sim", *args]
        from sim.__main__ import main
        try:
            main()
        except SystemExit as stop:
            status = stop.code
    print(json.dumps({"status": status, "composed": composed, "planned": len(planned)}))
"""

QUICK = ["run.seeds=1", "run.plot=false", "run.progress=false", "run.workers=1"]


def _run(tmp_path, *args: str) -> dict:
    """The probe's report of one command; ``configs`` counts the composes of ``config.yaml`` by overrides,
    ``strategies`` those of ``strategy/NAME`` (each strategy composed as a whole negotiator)."""
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}  # the help's cache: empty
    done = subprocess.run([sys.executable, str(probe), json.dumps(list(args))], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["stderr"] = done.stderr
    report["configs"] = Counter(tuple(o) for name, o in report["composed"] if name == "config")
    report["strategies"] = Counter(name for name, _ in report["composed"] if name.startswith("strategy/"))
    return report


def _pair_strategies(experiment: str) -> Counter:
    """One compose per distinct strategy named in the experiment file's sweep.pairs (read here as YAML)."""
    pairs = yaml.safe_load((CONF_DIR / "experiment" / f"{experiment}.yaml").read_text())["sweep"]["pairs"]
    return Counter(f"strategy/{name}" for name in sorted({name for pair in pairs for name in pair}))


@pytest.mark.slow
def test_a_run_composes_its_config_once_and_plans_it_once(tmp_path):
    out = tmp_path / "run"
    report = _run(tmp_path, "run", "+experiment=smoke", *QUICK, f"hydra.run.dir={out}")
    assert report["status"] == 0 and (out / "summary.csv").is_file() and (out / ".hydra" / "config.yaml").is_file()
    # smoke sets run.* and sweep.* only, QUICK run.* only: no key the check as written reads, so the scenario
    # as written is this very config, and the command composes nothing else
    assert report["configs"] == {("+experiment=smoke", *QUICK, f"hydra.run.dir={out}", "hydra.mode=RUN"): 1}
    assert report["strategies"] == _pair_strategies("smoke")
    assert report["planned"] == 0  # the run used the check's plan


@pytest.mark.slow
def test_a_multirun_composes_the_sweep_once_and_each_job_once(tmp_path):
    out = tmp_path / "sweep"
    report = _run(tmp_path, "run", "-m", "+experiment=smoke", "run.seed=1,2", *QUICK, f"hydra.sweep.dir={out}")
    assert report["status"] == 0
    jobs = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert jobs == [f"{n}_run.seed={n + 1},run.seeds=1" for n in range(2)]
    assert all((out / job / "summary.csv").is_file() for job in jobs)
    counts = report["configs"]
    whole = [c for c in counts if "run.seed=1,2" in c]  # the sweep as a whole (Hydra's master config)
    assert len(whole) == 1 and counts[whole[0]] == 1
    for seed in (1, 2):
        job = [c for c in counts if f"run.seed={seed}" in c]
        assert len(job) == 1 and counts[job[0]] == 1, (seed, counts)
    assert sum(counts.values()) == 1 + 2  # the sweep, then each job; run.seed is no scenario value
    assert report["strategies"] == _pair_strategies("smoke")  # once for the two jobs
    assert report["planned"] == 0  # each job ran the plan the check made of it


@pytest.mark.slow
def test_a_multirun_of_a_scenario_value_composes_the_scenario_alone_once(tmp_path):
    out = tmp_path / "sweep"
    report = _run(tmp_path, "run", "-m", "+experiment=smoke", "scenario.escalation=0,10", *QUICK,
                  f"hydra.sweep.dir={out}")
    assert report["status"] == 0
    counts = report["configs"]
    # the sweep, each job, and the scenario alone (each job sets scenario.escalation, which has a prior), once
    assert counts[("scenario=us_japan_2025", "hydra.mode=RUN")] == 1
    assert sum(counts.values()) == 1 + 2 + 1
    assert report["planned"] == 0


@pytest.mark.slow
def test_the_python_api_composes_once_and_plans_once(tmp_path):
    out = tmp_path / "api"
    report = _run(tmp_path, "api", str(out), "+experiment=smoke", *QUICK)
    assert (out / "summary.csv").is_file()
    assert report["configs"] == {("+experiment=smoke", *QUICK, f"hydra.run.dir={out}", "hydra.mode=RUN"): 1}
    assert report["strategies"] == _pair_strategies("smoke")
    assert report["planned"] == 0


@pytest.mark.slow
def test_run_help_composes_the_command_once_and_then_reads_its_cache(tmp_path):
    first = _run(tmp_path, "run", "+experiment=smoke", "--help")
    assert first["status"] == 0 and first["configs"] == {("+experiment=smoke",): 1} and not first["strategies"]
    again = _run(tmp_path, "run", "+experiment=smoke", "--help")  # the same cache folder
    assert again["status"] == 0 and again["composed"] == []


def _refused_on_one_line(report: dict, bad: str, out, composes: int) -> None:
    """Exit 2 before the run folder is made, the error on one line (and a suggestion), and ``composes``
    composes of the config (no strategy's)."""
    assert report["status"] == 2 and not out.exists()
    lines = report["stderr"].strip().splitlines()
    assert lines[0].startswith(f"error: {bad.split('=')[0]}")  # the error on one line (and a suggestion)
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].strip().startswith("did you mean"))
    assert sum(report["configs"].values()) == composes and not report["strategies"]


@pytest.mark.slow
def test_a_bad_override_is_one_line_before_anything_is_written(tmp_path):
    # the failed compose; the options come with Hydra's error. (An unknown key, "scenario.escalatoin=3", with
    # the help's cache empty: the test below, whose first command is that case.)
    out = tmp_path / "run"
    _refused_on_one_line(_run(tmp_path, "run", "scenario=nowhere", f"hydra.run.dir={out}"), "scenario=nowhere", out, 1)


@pytest.mark.slow
def test_did_you_mean_reads_the_help_s_cache_once_it_is_warm(tmp_path):
    out, bad = tmp_path / "run", "scenario.escalatoin=3"
    first = _run(tmp_path, "run", bad, f"hydra.run.dir={out}")  # the help's cache (under tmp_path) filled here
    # the failed compose; then the default config's keys (the help's cache is empty)
    _refused_on_one_line(first, bad, out, 2)
    again = _run(tmp_path, "run", bad, f"hydra.run.dir={out}")
    assert first["stderr"] == again["stderr"] and "did you mean" in again["stderr"]
    _refused_on_one_line(again, bad, out, 1)  # the failed compose only


def _counting(monkeypatch) -> list:
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    composed, real = [], ConfigLoaderImpl.load_configuration

    def counted(self, config_name, overrides, *args, **kwargs):
        composed.append((config_name, list(overrides)))
        return real(self, config_name, overrides, *args, **kwargs)

    monkeypatch.setattr(ConfigLoaderImpl, "load_configuration", counted)
    return composed


@pytest.mark.parametrize("overrides, alone", [
    (["+experiment=smoke", "run.seeds=2"], None),  # nothing the check reads changes: the config is reused
    (["scenario.escalation=3"], "us_japan_2025"),  # a value with a prior
    (["strategy@us=conceder"], "us_japan_2025"),  # a negotiator (its parts' parameters may have priors)
    (["+experiment=us_korea"], "us_korea_2025"),  # the experiment chooses the scenario (checked as us_japan before)
    (["+experiment=forecast"], "us_japan_2025"),  # an experiment with a defaults list
])
def test_the_check_composes_the_scenario_the_command_runs_alone_only_when_the_command_may_change_it(
        monkeypatch, overrides, alone):
    from sim.preflight import prepare

    composed = _counting(monkeypatch)
    prepare(overrides, multirun=False)
    configs = [o for name, o in composed if name == "config"]
    assert configs[0] == [*overrides, "hydra.mode=RUN"]
    assert configs[1:] == ([] if alone is None else [[f"scenario={alone}", "hydra.mode=RUN"]])


def test_a_value_outside_its_prior_in_the_scenario_an_experiment_chooses_is_refused():
    """The check reads the scenario the command runs: here the one the experiment chooses, composed alone."""
    from sim.preflight import _compose, _loader
    from sim.scenario_written import check_as_written

    loader = _loader()
    job = ["+experiment=us_korea"]
    cfg, own, _ = _compose([*job, "hydra.mode=RUN"], loader)
    asked = []

    def alone(overrides):  # as if the file said 0.1 (its prior is triangular [0.3, 0.6, 1])
        asked.append(overrides)
        return compose_config(*overrides, "scenario.payoff.pass_through=0.1")

    with pytest.raises(UsageError, match=r"scenario.payoff.pass_through: the value 0.1 lies outside its prior"):
        check_as_written(job, cfg, own, set(), loader, alone)
    assert asked == [["scenario=us_korea_2025"]]
    check_as_written(job, cfg, own, {"us_korea_2025"}, loader, alone)  # checked once per scenario of a command
    assert len(asked) == 1


def _read(tree: dict) -> dict:
    """What the check as written reads of a config: the block, the parties' negotiators and each block key's
    value (a part's declared parameters filled in)."""
    filled = with_part_defaults(tree, tuple(pid for pid, _ in parties(tree)))
    block = lookup(tree, BLOCK) or {}
    return {"block": block, "parties": {pid: tree.get(pid) for pid, _ in parties(tree)},
            "values": {key: lookup(filled, key) for key in block}}


@pytest.mark.parametrize("experiment", sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml")))
def test_where_the_check_reuses_the_commands_config_it_reads_what_the_scenario_alone_holds(experiment):
    """Against brute force: for every shipped experiment whose config the check reuses, composing the scenario
    alone gives the same block, negotiators and values at every key the check reads."""
    from sim.preflight import _compose, _loader
    from sim.scenario_written import reuses_own_config

    loader = _loader()
    job = [f"+experiment={experiment}", "run.seeds=3"]
    cfg, own, _ = _compose([*job, "hydra.mode=RUN"], loader)
    if not reuses_own_config(job, own, loader):
        pytest.skip(f"{experiment}: the scenario is composed alone (an experiment that may change anything)")
    scenario = OmegaConf.select(cfg, "hydra.runtime.choices.scenario")
    alone = compose_config(f"scenario={scenario}")
    assert _read(OmegaConf.to_container(own, resolve=True)) == _read(OmegaConf.to_container(alone, resolve=True))


def test_experiments_that_set_keys_only_are_reused():
    """The shortcut applies where it should (else the brute-force test above would skip them all)."""
    from sim.preflight import _compose, _loader
    from sim.scenario_written import reuses_own_config

    loader = _loader()
    for experiment, reused in (("smoke", True), ("deadline_pressure", True), ("two_level", True),
                               ("us_korea", False), ("forecast", False)):
        job = [f"+experiment={experiment}"]
        _, own, _ = _compose([*job, "hydra.mode=RUN"], loader)
        assert reuses_own_config(job, own, loader) is reused, experiment
    for job in (["~scenario.calibration"], ["scenario.parties={}"], ["us.offering.beta=0.5"]):
        _, own, _ = _compose([*job, "hydra.mode=RUN"], loader)  # the block, the parties, a party's negotiator
        assert not reuses_own_config(job, own, loader), job
    job = ["run.seeds=3", "sweep.pairs=[[boulware,conceder]]", "+hydra.job.env_set.X=1"]
    _, own, _ = _compose([*job, "hydra.mode=RUN"], loader)
    assert reuses_own_config(job, own, loader)
    OmegaConf.update(own, "scenario.escalation", "${run.seeds}")  # a value read that follows another key
    assert not reuses_own_config(job, own, loader)


def test_each_command_keeps_its_own_record_of_a_sweeps_tables(tmp_path):
    """The run verb's state is its own (passed to each job), not a module's: a sweep run again in the same
    process is compared with its earlier jobs of this command only, never with itself."""
    from sim.cli import same_table_note

    job = tmp_path / "multirun" / "0_a=1"
    job.mkdir(parents=True)
    (job / "summary.csv").write_text("x\n1\n")
    assert same_table_note(job, 5, {}) is None
    assert same_table_note(job, 5, {}) is None  # the same job, run again by a second command
    earlier = {}
    assert same_table_note(job, 5, earlier) is None and list(earlier) == ["0_a=1"]

