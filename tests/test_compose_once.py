"""A command line's config is composed once: by the pre-run check, whose configs and plans Hydra then runs.

Each case runs ``python -m sim run`` in a fresh interpreter in which Hydra's config loader counts its composes
(``load_configuration``, the call behind ``hydra.compose``, ``@hydra.main`` and the launcher's
``load_sweep_config``) by their overrides, and ``sim.cli`` counts the plans it makes. Wiring only: what the
runs compute is checked elsewhere (tests/test_cli.py, benchmarks/value_tables.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

PROBE = """
import json, sys
from hydra._internal.config_loader_impl import ConfigLoaderImpl

composed = []
real = ConfigLoaderImpl.load_configuration
def counted(self, config_name, overrides, *args, **kwargs):
    if config_name == "config":
        composed.append(list(overrides))
    return real(self, config_name, overrides, *args, **kwargs)
ConfigLoaderImpl.load_configuration = counted

import sim.cli
planned = []
real_plan = sim.cli.plan
sim.cli.plan = lambda cfg: planned.append(1) or real_plan(cfg)

if __name__ == "__main__":
    sys.argv = ["sim", *json.loads(sys.argv[1])]
    from sim.__main__ import main
    try:
        main()
    except SystemExit as stop:
        status = stop.code
    print(json.dumps({"status": status, "composed": composed, "planned": len(planned)}))
"""

QUICK = ["run.seeds=1", "run.plot=false", "run.progress=false", "run.workers=1"]


def _run(tmp_path, *args: str) -> dict:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    done = subprocess.run([sys.executable, str(probe), json.dumps(list(args))], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_run_composes_its_config_once_and_plans_it_once(tmp_path):
    out = tmp_path / "run"
    report = _run(tmp_path, "run", "+experiment=smoke", *QUICK, f"hydra.run.dir={out}")
    assert report["status"] == 0 and (out / "summary.csv").is_file() and (out / ".hydra" / "config.yaml").is_file()
    runs = [c for c in report["composed"] if "+experiment=smoke" in c]
    assert runs == [["+experiment=smoke", *QUICK, f"hydra.run.dir={out}", "hydra.mode=RUN"]]
    # the one other compose is the scenario as written (its values inside their priors), without any override
    assert [c for c in report["composed"] if "+experiment=smoke" not in c] == [["hydra.mode=RUN"]]
    assert report["planned"] == 0  # the run used the check's plan


def test_a_multirun_composes_the_sweep_once_and_each_job_once(tmp_path):
    out = tmp_path / "sweep"
    report = _run(tmp_path, "run", "-m", "+experiment=smoke", "scenario.escalation=0,5,10", *QUICK,
                  f"hydra.sweep.dir={out}")
    assert report["status"] == 0
    jobs = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert jobs == [f"{n}_run.seeds=1,scenario.escalation={v}" for n, v in enumerate((0, 5, 10))]
    assert all((out / job / "summary.csv").is_file() for job in jobs)
    counts = Counter(tuple(c) for c in report["composed"])
    whole = [c for c in counts if any("0,5,10" in o for o in c)]  # the sweep as a whole (Hydra's master config)
    assert len(whole) == 1 and counts[whole[0]] == 1
    for value in (0, 5, 10):
        job = [c for c in counts if f"scenario.escalation={value}" in c]
        assert len(job) == 1 and counts[job[0]] == 1, (value, counts)
    assert sum(counts.values()) == 1 + 3 + 1  # and the scenario as written, once
    assert report["planned"] == 0  # each job ran the plan the check made of it
