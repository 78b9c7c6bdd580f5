"""The git commit recorded in metadata.json and in each chunk's code version is found through the one place that
knows where the source tree is (:func:`sim.resources.source_root`), not relative to a module's path."""

from __future__ import annotations

import shutil
import subprocess

import pytest

import sim.run.outputs
from sim.run.outputs import git_commit


def test_a_wheel_install_without_a_source_tree_records_no_commit(monkeypatch):
    monkeypatch.setattr(sim.run.outputs, "source_root", lambda: None)
    assert git_commit() is None


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_commit_is_that_of_the_source_root(monkeypatch, tmp_path):
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                              capture_output=True, text=True, check=True).stdout.strip()

    git("init", "-q")
    (tmp_path / "a.txt").write_text("one")
    git("add", "a.txt")
    git("commit", "-qm", "one")
    monkeypatch.setattr(sim.run.outputs, "source_root", lambda: tmp_path)
    assert git_commit() == git("rev-parse", "HEAD")
    (tmp_path / "a.txt").write_text("two")  # a tracked file changed: the commit is marked dirty
    assert git_commit() == git("rev-parse", "HEAD") + "+dirty"
