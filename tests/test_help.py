"""``python -m sim run --help`` and the registry it reads: every setting of every composed config has a meaning.

The help is built from the composed config and the parameter registry (:func:`sim.config.registry_settings.describe`),
so a key without a registry entry would be shown as "(not in the registry)". The first tests make that a failure,
naming the key, for the default config and for each option of each config group the help lists.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sim.config.registry_options import OPTIONS
from sim.config.registry_settings import RECORDS, SETTINGS, describe
from sim.help import _options, leaves, run_help
from tests.conftest import compose_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """The help's composed inputs are kept in this test's folder, not the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _config(*overrides: str) -> dict:
    cfg = OmegaConf.to_container(compose_config(*overrides), resolve=False)
    cfg.pop("hydra", None)
    return cfg


def undocumented(cfg: dict) -> list[str]:
    """The settings of a composed config that the registry gives no description."""
    return [key for key, _ in leaves(cfg) if describe(key) is None or not describe(key)[0].description.strip()]


def _command_lines(groups: str) -> list[tuple[str, ...]]:
    """Override lists that between them choose every option of the groups: each scenario with a protocol in turn;
    the negotiator parts two options at a time (one per party); each experiment."""
    if groups == "experiment":
        return [(f"+experiment={option}",) for option in _options("experiment")]
    if groups == "scenario, protocol":
        protocols = _options("protocol")
        return [(f"scenario={option}", f"protocol={protocols[k % len(protocols)]}")
                for k, option in enumerate(_options("scenario"))]
    first, second = _config()["scenario"]["parties"]
    options = {group: _options(group) for group in ("strategy", "acceptance", "opponent")}
    rounds = (max(len(v) for v in options.values()) + 1) // 2
    return [tuple(f"{group}@{pid}={names[(2 * k + j) % len(names)]}" for group, names in options.items()
                  for j, pid in enumerate((first, second))) for k in range(rounds)]


def test_every_setting_of_the_default_config_is_in_the_registry():
    assert undocumented(_config()) == []


@pytest.mark.parametrize("groups", ["scenario, protocol", "strategy, acceptance, opponent", "experiment"])
def test_every_setting_of_every_option_of_each_group_is_in_the_registry(groups):
    chosen = {override.split("=")[1] for overrides in _command_lines(groups) for override in overrides}
    assert chosen >= {option for group in groups.split(", ") for option in _options(group)}  # every option chosen
    missing = {overrides: keys for overrides in _command_lines(groups) if (keys := undocumented(_config(*overrides)))}
    assert missing == {}, "settings without a registry description (add them to sim/config/registry_settings.py)"


def test_a_new_key_without_a_registry_entry_is_named():
    cfg = _config()
    first = next(iter(cfg["scenario"]["parties"]))
    cfg["scenario"]["sides"][first]["patience"] = 3  # a setting nobody described
    cfg["run"]["new_flag"] = True
    assert sorted(undocumented(cfg)) == ["run.new_flag", f"scenario.sides.{first}.patience"]


def test_records_and_tables_are_described_whole():
    keys = [key for key, _ in leaves(_config("+experiment=deadline_pressure"))]
    for record in RECORDS:
        assert f"scenario.{record}" in keys and not any(k.startswith(f"scenario.{record}.") for k in keys)
    assert "sweep.grid" in keys and not any(k.startswith("sweep.grid.") for k in keys)


def test_the_registry_tables_do_not_overlap_and_every_setting_is_described():
    from sim.config.parameters import PARAMETERS

    assert not set(SETTINGS) & set(PARAMETERS)
    for key, entry in {**PARAMETERS, **SETTINGS}.items():
        assert entry.description.strip() and entry.label.strip(), key


@pytest.mark.parametrize("group", ["protocol", "strategy", "acceptance", "opponent"])
def test_every_component_option_has_one_line_and_no_line_is_stale(group):
    assert sorted(OPTIONS[group]) == _options(group)


def _line(text: str, start: str) -> str:
    """The line starting with ``start`` and its wrapped continuation lines, joined."""
    lines = text.splitlines()
    k = next(i for i, li in enumerate(lines) if li.startswith(start))
    out = [lines[k]]
    for li in lines[k + 1:]:
        if not li.startswith(" " * 44):
            break
        out.append(li.strip())
    return " ".join(out)


def test_run_help_lists_every_setting_with_its_default_and_meaning():
    text = run_help(width=100)
    cfg = _config()
    first = next(iter(cfg["scenario"]["parties"]))
    missing = []
    for key, value in leaves(cfg):
        parts = key.split(".")
        if parts[:2] == ["scenario", "issues"]:  # one line per issue
            shown = ".".join(parts[:3])
        elif parts[-1] == "_target_" and parts[0] not in ("scenario", "protocol"):  # a part's class: its name says it
            continue
        else:
            shown = key
        if f"  {shown} " not in text and f"  {shown}\n" not in text:
            missing.append(key)
    assert not missing, missing
    # a default, the registry's description, its bounds and the scenario's source for it
    line = _line(text, "  scenario.deadline.round = 13")
    entry = cfg["scenario"]["calibration"]["scenario.deadline.round"]
    assert describe("scenario.deadline.round")[0].description in line and "[rounds, 1 to 10000]" in line
    assert f"Source: [{entry['tag']}] {' '.join(entry['source'].split())}" in line
    assert _line(text, "  run.figure_formats = [png]").count("png, svg, pdf") == 1
    assert _line(text, f"  {first}.offering.beta = 0.25").count("concession exponent") == 1
    for strategy in ("boulware", "tit_for_tat", "deadline_aware"):
        assert f"\n    {strategy}" in text and f"\n  strategy {strategy} " in text  # as an option and its parameters
    assert "\n    boulware (default)" in text and "\n    package (default)" in text
    assert "(not in the registry)" not in text


def test_run_help_shows_the_config_composed_from_the_overrides():
    default = run_help(width=100)
    other = next(s for s in _options("scenario") if s != _config()["scenario"]["name"])
    cfg = _config(f"scenario={other}")
    text = run_help(width=100, overrides=[f"scenario={other}", "run.seeds=7", "--help"])
    assert f"Scenario parameters (scenario={other})" in text and f"\n    {other} (default)" in text
    assert "  run.seeds = 7 " in text and "  run.seeds = 100 " in default
    for pid, party in cfg["scenario"]["parties"].items():
        assert f"  scenario.parties.{pid}.name = {party['name']} " in text


def test_run_help_is_fast_because_it_imports_nothing_heavy(tmp_path):
    """``run --help`` took 9.7 s when Hydra composed the config and printed it with its own help. It now composes
    the config with Hydra once per state of ``conf/`` (kept as JSON under the user's cache folder) and imports
    no NumPy, pandas, PyArrow, Matplotlib, Mesa or SciPy. In a fresh interpreter, with an empty cache and again
    with the cache it filled: none of those libraries is imported."""
    probe = ("import sys; sys.argv = ['sim', 'run', '--help']\n"
             "from sim import __main__ as entry\n"
             "try:\n    entry.main()\nexcept SystemExit as stop:\n    assert stop.code in (0, None)\n"
             "heavy = ('numpy', 'pandas', 'pyarrow', 'matplotlib', 'mesa', 'scipy')\n"
             "print(*[m for m in heavy if m in sys.modules], sep=',', file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for _ in ("cold", "warm"):
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                              timeout=60, env=env)
        assert done.returncode == 0 and "scenario.deadline.round" in done.stdout
        assert done.stderr.strip() == "", f"run --help imported {done.stderr.strip()}"
    assert len(list((tmp_path / "cache" / "sim" / "help").glob("*.json"))) == 1


def test_every_calibration_setting_is_in_the_registry():
    settings = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "inference" / "calibrate.yaml"))
    assert undocumented({"calibrate": settings}) == []


def test_run_help_of_overrides_that_do_not_compose_says_so_and_shows_the_default():
    text = run_help(width=100, overrides=["scenario=no_such_scenario"])
    first = text.splitlines()[0]
    assert first.startswith("note: scenario=no_such_scenario does not compose (") and "no_such_scenario" in first
    assert "  run.seeds = 100 " in text


def test_the_kept_inputs_are_the_composed_config(tmp_path):
    from sim.help import composed, inputs

    cold = run_help(width=100)
    kept = list((tmp_path / "cache" / "sim" / "help").glob("*.json"))
    assert len(kept) == 1
    assert inputs()["cfg"] == composed() == _config()  # read back from the file: the config Hydra composes
    assert run_help(width=100) == cold
