"""Every shell example of the README and of the user-guide pages it points to (:data:`GUIDE`, in ``docs/``)
runs: in this file, in another test, or in CI (``.ci/run``); the few that cannot run in a test say why in
:data:`WHERE`.

The examples are read from those pages themselves (their ``bash`` code blocks and their inline code that starts
with ``python``, ``pytest``, ``pip``, ``apt-get`` or ``pyenv``), and :func:`test_every_readme_example_is_accounted_for`
fails when one is added, changed or removed without saying here where it runs. Their links and figures resolve
(:func:`test_every_link_of_the_readme_and_the_guide_resolves`), and the README stays a front page: at most
:data:`MAX_LINES` lines, ending with a table of every page in ``docs/``.

The ``python -m sim`` examples marked :data:`HERE` run end to end through the command line's own entry
point (``sim.__main__.main``: the pre-run check, then Hydra), in process, into a temporary folder. A run
example gets ``run.seeds=2`` (a later override replaces the example's own seed count), ``run.plot=false``
and ``run.progress=false``, so the suite stays fast; the figures of the same kinds of run are drawn by
tests/test_plots.py and tests/test_figures.py. Each run's table is checked against the example's own
counts (strategy pairs x grid points x seeds), worked out by hand below.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim import __main__ as entry

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# The user guide: the docs pages that hold what the README leaves out (the README's Documentation table links
# them with the pages written elsewhere: the architecture map, the fact sheets, the generated tables).
GUIDE = tuple(f"docs/{name}.md" for name in ("model", "payoffs", "sweeps", "forecasting", "outputs", "analysis",
                                              "dashboard", "extending", "performance", "dependencies"))
PAGES = {"README.md": README, **{page: (ROOT / page).read_text() for page in GUIDE}}
TEXT = "\n".join(PAGES.values())
MAX_LINES = 300  # issue 20: the README is a front page; the rest is in docs/

HERE = "here"
CI = "CI (.ci/run)"


def _examples(text: str) -> set[str]:
    """A page's shell examples: lines of its bash blocks, and inline code that is a command."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()  # a trailing comment explains, it is not run
            if line:
                found.append(" ".join(line.split()))
    found += re.findall(r"^\$ (.*)$", text, re.M)  # a command shown with its output
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for span in re.findall(r"`([^`\n]+)`", prose):
        if re.match(r"(python3?(\.\d+)? |pytest(?=\s|$)|pip |apt-get |pyenv )", span):  # not `pytest-xdist`
            found.append(" ".join(span.split()))
    return set(found)


GRID = ("python -m sim run '+sweep.grid.scenario.escalation=[0,7,14]' "
        "'+sweep.grid.scenario.deadline.round=[4,8,12,16,20]' run.seeds=1000")
MAIN = ("python -m venv .venv && . .venv/bin/activate && pip install -e . && "
        "python -m sim run +experiment=deadline_pressure")
LHS = ("python -m sim run sweep.sample.method=lhs sweep.sample.n=200 '+sweep.sample.ranges.scenario.escalation=[0,15]' "
       "'+sweep.sample.ranges.scenario.deadline.round=[4,20]' run.seeds=100")
FORECAST = "python -m sim run +experiment=forecast scenario.as_of=2025-06-26"
ESC_SWEEP = "python -m sim run -m +experiment=smoke scenario.escalation=0,14 hydra.sweep.dir=results/esc"

# Where each README example runs. A test id for one run elsewhere; a sentence for one that is not run.
WHERE = {
    # -- run here ---------------------------------------------------------------------------------------
    "python -m sim run +experiment=strategy_tournament": HERE,
    GRID: HERE,
    LHS: HERE,
    "python -m sim run +experiment=single_negotiation": HERE,
    "python -m sim run scenario=example_bilateral strategy@north=conceder protocol=sequential": HERE,
    "python -m sim run [overrides] --cfg job": HERE,  # with +experiment=smoke as the overrides
    "python -m sim run scenario.deadline.round=40": HERE,  # refused, with the line the README shows
    "python -m sim plot RUN_DIR": HERE,
    "python -m sim codebook": HERE,  # as --check: the command itself rewrites docs/codebook.md in the repository
    "python -m sim validate": HERE,  # one case here; every case is tests/test_validation.py::test_validation_case
    ESC_SWEEP: HERE,  # with run.seeds=2, then compared: test_the_readme_multirun_is_compared_per_job
    "python -m sim compare results/esc": HERE,
    "python -m sim compare MULTIRUN_DIR": HERE,  # the same command, as the README names it in prose
    "python -m sim calibration": HERE,  # as --check, like the codebook
    FORECAST: HERE,  # with 20 worlds instead of 1,000: test_the_readme_forecast_writes_its_tables
    # -- run by another test ----------------------------------------------------------------------------
    "python -m sim run -m +experiment=deadline_pressure scenario.breakdown_risk=0,0.02":
        "tests/test_cli.py::test_the_readme_multirun_example_repeats_the_experiment_per_value",
    "python -m sim --help": "tests/test_cli.py::test_help_lists_verbs_groups_and_options",
    "python -m sim analyze RUN_DIR": "tests/test_sensitivity_cli.py::test_analyze_and_compare_from_the_command_line",
    "python -m sim compare DIR [DIR ...]": "tests/test_sensitivity_cli.py::test_analyze_and_compare_from_the_command_line",
    "python -m sim plot RUN_DIR --format png,svg": "tests/test_plots.py::test_plot_options_format_figures_resolution_and_size",
    "python -m sim run --help": "tests/test_verbs.py::test_help_of_each_verb_prints_usage_and_exits_0",
    "pip install .": "tests/test_wheel.py::test_help_and_smoke_run_from_an_empty_folder",
    "python -m sim plot deadline_pressure":
        "tests/test_console.py::test_latest_points_at_the_newest_run_and_an_experiment_name_finds_it",
    "python -m sim plot --help": "tests/test_verbs.py::test_help_of_each_verb_prints_usage_and_exits_0",
    "python -m sim dashboard": "tests/test_dashboard_browser.py::test_dashboard_in_headless_chromium",
    "python -m sim run strategy@us=stubborn us.offering.wait=0.8":
        "tests/test_engine_general.py::test_new_offering_and_acceptance_strategies_are_one_class_each",
    "python -m sim run acceptance@japan=ac_margin":
        "tests/test_engine_general.py::test_new_offering_and_acceptance_strategies_are_one_class_each",
    "python -m sim run protocol=opener_proposes":
        "tests/test_engine_general.py::test_a_new_protocol_is_one_class_named_in_the_config",
    # -- run by CI, which installs and runs exactly the two Quick-start commands -------------------------
    MAIN: CI,  # and tests/test_cli.py::test_main_command_writes_a_complete_run_folder runs the main command
    'python -m venv .venv && . .venv/bin/activate && pip install -e ".[test,dashboard]" && pytest': CI,
    "pytest": CI,
    'pip install -e ".[dashboard]"': CI,  # the dashboard extra is part of the test command's install
    "apt-get install chromium": CI,  # .ci/run installs Debian's chromium when it is missing
    "pytest tests/test_dashboard_browser.py": CI,  # part of the whole suite CI runs
    "pytest -n 0": "not run as such: the same tests CI runs, in one process instead of one per core",
    # -- not run by a test, and why ---------------------------------------------------------------------
    "python -m sim run": "not an example: names the verb in prose",
    "pip install": "not an example: names the step that stops on an old Python "
                   "(tests/test_install.py::test_the_build_on_an_old_python_stops_with_one_readable_line)",
    "python --version": "not run: checks the reader's interpreter before the project is installed",
    "python3.12 -m venv .venv": "not run: needs a second interpreter (3.12 next to an older default)",
    "pyenv install 3.12 && pyenv local 3.12": "not run: needs pyenv and a download of CPython",
    'pip install -e ".[dask]"': "not run as such: CI installs the same packages through the test extra, and "
                                "tests/test_sweep.py runs sweeps on a local Dask cluster",
    "pip install hydra-submitit-launcher": "not run: the submitit launcher needs a SLURM cluster",
    "python benchmarks/bench_model.py": "not run: a benchmark (minutes of CPU) whose output is a timing, "
                                        "not a pass or fail",
    "python benchmarks/bench_model.py --parts": "not run: a benchmark (the Bayesian part alone takes minutes)",
    "python benchmarks/bench_sweep.py [--issues] [--main] [--million]":
        "not run: a benchmark (minutes of CPU, a million negotiations with --million) whose output is a timing",
    "python benchmarks/value_tables.py compare FILE.json": "not run: it reruns every shipped experiment at full size "
                                                           "(minutes) against a recording made on earlier code",
    "python -m sim run +experiment=sensitivity": "not run at full size: 139,264 negotiations (minutes); a small Sobol "
                                                 "design runs the same path in tests/test_sensitivity_cli.py",
    "python -m sim calibrate scenario.as_of=2025-07-15": "not run at full size (a minute of CPU); a small calibration "
                                                         "through the same function, its files and its determinism: "
                                                         "tests/test_inference_panel.py",
    "python -m sim calibrate": "a verb named in prose (the example with a date is above); its refusals are run in "
                               "tests/test_inference_panel.py",
    "python -m sim backtest": "not run: three calibrations and eight forecasts (minutes of CPU); its scores are "
                              "checked by hand in tests/test_inference_backtest.py",
    "python experiments/make_gallery.py": "not run: it reruns every experiment at full size (minutes) and "
                                          "rewrites the committed gallery figures in the repository",
}


def test_every_readme_example_is_accounted_for():
    found = set().union(*(_examples(text) for text in PAGES.values()))
    assert found - set(WHERE) == set(), "README or guide examples with no test or reason in tests/test_readme.py"
    assert set(WHERE) - found == set(), "tests/test_readme.py lists examples the README and the guide no longer have"
    for where in set(WHERE.values()):
        if where.startswith("tests/"):  # the test named exists
            path, name = where.split("::")
            assert f"def {name}(" in (ROOT / path).read_text(), where


def _sim(monkeypatch, *args: str) -> int:
    """``python -m sim ARGS`` in this process: its exit status."""
    monkeypatch.setattr(sys, "argv", ["sim", *args])
    try:
        entry.main()
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def _run(monkeypatch, tmp_path: Path, example: str, *extra: str) -> Path:
    """Run a README ``python -m sim run`` example, shrunk, and return its run folder."""
    assert WHERE[example] == HERE
    run_dir = tmp_path / "run"
    args = shlex.split(example.removeprefix("python -m sim run "))
    status = _sim(monkeypatch, "run", *args, *extra, "run.plot=false", "run.progress=false", f"hydra.run.dir={run_dir}")
    assert status == 0
    return run_dir


@pytest.mark.parametrize(("example", "seeds", "rows"), [
    ("python -m sim run +experiment=strategy_tournament", 2, 7 * 7 * 2),  # 7 x 7 strategy pairs
    ("python -m sim run +experiment=single_negotiation", None, 1),  # the one negotiation, as it is
    ("python -m sim run scenario=example_bilateral strategy@north=conceder protocol=sequential", 2, 2),
])
def test_readme_run_example_runs(monkeypatch, tmp_path, example, seeds, rows):
    run_dir = _run(monkeypatch, tmp_path, example, *([f"run.seeds={seeds}"] if seeds else []))
    outcomes = pd.read_parquet(run_dir / "outcomes.parquet")
    assert len(outcomes) == rows
    assert (run_dir / "summary.csv").exists() and (run_dir / "metadata.json").exists()


def test_readme_grid_example_runs_and_its_figures_redraw(monkeypatch, tmp_path):
    run_dir = _run(monkeypatch, tmp_path, GRID, "run.seeds=2")
    outcomes = pd.read_parquet(run_dir / "outcomes.parquet")
    assert len(outcomes) == 3 * 5 * 2  # 3 escalations x 5 deadlines x 2 seeds
    assert set(outcomes.escalation) == {0, 7, 14} and set(outcomes.deadline_round) == {4, 8, 12, 16, 20}
    # `python -m sim plot RUN_DIR`, with the README's own --figures example
    assert _sim(monkeypatch, "plot", str(run_dir), "--figures", "pressure,timing") == 0
    assert sorted(p.name for p in (run_dir / "figures").iterdir()) == ["pressure.png", "timing.png"]


def test_readme_sampling_example_runs(monkeypatch, tmp_path):
    run_dir = _run(monkeypatch, tmp_path, LHS, "run.seeds=2")
    outcomes = pd.read_parquet(run_dir / "outcomes.parquet")
    assert len(outcomes) == 200 * 2  # 200 sampled points x 2 seeds
    assert outcomes.escalation.between(0, 15).all() and outcomes.deadline_round.between(4, 20).all()
    assert outcomes.escalation.nunique() == 200  # a Latin hypercube: every sampled escalation differs


def test_readme_cfg_job_example_prints_the_composed_config(monkeypatch, capsys):
    assert _sim(monkeypatch, "run", "+experiment=smoke", "--cfg", "job") == 0
    printed = capsys.readouterr().out
    assert re.search(r"^run:\n(  .*\n)*  seeds: 5\n", printed, re.M)  # conf/experiment/smoke.yaml's seeds


def test_readme_refused_value_example_prints_the_readme_line(monkeypatch, capsys, tmp_path):
    command, shown = re.search(r"\$ (python -m sim run \S+)\n(error: .*)\n", TEXT).groups()
    assert WHERE[command] == HERE
    status = _sim(monkeypatch, "run", *shlex.split(command.removeprefix("python -m sim run ")),
                  f"hydra.run.dir={tmp_path / 'run'}")
    assert status == 2 and capsys.readouterr().err.strip() == shown and not (tmp_path / "run").exists()


def test_readme_codebook_example_is_current(monkeypatch):
    assert _sim(monkeypatch, "codebook", "--check") == 0


def test_readme_validate_example_runs_a_case(monkeypatch, capsys):
    assert _sim(monkeypatch, "validate", "nash") == 0
    assert "nash" in capsys.readouterr().out.lower()


def test_readme_python_example_runs():
    """The "From Python" block (docs/extending.md), with 2 seeds per escalation instead of 20."""
    block = next(b for b in re.findall(r"```python\n(.*?)```", TEXT, re.S) if "ScenarioModel(" in b)
    assert "rng=range(20)" in block
    scope: dict = {}
    exec(block.replace("rng=range(20)", "rng=range(2)"), scope)  # noqa: S102 - the README's own code
    assert len(scope["results"]) == 3 * 2 and {r["escalation"] for r in scope["results"]} == {0, 7, 14}
    assert scope["model"].outcomes()["deal"].shape == (1,)


def test_the_readme_figures_are_readable():
    """Item 22: the README's headline copy of the pressure figure was 1000 x 238 px, a strip too small to
    read. Every image the README and the guide show exists, is at least 900 px wide and at least half as high
    as wide."""
    from PIL import Image

    assert "experiments/figures/deadline_pressure-pressure.png" in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    shown = 0
    for page, text in PAGES.items():
        for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
            with Image.open((ROOT / page).parent / image) as figure:
                width, height = figure.size
            assert width >= 900 and height >= width / 2, (page, image, figure.size)
            shown += 1
    assert shown >= 3  # the pressure figure, the dashboard and one negotiation's concession paths


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces made hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    return {_anchor(h) for h in re.findall(r"^#{1,6} (.*)$", re.sub(r"```.*?```", "", text, flags=re.S), re.M)}


def test_every_link_of_the_readme_and_the_guide_resolves():
    """Moving text from the README into docs/ changes what a relative link is relative to: every link of the
    README and of the guide pages names a file or folder of the repository, and every #anchor a heading."""
    checked = 0
    for page, text in PAGES.items():
        for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"```.*?```", "", text, flags=re.S)):
            if re.match(r"[a-z]+:", target):  # a web address
                continue
            path, _, anchor = target.partition("#")
            where = ((ROOT / page).parent / path).resolve() if path else ROOT / page
            assert where.exists() and where.is_relative_to(ROOT), f"{page}: {target} does not exist"
            if anchor:
                assert anchor in _anchors(where.read_text()), f"{page}: {target} names no heading"
            checked += 1
    assert checked > 50


def test_the_readme_is_a_front_page_with_a_table_of_every_doc():
    """Issue 20: the README is at most 300 lines and ends with a Documentation table linking every page in
    docs/ (a new page gets a row there)."""
    assert len(README.splitlines()) <= MAX_LINES
    last = README.rsplit("\n## ", 1)[1]
    assert last.startswith("Documentation\n")
    listed = set(re.findall(r"\]\(docs/([^)#]+\.md)\)", last))
    assert listed == {p.name for p in (ROOT / "docs").glob("*.md")}
    assert {f"docs/{name}" for name in listed} >= set(GUIDE)


def test_the_readme_multirun_is_compared_per_job(monkeypatch, tmp_path):
    # the README's two lines: a two-job multirun into a sweep folder, then `compare` on that folder
    sweep = tmp_path / "esc"
    args = shlex.split(ESC_SWEEP.removeprefix("python -m sim run ").replace("results/esc", str(sweep)))
    assert _sim(monkeypatch, "run", *args, "run.seeds=2", "run.plot=false", "run.progress=false") == 0
    assert _sim(monkeypatch, "compare", str(sweep)) == 0
    runs = pd.read_csv(sweep / "comparison_runs.csv")
    assert len(runs) == 2  # one row per job
    assert sorted(runs["escalation"]) == [0, 14]  # the one config value that differs, by its column name
    per_job = [len(pd.read_parquet(p / "outcomes.parquet")) for p in sorted(sweep.iterdir()) if p.is_dir()
               and (p / "outcomes.parquet").exists()]
    assert list(runs["runs"]) == per_job and len(per_job) == 2  # "runs": negotiations, as in summary.csv


def test_the_calibration_table_command_is_current(monkeypatch):
    assert _sim(monkeypatch, "calibration", "--check") == 0


def test_the_readme_forecast_writes_its_tables(monkeypatch, tmp_path):
    run_dir = _run(monkeypatch, tmp_path, FORECAST, "sweep.sample.n=20")
    outcomes = pd.read_parquet(run_dir / "outcomes.parquet")
    assert len(outcomes) == 20  # 20 worlds drawn from the priors, one seed each (the experiment's run.seeds=1)
    table = pd.read_csv(run_dir / "forecast.csv")
    issues = ["cars", "auto_parts", "steel_aluminium", "reciprocal", "investment", "agriculture", "energy",
              "aircraft", "defence"]
    assert set(table["term"]) == {*issues, "agreement_date"} and set(table["vantage"]) == {"2025-06-26"}
    assert (table["worlds"] == len(outcomes)).all() and (table["deals"] == int(outcomes["deal"].sum())).all()
    by_date = pd.read_csv(run_dir / "deal_by_date.csv")
    assert by_date["p_deal_by"].iloc[-1] == round(outcomes["deal"].mean(), 4)
