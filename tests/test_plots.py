"""Figures: which are drawn when, at what resolution, and what `plot` says about bad run folders."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from sim.cli import plot, run_experiment
from tests.conftest import compose_config

SIX = ("concession_paths", "utility_plane", "deal_rate", "strategy_heatmap", "timing", "terms")


PRINTED: dict[str, str] = {}  # what `plot` printed for the sweep fixture


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """A sweep's run folder, its figures drawn once, by `plot` from the folder (in PNG and SVG)."""
    out = tmp_path_factory.mktemp("sweep")
    cfg = compose_config("+experiment=smoke", "sweep.pairs=[[boulware,boulware],[linear,conceder]]",
                         "+sweep.grid.scenario.escalation=[0,14]", "run.seeds=30", "run.workers=1",
                         "run.progress=false", "run.plot=false", "run.keep_parts=true")  # parts: see below
    run_experiment(cfg, out)
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert plot(out, formats=["png", "svg"]) == 0
    PRINTED["sweep"] = printed.getvalue()
    return out


@pytest.fixture(scope="module")
def no_deal_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nodeal")
    cfg = compose_config("strategy@us=hardliner", "strategy@japan=hardliner", "run.seeds=10", "run.workers=1",
                         "run.progress=false", "run.plot=false")  # test_zero_deals_... draws them with plot
    run_experiment(cfg, out)
    return out


def test_plot_draws_a_sweep_folder_s_six_figures_and_the_pressure_figure(sweep_dir):
    for name in (*SIX, "pressure"):
        png, svg = sweep_dir / "figures" / f"{name}.png", sweep_dir / "figures" / f"{name}.svg"
        assert png.exists() and svg.exists(), name
        with Image.open(png) as image:
            assert image.info["dpi"][0] >= 149.9  # saved at 150 dpi
            assert image.size[0] >= 600  # at least 4 inches wide: not a thumbnail
        assert name in PRINTED["sweep"]


def test_zero_deals_draws_what_makes_sense_and_says_what_it_skipped(no_deal_dir, capsys):
    assert plot(no_deal_dir) == 0
    out = capsys.readouterr().out
    assert "no negotiation in this run ended in a deal" in out
    assert "skipped timing: no negotiation ended in a deal" in out
    assert "skipped terms:" in out
    for name in ("concession_paths", "utility_plane"):
        assert (no_deal_dir / "figures" / f"{name}.png").exists()


def test_plot_refuses_a_folder_that_is_not_a_run_folder(tmp_path, capsys):
    assert plot(tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is not a run folder" in err and err.count("\n") == 1


def test_a_corrupt_parquet_file_is_named(no_deal_dir, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(no_deal_dir, copy)
    path = copy / "outcomes.parquet"
    path.write_bytes(path.read_bytes()[:300])  # a partial file
    assert plot(copy) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "damaged" in err and err.count("\n") == 1  # its digest no longer matches


def test_an_unfinished_sweep_is_plotted_from_its_parts(sweep_dir, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(sweep_dir, copy)
    (copy / "outcomes.parquet").unlink()
    (copy / "outcomes" / "part-000001.parquet").unlink()
    manifest = json.loads((copy / "manifest.json").read_text())  # as a sweep stopped before chunk 1 was done
    del manifest["parts"]["1"]
    manifest["done"].remove(1)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert plot(copy, formats=["png"], only=["deal_rate"]) == 0  # what is read, not what is drawn, is tested
    assert "unfinished" in capsys.readouterr().out


def test_a_run_folder_with_the_former_dotted_columns_still_plots(sweep_dir, tmp_path):
    import pyarrow.parquet as pq

    copy = tmp_path / "run"
    shutil.copytree(sweep_dir, copy)
    shutil.rmtree(copy / "figures")
    for name in ("outcomes.parquet", "rounds.parquet"):  # as written before the columns were renamed
        table = pq.read_table(copy / name)
        pq.write_table(table.rename_columns([{"escalation": "scenario.escalation", "deadline_round":
                                              "scenario.deadline.round"}.get(c, c) for c in table.column_names]),
                       copy / name)
    manifest = json.loads((copy / "manifest.json").read_text())  # a folder of then: no digests of merged files
    del manifest["merged"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert plot(copy, formats=["png"], only=["deal_rate"]) == 0
    assert (copy / "figures" / "deal_rate.png").exists()


def test_without_a_numeric_sweep_deal_rate_compares_the_pairs(tmp_path, capsys):
    cfg = compose_config("sweep.pairs=[[boulware,boulware],[hardliner,hardliner],[linear,conceder]]",
                         "run.seeds=10", "run.workers=1", "run.progress=false", "run.plot=false")
    run_experiment(cfg, tmp_path)
    assert plot(tmp_path, only=["deal_rate", "strategy_heatmap", "pressure"]) == 0  # the figures in question
    summary = capsys.readouterr().out
    assert (tmp_path / "figures" / "deal_rate.png").exists()
    # 3 of the 3 x 3 strategy cells: the heatmap would be mostly empty, so it is skipped with a reason
    assert not (tmp_path / "figures" / "strategy_heatmap.png").exists()
    assert "skipped strategy_heatmap: only 3 of the 9 cells" in summary
    assert "skipped pressure: no numeric parameter was swept" in summary


def test_plot_options_format_figures_resolution_and_size(sweep_dir, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(sweep_dir, copy)
    shutil.rmtree(copy / "figures")
    assert plot(copy, formats=["pdf"], only=["timing", "deal_rate"]) == 0
    assert sorted(p.name for p in (copy / "figures").iterdir()) == ["deal_rate.pdf", "timing.pdf"]
    assert (copy / "figures" / "timing.pdf").read_bytes().startswith(b"%PDF")
    sizes = {}
    for dpi, scale in ((100, 1.0), (200, 1.0), (100, 2.0)):
        assert plot(copy, formats=["png"], only=["timing"], dpi=dpi, scale=scale) == 0
        with Image.open(copy / "figures" / "timing.png") as image:
            sizes[dpi, scale] = image.size
    # twice the resolution or twice the size: about twice the pixels across (the tight bounding box varies a little)
    assert sizes[200, 1.0][0] == pytest.approx(2 * sizes[100, 1.0][0], rel=0.02)
    assert sizes[100, 2.0][0] == pytest.approx(2 * sizes[100, 1.0][0], rel=0.1)
    # by default a redraw writes the formats already there
    assert plot(copy, only=["timing"]) == 0
    assert "figures (png, pdf): timing" in capsys.readouterr().out


def test_figure_formats_are_validated_and_png_is_the_default():
    from sim.config import ConfigError, plan

    with pytest.raises(ConfigError, match=r"^run\.figure_formats: .*png, svg, pdf"):
        plan(compose_config("run.figure_formats=[gif]"))
    # the default; that a run then writes PNG only is checked on the main command (tests/test_cli.py)
    assert list(compose_config().run.figure_formats) == ["png"]


@pytest.mark.parametrize("in_workers", [False, True], ids=["in_process", "in_workers"])
def test_a_run_draws_its_figures_in_the_formats_its_config_asks_for(tmp_path, monkeypatch, in_workers):
    # whether the figures are drawn here or in the fork server's workers (the run verb starts one)
    import sim.report.parallel
    import sim.report.plots
    import sim.run.workers

    class Drawn:
        def result(self):
            return [], []

        def stop(self):
            pass

    asked = []
    monkeypatch.setattr(sim.run.workers, "preloaded", lambda *modules: in_workers)
    monkeypatch.setattr(sim.report.plots, "draw_all", lambda *args, formats: asked.append(formats) or ([], []))
    monkeypatch.setattr(sim.report.parallel, "draw_in_workers",
                        lambda run, run_dir, formats, workers: asked.append(formats) or Drawn())
    cfg = compose_config("run.seeds=2", "run.workers=1", "run.progress=false", "run.record_rounds=none",
                         "run.figure_formats=[png,svg]")
    run_experiment(cfg, tmp_path)
    assert asked == [["png", "svg"]]  # drawing itself in each format: test_plot_draws_a_sweep_folder_s_...


def test_figure_formats_do_not_change_what_a_sweep_computes():
    # so a resume may ask for other formats (runner.RUN_ONLY)
    from omegaconf import OmegaConf

    from sim.run.runner import config_fingerprint

    png, svg = (OmegaConf.to_container(compose_config(f"run.figure_formats={f}"), resolve=True)
                for f in ("[png]", "[png,svg]"))
    assert config_fingerprint(png) == config_fingerprint(svg)
