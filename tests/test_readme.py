"""Every `python -m sim run` example in the README is a command that would run: composed and validated through
the same pre-run check as the command line (the main command itself is run end to end by CI, and the examples of
new parts, which need files a user writes, are run by tests/test_engine_general.py)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from sim.preflight import check

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
# examples that name files the reader is asked to write first (conf/strategy/stubborn.yaml, ...)
NEEDS_USER_FILES = ("stubborn", "ac_margin", "opener_proposes")


def _commands() -> list[str]:
    """The `python -m sim run ...` commands of the README: in code blocks and in inline code."""
    text = README.replace("\\\n", " ")
    found = re.findall(r"python -m sim run( [^`\n#]*)", text)
    out = []
    for tail in found:
        tail = tail.split(" && ")[0].strip()
        if not tail or tail.startswith(("--help", "[")) or any(name in tail for name in NEEDS_USER_FILES):
            continue
        out.append(tail)
    return sorted(set(out))


COMMANDS = _commands()


def test_the_readme_has_run_examples():
    assert len(COMMANDS) >= 6
    assert "+experiment=deadline_pressure" in COMMANDS  # the main command


@pytest.mark.parametrize("command", COMMANDS)
def test_every_readme_run_example_composes_and_validates(command):
    args = shlex.split(command)
    if "scenario.deadline.round=40" in args:  # the README's example of a refused value
        with pytest.raises(Exception, match="scenario.deadline.round"):
            check([a for a in args if not a.startswith("-")], multirun=False)
        return
    multirun = "-m" in args
    check([a for a in args if not a.startswith("-")], multirun=multirun)
