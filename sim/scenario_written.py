"""The scenario as written: each value of the scenario file itself lies inside its calibration prior.

A run may set a value outside its prior (a what-if, by an experiment or an override); the scenario's own numbers
may not. So this check reads the scenario the command runs (``hydra.runtime.choices.scenario``, which an
experiment may choose) composed alone: ``scenario=NAME``, without the experiment and the other overrides. That is
a different config from the command's whenever the command changes a key the check reads, and only composing
the scenario again says what the file holds there, so it is then composed once more (once per scenario of a
command, however many jobs run it).

Nothing is composed again when the command's own config provably holds the scenario as written at every key the
check reads (:func:`reuses_own_config`): the keys the calibration block names, the block itself, the scenario's
parties and their negotiators. That is so when each of the job's overrides is a ``hydra.*`` one, the scenario
choice, a key unrelated to those (``run.seeds=5``, ``sweep.grid=...``), or an experiment whose file (package
``_global_``, read through Hydra's public ``ConfigSource`` interface) has no defaults list and sets only such
keys, and when none of the values read is an interpolation (whose value another key could change). Any other
override (a negotiator ``strategy@PARTY=...``, a ``protocol=...``, an experiment with a defaults list) may change
anything, and the scenario is composed.
"""

from __future__ import annotations

from collections.abc import Callable

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from sim.config import ConfigError, available
from sim.config.calibration import BLOCK, calibration_entries
from sim.config.values import MISSING, flatten, lookup
from sim.console import UsageError

__all__ = ["check_as_written", "reuses_own_config"]


def check_as_written(job: list[str], cfg: DictConfig, own: DictConfig, done: set, loader,
                     compose: Callable[[list[str]], DictConfig]) -> None:
    """Refuse a scenario file whose own value lies outside its prior (once per scenario in ``done``).

    Args:
        job: The job's overrides (without Hydra's own).
        cfg: The job's composed config, with its ``hydra`` node (which scenario it chose).
        own: The job's config without it.
        done: The scenarios checked so far by this command (this one is added).
        loader: Hydra's config loader the job was composed with.
        compose: Composes a config of overrides (without its ``hydra`` node), for the scenario alone.

    Raises:
        UsageError: naming the calibration entry whose value lies outside its prior.
    """
    scenario = OmegaConf.select(cfg, "hydra.runtime.choices.scenario", default=None)
    if scenario in done:
        return
    done.add(scenario)
    written = own if reuses_own_config(job, own, loader) else compose([f"scenario={scenario}"] if scenario else [])
    try:
        calibration_entries(OmegaConf.to_container(written, resolve=True), values=True)
    except ConfigError as err:
        raise UsageError(str(err)) from None


def reuses_own_config(job: list[str], own: DictConfig, loader) -> bool:
    """Whether the job's config holds its scenario as written at every key the check reads (see the module)."""
    tree = OmegaConf.to_container(own, resolve=False)
    block = lookup(tree, BLOCK)
    block = block if isinstance(block, dict) else {}
    parties = lookup(tree, "scenario.parties")
    read = [BLOCK, "scenario.parties", *(parties if isinstance(parties, dict) else ()), *block]
    changed = changed_keys(job, loader)
    if changed is None or any(_related(key, r) for key in changed for r in read):
        return False
    return not any(_interpolated(lookup(tree, key)) for key in read)


def changed_keys(job: list[str], loader) -> list[str] | None:
    """The config keys the job's overrides set, add or delete, besides Hydra's own and the scenario choice;
    None when one of them may change anything (a config group other than the scenario, or an experiment with
    a defaults list)."""
    keys: list[str] = []
    for o in OverridesParser.create(config_loader=loader).parse_overrides(list(job)):
        key = o.key_or_group
        if key.startswith("hydra"):
            continue
        if not (available(key) or loader.get_group_options(key)):
            keys.append(key)
        elif key == "experiment" and not o.package:
            set_here = _experiment_keys(o.value(), loader)
            if set_here is None:
                return None
            keys.extend(set_here)
        elif not (key == "scenario" and not o.package):
            return None
    return keys


def _experiment_keys(name, loader) -> list[str] | None:
    """The keys the experiment file sets, when it sets keys only (package ``_global_``, no defaults list); else
    None."""
    path = f"experiment/{name}"
    source = next((s for s in loader.get_sources() if isinstance(name, str) and s.is_config(path)), None)
    if source is None:
        return None
    found = source.load_config(path)
    if (found.header or {}).get("package") != "_global_":
        return None
    tree = OmegaConf.to_container(found.config, resolve=False)
    if tree.pop("defaults", ["_self_"]) != ["_self_"]:
        return None
    return list(flatten(tree, keep_empty=True))


def _related(key: str, other: str) -> bool:
    """Whether setting ``key`` can change ``other``'s value or the reverse: the same key, or one inside the other."""
    return key == other or key.startswith(other + ".") or other.startswith(key + ".")


def _interpolated(value) -> bool:
    """Whether a value (a leaf or a tree, unresolved) holds an interpolation (``${...}``)."""
    if isinstance(value, dict):
        return any(_interpolated(v) for v in value.values())
    if isinstance(value, list):
        return any(_interpolated(v) for v in value)
    return value is not MISSING and isinstance(value, str) and "${" in value
