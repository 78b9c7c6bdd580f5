"""The rest of the registry: every setting of a run, a sweep, a scenario and a negotiator part that the
checked parameters (:data:`sim.config.parameters.PARAMETERS`) do not list, with what it means.

The checked parameters are the numbers the config compiler reads through the registry, with the bounds it
checks them against; their labels and bounds also name figure axes and fill ``docs/calibration.md``. The
settings here are the other leaves of a composed config: names and choices (an executor, a payoff model's
class), structured settings the compiler checks itself (an issue's range, a red line, a constituency), a
sweep's tables, and the numeric parameters of the negotiator parts (whose bounds the parts declare in their
``PARAMS``, :mod:`sim.config.components`). They are :class:`~sim.config.parameters.Parameter` objects as
well, so ``python -m sim run --help`` reads every key's meaning from one registry (:func:`describe`); the
compiler does not read them through it, so listing a setting here changes no check, label or table.

Kinds beyond the checked parameters': ``table`` (a mapping or list given whole, such as ``sweep.grid``:
its entries are the user's keys, not settings) and ``section`` (a group of settings that may be empty,
such as a side's ``red_lines``; when it is not, its own keys are described one by one).

Per-party, per-issue and per-part keys use placeholders as the checked parameters do: ``{party}`` (a party's
id), ``{issue}`` (an issue's name or a tag value), ``{group}`` (a constituency), ``{part}`` (``offering``,
``acceptance`` or ``opponent``), ``{tag}`` and ``{form}``.
"""

from __future__ import annotations

from sim.config.parameters import INF, Parameter, find, matcher

__all__ = ["RECORDS", "SETTINGS", "describe"]

RECORDS = ("facts", "positions", "calibration", "evidence")
"""Sections of a scenario that hold records (dated facts, stated positions, sources and priors, evidence),
not settings: each is described once, as a whole (``scenario.facts``...)."""


def _s(key: str, label: str, description: str, unit: str = "", kind: str = "text", lo: float = -INF,
       hi: float = INF) -> Parameter:
    return Parameter(key, label, unit, description, lo, hi, kind)


_RUN = [
    _s("run.name", "run name", "results land in results/<name>/<timestamp>/ (made unique)"),
    _s("run.executor", "executor", "local (concurrent.futures processes) | dask (Dask distributed)"),
    _s("run.dask_address", "Dask scheduler", "executor=dask: scheduler address (tcp://host:8786); null starts a "
       "local cluster"),
    _s("run.record_rounds", "recorded rounds", "per-round offers: all | none | N seeds per point | auto (all up to "
       "1000 worlds, else 1 seed per point)"),
    _s("run.progress", "progress bar", "progress bar: true | false | null = only on a terminal (plain log lines "
       "otherwise)"),
    _s("run.figure_formats", "figure formats", "figure files: any of png, svg, pdf (svg and pdf on request: they "
       "cost time)", kind="table"),
    _s("run.force_resume", "force resume", "resume a folder whose finished chunks another code version computed "
       "(mixes versions)", kind="flag"),
    _s("run.keep_parts", "keep parts", "keep the chunk parts (outcomes/, rounds/) after the merged tables are "
       "written and checked", kind="flag"),
    _s("run.confirm", "confirm", "start a sweep estimated to take over an hour without asking (needed when not on "
       "a terminal)", kind="flag"),
    _s("run.verbose", "verbose", "other libraries' INFO log lines (Dask's cluster, Mesa) on the terminal",
       kind="flag"),
]

_SWEEP = [
    _s("sweep.pairs", "strategy pairs", "strategy pairs to run, each [first party's, second party's] "
       "(conf/strategy/ names); empty: each party's selected strategy@PARTY", kind="table"),
    _s("sweep.grid", "grid", "config key -> list of values; the sweep runs the Cartesian product of the lists "
       "(times the pairs and the sampled points)", kind="table"),
    _s("sweep.sample.method", "sampling method", "none | lhs (Latin hypercube, scipy.stats.qmc) | random "
       "(uniform) | sobol | morris | fast (sensitivity designs via SALib; sim/config/designs.py) | prior (every "
       "key with a prior in scenario.calibration; sim/config/priors.py)"),
    _s("sweep.sample.n", "sampled points", "sampled points (sobol: base points, a power of 2, n x (2D + 2) rows; "
       "morris: trajectories, n x (D + 1) rows; fast: points per parameter > 64)", "points", "integer", 0),
    _s("sweep.sample.ranges", "sampled ranges", "config key -> [low, high] for the sampled points (integer keys "
       "sample whole numbers)", kind="table"),
    _s("forecast.source", "forecast source", "prior: every parameter of the ensemble from its prior; posterior: "
       "the calibrated ones from the posterior of python -m sim calibrate (docs/calibrate.md)"),
    _s("forecast.calibration", "calibration folder", "the calibration folder for forecast.source=posterior (null: "
       "calibrate as of scenario.as_of first)"),
]

_PROTOCOL = [
    _s("protocol.name", "protocol", "the protocol chosen (conf/protocol/NAME.yaml)"),
    _s("protocol._target_", "protocol class", "the class that runs it (built with hydra.utils.instantiate)"),
    _s("protocol.agenda", "agenda", "the protocol in force; sweep it with sweep.grid.protocol.agenda (a "
       "conf/protocol/ name)"),
    _s("protocol.opener", "opener", "the party proposing in round 1 (the scenario says who; override "
       "protocol.opener=ID)"),
]

_PARTS = [
    _s("{party}.{part}.name", "{party} {part}", "the option chosen for this part of the party's negotiator "
       "(conf/strategy/, conf/acceptance/ or conf/opponent/ NAME.yaml)"),
    _s("{party}.{part}._target_", "{party} {part} class", "the class that plays this part (built with "
       "hydra.utils.instantiate; its PARAMS give each parameter's bounds)"),
    _s("{party}.{part}.per_issue", "{party} {part} per issue", "parameters set per issue (issue name or tag "
       "value), e.g. per_issue: {beta: {steel: 0.1}}", kind="table"),
    _s("{party}.offering.beta", "{party} concession exponent", "concession exponent of the time-dependent tactic: "
       "below 1 holds near the opening offer and concedes late (Boulware), above 1 concedes early (Conceder)",
       "exponent", "number"),
    _s("{party}.offering.kappa", "{party} opening concession", "share of its room conceded at the start (Faratin "
       "kappa; tit-for-tat: its first, cooperative move)", "share", "number"),
    _s("{party}.offering.hold", "{party} hold", "share of its own time it holds firm at kappa before conceding",
       "share", "number"),
    _s("{party}.offering.reciprocity", "{party} reciprocity", "how much of the other side's concession it "
       "returns (1: the same share of its own room)", "ratio", "number"),
    _s("{party}.offering.finite_horizon", "{party} finite horizon", "1: subgame-perfect play with a hard final "
       "round (Stahl); 0: the infinite-horizon split (Rubinstein)", "flag", "number"),
    _s("{party}.acceptance.alpha", "{party} acceptance alpha", "AC_next: weight on the offer's utility (alpha * "
       "u(offer) + beta >= delta * u(next offer)); AC_const: the utility it accepts at or above", "utility",
       "number"),
    _s("{party}.acceptance.beta", "{party} acceptance beta", "AC_next: added to the offer's weighted utility "
       "before it is compared with one's next offer", "utility", "number"),
    _s("{party}.acceptance.T", "{party} acceptance time", "share of its own time after which it accepts (AC_time) "
       "or also takes the best recent offer (AC_combi)", "share", "number"),
    _s("{party}.acceptance.W", "{party} acceptance window", "AC_combi: the rounds it responded in whose best offer "
       "it compares with", "rounds", "number"),
    _s("{party}.opponent.learning_rate", "{party} learning rate", "frequency model: how much an issue's weight "
       "grows per offer, times how far it is still held in the other side's favour", "per offer", "number"),
    _s("{party}.opponent.hypotheses", "{party} hypotheses", "Bayesian model: weight vectors in the posterior "
       "(equal weights and flat-Dirichlet draws)", "hypotheses", "number"),
    _s("{party}.opponent.rationality", "{party} rationality", "Bayesian model: how sharply a hypothesis loses "
       "weight with its regret, exp(-rationality * regret)", "per utility", "number"),
]

_SCENARIO = [
    _s("scenario.name", "scenario", "the scenario chosen (conf/scenario/NAME.yaml)"),
    _s("scenario.parties.{party}.name", "{party} name", "the party's display name (its id is the key: config "
       "keys, output columns), in the order of the output columns"),
    _s("scenario.opener", "opener", "the party proposing in round 1 (protocol.opener reads it)"),
    _s("scenario.stages", "stages", "stages of a staged agenda (protocol=sequential or linked): a tag to group "
       "the issues by, in order of first appearance, or a list of stages of issue names or tag values, e.g. "
       "[[autos], [steel]]", kind="table"),
    _s("scenario.escalation_issue", "escalating issue", "the issue that escalates at the final deadline without a "
       "deal (by scenario.escalation); null: none"),
    _s("scenario.schedule", "no-deal schedule", "tariff changes and threats that apply without a deal from a date, "
       "moving both sides' reservation values from the day they are announced (scenario.replay=true schedules the "
       "documented ones, from facts): [{issue, value, effective: YYYY-MM-DD, announced: YYYY-MM-DD, kind: "
       "change|threat, note}]", kind="table"),
    _s("scenario.as_of", "vantage date", "forecast from a vantage date (YYYY-MM-DD; sim/config/as_of.py): the run "
       "sees only the facts known on or before it (tariffs in force and changes announced, the deadline as then "
       "known, the positions stated so far) and the talks start in the first round on or after it; null: the "
       "scenario as written. python -m sim run +experiment=forecast scenario.as_of=YYYY-MM-DD", "date"),
    _s("scenario.replay", "replay", "true replays the dated record from the talks' start: each tariff starts from "
       "its value in force at round 1 and every later value applies on its date, announced on the day it became "
       "known", kind="flag"),
    _s("scenario.issues.{issue}.grantor", "{issue} grantor", "the party whose concession the issue is"),
    _s("scenario.issues.{issue}.unit", "{issue} unit", "unit of the issue's value (pp for a tariff, USD bn for a "
       "pledge, USD bn/yr for yearly purchases)"),
    _s("scenario.issues.{issue}.title", "{issue} title", "a readable title for tables and figures"),
    _s("scenario.issues.{issue}.status_quo", "{issue} status quo", "the value in force when the talks open (and "
       "without a deal)", kind="number"),
    _s("scenario.issues.{issue}.min", "{issue} range min", "the lowest value on the table", kind="number"),
    _s("scenario.issues.{issue}.max", "{issue} range max", "the highest value on the table", kind="number"),
    _s("scenario.issues.{issue}.negotiable", "{issue} on the table", "false takes the issue off the table: it "
       "stays at its status quo", kind="flag"),
    _s("scenario.issues.{issue}.tags", "{issue} tags", "what the issue is (kind: tariff | investment | purchase; "
       "a tariff's flow: the exports it taxes; a pledge's form) and how it groups (sector, chapter...)",
       kind="table"),
    _s("scenario.payoff.model._target_", "payoff model", "the payoff model's class: sim.config.payoffs.Trade "
       "(payoffs from the stakes; sim/domain/payoffs/tariffs.py) or sim.config.payoffs.Linear (a weight per unit "
       "of each issue)"),
    _s("scenario.payoff.importer", "importer", "the party levying the tariffs"),
    _s("scenario.payoff.exporter", "exporter", "the party whose exports they tax, offering investment and "
       "purchases"),
    _s("scenario.payoff.weights.{party}.{issue}", "{party} weight of {issue}", "linear payoff model: the party's "
       "payoff per unit of the issue", "per unit", "number"),
    _s("scenario.ratification.{party}.threshold_changes", "{party} threshold changes", "dated changes of the "
       "ratification threshold: [{date: YYYY-MM-DD, threshold}]", kind="table"),
    _s("scenario.ratification.{party}.constituencies", "{party} constituencies", "the groups that must approve "
       "an agreement (Putnam 1988): none listed, none asked", kind="section"),
    _s("scenario.ratification.{party}.constituencies.{group}.weight", "{party} {group} weight", "the "
       "constituency's weight in its side's approval", "share", "number"),
    _s("scenario.ratification.{party}.constituencies.{group}.issues", "{party} {group} issues", "the issues it "
       "judges an agreement by", kind="table"),
    _s("scenario.ratification.{party}.constituencies.{group}.interest", "{party} {group} interest", "producer: "
       "its side's payoff terms on its issues; consumer: the importer's consumers' price costs"),
    _s("scenario.sides.{party}.refuses", "{party} refuses", "agendas it will not negotiate under (package, "
       "sequential, linked)", kind="table"),
    _s("scenario.sides.{party}.off_table", "{party} off the table", "issues this side refuses to negotiate (kept "
       "at their status quo)", kind="table"),
    _s("scenario.sides.{party}.firmness", "{party} firmness", "firmness per issue (issue name or tag value); "
       "empty: every issue alike", kind="section"),
    _s("scenario.sides.{party}.firmness.{issue}", "{party} firmness on {issue}", "a line offer concedes alpha ** "
       "e of the way on this issue where it concedes alpha elsewhere (e > 1: holds it harder; 1: as any issue)",
       "exponent", "number"),
    _s("scenario.sides.{party}.red_lines", "{party} red lines", "bounds it does not cross, in offers or in what it "
       "accepts, per issue; empty: none", kind="section"),
    _s("scenario.sides.{party}.red_lines.{issue}.min", "{party} red line on {issue} (min)", "the lowest value of "
       "the issue it offers or accepts", kind="number"),
    _s("scenario.sides.{party}.red_lines.{issue}.max", "{party} red line on {issue} (max)", "the highest value of "
       "the issue it offers or accepts", kind="number"),
    _s("scenario.sides.{party}.red_lines.{issue}.strength", "{party} red line on {issue} (strength)", "probability "
       "that the line holds in a world (drawn once per world; 1 = a hard line, the default)", "probability",
       "number", 0.0, 1.0),
    *(_s(f"scenario.{record}", record, text, kind="table") for record, text in (
        ("facts", "dated facts: the tariffs over time, the deadline as announced over time and the meetings on the "
         "record, each with the date it became known (read by scenario.as_of and scenario.replay)"),
        ("positions", "each side's stated positions with the date stated (kind: min | max | refuses | off_table); "
         "they apply only from a vantage date on or after it"),
        ("calibration", "where every number comes from: per full config key its source, tag (DOMAIN | SEED | "
         "PAPER | STATEMENT | DERIVED | ASSUMPTION) and prior {dist: uniform|triangular, lo, hi, mode} "
         "(python -m sim calibration, docs/calibration.md); the engine never reads it"),
        ("evidence", "evidence the calibration table sets the model against (no-deal GDP losses, pass-through "
         "studies); the engine never reads it"))),
]

_CALIBRATE = [  # conf/inference/calibrate.yaml: python -m sim calibrate / backtest [calibrate.KEY=VALUE ...]
    _s("calibrate.cases", "panel cases", "the panel: the scenarios whose announced arrangements are observations; "
       "only these are ever calibrated on (never a forecast case)", kind="table"),
    _s("calibrate.shared", "shared parameters", "the fitted parameters shared by every case (the importer's "
       "objectives, the pass-through)", kind="table"),
    _s("calibrate.per_case", "per-case parameters", "the fitted parameters of each case ({exporter}: the case's "
       "exporter id)", kind="table"),
    _s("calibrate.particles", "particles", "ABC-SMC: accepted particles per generation (and worlds per simulator "
       "batch)", "particles", "integer", 1),
    _s("calibrate.generations", "generations", "ABC-SMC: generations after the prior sample", "generations",
       "integer", 0),
    _s("calibrate.quantile", "threshold quantile", "ABC-SMC: each distance threshold is this quantile of the "
       "previous generation's distances", "share", "number", 0.0, 1.0),
    _s("calibrate.moves", "MCMC moves", "ABC-MCMC steps per replenished particle and generation", "steps",
       "integer", 0),
    _s("calibrate.seed", "calibration seed", "the same seed gives the same posterior.parquet", "", "integer", 0),
    _s("calibrate.max_rounds", "panel horizon", "protocol.max_rounds of the panel cases' worlds", "rounds",
       "integer", 2),
    _s("calibrate.chunk_size", "calibration chunk", "worlds per chunk of a simulator batch on the runner (a "
       "worker's task; the posterior does not depend on it)", "worlds", "integer", 1),
    _s("calibrate.workers", "calibration workers", "worker processes of the runner (null: this machine's cores, "
       "fewer for small batches); on the command line run.workers=N", "processes", "integer", 1),
    _s("calibrate.executor", "calibration executor", "local (processes on this machine) | dask (Dask "
       "distributed); on the command line run.executor=..."),
    _s("calibrate.dask_address", "calibration Dask scheduler", "executor=dask: scheduler address "
       "(tcp://host:8786); null starts a local cluster for the calibration; on the command line "
       "run.dask_address=..."),
]

SETTINGS: dict[str, Parameter] = {p.key: p for p in _RUN + _SWEEP + _PROTOCOL + _SCENARIO + _PARTS + _CALIBRATE}
"""Every setting the checked parameters do not list, by key (placeholders as in the registry)."""

_find_setting = matcher(SETTINGS)


def describe(key: str) -> tuple[Parameter, dict[str, str]] | None:
    """The registry entry that describes a concrete key (a checked parameter's first, then a setting's), with
    its placeholders' values, or ``None`` for a key the registry does not know."""
    return find(key) or _find_setting(key)
