"""Check a command line before Hydra runs it, so a user's mistake costs one line and no run folder.

Hydra creates the run folder before the task function starts, and reports composition errors
(an unknown strategy, a key that does not exist, a malformed override) as multi-line messages. This
module composes the same config with Hydra's compose API first, for every job a ``-m`` sweep would
launch, validates it with :func:`sim.config.plan`, and turns any failure into a one-line message
that names the key and what is allowed.

It also decides the run folder before Hydra writes anything into it (``.hydra/``): a folder named
with ``hydra.run.dir`` (or, for ``-m``, each job's folder under ``hydra.sweep.dir``) is accepted only
if it is new or holds the same run (:func:`sim.run.manifest.check_resume`), and a default folder is made
unique and claimed (created) here, then handed to Hydra explicitly.
"""

from __future__ import annotations

import itertools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hydra import compose
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim.config import ConfigError, available, plan, priors
from sim.config.calibration import calibration_entries
from sim.config.compose import hydra_context
from sim.config.plugins import HYDRA_ROOTS, PACKAGE_ROOTS, check_target, targets
from sim.console import UsageError
from sim.jobs import jobs as expand_jobs
from sim.run.columns import table_entries
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
class Checked:
    """What :func:`prepare` settled for a command line.

    Attributes:
        overrides: Overrides to add for Hydra (the claimed default run or sweep folder).
        plan: The last job's plan (a single run's only job), handed on to the run.
    """

    overrides: list[str]
    plan: CheckedPlan | None = None


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


def _override(overrides: list[str], key: str) -> str | None:
    """The value of ``key=VALUE`` on the command line, if given."""
    for o in overrides:
        if o.lstrip("+").startswith(f"{key}="):
            return o.split("=", 1)[1]
    return None


def _check_target(cfg, run_dir: Path | None) -> None:
    """Refuse to resume into a folder made by another config or code; check a Dask scheduler answers."""
    container = OmegaConf.to_container(cfg, resolve=True)
    run = container["run"]
    if run_dir is not None:
        refuse_if_locked(run_dir)  # a live run writes there (before Hydra writes its .hydra/ files)
        check_resume(run_dir, config_fingerprint(container), force=bool(run.get("force_resume", False)))
    if run.get("executor") == "dask" and run.get("dask_address"):
        from sim.run.executors import dask_client  # imported only here: it brings in the whole engine

        dask_client(run["dask_address"], 1).close()


def _check_cost(made, cfg, folder: Path, spent: list[int]) -> None:
    """Refuse a sweep that would not fit on the disk of ``folder``; ask before one over an hour.

    ``spent`` holds the bytes of the jobs checked before (a ``-m`` sweep's jobs share the disk).
    """
    cost = estimate(made)
    where, free = free_bytes(folder)
    there = sum(p.stat().st_size for p in folder.rglob("*.parquet")) if folder.is_dir() else 0  # a resume
    need = max(0, cost.bytes - there) + sum(spent)
    spent.append(max(0, cost.bytes - there))
    if need > free:
        raise UsageError(f"run.seeds: this sweep would not fit on the disk: {cost.describe()}, but "
                         f"{human_bytes(free)} is free under {where}; lower run.seeds or the grid, record fewer "
                         "rounds (run.record_rounds=none), or run into a folder on a larger disk")
    confirm = OmegaConf.select(cfg, "run.confirm", default=False)
    if not isinstance(confirm, bool):
        raise UsageError(f"run.confirm: must be true or false, got {confirm!r}")
    if cost.seconds <= CONFIRM_SECONDS or confirm:
        return
    question = f"this sweep is long: {cost.describe()}"
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError(f"run.confirm: {question}; add run.confirm=true to start it, or lower run.seeds or the grid")
    print(f"{question}. Start it? [y/N] ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise UsageError("run.confirm: not started (add run.confirm=true to start it without asking)")
    cfg.run.confirm = True  # asked once, not again for the next job of a -m sweep


def _writable(folder: Path, key: str) -> None:
    """Create ``folder`` (and its parents) and check it can be written; one line if not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise NotADirectoryError(f"{folder} is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError("permission denied")
    except OSError as err:
        reason = err.strerror or str(err)
        raise UsageError(f"{key}: cannot create or write the folder {folder} ({reason})") from None


_NAMED_FOLDERS = ("hydra.run.dir", "hydra.sweep.dir", "run.name")


def _check_folder_names(overrides: list[str], cfg, folders: dict) -> None:
    """Refuse an empty run folder name (the run would go into the current folder, or lose a level) and a
    name longer than the file system takes (one line, before anything is written)."""
    for key in _NAMED_FOLDERS:
        given = _override(overrides, key)
        value = given if given is not None else (OmegaConf.select(cfg, key) if key == "run.name" else None)
        if value is not None and str(value).strip() in ("", ".", ".."):
            raise UsageError(f"{key}: {'is empty' if not str(value).strip() else f'is {value!r}'}; give a folder "
                             "name (e.g. " + ("run.name=my_study" if key == "run.name" else f"{key}=results/my_run")
                             + ")")
    name = str(OmegaConf.select(cfg, "run.name") or "")
    for key in ("hydra.run.dir", "hydra.sweep.dir"):
        folder = _override(overrides, key) or folders.get(key.split(".")[1])
        if folder:  # a default folder is named after run.name: a name too long is that key's
            _fits(Path(str(folder)), "run.name" if _override(overrides, key) is None and name else key)


def _fits(path: Path, key: str) -> None:
    """Refuse a path whose folder names, or whole length, the file system would not take."""
    parent = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    try:
        name_max, path_max = os.pathconf(parent, "PC_NAME_MAX"), os.pathconf(parent, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        name_max, path_max = 255, 4096
    long = next((part for part in path.parts if len(os.fsencode(part)) > name_max), None)
    if long is not None:
        raise UsageError(f"{key}: the folder name {long[:40]!r}... is {len(os.fsencode(long))} bytes; the file system "
                         f"takes at most {name_max} (shorten the name or the overrides that make it)")
    if len(os.fsencode(str(path.absolute()))) >= path_max:
        raise UsageError(f"{key}: the folder path is longer than the file system takes ({path_max} bytes)")


def _claim(template: str) -> Path:
    """A new folder from the configured name: ``template``, or ``template-2``, ``-3``, … if it exists.

    The folder is created here (``os.mkdir`` fails if another run took the name first), so two runs
    started at the same moment never share one.
    """
    base = Path(template)
    for k in range(1, 10_000):
        folder = base if k == 1 else base.with_name(f"{base.name}-{k}")
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise UsageError(f"hydra.run.dir: cannot find a free folder name next to {base}")


def _check_targets(cfg) -> None:
    """Refuse any ``_target_`` outside the sim package and the plugin folders (Hydra's own keys may also name
    Hydra and its plugins), before Hydra or the plan imports it: a command line imports no other code."""
    for key, value in targets(OmegaConf.to_container(cfg, resolve=False)):
        roots = PACKAGE_ROOTS + HYDRA_ROOTS if key.startswith("hydra.") else PACKAGE_ROOTS
        try:
            check_target(value, key, roots)
        except ConfigError as err:
            raise UsageError(str(err)) from None


def _compose(job: list[str]):
    """Compose one job's config; return it without the ``hydra`` node, and that node's folders."""
    try:
        with hydra_context():
            cfg = compose(config_name="config", overrides=job, return_hydra_config=True)
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
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg, folders


def _yaml_error(err: yaml.YAMLError) -> str:
    """One line for a config file that is not valid YAML: the file, the place and the problem."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = " ".join(str(getattr(err, "problem", None) or err).split())[:160]
    if mark is None:
        return f"a config file is not valid YAML ({problem})"
    return f"{mark.name}: not valid YAML at line {mark.line + 1}, column {mark.column + 1} ({problem})"


def _job_numbers(overrides: list[str], existing: set[int]) -> dict[int, list[str]]:
    """The override lists of the ``-m`` jobs numbered ``existing`` (Hydra numbers them in product order)."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    choices = []
    for o in parsed:
        if o.key_or_group.startswith("hydra"):
            continue
        if o.is_sweep_override():
            key = o.key_or_group if o.package is None else f"{o.key_or_group}@{o.package}"
            prefix = {"ADD": "+", "FORCE_ADD": "++", "DEL": "~"}.get(o.type.name, "")
            choices.append([f"{prefix}{key}={v}" for v in o.sweep_string_iterator()])
        else:
            choices.append([o.input_line])
    out = {}
    for num, job in enumerate(itertools.product(*choices)):
        if num > max(existing, default=-1):
            break
        if num in existing:
            out[num] = list(job)
    return out


def _check_scenario_as_written(job: list[str], done: set[tuple[str, ...]]) -> None:
    """Each value of the scenario file itself (no other override) lies inside its calibration prior.

    A run may set a value outside its prior (a what-if); the scenario's own numbers may not.
    """
    choice = tuple(o for o in job if o.split("=")[0].lstrip("+~") == "scenario")
    if choice in done:
        return
    done.add(choice)
    cfg, _ = _compose(list(choice))
    calibration_entries(OmegaConf.to_container(cfg, resolve=True), values=True)


def check(overrides: list[str], multirun: bool, claim: bool = False) -> list[str]:
    """:func:`prepare`'s overrides to add for Hydra (the claimed default folder, if any)."""
    return prepare(overrides, multirun, claim).overrides


def prepare(overrides: list[str], multirun: bool, claim: bool = False) -> Checked:
    """Compose and validate every job of a command line, and settle its run folder.

    Each job's config is composed once (with Hydra's own overrides, so that their ``_target_`` s are
    checked too) and planned once; the last job's plan is returned for the run.

    Args:
        overrides: The command line's overrides.
        multirun: Whether it is a ``-m`` sweep.
        claim: Create the run (or sweep) folder: a new default one, returned, when the command line
            names none; else the named one, refusing one that cannot be created or written.

    Returns:
        The overrides to add for Hydra: the claimed default folder (``hydra.run.dir=`` or ``hydra.sweep.dir=``)
        when ``claim`` and the command line names none; and the last job's plan.

    Raises:
        UsageError: with a one-line message for the first problem found.
    """
    run_dir = None if multirun else _override(overrides, "hydra.run.dir")
    folders = {}
    scenarios_checked: set[tuple[str, ...]] = set()
    spent: list[int] = []
    jobs = expand_jobs(overrides, multirun)
    # Hydra's own keys (launcher, callbacks, ...) are composed with each job, so that their _target_s are checked
    own = [o for o in overrides if o.lstrip("+~").split("=")[0].split(".")[0].split("/")[0] == "hydra"]
    checked = None
    for job in jobs:
        cfg, folders = _compose([*job, *own])
        _check_folder_names(overrides, cfg, folders)
        if multirun and folders.get("sweep") and folders.get("job") is not None:
            _fits(Path(str(folders["sweep"])) / f"999_{folders['job']}", "hydra.sweep.dir")  # the job's folder
        try:
            check_not_swept(job, cfg)
            made = plan(cfg)
            table_entries(made)  # the plan's output columns (a swept key may not repeat one)
            checked = CheckedPlan(OmegaConf.to_container(cfg, resolve=True), made)
            _check_target(cfg, Path(run_dir) if run_dir else None)
            _check_cost(made, cfg, Path(run_dir or folders.get("run" if not multirun else "sweep") or "."), spent)
            _check_scenario_as_written(job, scenarios_checked)
        except ConfigError as err:
            raise UsageError(str(err)) from None
    return Checked(_settle_folder(overrides, multirun, claim, run_dir, folders), checked)


def _settle_folder(overrides: list[str], multirun: bool, claim: bool, run_dir: str | None, folders: dict) -> list[str]:
    """Check (and with ``claim``, create) the run or sweep folder; the override naming a claimed default one."""
    if not multirun:
        if run_dir is not None:
            if claim:
                _writable(Path(run_dir), "hydra.run.dir")
            return []
        return [f"hydra.run.dir={_claim(folders['run'])}"] if claim else []
    sweep_dir = _override(overrides, "hydra.sweep.dir")
    if sweep_dir is None:
        return [f"hydra.sweep.dir={_claim(folders['sweep'])}"] if claim else []
    sweep_dir = Path(sweep_dir)
    if sweep_dir.is_dir():
        _check_sweep_again(overrides, sweep_dir)
    if claim:
        _writable(sweep_dir, "hydra.sweep.dir")
    return []


def _check_sweep_again(overrides: list[str], sweep_dir: Path) -> None:
    """A ``-m`` sweep run again into its folder: each job must match its folder (and no live run hold it)."""
    existing = {int(p.name.split("_")[0]): p for p in sweep_dir.iterdir()
                if p.is_dir() and p.name.split("_")[0].isdigit()}
    for num, job in _job_numbers(overrides, set(existing)).items():
        cfg, job_folders = _compose(job)
        expected = f"{num}_{job_folders['job']}"  # hydra.sweep.subdir
        if existing[num].name != expected:
            raise UsageError(f"hydra.sweep.dir: {sweep_dir} holds job {num} as {existing[num].name}, but job {num} "
                             f"of this sweep is {expected}; choose a new hydra.sweep.dir")
        try:
            _check_target(cfg, existing[num])
        except ConfigError as err:
            raise UsageError(f"{err} (job {num} of the -m sweep)") from None
