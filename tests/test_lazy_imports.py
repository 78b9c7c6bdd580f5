"""The command line's help and error paths stay light: they never load pandas, Matplotlib, Mesa, PyArrow or SciPy.

They may load Hydra and OmegaConf: ``python -m sim --help`` and ``python -m sim run --help`` are built from
the config as Hydra composes it (kept as JSON in the user's cache folder once composed, :func:`sim.help.inputs`),
and the error paths compose the command line to check it. Each case runs ``python -m sim``'s entry point in a
fresh interpreter and lists, afterwards, which of the heavy libraries ended up in ``sys.modules``. What is
checked is behaviour (which modules a path imports), not how long it takes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "matplotlib", "mesa", "mesa.visualization", "pyarrow", "scipy")

PROBE = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["sim", *json.loads(sys.argv[1])]
from sim.__main__ import main
try:
    main()
except SystemExit as stop:
    status = stop.code
print(json.dumps({"status": status, "loaded": sorted(m for m in heavy if m in sys.modules)}))
"""


def _loaded(*args: str) -> tuple[int, list[str], str]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args)), json.dumps(HEAVY)],
                          capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["status"], report["loaded"], done.stderr


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"]], ids=["help", "run-help"])
def test_help_loads_no_heavy_library(args):
    status, loaded, _ = _loaded(*args)
    assert status == 0
    assert loaded == []


@pytest.mark.parametrize("args", [["run", "no_such_key=3"], ["run", "strategy@us=no_such_strategy"],
                                  ["run", "run.seeds=-1"], ["no_such_verb"]],
                         ids=["unknown-key", "unknown-option", "bad-value", "unknown-verb"])
def test_an_error_is_one_line_and_loads_no_heavy_library(args, tmp_path):
    status, loaded, err = _loaded(*args, f"hydra.run.dir={tmp_path / 'run'}")
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert loaded == []
    assert not (tmp_path / "run").exists()
