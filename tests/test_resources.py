"""The one place that finds the configs, and the platforms: what a checkout and an install each see."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

from sim import resources
from sim.config.values import CONF_DIR
from sim.run import workers

ROOT = Path(__file__).resolve().parent.parent


def test_the_configs_are_the_package_sim_conf_which_is_the_repository_folder_in_a_checkout():
    assert resources.conf_dir() == CONF_DIR == ROOT / "conf"
    assert (CONF_DIR / "config.yaml").is_file()
    assert resources.source_root() == ROOT
    assert resources.doc_path("codebook.md") == ROOT / "docs" / "codebook.md"


def test_no_module_finds_a_data_file_by_a_path_relative_to_itself():
    # every such path goes through sim/resources.py (the git commit of a run is a checkout's, not a data file)
    # (sim/run/manifest.py finds the git commit; sim/config/plugins.py reads the __file__ of a plugin module it
    # checks, not its own)
    allowed = {"sim/resources.py", "sim/run/outputs.py", "sim/run/manifest.py",
               "sim/config/plugins.py"}
    found = subprocess.run(["grep", "-rln", "--include=*.py", "__file__", "sim"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.split()
    assert set(found) <= allowed, sorted(set(found) - allowed)


def test_without_a_fork_server_the_workers_are_spawned(monkeypatch):
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    monkeypatch.setattr(workers, "_started", {})
    ctx = workers.start((), ahead=True)
    assert ctx.get_start_method() == "spawn"
    from sim.report import PRELOAD

    assert not workers.preloaded(*PRELOAD) and not workers.ahead()  # figures drawn here; no fork server to reuse


def test_an_uninstalled_source_tree_falls_back_to_the_folder_next_to_the_package(tmp_path):
    # PYTHONPATH=. without any install: no finder maps sim.conf
    code = ("import sys, importlib.abc\n"
            "class Block(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'sim.conf': raise ModuleNotFoundError(name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "from sim.resources import conf_dir; print(conf_dir())")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(ROOT / "conf")
