"""Installing on a Python older than 3.12 stops with a message that says what to do; the README says it first."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _old_python() -> str | None:
    for name in ("python3.11", "python3.10"):
        path = shutil.which(name)
        if path and subprocess.run([path, "-c", "import sys"], capture_output=True, check=False).returncode == 0:
            return path
    return None


@pytest.mark.skipif(_old_python() is None, reason="no Python 3.10 or 3.11 on this machine")
def test_the_build_on_an_old_python_stops_with_one_readable_line():
    # what pip runs first ("Getting requirements to build"), before it resolves any dependency
    done = subprocess.run([_old_python(), "setup.py", "--name"], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode != 0
    assert "sim needs Python 3.12 or newer" in done.stderr and "python3.12 -m venv" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_readme_says_what_to_do_before_anything_else():
    lines = (ROOT / "README.md").read_text().splitlines()
    first = next(line for line in lines[1:] if line.strip())  # the first line after the title
    assert "Python 3.12" in first
    note = " ".join(lines[1:8])
    assert "python3.12 -m venv" in note and "pyenv" in note
