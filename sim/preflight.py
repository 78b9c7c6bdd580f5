"""Check a command line before Hydra runs it, so a user's mistake costs one line and no run folder.

Hydra creates the run folder before the task function starts, and reports composition errors
(an unknown strategy, a key that does not exist, a malformed override) as multi-line messages. This
module composes the same config with Hydra's compose API first, for every job a ``-m`` sweep would
launch, validates it with :func:`sim.config.plan`, and turns any failure into a one-line message
that names the key and what is allowed.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.config import CONF_DIR, ConfigError, available, plan
from sim.runner import check_resume, config_fingerprint, dask_client

__all__ = ["UsageError", "check"]

# At most this many jobs of a -m sweep are composed and validated one by one; beyond it, each
# swept value is checked with the other keys at their first value.
_MAX_JOBS = 64


class UsageError(Exception):
    """A one-line, user-facing error."""


def _jobs(overrides: list[str], multirun: bool) -> list[list[str]]:
    """The override lists of the jobs a command would launch (parsed by Hydra's own grammar)."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except OverrideParseException as err:
        raise UsageError(f"malformed override: {str(err).splitlines()[0]}") from None
    choices = []
    for o in parsed:
        if o.key_or_group.startswith("hydra"):
            continue
        if o.is_sweep_override():
            if not multirun:
                raise UsageError(f"{o.input_line}: a list of values needs -m (multirun), or quote it as a list")
            key = o.key_or_group if o.package is None else f"{o.key_or_group}@{o.package}"
            prefix = {"ADD": "+", "FORCE_ADD": "++", "DEL": "~"}.get(o.type.name, "")
            choices.append([f"{prefix}{key}={v}" for v in o.sweep_string_iterator()])
        else:
            choices.append([o.input_line])
    product = 1
    for c in choices:
        product *= len(c)
    if product <= _MAX_JOBS:
        return [list(job) for job in itertools.product(*choices)]
    firsts = [c[0] for c in choices]
    jobs = []
    for k, c in enumerate(choices):
        jobs.extend([*firsts[:k], v, *firsts[k + 1:]] for v in c[1:])
    return [firsts, *jobs]


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


def _run_dir(overrides: list[str]) -> Path | None:
    """The run folder named on the command line (``hydra.run.dir=DIR``), if any."""
    for o in overrides:
        if o.startswith("hydra.run.dir="):
            return Path(o.split("=", 1)[1])
    return None


def _check_target(cfg, run_dir: Path | None) -> None:
    """Refuse to resume into a folder made by another config; check a Dask scheduler answers."""
    container = OmegaConf.to_container(cfg, resolve=True)
    if run_dir is not None:
        check_resume(run_dir, config_fingerprint(container))
    run = container["run"]
    if run.get("executor") == "dask" and run.get("dask_address"):
        dask_client(run["dask_address"], 1).close()


def check(overrides: list[str], multirun: bool) -> None:
    """Compose and validate every job of a command line.

    Raises:
        UsageError: with a one-line message for the first problem found.
    """
    run_dir = None if multirun else _run_dir(overrides)
    for job in _jobs(overrides, multirun):
        GlobalHydra.instance().clear()
        try:
            with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
                cfg = compose(config_name="config", overrides=job)
        except (ConfigCompositionException, OmegaConfBaseException) as err:
            raise UsageError(_explain(err, job)) from None
        finally:
            GlobalHydra.instance().clear()
        try:
            plan(cfg)
            _check_target(cfg, run_dir)
        except ConfigError as err:
            raise UsageError(str(err)) from None
