"""Regenerate experiments/calibration.md: the calibrations as of three dates, the prior and posterior forecast bands
of the forecast cases side by side, and the rolling backtest on the panel.

Usage (from the repository root): python experiments/make_calibration_page.py [--worlds 400]

Runs (or reuses, if their folders are there) into results/gallery/calibration/: `python -m sim calibrate` as of
2025-05-03, 2025-06-26 and 2025-07-15; the forecast experiment for US–Japan from 3 May and 26 June and for US–Korea
and US–EU from 15 July, once from the priors and once from the posterior calibrated as of the same date; and
`python -m sim backtest`. Copies the 15 July calibration's figures into experiments/figures/. Every number on the
page is read from those run folders; nothing on it is compared with how the forecast cases' talks ended.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "gallery" / "calibration"
DATES = ("2025-05-03", "2025-06-26", "2025-07-15")
FORECASTS = (("us_japan_2025", "2025-05-03"), ("us_japan_2025", "2025-06-26"), ("us_korea_2025", "2025-07-15"),
             ("us_eu_2025", "2025-07-15"))


def sim(*args: str) -> None:
    print("+ python -m sim " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "sim", *args], check=True, cwd=ROOT)


def run_all(worlds: int) -> None:
    for day in DATES:
        if not (OUT / f"calibrate_{day}" / "posterior.parquet").exists():
            sim("calibrate", f"scenario.as_of={day}", "--out", str(OUT / f"calibrate_{day}"))
    for case, day in FORECASTS:
        for source in ("prior", "posterior"):
            folder = OUT / f"forecast_{case}_{day}_{source}"
            if (folder / "forecast.csv").exists():
                continue
            extra = [f"forecast.calibration={OUT / f'calibrate_{day}'}"] if source == "posterior" else []
            sim("run", "+experiment=forecast", f"scenario={case}", f"scenario.as_of={day}", f"forecast.source={source}",
                f"sweep.sample.n={worlds}", "run.plot=false", f"hydra.run.dir={folder}", *extra)
    if not (OUT / "backtest" / "backtest.csv").exists():
        sim("backtest", "--out", str(OUT / "backtest"))


def _band(row) -> str:
    if row["term"] == "agreement_date":
        return f"{row['median']} [{row['p10']}, {row['p90']}]"
    return f"{float(row['median']):.3g} [{float(row['p10']):.3g}, {float(row['p90']):.3g}]"


def forecast_table() -> list[str]:
    lines = ["| case | from | term | unit | prior: median [80 %] | posterior: median [80 %] | "
             "deal rate prior / posterior |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for case, day in FORECASTS:
        prior = pd.read_csv(OUT / f"forecast_{case}_{day}_prior" / "forecast.csv")
        post = pd.read_csv(OUT / f"forecast_{case}_{day}_posterior" / "forecast.csv")
        for (_, a), (_, b) in zip(prior.iterrows(), post.iterrows(), strict=True):
            lines.append(f"| {case} | {day} | {a['term']} | {a['unit']} | {_band(a)} | {_band(b)} | "
                         f"{a['deal_rate']:.2f} / {b['deal_rate']:.2f} |")
    return lines


def calibration_table() -> list[str]:
    import json

    lines = ["| as of | observations | parameter vectors | threshold (first → last) | distinct particles | "
             "ABC wall s | "
             "PPC inside 10–90 % |", "| --- | ---: | ---: | --- | ---: | ---: | --- |"]
    for day in DATES:
        d = json.loads((OUT / f"calibrate_{day}" / "diagnostics.json").read_text())
        ppc = pd.read_csv(OUT / f"calibrate_{day}" / "ppc.csv")
        th = d["thresholds"]
        lines.append(f"| {day} | {len(d['observations'])} | {d['simulations']} | {th[0]:.2f} → {th[-1]:.2f} | "
                     f"{d['generations'][-1]['distinct']} | {d['wall_s']:.0f} | {int(ppc['inside'].sum())} of "
                     f"{len(ppc)} |")
    return lines


def backtest_table() -> list[str]:
    scores = pd.read_csv(OUT / "backtest" / "backtest_scores.csv")
    lines = ["| forecast | observations | coverage 80 % | coverage 50 % | mean interval score | mean band share |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for _, r in scores.iterrows():
        lines.append(f"| {r['source']} | {r['observations']} | {r['coverage80']:.2f} | {r['coverage50']:.2f} | "
                     f"{r['interval_score']:.3f} | {r['band_share']:.2f} |")
    return lines


def copy_figures() -> None:
    from PIL import Image

    for name in ("posterior", "ppc"):
        img = Image.open(OUT / "calibrate_2025-07-15" / "figures" / f"{name}.png")
        if img.width > 1000:
            img = img.resize((1000, round(img.height * 1000 / img.width)))
        img.save(ROOT / "experiments" / "figures" / f"calibration_{name}.png", optimize=True)


PAGE = """# Calibration on the panel, forecasts from the posterior, and the backtest

Generated by `python experiments/make_calibration_page.py` (issue 22; method and choices:
[docs/calibrate.md](../docs/calibrate.md)).
The panel is US–UK (8 May 2025), US–China (12 May), US–Vietnam (2 Jul) and US–Indonesia (15 Jul); a calibration as
of a date uses the arrangements announced on or before it. The forecast cases (US–Japan, US–Korea, US–EU) are
forecast, never calibrated on or checked against their outcome.

## The calibrations

{calibration}

As of 3 May no arrangement had been announced; the observations are the five Vietnamese estimates of the no-deal
loss published in April (docs/calibrate.md). Posterior against prior, as of 15 July:

![posterior against prior](figures/calibration_posterior.png)

The posterior predictive check as of 15 July (each announced term, deal and date against its 10–90 % band):

![posterior predictive check](figures/calibration_ppc.png)

## Prior and posterior forecast bands ({worlds} worlds each)

The posterior changes the seven US objective weights and the pass-through; every other parameter is drawn from
its prior in both. The term bands move little: the panel constrains these parameters little (docs/calibrate.md),
and the forecast cases' own parameters, which drive most of their spread, keep their priors. The deal rate is
higher from the posterior in every row (a standard error of a deal rate near 0.9 over {worlds} worlds is about
0.015). The two columns of a row share their seed, so the prior draws of every other parameter are the same.

{forecasts}

## The rolling backtest on the panel

Each panel arrangement forecast from the day before its announcement, calibrated on those announced before it
(`python -m sim backtest`; interval score on each quantity's scale, lower is better):

{backtest}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worlds", type=int, default=400)
    ns = parser.parse_args()
    run_all(ns.worlds)
    copy_figures()
    page = PAGE.format(calibration="\n".join(calibration_table()), forecasts="\n".join(forecast_table()),
                       backtest="\n".join(backtest_table()), worlds=ns.worlds)
    (ROOT / "experiments" / "calibration.md").write_text(page)
    print("written: experiments/calibration.md")


if __name__ == "__main__":
    main()
