"""A wheel install (``pip install .``, not ``-e``) runs from an empty folder: the configs ship as package data.

The wheel is built from a copy of the source files (so the test writes nothing into the checkout), without
build isolation (setuptools comes with the ``test`` extra; no network). It is installed into a fresh virtual
environment, without its dependencies: those are taken from this test's own environment through a ``.pth``
line, so the test stays offline and fast. The package itself, and its configs, can only come from the wheel:
the empty folder the commands run in holds nothing, and this environment's editable finder is not loaded
(a path added by a ``.pth`` line is not scanned for ``.pth`` files).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "setup.py", "LICENSE", "README.md", "sim", "conf", "hydra_plugins")

pytestmark = pytest.mark.slow


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    try:
        import setuptools  # noqa: F401

        isolation = ["--no-build-isolation"]
    except ImportError:  # an environment without the test extra: build isolated (from pip's cache or PyPI)
        isolation = []
    out = tmp / "dist"
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q", "-w", str(out),
                           str(src)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = out.glob("sim-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                           "--no-index", "-q", str(wheel)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(the wheel, the fresh environment's python, an empty folder to run in)."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    python = _fresh_venv(tmp, wheel)
    empty = tmp / "empty"
    empty.mkdir()
    return wheel, python, empty


def _run(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
                          check=False)


def test_the_wheel_holds_every_config_and_the_licence(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"sim/conf/{p.relative_to(ROOT / 'conf').as_posix()}" for p in (ROOT / "conf").rglob("*.yaml")}
    assert shipped and shipped <= names, sorted(shipped - names)[:5]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text


def test_the_installed_package_finds_its_configs_in_site_packages(installed):
    _, python, empty = installed
    done = _run(python, empty, "-c", "import sim, sim.resources as r; print(sim.__file__); print(r.conf_dir()); "
                "print(r.source_root())")
    assert done.returncode == 0, done.stderr
    module, conf, root = done.stdout.split("\n")[:3]
    assert "site-packages" in module and "site-packages" in conf and root == "None"
    assert not module.startswith(str(ROOT))


def test_the_installed_hydra_plugin_reads_the_configs_through_the_parse_cache(installed):
    wheel, python, empty = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "hydra_plugins/sim_conf_cache/sim_conf_cache.py" in names
    assert "hydra_plugins/__init__.py" not in names  # Hydra's namespace package, shared with other plugins
    probe = ("from hydra import compose; from sim.config.compose import hydra_context\n"
             "with hydra_context():\n"
             "    cfg = compose(config_name='config', return_hydra_config=True)\n"
             "import hydra_plugins.sim_conf_cache.sim_conf_cache as plugin\n"
             "main = [s for s in cfg.hydra.runtime.config_sources if s.provider == 'main'][0]\n"
             "print(main.schema, main.path, plugin.__file__, len(plugin._parsed))")
    done = _run(python, empty, "-c", probe)
    assert done.returncode == 0, done.stderr
    schema, conf, module, parsed = done.stdout.split()
    assert schema == "simconf" and int(parsed) > 0
    assert "site-packages" in conf and "site-packages" in module and not module.startswith(str(ROOT))


def test_help_and_smoke_run_from_an_empty_folder(installed):
    _, python, empty = installed
    done = _run(python, empty, "-m", "sim", "--help")
    assert done.returncode == 0, done.stderr
    assert "+experiment=NAME" in done.stdout and "smoke" in done.stdout  # the experiment names come from sim.conf
    done = _run(python, empty, "-m", "sim", "run", "+experiment=smoke")
    assert done.returncode == 0, done.stderr[-3000:]
    runs = [p for p in (empty / "results" / "smoke").iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(runs) == 1 and (runs[0] / "outcomes.parquet").is_file()
