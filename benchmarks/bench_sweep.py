"""End-to-end sweep throughput against a plain NumPy lower bound of the same negotiation, and the main command.

Usage: python benchmarks/bench_sweep.py [--negotiations 100000] [--workers 2] [--repeats 3] [--million]
       [--cli N] [--issues] [--main] [--ensemble N] [--fan] [--design N] [--only]

Reference workload: 5 issues (the four US tariffs and Japan's investment pledge), a 100-round
deadline, Boulware (US) against Conceder (Japan), concession noise on. "End to end" is
:func:`sim.run.runner.execute` into a temporary run folder: planning, chunking, the worker processes,
writing the Parquet parts and the manifest, and streaming the merged ``outcomes.parquet``.

The lower bound is the same negotiation written as one bare NumPy loop over rounds in one process:
the same offers (Faratin curves, noise, the reservation-value floor) and the same AC_next rule, but
no agents, no model, no per-world seeds, no files.

How it is measured, so that a shared, noisy machine still gives a fair comparison:

* **CPU time, all busy processes.** The simulator's "per busy core" rate is negotiations per CPU
  second summed over the main process, the workers' fork server and every worker (read from
  ``/proc``: the server reaps its workers, so their time lands in its children's fields). The bound
  is one process, so its rate per core is negotiations per CPU second of this process.
* **Interleaved pairs.** Each workload runs the simulator and the bound in turn, ``--repeats``
  times; each pair gives a ratio (simulator CPU per negotiation / bound CPU per negotiation). The
  minimum and the median of each figure are printed. The first simulator run of the process starts
  the fork server (its imports) and is run once before the pairs, as a warm-up.

``--million`` also runs the 1,000,000-negotiation sweep through the command line
(``python -m sim run``), as a child-subreaper so every descendant's CPU time and peak memory is
counted, with a bound for the same million in pairs; ``--cli N`` does the same for N negotiations (the target's
200,000). ``--issues`` times the batched model per
world-round at 2 and at 9 issues (interleaved pairs, ratio 9/2). ``--main`` times the main command
``python -m sim run +experiment=deadline_pressure`` as a whole (wall, CPU of all processes) and its
phases in this process: imports, plan, simulate and write, summary, figures.
``--ensemble N`` runs N worlds drawn from the scenario's priors (``sweep.sample.method=prior``, one world
per draw) and N worlds of its default values (``run.seeds=N``) through the command line, alternately,
``--repeats`` pairs: wall, CPU of all processes, the largest process's peak RSS (each command run under
``benchmarks/peak_memory.py``), files in the run folder, and the wall ratio pair by pair. ``--fan`` times the forecast's fan chart as the gallery makes it (5 vantage dates x 1,000
worlds, figures included). ``--design N`` times planning an N-point Latin hypercube and a Sobol' design of about
N rows, over keys that set their own inputs and over keys that move the payoffs. ``--only`` skips the reference sweep. With ``PYTHONPATH`` set to another
checkout, the same script times that code (a before/after in one session).
Timings are whatever this machine gives; never assert them in a test.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from sim.config import CONF_DIR, plan
from sim.run.runner import execute

ISSUES_OFF = ["~scenario.issues.agriculture", "~scenario.issues.energy", "~scenario.issues.aircraft",
              "~scenario.issues.defence"]
SETTINGS = [
    "~scenario.ratification",
    "protocol.max_rounds=100", "scenario.deadline.round=100", "scenario.deadline.extension.rounds=0",
    "scenario.sides.japan.deadline=null", "scenario.breakdown_risk=0",
    "strategy@us=boulware", "strategy@japan=conceder",
    "run.record_rounds=none", "run.plot=false", "run.progress=false",
]
OVERRIDES = [*ISSUES_OFF, *SETTINGS]
TICK = os.sysconf("SC_CLK_TCK")


def config(negotiations: int, workers: int, extra: tuple[str, ...] = ()) -> dict:
    """The reference workload's resolved config."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[*OVERRIDES, f"run.seeds={negotiations}",
                                                       f"run.workers={workers}", *extra])
    return OmegaConf.to_container(cfg, resolve=True)


def _fork_server_cpu() -> float:
    """CPU seconds of the workers' fork server and of the workers it has reaped (0 if none runs)."""
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)  # noqa: SLF001 - a benchmark may look inside
    if not pid:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(fields[k]) for k in (11, 12, 13, 14)) / TICK  # utime, stime, cutime, cstime


def _busy_cpu() -> float:
    """CPU seconds of this process, its reaped children and the fork server with its workers."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime + _fork_server_cpu()


def end_to_end(cfg: dict) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds of every busy process, and the mean end round of one sweep."""
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        cpu, start = _busy_cpu(), time.perf_counter()
        execute(plan(cfg), Path(tmp), cfg, progress=False)
        seconds, cpu = time.perf_counter() - start, _busy_cpu() - cpu
        mean_round = float(np.mean(pq.read_table(Path(tmp) / "outcomes.parquet", columns=["end_round"])[0]))
    return seconds, cpu, mean_round


def numpy_bound(cfg: dict, n: int, batch: int = 10_000) -> tuple[float, float]:
    """CPU seconds for ``n`` negotiations of the same game as one bare NumPy loop, and the mean end round."""
    point = plan(cfg | {"run": cfg["run"] | {"seeds": 1}}).points[0]
    p = point.inputs
    lo, hi = point.structure.space.lo, point.structure.space.hi
    deadline = int(p.deadline)
    party = dict(zip(point.structure.party_ids, p.parties, strict=True))
    sides = ("japan", "us")  # Japan opens
    a = {s: party[s].payoff_a for s in sides}
    b = {s: party[s].payoff_b for s in sides}
    pmin = {s: party[s].p_min for s in sides}
    span = {s: party[s].p_max - party[s].p_min for s in sides}
    beta = {s: party[s].offering["beta"] for s in sides}
    noise = {s: party[s].noise for s in sides}
    best = {s: np.where(a[s] > 0, hi, lo) for s in sides}
    sq, esc = p.status_quo, p.status_quo.copy()
    esc[point.structure.space.index("reciprocal")] += p.escalation
    util = lambda s, x: (x @ a[s] + b[s] - pmin[s]) / span[s]  # noqa: E731
    u_sq = {s: util(s, sq) for s in sides}
    u_esc = {s: util(s, esc) for s in sides}
    window = p.valuation_rounds
    rng = np.random.default_rng(0)

    def offer(s: str, t: int, m: int) -> np.ndarray:
        w = min(max((deadline - t) / window, 0.0), 1.0)
        rv = w * u_sq[s] + (1 - w) * u_esc[s]
        alpha = ((t - 1) / (deadline - 1)) ** (1 / beta[s]) + noise[s] * rng.standard_normal((m, len(lo)))
        x = best[s] + np.clip(alpha, 0, 1) * (best[other[s]] - best[s])
        u = util(s, x)
        scale = np.where(u < rv, (1 - rv) / np.where(u < rv, 1 - u, 1), 1.0)
        return best[s] + scale[:, None] * (x - best[s]), rv

    other = {"japan": "us", "us": "japan"}
    start, rounds_total = time.process_time(), 0
    for first in range(0, n, batch):
        m = min(batch, n - first)
        talking = np.ones(m, dtype=bool)
        end = np.full(m, deadline)
        planned = None
        for t in range(1, deadline + 1):
            proposer = sides[(t - 1) % 2]
            responder = other[proposer]
            x = planned if planned is not None else offer(proposer, t, m)[0]
            u, (nxt, rv) = util(responder, x), offer(responder, t + 1, m)
            accept = talking & (u >= rv) & ((u >= util(responder, nxt)) | (t == deadline))
            end[accept] = t
            talking &= ~accept
            planned = nxt
            if not talking.any():
                break
        rounds_total += int(end.sum())
    return time.process_time() - start, rounds_total / n


def _spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    return f"min {fmt.format(min(values))}, median {fmt.format(statistics.median(values))}"


def sweep_pairs(n: int, workers: int, repeats: int) -> None:
    """The reference workload: simulator and bound in interleaved pairs."""
    cfg = config(n, workers)
    end_to_end(config(min(n, 20_000), workers))  # warm-up: starts the fork server (its imports)
    sim_rate, wall_rate, bound_rate, ratio = [], [], [], []
    for _ in range(repeats):
        wall, cpu, mean_round = end_to_end(cfg)
        bound_cpu, bound_round = numpy_bound(cfg, n)
        sim_rate.append(n / cpu)
        wall_rate.append(n / wall)
        bound_rate.append(n / bound_cpu)
        ratio.append(cpu / bound_cpu)
    print(f"reference workload: {n:,} negotiations, 5 issues, 100-round deadline, boulware (US) vs conceder "
          f"(Japan), {workers} workers, {repeats} interleaved pairs (mean end round: sim {mean_round:.1f}, "
          f"bound {bound_round:.1f})")
    print(f"  sim, negotiations per CPU second of all busy processes (per busy core): {_spread(sim_rate)}")
    print(f"  sim, negotiations per wall second (whole machine, shared):               {_spread(wall_rate)}")
    print(f"  NumPy bound, negotiations per CPU second (one process):                  {_spread(bound_rate)}")
    print(f"  ratio sim / bound, CPU per negotiation, pair by pair:                    "
          f"{_spread(ratio, '{:.2f}')}")


def _subreaper_run(args: list[str]) -> tuple[float, float, float]:
    """Run a command with this process as child subreaper: wall seconds, CPU seconds and peak RSS (MB) of
    the largest process among it and all its descendants."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours = set(_children())  # this process's own helpers (its fork server): not waited for
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    for pid in set(_children()) - ours:  # descendants the command orphaned (its fork server), reparented here
        os.waitpid(pid, 0)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024


def _children() -> list[int]:
    """The ids of this process's child processes (from ``/proc``)."""
    me, out = str(os.getpid()), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[1] == me:
                out.append(int(stat.parent.name))
        except (OSError, IndexError):
            continue
    return out


def million(workers: int, repeats: int, n: int = 1_000_000) -> None:
    """The reference sweep of ``n`` negotiations through the command line, in pairs with the bound."""
    cfg = config(n, workers)
    walls, cpus, rss, ratios, bound_rates = [], [], [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            wall, cpu, peak = _subreaper_run([sys.executable, "-m", "sim", "run", *OVERRIDES, f"run.seeds={n}",
                                              f"run.workers={workers}", f"hydra.run.dir={tmp}/run"])
        bound_cpu, _ = numpy_bound(cfg, n)
        walls.append(wall)
        cpus.append(cpu)
        rss.append(peak)
        ratios.append(cpu / bound_cpu)
        bound_rates.append(n / bound_cpu)
    print(f"{n:,} negotiations, python -m sim run, {workers} workers ({repeats} pairs with the bound): "
          f"wall {_spread(walls, '{:.1f}')} s; CPU of all processes {_spread(cpus, '{:.1f}')} s "
          f"({_spread([n / c for c in cpus])} negotiations per CPU second); peak RSS of the largest process "
          f"{_spread(rss)} MB; bound {_spread(bound_rates)} negotiations per CPU second; ratio "
          f"{_spread(ratios, '{:.2f}')}")


def _files(folder: Path) -> int:
    """Files in a run folder, all levels."""
    return sum(1 for path in folder.rglob("*") if path.is_file())


PEAK_MEMORY = Path(__file__).with_name("peak_memory.py")


def _peak_run(args: list[str]) -> tuple[float, float, float, str]:
    """Run a command under ``benchmarks/peak_memory.py`` (a fresh subreaper per command, so one command's peak
    is never another's): wall seconds, CPU seconds of all its processes, the largest process's peak RSS (MiB)
    and which process that was."""
    out = subprocess.run([sys.executable, str(PEAK_MEMORY), "--", *args], check=True, capture_output=True,
                         text=True).stdout.splitlines()
    last = next(line for line in reversed(out) if line.startswith("wall "))
    wall = float(last.split("wall ")[1].split(" s;")[0])
    cpu = float(last.split("CPU of all processes ")[1].split(" s;")[0])
    largest = float(last.split("largest process ")[1].split(" MiB")[0])
    first = next(line for line in out if " MiB  pid " in line)  # sorted by peak, largest first
    command = first.split(" pid ", 1)[1].split(None, 1)[1]
    return wall, cpu, largest, ("main process" if " -m sim run " in command
                                else "a worker or the fork server" if "forkserver" in command else command[:40])


def ensemble(n: int, workers: int, repeats: int) -> None:
    """``n`` worlds drawn from the scenario's priors against ``n`` worlds of its default values, through the
    command line, run alternately: wall, CPU of all processes, the largest process's peak RSS
    (``benchmarks/peak_memory.py``), files in the run folder, and the ratio per pair."""
    common = ["run.record_rounds=none", "run.plot=false", "run.progress=false", f"run.workers={workers}",
              "run.common_random_numbers=false"]
    workloads = {"ensemble (prior draws)": ["sweep.sample.method=prior", f"sweep.sample.n={n}", "run.seeds=1"],
                 "default values": [f"run.seeds={n}"]}
    seen: dict[str, dict[str, list]] = {name: {"wall": [], "cpu": [], "rss": [], "files": [], "largest": []}
                                        for name in workloads}
    for _ in range(repeats):
        for name, extra in workloads.items():
            with tempfile.TemporaryDirectory() as tmp:
                wall, cpu, peak, largest = _peak_run([sys.executable, "-m", "sim", "run", *common, *extra,
                                                      f"hydra.run.dir={tmp}/run"])
                files = _files(Path(tmp) / "run")
            for key, value in (("wall", wall), ("cpu", cpu), ("rss", peak), ("files", files), ("largest", largest)):
                seen[name][key].append(value)
            print(f"  ({name}: wall {wall:.1f} s, CPU {cpu:.1f} s, largest process {peak:,.0f} MiB ({largest}), "
                  f"{files} files)", flush=True)
    print(f"ensemble: {n:,} worlds drawn from the priors against {n:,} worlds of the default values, python -m sim "
          f"run, {workers} workers, {repeats} alternating pairs")
    for name, figures in seen.items():
        print(f"  {name:24s} wall {_spread(figures['wall'], '{:.1f}')} s; CPU of all processes "
              f"{_spread(figures['cpu'], '{:.1f}')} s; peak RSS of the largest process {_spread(figures['rss'])} MiB "
              f"({', '.join(dict.fromkeys(figures['largest']))}); files {_spread(figures['files'])}")
    first, second = seen.values()
    print(f"  ratio ensemble / default values, wall, pair by pair: "
          f"{_spread([a / b for a, b in zip(first['wall'], second['wall'], strict=True)], '{:.2f}')}")


DESIGN_KEYS = {
    "4 keys that set their own inputs": ["scenario.deadline.round=[6,20]", "scenario.sides.us.concession_noise=[0,0.1]",
                                         "us.offering.beta=[0.2,5]", "scenario.breakdown_risk=[0,0.02]"],
    "4 keys that move the payoffs": ["scenario.payoff.pass_through=[0.3,1.0]",
                                     "scenario.payoff.us.consumer_cost_weight=[0.2,0.6]",
                                     "scenario.stakes.exports_usd_bn.vehicles=[40,60]",
                                     "scenario.issues.energy.max=[5,10]"],
}
_PLAN_ONE = """
import resource, sys, time
from hydra import compose, initialize_config_dir
from sim.config import CONF_DIR, plan
with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
    cfg = compose(config_name="config", overrides=sys.argv[1:])
cpu, wall = time.process_time(), time.perf_counter()
p = plan(cfg)
print(len(p.points), time.process_time() - cpu, time.perf_counter() - wall,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def design(n: int, repeats: int) -> None:
    """Planning an ``n``-point Latin hypercube and a Sobol' (Saltelli) design of about ``n`` rows, each in a fresh
    process: over 4 keys that only set their own inputs and over 4 that move the payoffs and a range."""
    print(f"planning designs of about {n:,} points (a fresh process each; CPU and wall of plan(), peak RSS):")
    for label, keys in DESIGN_KEYS.items():
        ranges = [f"+sweep.sample.ranges.{k}" for k in keys]
        base = 2 ** round(np.log2(n / (2 * len(keys) + 2)))  # Saltelli base points: a power of 2
        for method, size in (("lhs", n), ("sobol", base)):
            seen = []
            for _ in range(repeats):
                out = subprocess.run([sys.executable, "-c", _PLAN_ONE, f"sweep.sample.method={method}",
                                      f"sweep.sample.n={size}", "run.seeds=1", *ranges],
                                     check=True, capture_output=True, text=True).stdout.split()
                seen.append([float(x) for x in out])
            points, cpu, wall, rss = (list(col) for col in zip(*seen, strict=True))
            print(f"  {method:5s} {int(points[0]):>9,} points, {label}: CPU {_spread(cpu, '{:.2f}')} s, wall "
                  f"{_spread(wall, '{:.2f}')} s, peak RSS {_spread(rss)} MB")


FAN_DATES = "[2025-04-16,2025-05-03,2025-05-23,2025-06-04,2025-06-26]"


def fan_chart(workers: int, repeats: int) -> None:
    """The forecast's fan chart as the gallery makes it: 5 vantage dates x 1,000 worlds, with its figures."""
    walls, cpus, files = [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            wall, cpu, _ = _subreaper_run([sys.executable, "-m", "sim", "run", "+experiment=forecast",
                                         f"+sweep.grid.scenario.as_of={FAN_DATES}", f"run.workers={workers}",
                                         "run.progress=false", f"hydra.run.dir={tmp}/run"])
            files.append(_files(Path(tmp) / "run"))
        walls.append(wall)
        cpus.append(cpu)
    print(f"fan chart (5 vantage dates x 1,000 worlds, figures included), {workers} workers: wall "
          f"{_spread(walls, '{:.1f}')} s; CPU of all processes {_spread(cpus, '{:.1f}')} s; files in the run "
          f"folder {_spread(files)}")


def issue_cost(repeats: int) -> None:
    """CPU per world-round of the batched model at 2 and at 9 issues, interleaved."""
    from sim.engine.inputs import stack, take
    from sim.engine.model import NegotiationModel
    from sim.engine.streams import world_seeds

    two = [f"~scenario.issues.{k}" for k in ("cars", "auto_parts", "steel_aluminium", "agriculture", "energy",
                                             "aircraft", "defence")]
    two += ["~scenario.sides.us.firmness", "~scenario.sides.japan.firmness"]  # they name the tags of removed issues

    def point(*extra: str):
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=[*SETTINGS, "run.seeds=1", *extra])
        return plan(OmegaConf.to_container(cfg, resolve=True)).points[0]

    def per_world_round(pt, batch: int = 10_000) -> float:
        inputs = take(stack([pt.inputs]), np.zeros(batch, dtype=int))
        start = time.process_time()
        model = NegotiationModel(pt.structure, inputs, world_seeds(1, np.arange(batch)))
        model.run_model()
        return (time.process_time() - start) / int(model.end_round.sum())

    nine, pair = point(), point(*two)
    per_world_round(nine), per_world_round(pair)  # warm-up
    costs = [(per_world_round(pair), per_world_round(nine)) for _ in range(repeats)]
    print(f"cost per world-round (B = 10,000, {repeats} interleaved pairs): 2 issues "
          f"{_spread([c[0] * 1e6 for c in costs], '{:.3f}')} us; 9 issues {_spread([c[1] * 1e6 for c in costs], '{:.3f}')}"
          f" us; ratio 9/2 {_spread([c[1] / c[0] for c in costs], '{:.2f}')}")


def main_command(repeats: int) -> None:
    """The main command as a whole (wall, CPU of every process) and its phases in this process."""
    command = [sys.executable, "-m", "sim", "run", "+experiment=deadline_pressure"]
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(_subreaper_run([*command, f"hydra.run.dir={tmp}/run"]))
    print(f"main command python -m sim run +experiment=deadline_pressure ({repeats} runs): wall "
          f"{_spread([r[0] for r in runs], '{:.2f}')} s; CPU of all processes {_spread([r[1] for r in runs], '{:.2f}')}"
          f" s; peak RSS {_spread([r[2] for r in runs])} MB")
    imports = {
        "main process (sim.__main__, preflight, cli)": "import sim.__main__, sim.preflight, sim.cli",
        "workers' fork server (engine, Mesa, figures)": "import sim.run.runner, sim.engine.model, sim.report.plots",
    }
    for label, code in imports.items():
        cpu = []
        for _ in range(repeats):
            start = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-c", code], check=True)
            end = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime)
        print(f"  imports, {label}: CPU {_spread(cpu, '{:.2f}')} s (one process, in parallel with the other)")
    try:
        phases = _phases(repeats)
    except ImportError as missing:  # a version of sim without figure workers
        print(f"  phases: not measured ({missing})")
        return
    for name, values in phases.items():
        print(f"  {name}: {_spread(values, '{:.2f}')} s")


def _phases(repeats: int) -> dict[str, list[float]]:
    """CPU seconds of the main command's phases, run here step by step as ``sim.cli.run_experiment`` runs them."""
    from sim.config.compose import compose_config
    from sim.report.parallel import draw_in_workers
    from sim.report.summary import by_point
    from sim.run.readback import RunData, read_outcomes
    from sim.report import PRELOAD
    from sim.run.workers import start

    start(PRELOAD, ahead=True)
    out: dict[str, list[float]] = {}
    for _ in range(repeats + 1):  # the first is a warm-up (the fork server's imports)
        row = {}
        cpu = time.process_time()
        cfg = compose_config("+experiment=deadline_pressure")
        container = OmegaConf.to_container(cfg, resolve=True)
        the_plan = plan(container)
        row["plan (compose, validate, compile 64 grid points), main process CPU"] = time.process_time() - cpu
        with tempfile.TemporaryDirectory() as tmp:
            busy = _busy_cpu()
            execute(the_plan, Path(tmp), container, progress=False)
            row["simulate and write (2 workers + main), CPU of all"] = _busy_cpu() - busy
            cpu = time.process_time()
            outcomes = read_outcomes(Path(tmp)).to_pandas()
            by_point(outcomes, list(the_plan.columns.values()), the_plan.points[0].structure.space)  # output columns
            row["read back and summarise, main process CPU"] = time.process_time() - cpu
            import pyarrow.parquet as pq

            rounds = pq.read_table(Path(tmp) / "rounds.parquet").to_pandas()
            busy, wall = _busy_cpu(), time.perf_counter()
            draw_in_workers(RunData(outcomes, rounds, the_plan), Path(tmp), ["png"], 2).result()
            row["figures (6 PNG, 2 workers), CPU of all"] = _busy_cpu() - busy
            row["figures (6 PNG, 2 workers), wall"] = time.perf_counter() - wall
        if _ > 0:
            for k, v in row.items():
                out.setdefault(k, []).append(v)
    return out


def _count(text: str) -> int:
    """A count of negotiations or worlds on the command line: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number of 0 or more")
    return value


def main() -> None:
    """Print the benchmark report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--negotiations", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved pairs (or runs) per figure")
    parser.add_argument("--million", action="store_true", help="also run 1,000,000 negotiations via the CLI")
    parser.add_argument("--cli", type=_count, default=0, metavar="N",
                        help="also run N negotiations of the reference workload via the CLI, against the bound")
    parser.add_argument("--issues", action="store_true", help="also time a world-round at 2 and at 9 issues")
    parser.add_argument("--main", action="store_true", help="also time the main command and its phases")
    parser.add_argument("--ensemble", type=_count, default=0, metavar="N",
                        help="also run N worlds drawn from the priors against N default-value worlds (CLI)")
    parser.add_argument("--fan", action="store_true", help="also time the forecast's fan chart (5 x 1,000 worlds)")
    parser.add_argument("--design", type=_count, default=0, metavar="N",
                        help="also time planning an N-point LHS and a Sobol' design of about N rows")
    parser.add_argument("--only", action="store_true", help="skip the reference sweep (run only the options given)")
    args = parser.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: the CLI's fork server is reaped (and counted) here
    if not args.only:
        sweep_pairs(args.negotiations, args.workers, args.repeats)
    if args.ensemble:
        ensemble(args.ensemble, args.workers, args.repeats)
    if args.fan:
        fan_chart(args.workers, args.repeats)
    if args.design:
        design(args.design, args.repeats)
    if args.issues:
        issue_cost(args.repeats)
    if args.main:
        main_command(args.repeats)
    if args.million:
        million(args.workers, args.repeats)
    if args.cli:
        million(args.workers, args.repeats, args.cli)


if __name__ == "__main__":
    main()
