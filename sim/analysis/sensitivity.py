"""Global sensitivity analysis of negotiation outcomes: which assumptions drive the deal and its terms.

A run with ``sweep.sample.method=sobol|morris|fast`` samples a SALib design over
``sweep.sample.ranges`` (:mod:`sim.config.designs`). Each design row is one sweep point run with
``run.seeds`` negotiations; the row's outcome is the mean over them: the deal rate, the mean
agreement time and agreed terms over the negotiations that ended in a deal, the mean utility of each
side and the mean welfare. Integer keys (the deadline round) are drawn on ``[low, high + 1)`` and
floored, so every whole round is equally likely: the indices are those of the model composed with that
rounding (a step function of a uniform input), for which the Sobol' decomposition is still exact.

The design is recorded in the run folder (``design.json``, and ``design.csv`` with the unrounded
values) so the analysis can be redone from the folder alone. :func:`analyze` gives Sobol' S1 and ST,
Morris mu* and sigma, or FAST S1 and ST, each with the half-width of its 95 % bootstrap interval, as a
tidy table. For runs that are not sensitivity designs (grid, LHS, random) it falls back to feature
scoring: the impurity importance of extra-trees fitted to the negotiations (as EMA Workbench does),
labelled as such; it ranks parameters but is not a variance decomposition.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.designs import (
    DESIGN_METHODS,
    FAST_HARMONICS,
    MORRIS_LEVELS,
    SOBOL_SECOND_ORDER,
    design_rows,
    salib_problem,
)
from sim.config.sweep import Plan, SampledDesign, column_name, sampled_design
from sim.analysis.sensitivity_figure import figure, parameter_label  # noqa: F401  (re-exported)
from sim.run.outputs import atomic_write

__all__ = ["Design", "analyze", "figure", "indices", "load_design", "outcome_names", "row_means",
           "top_parameters", "write_design"]

SAMPLER_SPAWN_KEY = (2**32 - 1,)  # the sampler's own stream (sim.config.sweep.sampled_design)
BOOTSTRAP_RESAMPLES = 200
SCORE_MAX_ROWS = 20_000  # feature scoring fits on at most this many negotiations (drawn at random)
SCORE_TREES = 200
# the index that ranks parameters, per method
MAIN_INDEX = {"sobol": "ST", "fast": "ST", "morris": "mu_star", "extra_trees": "importance"}
COLUMNS = ["group", "outcome", "method", "parameter", "index", "value", "conf", "rows_used", "note"]
MIN_KEPT_SHARE = 0.5  # a Sobol' or Morris analysis needs at least this share of its blocks with a value


@dataclass
class Design(SampledDesign):
    """A sampled design recorded in a run folder: a :class:`~sim.config.sweep.SampledDesign` and its seeds.

    Attributes:
        seeds: Negotiations per design row.
    """

    seeds: int = 1

    @property
    def rows(self) -> int:
        """Number of design rows."""
        return len(self.values)

    @property
    def is_sensitivity(self) -> bool:
        """Whether the design supports Sobol', Morris or FAST indices."""
        return self.method in DESIGN_METHODS

    def problem(self) -> dict:
        """SALib's problem: each key on the interval its unit values were scaled to."""
        hi = [h + (1.0 if i else 0.0) for h, i in zip(self.high, self.integer, strict=True)]
        return salib_problem(len(self.keys), list(self.keys),
                             [[lo, h] for lo, h in zip(self.low, hi, strict=True)])


def write_design(out_dir: Path, config: dict, the_plan: Plan) -> Design | None:
    """Record a run's sampled design in ``design.json`` and ``design.csv``.

    The design is drawn again from the root seed by the same function the plan used, and checked
    against the sweep points, so a recorded design always matches the run.

    Args:
        out_dir: The run folder.
        config: The resolved config (a plain dict).
        the_plan: Its plan.

    Returns:
        The design, or ``None`` if the run samples none.
    """
    sampled = sampled_design(config, the_plan.root_seed)
    if sampled is None:
        return None
    keys = sampled.keys
    rows = len(sampled.values)
    applied = [{k: p.coordinates[k] for k in keys} for p in the_plan.points[:rows]]
    if applied != sampled.points():
        raise RuntimeError("the recorded design does not match the sweep points; "
                           "sim.config.sweep.sampled_design and the plan have drifted apart")
    design = Design(method=sampled.method, n=sampled.n, keys=keys, low=sampled.low, high=sampled.high,
                    integer=sampled.integer, values=sampled.values, seeds=the_plan.seeds)
    meta = {
        "method": design.method, "n": design.n, "rows": rows, "seeds_per_row": design.seeds,
        "root_seed": the_plan.root_seed, "groups": len(the_plan.points) // max(rows, 1),
        "parameters": [{"key": k, "column": column_name(k), "low": lo, "high": hi, "integer": i}
                       for k, lo, hi, i in zip(keys, design.low, design.high, design.integer, strict=True)],
        "salib": {"sobol": {"calc_second_order": SOBOL_SECOND_ORDER, "scramble": True},
                  "morris": {"num_levels": MORRIS_LEVELS}, "fast": {"M": FAST_HARMONICS}}.get(design.method),
        "row_of_world": "(world // seeds_per_row) % rows; the group (strategy pair x grid point) is "
                        "(world // seeds_per_row) // rows",
        "integer_keys": "drawn on [low, high + 1) and floored; design.csv holds the unrounded values",
    }
    out_dir = Path(out_dir)
    atomic_write(out_dir / "design.json", lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))
    frame = pd.DataFrame(design.values, columns=keys)
    frame.insert(0, "row", np.arange(rows))
    atomic_write(out_dir / "design.csv", lambda p: frame.to_csv(p, index=False, float_format="%.17g"))
    return design


def load_design(run_dir: Path) -> Design | None:
    """The design recorded in a run folder, or ``None`` if it has none.

    Raises:
        ValueError: ``design.json`` or ``design.csv`` cannot be read or disagree (one line).
    """
    run_dir = Path(run_dir)
    path = run_dir / "design.json"
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text())
        keys = [p["key"] for p in meta["parameters"]]
        values = pd.read_csv(run_dir / "design.csv")[keys].to_numpy(dtype=float)
        params = meta["parameters"]
        design = Design(method=meta["method"], n=int(meta["n"]), keys=keys, low=[p["low"] for p in params],
                        high=[p["high"] for p in params], integer=[bool(p["integer"]) for p in params],
                        values=values, seeds=int(meta["seeds_per_row"]))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: the recorded design cannot be read ({' '.join(str(err).split())})") from None
    if design.rows != meta["rows"]:
        raise ValueError(f"{run_dir / 'design.csv'}: has {design.rows} rows, design.json says {meta['rows']}")
    return design


def outcome_names(outcomes: pd.DataFrame, issues: tuple[str, ...]) -> list[str]:
    """The outcomes analysed by default: deal, agreement time, each agreed term, each side's utility, welfare."""
    parties = [c[: -len("_strategy")] for c in outcomes.columns if c.endswith("_strategy")][:2]
    names = ["deal", "agreement_time", *issues, *(f"{p}_utility" for p in parties), "welfare"]
    return [n for n in names if n in outcomes.columns]


def outcome_values(outcomes: pd.DataFrame, outcome: str) -> np.ndarray:
    """Per negotiation, an outcome as numbers: the deal as 0/1, the others as recorded (NaN without a deal)."""
    column = outcomes[outcome]
    if pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=float)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def row_means(outcomes: pd.DataFrame, outcome: str, design: Design) -> np.ndarray:
    """The mean of an outcome over each design row's negotiations, shape ``(groups, rows)``.

    A row none of whose negotiations has a value (an agreed term where no negotiation ended in a deal)
    is NaN.
    """
    point = outcomes["world"].to_numpy() // design.seeds
    n_groups = int(point.max() // design.rows) + 1 if len(point) else 1
    y = outcome_values(outcomes, outcome)
    ok = ~np.isnan(y)
    size = n_groups * design.rows
    sums = np.bincount(point[ok], weights=y[ok], minlength=size)
    counts = np.bincount(point[ok], minlength=size)
    means = np.full(size, np.nan)
    np.divide(sums, counts, out=means, where=counts > 0)
    return means.reshape(n_groups, design.rows)


def _empty(note: str, used: int) -> tuple[list[dict], int, str]:
    return [], used, note


def salib_seed(seed: int) -> int:
    """The seed handed to SALib's analysers for our ``seed``: never 0, which SALib's ``if seed:`` treats as none."""
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) or 1


def _salib(design: Design, x_used: np.ndarray, y_used: np.ndarray, seed: int) -> tuple[dict, tuple]:
    """SALib's analysis of the design's method on the rows used: its result and the (index, interval) names
    to report."""
    problem = design.problem()
    seed = salib_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if design.method == "sobol":
            from SALib.analyze import sobol

            si = sobol.analyze(problem, y_used, calc_second_order=SOBOL_SECOND_ORDER,
                               num_resamples=BOOTSTRAP_RESAMPLES, seed=seed)
            pairs = (("S1", "S1_conf"), ("ST", "ST_conf"))
        elif design.method == "morris":
            from SALib.analyze import morris

            si = morris.analyze(problem, x_used, y_used, num_resamples=BOOTSTRAP_RESAMPLES,
                                num_levels=MORRIS_LEVELS, seed=seed)
            pairs = (("mu_star", "mu_star_conf"), ("sigma", None), ("mu", None))
        else:
            from SALib.analyze import fast

            si = fast.analyze(problem, y_used, M=FAST_HARMONICS, num_resamples=BOOTSTRAP_RESAMPLES, seed=seed)
            pairs = (("S1", "S1_conf"), ("ST", "ST_conf"))
    return si, pairs


def indices(design: Design, y: np.ndarray, seed: int = 0) -> tuple[list[dict], int, str]:
    """Sensitivity indices of one outcome from its values ``y`` at the design rows (in design order).

    Rows without a value are handled by dropping whole blocks: a Saltelli base point with its
    companions (``sobol``), a Morris trajectory (``morris``); FAST needs every row.

    Args:
        design: The design.
        y: One value per design row.
        seed: Seed of the bootstrap intervals.

    Returns:
        Index records ``{parameter, index, value, conf}`` (``conf``: half-width of the 95 % interval,
        NaN where SALib gives none), the number of design rows used, and a note (empty if none).
    """
    d = len(design.keys)
    block = {"sobol": design_rows("sobol", d, 1), "morris": d + 1, "fast": None}[design.method]
    note = ""
    if block is not None:
        blocks = y.reshape(-1, block)
        keep = ~np.isnan(blocks).any(axis=1)
        if not keep.all():
            unit = "base points" if design.method == "sobol" else "trajectories"
            note = f"{int((~keep).sum())} of {len(keep)} {unit} dropped (no negotiation with a value)"
        y_used = blocks[keep].ravel()
        x_used = design.values.reshape(-1, block, d)[keep].reshape(-1, d)
        if keep.sum() < 2:
            return _empty((note or "too few design rows") + "; indices not computed", int(y_used.size))
        if keep.mean() < MIN_KEPT_SHARE:  # what is left is not the design any more: its indices mislead
            return _empty(f"not estimable: {note}, more than {1 - MIN_KEPT_SHARE:.0%}; not ranked", int(y_used.size))
    else:
        if np.isnan(y).any():
            return _empty(f"{int(np.isnan(y).sum())} design rows have no value; FAST needs every row", 0)
        y_used, x_used = y, design.values
    if np.std(y_used) == 0:
        return _empty((note + "; " if note else "") + "the outcome does not vary; indices undefined",
                      int(y_used.size))
    si, pairs = _salib(design, x_used, y_used, seed)
    records = [{"parameter": key, "index": name, "value": float(si[name][k]),
                "conf": float(si[conf][k]) if conf else float("nan")}
               for k, key in enumerate(design.keys) for name, conf in pairs]
    if design.method in ("sobol", "fast"):
        for r in records:
            if outside_unit(r["value"], r["conf"]):
                r["note"] = (f"{r['index']} {r['value']:.2f} ± {r['conf']:.2f} is outside [0, 1] beyond its 95 % "
                             "interval: too few design rows for this outcome; not ranked")
    return records, int(y_used.size), note


def outside_unit(value: float, conf: float) -> bool:
    """Whether a Sobol' or FAST index lies outside [0, 1] by more than its 95 % half-width (a share of
    variance cannot: the estimate is not to be trusted)."""
    half = 0.0 if not np.isfinite(conf) else conf
    return bool(np.isfinite(value) and (value - half > 1 or value + half < 0))


def feature_scores(outcomes: pd.DataFrame, keys: list[str], outcome: str,
                   seed: int = 0) -> tuple[list[dict], int, str]:
    """Feature scoring: the extra-trees impurity importance of each swept key for one outcome.

    Fitted to the negotiations themselves (a classifier for the deal, a regressor otherwise), on at
    most :data:`SCORE_MAX_ROWS` of them drawn at random. The importances sum to 1; ``conf`` is the
    half-width of a 95 % interval of their mean over the trees. They rank the parameters but are not
    variance shares.
    """
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    y = outcome_values(outcomes, outcome)
    x = pd.DataFrame({k: (outcomes[column_name(k)] if pd.api.types.is_numeric_dtype(outcomes[column_name(k)])
                          and not pd.api.types.is_bool_dtype(outcomes[column_name(k)])
                          else outcomes[column_name(k)].astype("category").cat.codes) for k in keys})
    ok = ~np.isnan(y)
    x, y = x.to_numpy(dtype=float)[ok], y[ok]
    if len(y) < 10 or np.std(y) == 0:
        return _empty("too few negotiations with a value, or the outcome does not vary", len(y))
    rng = np.random.default_rng(seed)
    if len(y) > SCORE_MAX_ROWS:
        pick = np.sort(rng.choice(len(y), SCORE_MAX_ROWS, replace=False))
        x, y = x[pick], y[pick]
    kind = ExtraTreesClassifier if outcome == "deal" else ExtraTreesRegressor
    model = kind(n_estimators=SCORE_TREES, min_samples_leaf=5, random_state=seed, n_jobs=1)
    model.fit(x, y.astype(int) if outcome == "deal" else y)
    per_tree = np.array([t.feature_importances_ for t in model.estimators_])
    conf = 1.96 * per_tree.std(axis=0, ddof=1) / math.sqrt(len(per_tree))
    records = [{"parameter": k, "index": "importance", "value": float(v), "conf": float(c)}
               for k, v, c in zip(keys, model.feature_importances_, conf, strict=True)]
    return records, len(y), "feature scoring (extra-trees importance), not a variance decomposition"


def _group_labels(outcomes: pd.DataFrame, point_of_world: np.ndarray, rows: int, grid_keys: list[str]) -> dict:
    """A readable label per group (strategy pair x grid point) of a sampled design."""
    strategies = [c for c in outcomes.columns if c.endswith("_strategy")][:2]
    first = outcomes.assign(_g=point_of_world // rows).drop_duplicates("_g")
    labels = {}
    for _, row in first.iterrows():
        parts = [" vs ".join(str(row[c]) for c in strategies)]
        parts += [f"{k}={row[column_name(k)]}" for k in grid_keys if column_name(k) in row.index]
        labels[int(row["_g"])] = ", ".join(parts)
    return labels


def _rows(records: list[dict], **common) -> list[dict]:
    if not records:
        records = [{"parameter": "", "index": "", "value": float("nan"), "conf": float("nan")}]
    return [{**common, **r} for r in records]


def analyze(outcomes: pd.DataFrame, design: Design | None, swept_keys: list[str], names: list[str],
            method: str | None = None, seed: int = 0) -> pd.DataFrame:
    """Sensitivity indices of each outcome, as a tidy table.

    Args:
        outcomes: The run's negotiations (``outcomes.parquet``).
        design: The recorded design (``None``: the run sampled none).
        swept_keys: The run's swept config keys (grid axes and sampled keys).
        names: Outcome columns to analyse.
        method: ``sobol``, ``morris``, ``fast`` (must be the design's) or ``scores`` (feature
            scoring); ``None`` picks the design's method, else feature scoring.
        seed: Seed of the bootstrap intervals and of the extra-trees.

    Returns:
        Columns :data:`COLUMNS`; ``conf`` is the half-width of the 95 % interval.

    Raises:
        ValueError: a one-line reason naming the option and what is allowed.
    """
    unknown = [o for o in names if o not in outcomes.columns or o in ("world", "seed", "seed_index")]
    if unknown:
        raise ValueError(f"--outcome {unknown[0]}: no such outcome column; choose from the columns of "
                         f"outcomes.parquet, e.g. deal, agreement_time, welfare")
    sensitivity = design is not None and design.is_sensitivity
    method = method or (design.method if sensitivity else "scores")
    if method in DESIGN_METHODS and (design is None or design.method != method):
        what = f"a {design.method} design" if design is not None else "no sampled design"
        raise ValueError(f"--method {method}: this run has {what}; {method} indices need a run with "
                         f"sweep.sample.method={method} (use --method scores for feature scoring)")
    rows = []
    if method in DESIGN_METHODS:
        grid_keys = [k for k in swept_keys if k not in design.keys]
        point = outcomes["world"].to_numpy() // design.seeds
        labels = _group_labels(outcomes, point, design.rows, grid_keys)
        for outcome in names:
            for g, y in enumerate(row_means(outcomes, outcome, design)):
                records, used, note = indices(design, y, seed)
                rows += _rows(records, group=labels.get(g, str(g)), outcome=outcome, method=method,
                              rows_used=used, note=note)
    else:
        keys = [k for k in swept_keys if column_name(k) in outcomes.columns]
        keys += [c for c in outcomes.columns if c.endswith("_strategy") and outcomes[c].nunique() > 1]
        if not keys:
            raise ValueError("nothing was swept in this run, so no parameter can be scored "
                             "(use sweep.grid, sweep.sample or sweep.pairs)")
        for outcome in names:
            records, used, note = feature_scores(outcomes, keys, outcome, seed)
            rows += _rows(records, group="all", outcome=outcome, method="extra_trees", rows_used=used, note=note)
    return pd.DataFrame(rows, columns=COLUMNS)


def top_parameters(table: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """The ``k`` parameters with the largest main index (ST, mu* or importance) per group and outcome.

    An outcome without indices (not estimable) gets its reason in ``top1``; an index flagged as outside
    [0, 1] beyond its interval is not ranked."""
    rows = []
    for (group, outcome), part in table.groupby(["group", "outcome"], sort=False):
        index = MAIN_INDEX[part["method"].iloc[0]]
        mine = part[part["index"] == index].dropna(subset=["value"])
        flagged = mine["note"].fillna("").str.contains("outside \\[0, 1\\]")
        best = mine[~flagged].sort_values("value", ascending=False).head(k)
        tops = {f"top{i + 1}": f"{r.parameter} ({r.value:.2f} ± {r.conf:.2f})" if np.isfinite(r.conf)
                else f"{r.parameter} ({r.value:.2f})" for i, r in enumerate(best.itertuples())}
        if mine.empty:
            reason = next((n for n in part["note"].fillna("") if n), "no indices")
            tops = {"top1": reason.split(";")[0] if reason.startswith("not estimable") else reason}
        rows.append({"group": group, "outcome": outcome, "index": index, **tops})
    return pd.DataFrame(rows)
