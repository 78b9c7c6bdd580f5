"""``python -m sim run --help``: every parameter with its default and what it means, in well under a second.

The text is generated from the YAML files under ``conf/`` and their comments: a key's inline comment,
or the comment block just above it, is its description (with its source); the parameter registry
(:mod:`sim.config.parameters`) adds the unit and the bounds a value is checked against. Nothing heavy is imported (no Hydra, no
OmegaConf, no NumPy), so the help is quick. ``python -m sim run --hydra-help`` still shows Hydra's own
help, and ``python -m sim run [overrides] --cfg job`` prints the composed config of a command line.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

from sim.config.parameters import find
from sim.config.values import fmt

__all__ = ["Entry", "entries", "run_help"]

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
def _yaml(path: Path) -> dict:
    """A config file as data (PyYAML: quick, and no Hydra or OmegaConf for the help)."""
    import yaml

    return yaml.safe_load(path.read_text()) or {}


def _default_options() -> dict[str, str]:
    """The default option of each group, from the defaults list of ``conf/config.yaml``."""
    return {group: option for entry in _yaml(CONF_DIR / "config.yaml").get("defaults", [])
            if isinstance(entry, dict) for group, option in entry.items()}


DEFAULTS = _default_options()
PART_DEFAULTS = ("boulware", "ac_next", "noisy_prior")  # the default scenario's negotiators
_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w.]*):(?:\s+(?P<value>[^#]*?))?\s*(?:#\s?(?P<comment>.*))?$")
_COMMENT = re.compile(r"^(?P<indent> *)#\s?(?P<text>.*)$")


@dataclass
class Entry:
    """One parameter: its full key, default value (as written in the YAML) and description."""

    key: str
    value: str | None  # None for a section (a mapping of further keys)
    description: str


def _first_sentence(lines: list[str]) -> str:
    text = " ".join(line.strip() for line in lines if line.strip() and not set(line.strip()) <= set("-"))
    return text


# Top-level sections of a scenario that hold records (dated facts, positions, priors), not settings
DATA_SECTIONS = ("facts", "positions", "calibration", "evidence")


def entries(path: Path, prefix: str = "") -> list[Entry]:
    """The keys of a YAML config file with their defaults and descriptions (from its comments).

    Lists (``- ...`` lines) and flow mappings are shown as the value of their key; the ``defaults``
    list and the ``hydra`` section are left out, and so are the entries of the ``calibration`` block.
    """
    out: list[Entry] = []
    stack: list[tuple[int, str]] = []  # (indent, key) of the enclosing sections
    block: list[str] = []  # the comment block just above the current line
    last: Entry | None = None
    last_indent = -1
    skip_below: int | None = None
    for raw in path.read_text().splitlines():
        line = raw.rstrip()
        if not line.strip():
            block, last = [], None
            continue
        comment = _COMMENT.match(line)
        if comment:
            # a comment indented under an entry's own comment continues it
            if last is not None and len(comment["indent"]) > last_indent and last.description:
                last.description += " " + comment["text"].strip()
            else:
                block.append(comment["text"])
                last = None
            continue
        if line.lstrip().startswith("- ") or line.strip() == "-":
            last = None
            continue
        match = _KEY.match(line)
        if not match:
            continue
        indent = len(match["indent"])
        if skip_below is not None and indent > skip_below:
            continue
        skip_below = None
        key, value, inline = match["key"], (match["value"] or "").strip(), match["comment"]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if indent == 0 and key in ("defaults", "hydra", "_target_", "name") or key == "_target_":
            skip_below = indent
            block = []
            continue
        full = prefix + ".".join([k for _, k in stack] + [key])
        description = (inline or "").strip() or _first_sentence(block)
        entry = Entry(full, value if value else None, description)
        out.append(entry)
        last, last_indent = entry, indent
        block = []
        if indent == 0 and key in DATA_SECTIONS:  # records, not settings: listed once, by their comment
            skip_below = indent
            continue
        if not value:
            stack.append((indent, key))
    return out


def party_ids() -> tuple[str, str]:
    """The default scenario's party ids (its ``parties:`` block), for the examples of per-party groups."""
    ids = list(_yaml(CONF_DIR / "scenario" / f"{DEFAULTS['scenario']}.yaml").get("parties") or {})
    return (ids + ["a", "b"])[0], (ids + ["a", "b"])[1]


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def _summary_line(path: Path) -> str:
    """The first sentence of a config file's opening comment (what the option is)."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith("# @package"):
            lines.append(line.lstrip("#").strip())
    text = " ".join(lines)
    end = re.search(r"(?<! al)[.?!](\s|$)", text)
    return text[:end.start() + 1] if end else text


def _collapse_issues(items: list[Entry]) -> list[Entry]:
    """One line per issue (``scenario.issues.cars: unit pp, status quo 27.5, range [2.5, 27.5]``)."""
    out: list[Entry] = []
    issues: dict[str, list[Entry]] = {}
    for entry in items:
        parts = entry.key.split(".")
        if parts[:2] == ["scenario", "issues"] and len(parts) >= 3:
            issues.setdefault(parts[2], []).append(entry)
            if len(issues) == 1 and len(issues[parts[2]]) == 1:
                out.append(Entry("scenario.issues.*", None, ""))  # placeholder, filled below
            continue
        out.append(entry)
    if not issues:
        return items
    lines = []
    for name, fields in issues.items():
        values = {e.key.split(".")[-1]: e for e in fields if e.value is not None}
        notes = "; ".join(f"{k}: {e.description}" for k, e in values.items() if e.description)
        unit = values["unit"].value if "unit" in values else ""
        text = (f"{unit}, granted by {values['grantor'].value if 'grantor' in values else '?'}, status quo "
                f"{values['status_quo'].value if 'status_quo' in values else '?'}, range "
                f"[{values['min'].value if 'min' in values else '?'}, {values['max'].value if 'max' in values else '?'}]"
                f", negotiable {values['negotiable'].value if 'negotiable' in values else 'true'}")
        lines.append(Entry(f"scenario.issues.{name}", "", text + (f" ({notes})" if notes else "")))
    k = next(i for i, e in enumerate(out) if e.key == "scenario.issues.*")
    return out[:k] + lines + out[k + 1:]


def _with_registry(entry: Entry) -> str:
    """The entry's description, with the unit and bounds the parameter registry checks it against."""
    found = find(entry.key)
    if found is None:
        return entry.description
    parameter = found[0]
    if parameter.kind == "flag":
        allowed = "true or false"
    elif parameter.kind == "text":
        allowed = parameter.unit
    else:
        lo, hi = (0.0, 1.0) if parameter.kind == "probability" else (
            0.0 if parameter.kind == "money" else parameter.lo, parameter.hi)
        allowed = f"{parameter.unit}, {fmt(lo)} to {fmt(hi)}".strip(", ")
    return f"{entry.description} [{allowed}]".strip()


def _wrap(left: str, text: str, width: int, column: int) -> list[str]:
    if not text:
        return [left]
    if len(left) >= column - 1:
        head, pad = [left], " " * column
        body = textwrap.wrap(text, width - column) or [""]
        return head + [pad + t for t in body]
    body = textwrap.wrap(text, width - column) or [""]
    lines = [left.ljust(column) + body[0]]
    lines += [" " * column + t for t in body[1:]]
    return lines


def run_help(width: int | None = None) -> str:
    """The text of ``python -m sim run --help``."""
    width = width or min(120, max(80, shutil.get_terminal_size((100, 24)).columns))
    column = 44
    out = ["usage: python -m sim run [+experiment=NAME] [GROUP=OPTION ...] [KEY=VALUE ...] [-m]",
           "",
           f"Simulate a bilateral negotiation (default: {DEFAULTS['scenario']}). Override any value below with KEY=VALUE;",
           "a list of values with -m runs one job per value (Hydra multirun). A bad value is refused before",
           "anything runs, naming the key. Results: results/<run.name>/<timestamp>/ (or hydra.run.dir=DIR).",
           "",
           "Config groups (GROUP=OPTION; a negotiator's parts are chosen per party: strategy@PARTY=...):"]
    first, second = party_ids()
    for group, how in (("scenario", "scenario"), ("protocol", "protocol"), ("strategy", f"strategy@{first}"),
                       ("acceptance", f"acceptance@{first}"), ("opponent", f"opponent@{first}"),
                       ("experiment", "+experiment")):
        per_party = group in ("strategy", "acceptance", "opponent")
        out.append(f"  {how}=NAME" + (f"   (also {group}@{second}=NAME)" if per_party else ""))
        for name in _options(group):
            default = " (default)" if DEFAULTS.get(how) == name or (per_party and name in PART_DEFAULTS) else ""
            out += _wrap(f"    {name}{default}", _summary_line(CONF_DIR / group / f"{name}.yaml"), width, column)
    sections = [("Run and sweep settings", CONF_DIR / "config.yaml", ""),
                (f"Scenario parameters (scenario={DEFAULTS['scenario']})",
                 CONF_DIR / "scenario" / f"{DEFAULTS['scenario']}.yaml", "scenario."),
                (f"Protocol parameters (protocol={DEFAULTS['protocol']})",
                 CONF_DIR / "protocol" / f"{DEFAULTS['protocol']}.yaml", "protocol.")]
    for title, path, prefix in sections:
        out += ["", f"{title}:"]
        for entry in _collapse_issues(entries(path, prefix)):
            if entry.value is None and not entry.description:
                continue  # a section with nothing to say: its keys follow
            left = f"  {entry.key}" + (f" = {entry.value}" if entry.value else "")
            out += _wrap(left, _with_registry(entry), width, column)
    out += ["", f"Strategy parameters ({first}.offering.KEY=VALUE, {second}.offering.KEY=VALUE; defaults of each):"]
    for name in _options("strategy"):
        params = [f"{e.key}={e.value}" for e in entries(CONF_DIR / "strategy" / f"{name}.yaml") if e.value is not None]
        out += _wrap(f"  {name}", ", ".join(params) or "(no parameters)", width, column)
    out += ["",
            "Examples:",
            "  python -m sim run +experiment=deadline_pressure",
            f"  python -m sim run strategy@{first}=hardliner strategy@{second}=conceder run.seeds=200",
            "  python -m sim run -m +experiment=deadline_pressure scenario.breakdown_risk=0,0.02",
            "",
            "python -m sim run [overrides] --cfg job prints the composed config; --hydra-help shows Hydra's help."]
    return "\n".join(out)
