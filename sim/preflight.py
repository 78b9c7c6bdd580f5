"""Check a command line before Hydra runs it, so a user's mistake costs one line and no run folder.

Hydra creates the run folder before the task function starts, and reports composition errors
(an unknown strategy, a key that does not exist, a malformed override) as multi-line messages. This
module composes each job's config with Hydra's own config loader, as Hydra runs it (a run: the command line;
a ``-m`` sweep: the command line as a whole, then each job the basic sweeper splits it into, with
``load_sweep_config``), validates it with :func:`sim.config.plan`, and turns any failure into a one-line
message that names the key and what is allowed. The composed configs and their plans are what the run
verb runs (:func:`sim.cli.main`, :func:`sim.api.run`): each job is composed once.

Two other composes answer other questions. A ``-m`` sweep is composed once as a whole (Hydra's master config,
``hydra.mode=MULTIRUN``): the command line with its sweeps unsplit, whose ``hydra.sweeper.params`` and
``hydra.overrides`` say what the jobs are, whose sweeper and launcher run them, and whose resolved values (the
sweep folder's ``${now:...}``) each job's config copies from it; no job's config holds that. And the scenario
the command runs is composed alone for the check of the scenario as written when, and only when, the command
may change a key that check reads (:mod:`sim.scenario_written`).

It also decides the run folder before Hydra writes anything into it (``.hydra/``): a folder named
with ``hydra.run.dir`` (or, for ``-m``, each job's folder under ``hydra.sweep.dir``) is accepted only
if it is new or holds the same run (:func:`sim.run.manifest.check_resume`), and a default folder is made
unique and claimed (created) here, then set in the composed configs as the override ``hydra.run.dir=``
(``hydra.sweep.dir=``) would have set it.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobRuntime
from hydra.errors import ConfigCompositionException, MissingConfigException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim.config import ConfigError, available, plan, priors
from sim.config.compose import ComposedJobs, hydra_context
from sim.config.plugins import HYDRA_ROOTS, PACKAGE_ROOTS, check_target, targets
from sim.console import UsageError
from sim.jobs import checked_jobs, jobs as expand_jobs
from sim.run.columns import table_entries
from sim.scenario_written import check_as_written
from sim.run_folder import check_folder_names, fits, override, settle_folder
from sim.run.estimate import CONFIRM_SECONDS, estimate, free_bytes, human_bytes
from sim.run.lock import refuse_if_locked
from sim.run.manifest import check_resume, config_fingerprint

__all__ = ["Checked", "CheckedPlan", "UsageError", "check", "check_not_swept", "prepare"]


@dataclass(frozen=True)
class CheckedPlan:
    """The plan the pre-run check made of one job's resolved config (without the ``hydra`` node).

    The ``run`` verb hands it to the run (:func:`sim.cli.main`), so that the plan is made once; the run uses
    it only for the same resolved config (:meth:`for_config`), else it plans again.
    """

    container: dict
    plan: Any

    def for_config(self, container: dict):
        """The plan when ``container`` is the config it was made of, else None."""
        return self.plan if container == self.container else None


@dataclass(frozen=True)
class Job:
    """One job of a command line as the check composed and planned it.

    Attributes:
        overrides: Its overrides (``hydra.overrides.task``).
        config: Its config as Hydra runs it, with the ``hydra`` node.
        plan: The plan made of it.
        own: Its config without the ``hydra`` node (what the run reads; :func:`sim.api.run` runs it).
    """

    overrides: tuple[str, ...]
    config: DictConfig
    plan: CheckedPlan
    own: DictConfig = field(repr=False, compare=False)


@dataclass(frozen=True)
class Checked:
    """What :func:`prepare` settled for a command line: the jobs it composed and planned, to be run.

    Attributes:
        overrides: The claimed default run or sweep folder, as an override (``hydra.run.dir=...``).
        jobs: Each checked job (a run's only job; a ``-m`` sweep's jobs up to :data:`sim.jobs.MAX_JOBS`).
        sweep: A ``-m`` sweep's config as a whole (Hydra's master config: its sweeper, launcher and folder);
            None for a run.
        loader: Hydra's config loader the jobs were composed with.
    """

    overrides: list[str]
    jobs: tuple[Job, ...] = ()
    sweep: DictConfig | None = None
    loader: Any = field(default=None, repr=False)

    @property
    def plan(self) -> CheckedPlan | None:
        """The last job's plan (a run's only job)."""
        return self.jobs[-1].plan if self.jobs else None

    def plan_for(self, overrides: list[str]) -> CheckedPlan | None:
        """The plan of the job with these overrides (``hydra.overrides.task``), if it was checked."""
        return next((job.plan for job in self.jobs if list(job.overrides) == list(overrides)), None)

    def config_loader(self) -> ComposedJobs:
        """Hydra's config loader, handing Hydra's sweeper and launcher the configs composed here."""
        return ComposedJobs(self.loader, {job.overrides: job.config for job in self.jobs})


def _flat(tree, prefix: str = "") -> list[str]:
    """Config keys of a grid or of sample ranges given flat (``{"a.b": [..]}``) or nested."""
    if not isinstance(tree, dict):
        return []
    keys = []
    for k, v in tree.items():
        keys.extend(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"])
    return keys


def check_not_swept(job: list[str], cfg) -> None:
    """Refuse a command-line value for a key the run's own sweep varies: the sweep would ignore it.

    An experiment's ``sweep.grid`` axes, ``sweep.sample.ranges`` and ``sweep.pairs`` (which set both
    strategies) replace the value of the keys they vary at every grid point, so a command-line value
    for such a key (``+experiment=deadline_pressure scenario.escalation=14``) would be silently
    ignored. It is an error naming the key; to change an axis, change the sweep itself.

    Raises:
        UsageError: naming the key, the sweep that varies it, and what to do instead.
    """
    sweep = OmegaConf.to_container(cfg.get("sweep") or {}, resolve=False)
    swept = {key: f"sweep.grid.{key}" for key in _flat(sweep.get("grid") or {})}
    sample = sweep.get("sample") or {}
    if sample.get("method", "none") != "none":
        swept |= {key: f"sweep.sample.ranges.{key}" for key in _flat(sample.get("ranges") or {})}
    pairs = sweep.get("pairs") or []
    parties = tuple(OmegaConf.to_container(cfg.scenario.parties)) if "parties" in cfg.get("scenario", {}) else ()
    drawn: set[str] = set()
    if sample.get("method") == "prior" and "calibration" in cfg.get("scenario", {}):
        drawn = {p.key for p in priors.drawn(OmegaConf.to_container(cfg, resolve=True))}
    parsed = OverridesParser.create().parse_overrides(job)
    for o in parsed:
        key = o.key_or_group
        if key.startswith(("hydra", "sweep")) or o.type.name == "DEL":
            continue
        negotiator = key in ("strategy", "acceptance", "opponent") and o.package in parties
        if pairs and (negotiator or key in parties or key.startswith(tuple(f"{p}." for p in parties))):
            raise UsageError(f"{o.input_line}: sweep.pairs sets both parties' negotiators ({len(pairs)} pair"
                             f"{'s' if len(pairs) > 1 else ''}), so this would be ignored; leave it out, name the "
                             "strategies in the pairs (e.g. 'sweep.pairs=[[boulware,conceder]]'), or clear them "
                             "with 'sweep.pairs=[]' and set each party's parts (strategy@PARTY=..., "
                             "opponent@PARTY=...)")
        if available(key):  # a config group (scenario=..., protocol=...): not a value of a swept key
            continue
        if key in drawn:
            raise UsageError(f"{key}: this run draws it from its prior (sweep.sample.method=prior, "
                             f"scenario.calibration), so the value given here would be ignored; leave it out, or "
                             f"change its prior in the scenario file")
        for axis, where in swept.items():
            if key == axis or axis.startswith(key + ".") or key.startswith(axis + "."):
                values = _flat_values(sweep, where)
                section = where[:-len(axis) - 1]
                value = o.get_value_element_as_str() if section == "sweep.grid" else "LOW,HIGH"
                raise UsageError(f"{key}: this run sweeps it ({where} = {values}), so the value given here "
                                 f"would be ignored; leave it out, or set the sweep's axis instead: "
                                 f"'{section}={{{axis}:[{value}]}}'")


def _flat_values(sweep: dict, where: str):
    """The values (or range) of a swept key, for the message."""
    section, _, key = where.removeprefix("sweep.").partition(".")
    if section == "sample":
        tree, key = (sweep.get("sample") or {}).get("ranges") or {}, key.removeprefix("ranges.")
    else:
        tree = sweep.get("grid") or {}
    if key in tree:
        return tree[key]
    node = tree
    for part in key.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node


def _explain(err: Exception, job: list[str]) -> str:
    """A one-line account of a Hydra composition error."""
    if isinstance(err, MissingConfigException):
        missing = str(err.missing_cfg_file or "")
        group = missing.split("/")[0] if "/" in missing else missing
        bad = next((o for o in job if o.lstrip("+").split("=")[0].split("@")[0] == group), missing)
        options = sorted(err.options) if err.options else available(group)
        return f"{bad}: unknown {group}; choose one of {', '.join(options)}"
    text = " ".join(str(err).split())
    if text.startswith("Could not override '"):
        key = text.split("'")[1]
        return f"{key}: no such config key (python -m sim run --help lists the config)"
    if text.startswith("Could not append to config. An item is already at '"):
        key = text.split("'")[1]
        return f"{key}: already exists; override it without the leading +"
    return text.split(" full_key:")[0]


def _check_target(container: dict, run_dir: Path | None) -> None:
    """Refuse to resume into a folder made by another config or code; check a Dask scheduler answers.

    ``container`` is the job's resolved config (without the ``hydra`` node)."""
    run = container["run"]
    if run_dir is not None:
        refuse_if_locked(run_dir)  # a live run writes there (before Hydra writes its .hydra/ files)
        check_resume(run_dir, config_fingerprint(container), force=bool(run.get("force_resume", False)))
    if run.get("executor") == "dask" and run.get("dask_address"):
        from sim.run.executors import dask_client  # imported only here: it brings in the whole engine

        dask_client(run["dask_address"], 1).close()


def _check_cost(made, cfg, folder: Path, spent: list[int]) -> None:
    """Refuse a sweep that would not fit on the disk of ``folder``; ask before one over an hour.

    ``spent`` holds the bytes of the jobs checked before (a ``-m`` sweep's jobs share the disk), and -1 once
    the user said yes (asked once, not again for the next job of a ``-m`` sweep).
    """
    cost = estimate(made)
    where, free = free_bytes(folder)
    there = sum(p.stat().st_size for p in folder.rglob("*.parquet")) if folder.is_dir() else 0  # a resume
    need = max(0, cost.bytes - there) + sum(b for b in spent if b > 0)
    spent.append(max(0, cost.bytes - there))
    if need > free:
        raise UsageError(f"run.seeds: this sweep would not fit on the disk: {cost.describe()}, but "
                         f"{human_bytes(free)} is free under {where}; lower run.seeds or the grid, record fewer "
                         "rounds (run.record_rounds=none), or run into a folder on a larger disk")
    confirm = OmegaConf.select(cfg, "run.confirm", default=False)
    if not isinstance(confirm, bool):
        raise UsageError(f"run.confirm: must be true or false, got {confirm!r}")
    if cost.seconds <= CONFIRM_SECONDS or confirm or -1 in spent:
        return
    question = f"this sweep is long: {cost.describe()}"
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError(f"run.confirm: {question}; add run.confirm=true to start it, or lower run.seeds or the grid")
    print(f"{question}. Start it? [y/N] ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise UsageError("run.confirm: not started (add run.confirm=true to start it without asking)")
    spent.append(-1)  # asked once, not again for the next job of a -m sweep


def _check_targets(cfg) -> None:
    """Refuse any ``_target_`` outside the sim package and the plugin folders (Hydra's own keys may also name
    Hydra and its plugins), before Hydra or the plan imports it: a command line imports no other code."""
    for key, value in targets(OmegaConf.to_container(cfg, resolve=False)):
        roots = PACKAGE_ROOTS + HYDRA_ROOTS if key.startswith("hydra.") else PACKAGE_ROOTS
        try:
            check_target(value, key, roots)
        except ConfigError as err:
            raise UsageError(str(err)) from None


JOB_NAME = "cli"  # hydra.job.name of a run (the log file cli.log): @hydra.main's name for sim/cli.py


def _loader():
    """Hydra's config loader for ``conf/``."""
    with hydra_context(job_name=JOB_NAME):
        return GlobalHydra.instance().config_loader()


def _compose(job: list[str], loader, sweep: DictConfig | None = None, mode: RunMode = RunMode.RUN):
    """Compose a config as Hydra runs it: a run's (``job``: its overrides), a ``-m`` sweep's as a whole
    (``mode`` MULTIRUN), or one job of ``sweep`` (``load_sweep_config``, as Hydra's launcher does).

    Returns:
        The config with its ``hydra`` node, the job's own config (a copy without it), and Hydra's folders.
    """
    JobRuntime().set("name", JOB_NAME)  # the loader names the job from it (another compose may have renamed it)
    try:
        if sweep is not None:
            cfg = loader.load_sweep_config(sweep, list(job))
        else:
            cfg = loader.load_configuration(config_name="config", overrides=list(job), run_mode=mode)
    except (ConfigCompositionException, OmegaConfBaseException) as err:
        raise UsageError(_explain(err, job)) from None
    except yaml.YAMLError as err:  # a config file (a scenario written by hand) that is not valid YAML
        raise UsageError(_yaml_error(err)) from None
    _check_targets(cfg)
    try:
        folders = {k: OmegaConf.select(cfg, f"hydra.{k}.dir") for k in ("run", "sweep")}
        folders["job"] = OmegaConf.select(cfg, "hydra.job.override_dirname")  # a -m job's folder: NUM_<this>
    except OmegaConfBaseException as err:
        raise UsageError(f"hydra.run.dir: {' '.join(str(err).split())}") from None
    own = copy.deepcopy(cfg)
    with open_dict(own):
        del own["hydra"]
    return cfg, own, folders


def _yaml_error(err: yaml.YAMLError) -> str:
    """One line for a config file that is not valid YAML: the file, the place and the problem."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = " ".join(str(getattr(err, "problem", None) or err).split())[:160]
    if mark is None:
        return f"a config file is not valid YAML ({problem})"
    return f"{mark.name}: not valid YAML at line {mark.line + 1}, column {mark.column + 1} ({problem})"


def check(overrides: list[str], multirun: bool, claim: bool = False) -> list[str]:
    """:func:`prepare`'s overrides to add for Hydra (the claimed default folder, if any)."""
    return prepare(overrides, multirun, claim).overrides


def _with_mode(overrides: list[str], mode: str) -> list[str]:
    """The overrides with ``hydra.mode`` set, as Hydra's command line sets it when the config leaves it unset."""
    given = any(o.lstrip("+~").startswith("hydra.mode=") for o in overrides)
    return list(overrides) if given else [*overrides, f"hydra.mode={mode}"]


def prepare(overrides: list[str], multirun: bool, claim: bool = False) -> Checked:
    """Compose and validate every job of a command line, and settle its run folder.

    Each job's config is composed once, as Hydra runs it (with Hydra's own overrides, so that their
    ``_target_`` s are checked too), and planned once; the run verb runs these configs and plans. A ``-m``
    sweep is also composed once as a whole, and a scenario at most once alone (see the module docstring).

    Args:
        overrides: The command line's overrides.
        multirun: Whether it is a ``-m`` sweep.
        claim: Create the run (or sweep) folder: a new default one, set in the configs, when the command line
            names none; else the named one, refusing one that cannot be created or written.

    Returns:
        The checked jobs, and the claimed default folder as an override (``hydra.run.dir=`` or
        ``hydra.sweep.dir=``) when ``claim`` and the command line names none.

    Raises:
        UsageError: with a one-line message for the first problem found.
    """
    loader = _loader()
    run_dir = None if multirun else override(overrides, "hydra.run.dir")
    sweep = None
    if multirun:
        sweep, _, _ = _compose(_with_mode(overrides, "MULTIRUN"), loader, mode=RunMode.MULTIRUN)
        params = [f"{k}={v}" for k, v in (OmegaConf.select(sweep, "hydra.sweeper.params") or {}).items()]
        all_jobs = expand_jobs([*params, *sweep.hydra.overrides.task], True, loader)
        numbers = checked_jobs(all_jobs)
    else:
        all_jobs, numbers = expand_jobs(overrides, False, loader), [0]
    scenarios: set[str | None] = set()  # the scenarios checked as written (sim.scenario_written)

    def alone(scenario: list[str]) -> DictConfig:  # a scenario composed alone, for the check as written
        return _compose([*scenario, "hydra.mode=RUN"], loader)[1]

    spent: list[int] = []
    checked, folders = {}, {}
    for num in numbers:
        job = all_jobs[num]
        cfg, own, folders = _compose(job, loader, sweep) if multirun else \
            _compose(_with_mode(overrides, "RUN"), loader)
        made = _check_job(job, own, folders, overrides, multirun, run_dir, spent)
        check_as_written(job, cfg, own, scenarios, loader, alone)
        checked[num] = Job(tuple(job), cfg, made, own)
    if multirun and (sweep_dir := override(overrides, "hydra.sweep.dir")) and Path(sweep_dir).is_dir():
        _check_sweep_again(Path(sweep_dir), all_jobs, checked, loader, sweep)
    claimed = settle_folder(overrides, multirun, claim, run_dir, folders)
    for pinned in claimed:  # the claimed folder, as the override would have set it
        for cfg in [sweep] * multirun + [job.config for job in checked.values()]:
            _pin(cfg, pinned)
    return Checked(claimed, tuple(checked[n] for n in sorted(checked)), sweep, loader)


def _pin(cfg: DictConfig, override: str) -> None:
    """Set ``hydra.KEY.dir=VALUE`` in a composed config as Hydra composes that override."""
    key, _, value = override.partition("=")
    OmegaConf.update(cfg, key, value)
    given = cfg.hydra.overrides.hydra
    mode = next((k for k, o in enumerate(given) if o.startswith("hydra.mode=")), len(given))
    given.insert(mode, override)  # before the hydra.mode Hydra's command line adds last


def _check_job(job: list[str], own: DictConfig, folders: dict, overrides: list[str], multirun: bool,
               run_dir: str | None, spent: list[int]) -> CheckedPlan:
    """Validate and plan one job's composed config; its plan."""
    check_folder_names(overrides, own, folders)
    if multirun and folders.get("sweep") and folders.get("job") is not None:
        fits(Path(str(folders["sweep"])) / f"999_{folders['job']}", "hydra.sweep.dir")  # the job's folder
    try:
        check_not_swept(job, own)
        made = plan(own)
        table_entries(made)  # the plan's output columns (a swept key may not repeat one)
        checked = CheckedPlan(OmegaConf.to_container(own, resolve=True), made)
        _check_target(checked.container, Path(run_dir) if run_dir else None)
        _check_cost(made, own, Path(run_dir or folders.get("run" if not multirun else "sweep") or "."), spent)
    except ConfigError as err:
        raise UsageError(str(err)) from None
    return checked


def _check_sweep_again(sweep_dir: Path, all_jobs: list[list[str]], checked: dict[int, Job], loader, sweep) -> None:
    """A ``-m`` sweep run again into its folder: each job must match its folder (and no live run hold it).

    A job the check did not compose (beyond :data:`sim.jobs.MAX_JOBS`) is composed here for this check only.
    """
    existing = {int(p.name.split("_")[0]): p for p in sweep_dir.iterdir()
                if p.is_dir() and p.name.split("_")[0].isdigit()}
    for num in sorted(n for n in existing if n < len(all_jobs)):
        if num in checked:
            cfg, container = checked[num].config, checked[num].plan.container
        else:
            cfg, own, _ = _compose(all_jobs[num], loader, sweep)
            container = OmegaConf.to_container(own, resolve=True)
        expected = f"{num}_{OmegaConf.select(cfg, 'hydra.job.override_dirname')}"  # hydra.sweep.subdir
        if existing[num].name != expected:
            raise UsageError(f"hydra.sweep.dir: {sweep_dir} holds job {num} as {existing[num].name}, but job {num} "
                             f"of this sweep is {expected}; choose a new hydra.sweep.dir")
        try:
            _check_target(container, existing[num])
        except ConfigError as err:
            raise UsageError(f"{err} (job {num} of the -m sweep)") from None
