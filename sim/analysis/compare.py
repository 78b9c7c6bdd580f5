"""The ``compare`` verb: several run folders side by side, labelled by the config values that differ.

``python -m sim compare DIR [DIR ...]`` reads each run folder (a multirun folder stands for all its job
folders) and writes

* ``comparison.csv``: every run's ``summary.csv`` rows (per strategy pair and grid point: deal rate with
  its 95 % Wilson interval, median agreement round, median terms), joined into one table with a ``run``
  column and one column per config key whose value differs between the runs;
* ``comparison_runs.csv``: one row per run: negotiations, deal rate with its 95 % Wilson interval,
  median agreement round, mean utility of each party and mean welfare;
* ``comparison.png``: those main outcomes, one panel each, the runs side by side.

They go to ``--out DIR``, by default the multirun folder when one multirun folder is named, else
``results/compare/<timestamp>/``. A folder that is not a run folder gets one line before anything is
written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.sweep import column_name
from sim.config.values import flatten
from sim.report.summary import median_interval, party_ids, wilson_interval
from sim.run.manifest import RUN_ONLY
from sim.run.readback import RunDirError, read_outcomes

__all__ = ["CompareError", "compare", "differing_config", "figure", "is_run", "run_folders"]

PER_RUN = ["runs", "deals", "deal_rate", "deal_rate_low", "deal_rate_high", "median_round", "mean_welfare",
           "finished"]


class CompareError(Exception):
    """A one-line, user-facing error of the ``compare`` verb."""


def is_run(path: Path) -> bool:
    """Whether ``path`` is a run folder (a resolved config and outcomes, merged or in parts)."""
    path = Path(path)
    return (path / "config_resolved.yaml").is_file() and (
        (path / "outcomes.parquet").exists() or any((path / "outcomes").glob("part-*.parquet")))


def run_folders(paths: list[Path]) -> list[Path]:
    """The run folders named, a multirun folder standing for its job folders (in name order).

    Raises:
        CompareError: a path is missing or holds no run folder, or fewer than two runs are named.
    """
    runs = []
    for path in map(Path, paths):
        if not path.is_dir():
            raise CompareError(f"{path}: no such folder")
        if is_run(path):
            runs.append(path)
            continue
        jobs = sorted(p for p in path.iterdir() if p.is_dir() and is_run(p))
        if not jobs:
            raise CompareError(f"{path} is not a run folder (it needs config_resolved.yaml and outcomes.parquet, "
                               "written by python -m sim run) nor a multirun folder of run folders")
        runs.extend(jobs)
    if len(runs) < 2:
        raise CompareError("compare needs at least two run folders (or a multirun folder with two jobs)")
    return runs


def _flat(tree) -> dict:
    return {k: str(v) if isinstance(v, list) else v for k, v in flatten(tree).items()}


def differing_config(runs: list[Path]) -> pd.DataFrame:
    """One row per run, one column (:func:`~sim.config.sweep.column_name`) per config key whose value differs.

    How a run executes (``run.workers``, ``run.executor``, ...) is never a difference.

    Raises:
        CompareError: a ``config_resolved.yaml`` cannot be read.
    """
    import yaml

    flats = []
    for run in runs:
        path = run / "config_resolved.yaml"
        try:
            cfg = yaml.safe_load(path.read_text())
            if not isinstance(cfg, dict):
                raise TypeError("not a mapping of config keys")
        except (OSError, ValueError, TypeError, yaml.YAMLError) as err:
            raise CompareError(f"{path}: cannot be read ({' '.join(str(err).split())})") from None
        flats.append({k: v for k, v in _flat(cfg).items() if k not in RUN_ONLY and not k.startswith("hydra.")})
    keys = list(dict.fromkeys(k for f in flats for k in f))
    differ = [k for k in keys if len({repr(f.get(k)) for f in flats}) > 1]
    frame = pd.DataFrame([{column_name(k): f.get(k) for k in differ} for f in flats], index=range(len(runs)))
    frame.attrs["keys"] = differ  # the config keys, in column order
    return frame


def _label(path: Path, runs: list[Path]) -> str:
    return path.name if len({r.parent for r in runs}) == 1 else f"{path.parent.name}/{path.name}"


def compare(runs: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join run folders: the per-point summaries, and one row of main outcomes per run.

    Returns:
        ``(points, per_run)``; both start with ``run`` and the columns of the differing config keys (listed
        in ``per_run.attrs["keys"]``). ``per_run`` has :data:`PER_RUN` and ``mean_<party>_utility`` per party.

    Raises:
        CompareError: a folder cannot be read (one line naming it).
    """
    import pyarrow as pa

    config = differing_config(runs)
    points, per_run = [], []
    parties: dict[tuple[str, str], list[str]] = {}
    for k, run in enumerate(runs):
        try:
            out = read_outcomes(run).to_pandas()
            summary = pd.read_csv(run / "summary.csv") if (run / "summary.csv").exists() else pd.DataFrame()
        except (pa.ArrowException, OSError, ValueError, RunDirError) as err:
            raise CompareError(f"{run}: cannot be read ({' '.join(str(err).split())})") from None
        missing = [c for c in ("deal", "end_round", "welfare") if c not in out.columns]
        if missing or out.empty:
            raise CompareError(f"{run}: its outcomes lack {', '.join(missing) or 'rows'}; "
                               "not a run of python -m sim run")
        parties.setdefault(party_ids(out), []).append(_label(run, runs))
        if len(parties) > 1:
            shown = "; ".join(f"{', '.join(names)} between {' and '.join(ids)}" for ids, names in parties.items())
            raise CompareError(f"runs between different parties cannot be set side by side ({shown}); compare "
                               "the runs of one scenario's parties at a time")
        head = {"run": _label(run, runs), **config.iloc[k].to_dict()}
        if not summary.empty:  # a key swept inside the run: its per-point column, not the run's default value
            shared = {c: v for c, v in head.items() if c == "run" or c not in summary.columns}
            points.append(pd.concat([pd.DataFrame([shared] * len(summary)), summary], axis=1))
        deals = int(out["deal"].sum())
        low, high = wilson_interval(np.array([deals]), np.array([len(out)]))
        _, round_low, round_high = median_interval(out.loc[out["deal"], "end_round"])
        per_run.append({**head, "runs": len(out), "deals": deals, "deal_rate": deals / len(out),
                        "deal_rate_low": float(low[0]), "deal_rate_high": float(high[0]),
                        "median_round": out.loc[out["deal"], "end_round"].median(),
                        "median_round_low": round_low, "median_round_high": round_high,
                        **{f"mean_{p}_utility": out[f"{p}_utility"].mean() for p in party_ids(out)},
                        "mean_welfare": out["welfare"].mean(), "finished": (run / "outcomes.parquet").exists()})
    per_run = pd.DataFrame(per_run)
    per_run.attrs["keys"] = config.attrs["keys"]
    per_run.attrs["party_names"] = _party_names(runs[0])
    return (pd.concat(points, ignore_index=True) if points else pd.DataFrame()), per_run


def _party_names(run: Path) -> dict[str, str]:
    """Each party's display name (``scenario.parties.<id>.name``) from a run's resolved config, else its id."""
    import yaml

    try:
        parties = (yaml.safe_load((run / "config_resolved.yaml").read_text()) or {}).get("scenario", {}).get("parties")
    except (OSError, yaml.YAMLError, AttributeError):
        return {}
    if not isinstance(parties, dict):
        return {}
    return {str(pid): str(p.get("name", pid)) if isinstance(p, dict) else str(pid) for pid, p in parties.items()}


def figure(per_run: pd.DataFrame, config_keys: list[str], out_dir: Path) -> list[Path]:
    """The runs side by side: deal rate (95 % Wilson interval), median agreement round, mean utilities, welfare.

    Args:
        per_run: One row per run (:func:`compare`).
        config_keys: The config keys that differ (their columns are ``column_name(key)``); the first three
            label the runs.
        out_dir: Where ``comparison.png`` goes.
    """
    import matplotlib.pyplot as plt

    from sim.report.labels import short_key
    from sim.report.style import PALETTE, PARTY_COLOURS, figure_style, save, sized

    def fmt(v) -> str:
        return f"{v:g}" if isinstance(v, float) else str(v)

    labels = ([", ".join(f"{short_key(k)}={fmt(r[column_name(k)])}" for k in config_keys[:3])
               for _, r in per_run.iterrows()]
              if config_keys else list(per_run["run"]))
    labels = [f"{label}\n(n = {int(n):,})" for label, n in zip(labels, per_run["runs"], strict=True)]
    names = per_run.attrs.get("party_names", {})
    utilities = [c for c in per_run.columns if c.startswith("mean_") and c.endswith("_utility")]
    x = np.arange(len(per_run))
    with figure_style():
        fig, axes = plt.subplots(1, 4, figsize=sized(min(3.2 + 0.9 * len(x), 9) * 1.6, 3.8), sharex=True)
        err = [per_run["deal_rate"] - per_run["deal_rate_low"], per_run["deal_rate_high"] - per_run["deal_rate"]]
        axes[0].bar(x, per_run["deal_rate"], color=PALETTE[0], yerr=err, capsize=3)
        axes[0].set_ylim(0, 1.05)
        axes[0].set_title("deal rate (95 % Wilson)", fontsize="medium")
        # a median is a point with its interval, not a bar from round 0
        rounds = per_run["median_round"]
        axes[1].errorbar(x, rounds, yerr=[rounds - per_run["median_round_low"], per_run["median_round_high"] - rounds],
                         fmt="o", color=PALETTE[2], capsize=3)
        axes[1].set_title("median round of deals (95 %)", fontsize="medium")
        width = 0.8 / max(len(utilities), 1)
        for j, column in enumerate(utilities):
            pid = column[len("mean_"): -len("_utility")]
            axes[2].bar(x + (j - (len(utilities) - 1) / 2) * width, per_run[column], width,
                        color=PARTY_COLOURS[j % 2], label=names.get(pid, pid))
        axes[2].set_title("mean utility", fontsize="medium")
        axes[2].set_ylim(0, 1.05)
        axes[3].bar(x, per_run["mean_welfare"], color=PALETTE[4])
        axes[3].set_title("mean welfare (sum)", fontsize="medium")
        for ax in axes:
            ax.set_xticks(x, labels, rotation=35, ha="right", fontsize="small")
        handles, legend_labels = axes[2].get_legend_handles_labels()
        fig.legend(handles, legend_labels, loc="upper center", ncol=len(legend_labels), frameon=False,
                   bbox_to_anchor=(0.5, 1.0), title="mean utility to")  # above the panels, over no bar
        fig.tight_layout(rect=(0, 0, 1, 0.9))
        return save(fig, out_dir, "comparison")
