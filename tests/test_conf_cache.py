"""sim's Hydra plugin (``hydra_plugins/sim_conf_cache``) parses each of sim's config files once per content.

It is found by Hydra's own plugin scan, reads only sim's config folder (any other folder keeps Hydra's ``file://``
source), composes what Hydra's own source composes, and parses an edited file again.
"""

from __future__ import annotations

import os
import shutil
from types import SimpleNamespace

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.object_type import ObjectType
from hydra.core.plugins import Plugins
from hydra.plugins.config_source import ConfigSource
from hydra.plugins.search_path_plugin import SearchPathPlugin
from omegaconf import OmegaConf

import sim.config.compose as compose_module
import sim.resources
from sim.config.values import CONF_DIR

PLUGIN = "hydra_plugins.sim_conf_cache.sim_conf_cache"
OVERRIDES = ("+experiment=deadline_pressure", "strategy@us=boulware", "scenario.escalation=7")


def _names(classes) -> set[str]:
    return {f"{c.__module__}.{c.__name__}" for c in classes}


def _plugin_module():
    """The plugin's module, as Hydra's scan loaded it (sim never imports it)."""
    import sys

    Plugins.instance()
    return sys.modules[PLUGIN]


def _schemes(folder, *overrides: str) -> tuple[dict, dict[str, str]]:
    """(the config composed from ``folder``, each search-path provider -> the scheme Hydra read it with)."""
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(folder), version_base="1.3"):
            cfg = compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()
    sources = {s.provider: s.schema for s in cfg.hydra.runtime.config_sources}
    composed = OmegaConf.to_container(cfg)
    del composed["hydra"]
    return composed, sources


def test_hydra_s_plugin_scan_finds_the_source_and_the_search_path_plugin():
    assert f"{PLUGIN}.SimConfSource" in _names(Plugins.instance().discover(ConfigSource))
    assert f"{PLUGIN}.SimConfSearchPath" in _names(Plugins.instance().discover(SearchPathPlugin))


def test_only_sim_s_config_folder_is_read_through_the_cache(tmp_path, monkeypatch):
    copy = tmp_path / "conf"
    shutil.copytree(CONF_DIR, copy)
    ours, sources = _schemes(CONF_DIR)
    assert sources["main"] == "simconf" and sources["hydra"] == "pkg"  # Hydra's own configs: untouched
    other, sources = _schemes(copy)  # another folder of configs (the same files) is not rewritten
    assert sources["main"] == "file"
    assert other == ours
    monkeypatch.setenv("SIM_CONF_CACHE", "0")
    assert _schemes(CONF_DIR)[1]["main"] == "file"


def test_a_cached_compose_equals_hydra_s_own_and_parses_no_file_twice(monkeypatch):
    plugin = _plugin_module()
    parsed = []
    counting = SimpleNamespace(load=lambda f: parsed.append(f.name) or OmegaConf.load(f))
    monkeypatch.setattr(plugin, "OmegaConf", counting)
    with monkeypatch.context() as m:  # Hydra as shipped: its file:// source, every file parsed again
        m.setenv("SIM_CONF_CACHE", "0")
        reference, sources = _schemes(CONF_DIR, *OVERRIDES)
    assert sources["main"] == "file" and not parsed
    first, sources = _schemes(CONF_DIR, *OVERRIDES)
    assert sources["main"] == "simconf"
    assert first == reference
    scenario = os.path.realpath(CONF_DIR / "scenario" / "us_japan_2025.yaml")
    assert any(key[0] == scenario for key in plugin._parsed)  # kept by (real path, size, mtime_ns)
    assert len(parsed) == len(set(parsed))  # the files not parsed before this test: each once
    parsed.clear()
    second, _ = _schemes(CONF_DIR, *OVERRIDES)  # every file from the cache: a copy, its defaults list intact
    assert parsed == [] and second == reference
    monkeypatch.setattr(compose_module, "_results", compose_module.OrderedDict())
    assert OmegaConf.to_container(compose_module.compose_config(*OVERRIDES)) == reference


@pytest.mark.parametrize("change", ["same size", "new size"])
def test_an_edited_file_is_parsed_again(tmp_path, monkeypatch, change):
    copy = tmp_path / "conf"
    shutil.copytree(CONF_DIR, copy)
    monkeypatch.setattr(sim.resources, "conf_dir", lambda: copy)  # the copy is now sim's config folder
    cfg, sources = _schemes(copy)
    assert sources["main"] == "simconf" and cfg["scenario"]["escalation"] == 14
    scenario = copy / "scenario" / "us_japan_2025.yaml"
    text = scenario.read_text()
    assert text.count("\nescalation: 14.0") == 1
    new = "19.0" if change == "same size" else "9.5"
    scenario.write_text(text.replace("\nescalation: 14.0", f"\nescalation: {new}"))
    if change == "same size":  # only the modification time tells the files apart
        before = os.stat(scenario)
        os.utime(scenario, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    cfg, _ = _schemes(copy)
    assert cfg["scenario"]["escalation"] == float(new)


def test_a_missing_file_gets_hydra_s_own_words(tmp_path):
    plugin = _plugin_module()
    ours = plugin.SimConfSource(provider="main", path=f"simconf://{tmp_path}")
    with pytest.raises(Exception) as err:
        ours.load_config("nowhere")
    hydra = [c for c in Plugins.instance().discover(ConfigSource) if c.scheme() == "file"][0]
    with pytest.raises(Exception) as theirs:
        hydra(provider="main", path=str(tmp_path)).load_config("nowhere")
    assert (type(err.value), str(err.value)) == (type(theirs.value), str(theirs.value))


def test_a_group_lists_the_same_options_as_hydra_s_own_source():
    plugin = _plugin_module()
    ours = plugin.SimConfSource(provider="main", path=f"simconf://{CONF_DIR}")
    hydra = [c for c in Plugins.instance().discover(ConfigSource) if c.scheme() == "file"][0]
    theirs = hydra(provider="main", path=str(CONF_DIR))
    for group in ("", "strategy", "scenario", "experiment"):
        for kind in (None, *ObjectType):
            assert ours.list(group, kind) == theirs.list(group, kind), (group, kind)
    assert ours.available() and ours.is_group("strategy") and ours.is_config("config")
    assert not ours.is_config("strategy") and not ours.is_group("config.yaml")
