"""``python -m sim run --help``: every parameter with its default and what it means.

The text is built from two things only: the config as Hydra composes it (:func:`sim.config.compose.compose_config`,
with the command line's overrides, so ``python -m sim run scenario=NAME --help`` shows that scenario's defaults)
and the parameter registry, which says what each key means, its unit and the bounds a value is checked against
(:func:`sim.config.registry_settings.describe`). Where the scenario's ``calibration`` block gives a key's source
and prior, they follow its description. The YAML files' comments are for their readers; nothing here reads them.

Composing imports Hydra and OmegaConf but no NumPy, pandas, Matplotlib, Mesa or SciPy, so the help stays quick.
``python -m sim run --hydra-help`` still shows Hydra's own help, and ``python -m sim run [overrides] --cfg job``
prints the composed config of a command line.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sim.config.parameters import Parameter
from sim.config.registry_options import OPTIONS
from sim.config.registry_settings import RECORDS, describe
from sim.config.values import fmt
from sim.resources import conf_dir

__all__ = ["composed", "inputs", "leaves", "meaning", "party_ids", "run_help"]

CONF_DIR = conf_dir()  # the package sim.conf (sim/resources.py)
PARTS = {"offering": "strategy", "acceptance": "acceptance", "opponent": "opponent"}  # part -> config group
COLUMN = 44
CACHE_KEPT = 32  # composed inputs kept on disk (one file each, a few hundred kB)


def composed(overrides: Sequence[str] = ()) -> dict:
    """The composed config of ``overrides`` as plain data (interpolations kept as written), without ``hydra``."""
    from omegaconf import OmegaConf

    from sim.config.compose import compose_config

    cfg = OmegaConf.to_container(compose_config(*overrides), resolve=False)
    cfg.pop("hydra", None)
    return cfg


def _part_params() -> dict[str, dict[str, dict]]:
    """Each negotiator-part option's parameters (its group file, loaded by OmegaConf), by group and option."""
    from omegaconf import OmegaConf

    return {group: {name: {k: v for k, v in (OmegaConf.to_container(OmegaConf.load(CONF_DIR / group / f"{name}.yaml"))
                                             .get(part) or {}).items() if k not in ("name", "_target_")}
                    for name in _options(group)} for part, group in PARTS.items()}


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sim" / "help"


def inputs(overrides: Sequence[str] = ()) -> dict:
    """What the help is built from: the composed config (``cfg``) and each part option's parameters (``parts``).

    Composing takes about a second (Hydra parses every file of the defaults list with a pure-Python YAML
    parser), so the result is kept as JSON under ``~/.cache/sim/help/`` (``$XDG_CACHE_HOME``), one file per
    command line and state of ``conf/`` (each file's path, size and modification time, as
    :func:`sim.config.compose.compose_config` keys its own cache), of ``compose.py`` and of the Hydra and OmegaConf
    versions: an edited config file is composed again.
    JSON holds data only, so nothing read back can run code; a cache that cannot be read or written is skipped.
    """
    from importlib.metadata import version
    from importlib.util import find_spec

    from sim.config import compose

    code = os.stat(find_spec(compose.__name__).origin)  # the code that composes a command line
    stamp = json.dumps([list(overrides), compose.conf_state(), code.st_size, code.st_mtime_ns, version("hydra-core"),
                        version("omegaconf")], default=str)
    path = _cache_dir() / f"{hashlib.sha256(stamp.encode()).hexdigest()[:32]}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    made = {"cfg": composed(overrides), "parts": _part_params()}
    text = json.dumps(made)
    if json.loads(text) == made:  # only data that JSON keeps as it is
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(text)
            os.replace(partial, path)
            for old in sorted(path.parent.glob("*.json"), key=lambda f: f.stat().st_mtime)[:-CACHE_KEPT]:
                old.unlink(missing_ok=True)
        except OSError:
            pass
    return made


def party_ids(cfg: dict | None = None) -> tuple[str, str]:
    """The scenario's two party ids (its ``parties`` block; the default config's without ``cfg``)."""
    ids = list((cfg or inputs()["cfg"])["scenario"].get("parties") or {})
    return (ids + ["a", "b"])[0], (ids + ["a", "b"])[1]


def leaves(tree: dict, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """The settings of a config tree as ``(key, value)``: a mapping is walked into unless the registry describes
    it whole (a ``table``, a scenario's records) or it is empty; every other value is a setting."""
    for key, value in tree.items():
        full = f"{prefix}{key}"
        found = describe(full)
        if isinstance(value, dict) and value and (found is None or found[0].kind != "table"):
            yield from leaves(value, full + ".")
        else:
            yield full, value


def _show(value: Any) -> str:
    """A value as it would be written on the command line (YAML flow style)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _allowed(parameter: Parameter) -> str:
    """What a value may be, from the registry: ``[unit, lo to hi]``, ``[true or false]`` or ``[unit]``."""
    if parameter.kind == "flag":
        return "true or false"
    if parameter.kind in ("text", "table", "section"):
        return ""
    lo, hi = (0.0, 1.0) if parameter.kind == "probability" else (
        0.0 if parameter.kind == "money" else parameter.lo, parameter.hi)
    bounds = "" if lo == -float("inf") and hi == float("inf") else f"{fmt(lo)} to {fmt(hi)}"
    return ", ".join(t for t in (parameter.unit, bounds) if t)


def _source(key: str, calibration: dict) -> str:
    """The calibration block's source and prior of ``key`` (``""`` without an entry)."""
    entry = calibration.get(key)
    if not isinstance(entry, dict):
        return ""
    text = f"[{entry.get('tag', '')}] {entry.get('source', '')}".rstrip()
    prior = entry.get("prior")
    if isinstance(prior, dict):
        if prior.get("dist") == "triangular":
            text += f"; prior triangular [{prior.get('lo')}, {prior.get('mode')}, {prior.get('hi')}]"
        else:
            text += f"; prior {prior.get('dist', 'uniform')} [{prior.get('lo')}, {prior.get('hi')}]"
    return text


def meaning(key: str, calibration: dict | None = None) -> str:
    """What ``key`` means, from the registry, with its allowed values and (in a scenario) its source."""
    found = describe(key)
    if found is None:
        return "(not in the registry)"
    parameter, _ = found
    allowed = _allowed(parameter)
    text = parameter.description + (f" [{allowed}]" if allowed else "")
    source = _source(key, calibration or {})
    return f"{text}. Source: {source}" if source else text


def _wrap(left: str, text: str, width: int) -> list[str]:
    body = textwrap.wrap(text, width - COLUMN) or [""]
    if not text:
        return [left]
    if len(left) >= COLUMN - 1:
        return [left] + [" " * COLUMN + t for t in body]
    return [left.ljust(COLUMN) + body[0]] + [" " * COLUMN + t for t in body[1:]]


def _issues(issues: dict, calibration: dict, width: int) -> list[str]:
    """One line per issue (``unit, granted by, status quo, range, negotiable``), after one line on the fields."""
    fields = ("grantor", "unit", "status_quo", "min", "max", "negotiable", "title", "tags")
    legend = "; ".join(f"{f}: {describe(f'scenario.issues.ISSUE.{f}')[0].description}" for f in fields)
    out = _wrap("  scenario.issues.ISSUE.FIELD", legend, width)
    for name, issue in issues.items():
        text = (f"{issue.get('unit', '?')}, granted by {issue.get('grantor', '?')}, status quo "
                f"{_show(issue.get('status_quo'))}, range [{_show(issue.get('min'))}, {_show(issue.get('max'))}], "
                f"negotiable {_show(issue.get('negotiable', True))}")
        if issue.get("tags"):
            text += f", tags {_show(issue['tags'])}"
        sources = [f"{f}: {_source(f'scenario.issues.{name}.{f}', calibration)}" for f in fields
                   if _source(f"scenario.issues.{name}.{f}", calibration)]
        out += _wrap(f"  scenario.issues.{name}", text + (f" ({'; '.join(sources)})" if sources else ""), width)
    return out


def _section(tree: dict, prefix: str, width: int, calibration: dict) -> list[str]:
    """The lines of the settings under ``prefix``: each key with its default and what it means."""
    out: list[str] = []
    for name, value in tree.items():
        if prefix == "scenario." and name == "issues" and isinstance(value, dict):
            out += _issues(value, calibration, width)
            continue
        for key, leaf in leaves({name: value}, prefix):
            if key.endswith("._target_") and prefix not in ("scenario.", "protocol."):
                continue  # a part's class: its option's name says it
            record = key.split(".")[:1] == ["scenario"] and key.split(".")[1] in RECORDS
            left = f"  {key}" if record else f"  {key} = {_show(leaf)}"
            out += _wrap(left, meaning(key, calibration), width)
    return out


def _options(group: str) -> list[str]:
    """The option names of a config group (its files under ``conf/<group>/``)."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def _groups(cfg: dict, first: str, second: str, experiment: str | None, width: int) -> list[str]:
    """The config groups, each option with what it is and which one the config uses."""
    chosen = {"scenario": {cfg["scenario"].get("name")}, "protocol": {cfg["protocol"].get("name")},
              "experiment": {experiment}}
    for part, group in PARTS.items():
        chosen[group] = {cfg[p][part].get("name") for p in (first, second) if part in cfg.get(p, {})}
    out = ["Config groups (GROUP=OPTION; a negotiator's parts are chosen per party: strategy@PARTY=...):"]
    for group, how in (("scenario", "scenario"), ("protocol", "protocol"), ("strategy", f"strategy@{first}"),
                       ("acceptance", f"acceptance@{first}"), ("opponent", f"opponent@{first}"),
                       ("experiment", "+experiment")):
        also = f"   (also {group}@{second}=NAME)" if group in PARTS.values() else ""
        out.append(f"  {how}=NAME{also}")
        for name in _options(group):
            mark = " (default)" if name in chosen[group] else ""
            out += _wrap(f"    {name}{mark}", OPTIONS.get(group, {}).get(name, ""), width)
        if group in ("scenario", "experiment"):
            out += _wrap("", f"(what each is: the opening comment of conf/{group}/NAME.yaml)", width)
    return out


def _part_options(parts: dict[str, dict[str, dict]], width: int) -> list[str]:
    """The parameters each negotiator-part option sets, and what the parameters mean (the registry)."""
    from sim.config.registry_settings import SETTINGS

    out: list[str] = []
    for part, group in PARTS.items():
        for name, params in parts[group].items():
            shown = ", ".join(f"{part}.{k}={_show(v)}" for k, v in params.items())
            out += _wrap(f"  {group} {name}", shown or "(no parameters)", width)
    for key, parameter in SETTINGS.items():
        if key.split(".")[1] in PARTS and parameter.kind == "number":
            out += _wrap(f"  {key.replace('{party}', 'PARTY')}", meaning(key.replace("{party}", "PARTY")), width)
    return out


def run_help(width: int | None = None, overrides: Sequence[str] = ()) -> str:
    """The text of ``python -m sim run [overrides] --help``: the config composed from ``overrides`` (none: the
    default config), every setting with its value and what it means."""
    width = width or min(120, max(80, shutil.get_terminal_size((100, 24)).columns))
    overrides = [o for o in overrides if not o.startswith("-")]
    note: list[str] = []
    try:
        given = inputs(overrides)
    except Exception as err:  # Hydra's errors for a bad override: the help of the default config, said so
        note = [f"note: {' '.join(overrides)} does not compose ({str(err).splitlines()[0][:200]}); the default "
                "config follows", ""]
        given = inputs()
    cfg = given["cfg"]
    first, second = party_ids(cfg)
    experiment = next((o.split("=", 1)[1] for o in overrides if o.lstrip("+").startswith("experiment=")), None)
    scenario, protocol = cfg["scenario"].get("name"), cfg["protocol"].get("name")
    calibration = cfg["scenario"].get("calibration") or {}
    out = [*note, "usage: python -m sim run [+experiment=NAME] [GROUP=OPTION ...] [KEY=VALUE ...] [-m]",
           "",
           f"Simulate a bilateral negotiation (here: {scenario}). Override any value below with KEY=VALUE;",
           "a list of values with -m runs one job per value (Hydra multirun). A bad value is refused before",
           "anything runs, naming the key. Results: results/<run.name>/<timestamp>/ (or hydra.run.dir=DIR).",
           "Overrides before --help are composed in: python -m sim run scenario=NAME --help shows its values.",
           "", *_groups(cfg, first, second, experiment, width), "", "Run and sweep settings:"]
    for name, tree in cfg.items():
        if name not in ("scenario", "protocol", first, second) and isinstance(tree, dict):
            out += _section(tree, f"{name}.", width, {})
    out += ["", f"Scenario parameters (scenario={scenario}):", *_section(cfg["scenario"], "scenario.", width,
                                                                       calibration),
            "", f"Protocol parameters (protocol={protocol}):", *_section(cfg["protocol"], "protocol.", width, {}),
            "", f"Each party's negotiator ({first}.offering.KEY=VALUE, {second}.acceptance.KEY=VALUE, ...):"]
    for pid in (first, second):
        out += _section(cfg.get(pid) or {}, f"{pid}.", width, {})
    out += ["", "Negotiator parts and the parameters each sets (GROUP OPTION: PART.KEY=DEFAULT):",
            *_part_options(given["parts"], width),
            "",
            "Examples:",
            "  python -m sim run +experiment=deadline_pressure",
            f"  python -m sim run strategy@{first}=hardliner strategy@{second}=conceder run.seeds=200",
            "  python -m sim run -m +experiment=deadline_pressure scenario.breakdown_risk=0,0.02",
            "",
            "python -m sim run [overrides] --cfg job prints the composed config; --hydra-help shows Hydra's help."]
    return "\n".join(out)
