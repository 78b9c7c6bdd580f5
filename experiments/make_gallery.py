"""Regenerate the figures embedded in the experiment pages.

Usage (from the repository root): python experiments/make_gallery.py [NAME ...]

Runs each experiment (all in conf/experiment/ by default, and `validation`) into results/gallery/NAME/,
resuming if it is already there, prints its summary, and copies the figures its page shows into
experiments/figures/, downscaled to at most 1,000 pixels wide so that the repository stays small.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {  # experiment -> figures its page embeds (the first is the headline)
    "deadline_pressure": ["pressure", "deal_rate", "utility_plane", "timing"],
    "strategy_tournament": ["strategy_heatmap", "deal_rate", "utility_plane", "timing", "ranking"],
    "single_negotiation": ["concession_paths", "utility_plane"],
    "smoke": ["concession_paths"],
    "package_vs_piecemeal": ["agenda", "utility_plane"],
    "two_level": ["two_level", "utility_plane"],
    "issue_tradeoffs": ["utility_plane", "terms"],
    "sensitivity": ["sensitivity", "prim_peeling"],
    "us_korea": ["deal_rate", "timing"],
    "forecast": ["forecast_fan", "deal_by_date"],
}
ANALYZE = {  # experiment -> arguments of `python -m sim analyze RUN_DIR` run after it (its figures join the page's)
    "sensitivity": ["--prim", "no_deal", "--density", "0.8"],
}
EXTRA = {  # experiment -> overrides of its gallery run
    "forecast": ["+sweep.grid.scenario.as_of=[2025-04-16,2025-05-03,2025-05-23,2025-06-04,2025-06-26]"],
}
MAX_WIDTH = 1000


def regenerate(name: str) -> None:
    """Run one experiment and copy its page's figures."""
    run_dir = ROOT / "results" / "gallery" / name
    command = [sys.executable, "-m", "sim", "run", f"+experiment={name}", f"hydra.run.dir={run_dir}",
               "run.progress=false", *EXTRA.get(name, [])]
    extra = "".join(f" '{o}'" for o in EXTRA.get(name, []))
    print(f"$ python -m sim run +experiment={name}{extra} hydra.run.dir=results/gallery/{name}", flush=True)
    subprocess.run(command, cwd=ROOT, check=True)
    if name in ANALYZE:
        print(f"$ python -m sim analyze results/gallery/{name} {' '.join(ANALYZE[name])}", flush=True)
        subprocess.run([sys.executable, "-m", "sim", "analyze", str(run_dir), *ANALYZE[name]], cwd=ROOT, check=True)
    for figure in FIGURES.get(name, []):
        _copy(run_dir / "figures" / f"{figure}.png", ROOT / "experiments" / "figures" / f"{name}-{figure}.png")


def validation() -> None:
    """Run `python -m sim validate` into results/gallery/validation and copy its figure and table."""
    out = ROOT / "results" / "gallery" / "validation"
    print("$ python -m sim validate --out results/gallery/validation", flush=True)
    subprocess.run([sys.executable, "-m", "sim", "validate", "--out", str(out)], cwd=ROOT, check=True)
    _copy(out / "validation_splits.png", ROOT / "experiments" / "figures" / "validation-splits.png")


def _copy(source: Path, target: Path) -> None:
    """Copy a figure, downscaled to at most MAX_WIDTH pixels and palette-quantised."""
    target.parent.mkdir(exist_ok=True)
    with Image.open(source) as image:
        scale = min(1.0, MAX_WIDTH / image.width)
        small = image.convert("RGB").resize((round(image.width * scale), round(image.height * scale)),
                                            Image.LANCZOS)
        small.quantize(colors=256).save(target, optimize=True)


def main() -> None:
    """Regenerate the named experiments (and `validation`), or all of them."""
    names = sys.argv[1:] or [*sorted(p.stem for p in (ROOT / "conf" / "experiment").glob("*.yaml")), "validation"]
    for name in names:
        if name == "validation":
            validation()
        else:
            regenerate(name)


if __name__ == "__main__":
    main()
