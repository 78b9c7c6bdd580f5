"""No code from data: a run folder or a command line makes the program import or unpickle nothing it should not.

Each case plants a module (or a pickle) that would write a marker file if it ran, points the program at it
the way an attacker could, and checks the marker is absent and the refusal is one line with exit status 2.
Before the fix, ``plot`` imported the planted module (``_target_`` in ``config_resolved.yaml``), the resolved
config's ``${oc.env:...}`` was resolved on reading, and ``--experimental-rerun`` unpickled the file.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.config import ConfigError
from sim.config.plugins import PLUGIN_ENV, check_target, import_target
from sim.engine.offering import OfferingStrategy

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PLANTED = """
from pathlib import Path
Path({marker!r}).write_text("the planted module ran")
class Evil:
    pass
"""


def _sim(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != PLUGIN_ENV}
    env = {**base, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", **(env or {})}
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300, check=False)


def _one_line_refusal(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def _plant(folder: Path, name: str = "planted") -> Path:
    marker = folder / f"{name}.ran"
    (folder / f"{name}.py").write_text(PLANTED.format(marker=str(marker)))
    return marker


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    # an ordinary run folder, made in this process (what the tests check is how the verbs read it)
    from sim.cli import run_experiment
    from tests.conftest import compose_config

    base = tmp_path_factory.mktemp("runs")
    run_experiment(compose_config("+experiment=smoke", "run.seeds=2", "run.plot=false", "run.progress=false",
                                  "run.workers=1"), base / "smoke")
    return base / "smoke"


def _tampered(run_folder: Path, tmp_path: Path, edit) -> Path:
    """A copy of the run folder whose config_resolved.yaml was edited by ``edit(config)``."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    cfg = yaml.safe_load((copy / "config_resolved.yaml").read_text())
    edit(cfg)
    (copy / "config_resolved.yaml").write_text(yaml.safe_dump(cfg))
    return copy


@pytest.mark.parametrize("verb", ["plot", "analyze"])
def test_a_module_planted_beside_a_run_folder_is_not_imported(run_folder, tmp_path, verb):
    copy = _tampered(run_folder, tmp_path, lambda c: c["protocol"].update(_target_="planted.Evil"))
    marker = _plant(tmp_path)  # beside the run folder, and the current folder of the command
    line = _one_line_refusal(_sim(verb, str(copy), cwd=tmp_path))
    assert not marker.exists()
    assert "protocol._target_" in line and "plugin folder" in line


def test_an_interpolation_in_a_run_folder_is_not_resolved(run_folder, tmp_path):
    copy = _tampered(run_folder, tmp_path, lambda c: c["run"].update(name="${oc.env:SIM_TEST_SECRET}"))
    done = _sim("plot", str(copy), cwd=tmp_path, env={"SIM_TEST_SECRET": "s3cr3t-of-the-reader"})
    line = _one_line_refusal(done)
    assert "s3cr3t-of-the-reader" not in done.stderr + done.stdout
    assert "run.name" in line and "interpolation" in line


def test_experimental_rerun_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "pickle.ran"

    class Payload:
        def __reduce__(self):
            return (Path.write_text, (marker, "the pickle ran"))

    crafted = tmp_path / "config.pickle"
    crafted.write_bytes(pickle.dumps(Payload()))
    for args in (["--experimental-rerun", str(crafted)], [f"--experimental-rerun={crafted}"]):
        line = _one_line_refusal(_sim("run", *args, cwd=tmp_path))
        assert "--experimental-rerun" in line and "unpickles" in line
    assert not marker.exists()


@pytest.mark.parametrize("override", ["us.offering._target_=planted.Evil", "protocol._target_=planted.Evil",
                                      "+hydra.callbacks.x._target_=planted.Evil"])
def test_a_command_line_imports_no_module_outside_the_package_and_plugin_folders(tmp_path, override):
    marker = _plant(tmp_path)
    line = _one_line_refusal(_sim("run", "+experiment=smoke", "run.seeds=1", override, cwd=tmp_path))
    assert not marker.exists() and "_target_" in line
    assert not any(tmp_path.glob("results")), "nothing is written before the refusal"


def test_a_plugin_folder_named_by_the_user_is_imported(tmp_path, monkeypatch):
    (tmp_path / "mytactics.py").write_text(
        "import numpy as np\nfrom sim.engine.offering import OfferingStrategy\n"
        "class Stubborn(OfferingStrategy):\n    def concession(self, me, t):\n        return 0.0 * t\n")
    with pytest.raises(ConfigError, match="plugin folder"):
        check_target("mytactics.Stubborn", "us.offering._target_")
    monkeypatch.setenv(PLUGIN_ENV, str(tmp_path))
    cls = import_target("mytactics.Stubborn", "us.offering._target_")
    assert issubclass(cls, OfferingStrategy) and Path(sys.modules["mytactics"].__file__).parent == tmp_path


@pytest.mark.parametrize("path", ["os.system", "subprocess.Popen", "builtins.eval", "planted", "sim..x",
                                  "${oc.env:HOME}.X", "sim.engine.offering.TimeDependent; import os"])
def test_targets_outside_the_package_or_malformed_are_refused_before_import(path):
    before = set(sys.modules)
    with pytest.raises(ConfigError):
        check_target(path, "k._target_")
    assert set(sys.modules) == before
