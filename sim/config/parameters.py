"""The parameter registry: every scalar setting of a scenario and a run, as an object.

As in EMA Workbench, a parameter is an object with a key, a label, a unit, bounds and a one-line
description. The config compiler reads and checks values through it (so the bounds in an error
message are the registry's), and ``python -m sim run --help``, figure axis labels and the output
codebook read their words from it. Per-party keys are written with ``{party}`` in place of the
party's id (``scenario.sides.{party}.delay_cost``); :func:`find` matches a concrete key to its entry
(``{item}`` stands for a purchase item, ``{flow}`` for a tariff's export flow).

A parameter of a scenario also carries its calibration: where its value comes from (:class:`Source`)
and its :class:`Prior`. The registry gives every parameter's label, unit and bounds; a scenario's
``calibration`` block gives, per concrete key, the source and prior (:func:`sim.config.calibration.calibration_entries`
returns them as :class:`Parameter` objects of the registry, :meth:`Parameter.calibrated`). The priors an
ensemble or a sensitivity design draws from are the same objects (:mod:`sim.config.priors`).

Structured settings (issues, the schedule, red lines, constituencies) are checked by the compiler
itself (:mod:`sim.config.scenario`), since their bounds depend on one another.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sim.config.values import MISSING, ConfigError, Tree, check_number, get, lookup

__all__ = ["DISTS", "PARAMETERS", "TAGS", "Parameter", "Prior", "Source", "find", "label", "parameter"]

if TYPE_CHECKING:
    import numpy as np

INF = math.inf
TAGS = ("DOMAIN", "SEED", "PAPER", "STATEMENT", "DERIVED", "ASSUMPTION")
DISTS = ("uniform", "triangular")


@dataclass(frozen=True)
class Prior:
    """A prior over a parameter: uniform on ``[lo, hi]`` or triangular with its ``mode``.

    Attributes:
        dist: ``uniform`` or ``triangular``.
        lo, hi: Its support.
        mode: The triangular prior's mode (``None`` for a uniform one).
    """

    dist: str
    lo: float
    hi: float
    mode: float | None = None

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in ``[lo, hi]``."""
        return self.lo <= value <= self.hi

    def describe(self) -> str:
        """``uniform [lo, hi]`` or ``triangular [lo, mode, hi]``."""
        if self.dist == "triangular":
            return f"triangular [{self.lo:g}, {self.mode:g}, {self.hi:g}]"
        return f"uniform [{self.lo:g}, {self.hi:g}]"

    def piece_cut(self) -> float:
        """Where :meth:`quantile` changes formula (it never decreases on each side of it): a triangular prior's
        ``(mode - lo) / (hi - lo)`` (``u < c`` and ``u >= c``); 0 for a uniform prior (one piece)."""
        if self.dist == "uniform":
            return 0.0
        mode = self.lo if self.mode is None else self.mode
        return (mode - self.lo) / (self.hi - self.lo)

    def quantile(self, u: np.ndarray, integer: bool = False) -> np.ndarray:
        """The prior's quantile function at ``u`` in [0, 1) (inverse transform sampling).

        With ``integer`` (a key holding an integer) a uniform prior makes every integer of ``[lo, hi]``
        equally likely and a triangular draw is rounded.
        """
        import numpy as np  # here: the registry is read by the quick ``run --help``, which imports no NumPy

        lo, hi = self.lo, self.hi
        if self.dist == "uniform":
            if integer:
                return np.minimum(np.floor(lo + u * (hi - lo + 1.0)), hi)
            return lo + u * (hi - lo)
        mode = lo if self.mode is None else self.mode
        c = self.piece_cut()
        x = np.where(u < c, lo + np.sqrt(u * (hi - lo) * (mode - lo)),
                     hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mode)))
        return np.round(x) if integer else x


@dataclass(frozen=True)
class Source:
    """Where a value comes from: the text (a DOMAIN row, seed, paper or public statement, with its date)
    and its tag (one of :data:`TAGS`)."""

    text: str
    tag: str


@dataclass(frozen=True)
class Parameter:
    """One setting.

    Attributes:
        key: Dotted config key (``{party}`` stands for a party id).
        label: Short label, for figure axes and tables.
        unit: Unit of the value (``pp``, ``rounds``, ``USD bn``, ``share``...), or ``""``.
        description: One line: what it is, for ``run --help`` and the codebook.
        lo: Lowest allowed value (numbers).
        hi: Highest allowed value (numbers).
        kind: ``number``, ``integer``, ``probability``, ``money``, ``flag`` or ``text``.
        prior: Its prior in a scenario (``None`` for an exact fact or a setting of a run).
        default: The value when a config does not give it (a negotiator part's parameter), or ``None``.
        source: Where a scenario's value comes from (``None`` outside a calibration block).
    """

    key: str
    label: str
    unit: str
    description: str
    lo: float = -INF
    hi: float = INF
    kind: str = "number"
    prior: Prior | None = None
    source: Source | None = None
    default: Any = None

    @property
    def tag(self) -> str:
        """The tag of its source (``DOMAIN``, ..., ``ASSUMPTION``), or ``""`` without one."""
        return "" if self.source is None else self.source.tag

    @property
    def integer(self) -> bool:
        """Whether the value is a whole number (its draws are whole numbers)."""
        return self.kind == "integer"

    def calibrated(self, key: str, source: Source | None, prior: Prior | None, integer: bool | None = None
                   ) -> Parameter:
        """This parameter at the concrete ``key``, with a scenario's source and prior.

        ``integer`` overrides the kind where the registry does not know it (a key it does not list).
        """
        kind = self.kind if integer is None else ("integer" if integer else
                                                 ("number" if self.kind == "integer" else self.kind))
        return replace(self, key=key, source=source, prior=prior, kind=kind)

    def key_for(self, party: str | None = None) -> str:
        """The concrete key (for a per-party parameter, with the party's id)."""
        return self.key if party is None else self.key.replace("{party}", party)

    def read(self, cfg: Tree, party: str | None = None, *, lo: float | None = None, hi: float | None = None,
             what: str | None = None, default: Any = MISSING) -> Any:
        """Read and check the value in ``cfg``; ``lo``/``hi`` narrow the bounds where they depend on
        other values; ``default`` is used when the key is absent (else absent is an error)."""
        key = self.key_for(party)
        if default is not MISSING and lookup(cfg, key) is MISSING:
            return default
        value = get(cfg, key)
        if self.kind == "flag":
            if not isinstance(value, bool):
                raise ConfigError(key, f"must be true or false, got {value!r}")
            return value
        if self.kind == "text":
            return value
        lo = (0.0 if self.kind in ("probability", "money") else self.lo) if lo is None else lo
        hi = (1.0 if self.kind == "probability" else self.hi) if hi is None else hi
        if what is None:
            what = {"probability": " (a probability)",
                    "money": f" ({self.unit}; money amounts cannot be negative)"}.get(
                self.kind, f" ({self.unit})" if self.unit else "")
        return check_number(value, key, lo, hi, integer=self.kind == "integer", what=what)


_P = Parameter
PARAMETERS: dict[str, Parameter] = {p.key: p for p in [
    # -- the talks ------------------------------------------------------------------------------
    _P("scenario.deadline.round", "deadline (round)", "rounds", "the talks' announced deadline, as a round", 1,
       10_000, "integer"),
    _P("scenario.deadline.extension.probability", "extension probability", "share",
       "probability that the deadline is extended once (revealed at the deadline)", kind="probability"),
    _P("scenario.deadline.extension.rounds", "extension (rounds)", "rounds", "length of the extension", 0,
       10_000, "integer"),
    _P("scenario.escalation", "escalation (pp)", "pp",
       "rise of the escalating tariff at the final deadline without a deal", 0, INF),
    _P("scenario.breakdown_risk", "breakdown risk", "probability per round",
       "per-round probability that the talks collapse for reasons outside the model", kind="probability"),
    _P("scenario.valuation_rounds", "valuation window (rounds)", "rounds",
       "rounds over which a party values the no-deal path (its reservation value)", 1, 10_000, "integer"),
    _P("scenario.calendar.start_date", "start date", "date", "calendar date of round 1 (YYYY-MM-DD)", kind="text"),
    _P("scenario.calendar.round_days", "days per round", "days", "days between rounds", 1, 366, "integer"),
    _P("protocol.max_rounds", "horizon (rounds)", "rounds", "no round runs beyond it", 2, 10_000, "integer"),
    # -- each party ------------------------------------------------------------------------------
    _P("scenario.sides.{party}.deadline", "{party} deadline (round)", "rounds",
       "the party's own deadline; null: the talks' deadline", 1, 10_000, "integer"),
    _P("scenario.sides.{party}.deadline_private", "{party} deadline private", "flag",
       "whether the other side does not know the party's own deadline", kind="flag"),
    _P("scenario.sides.{party}.delay_cost", "{party} delay cost", "USD bn per round",
       "cost of one more round of talks, subtracted from the recorded payoff", kind="money"),
    _P("scenario.sides.{party}.discount", "{party} discount factor", "per round",
       "discount factor on the value of agreement per round (1 = none)", 1e-9, 1.0),
    _P("scenario.sides.{party}.concession_noise", "{party} concession noise", "s.d.",
       "s.d. of the noise on each concession level, per round and issue", 0.0, 1.0),
    _P("scenario.sides.{party}.belief_noise.deadline", "{party} deadline belief noise", "s.d. in rounds",
       "s.d. of the party's prior on the other side's private deadline", 0.0, 10_000),
    _P("scenario.sides.{party}.belief_noise.reservation", "{party} reservation belief noise", "s.d. in utility",
       "s.d. of the party's prior on the other side's reservation value", 0.0, 1.0),
    _P("scenario.sides.{party}.walk_away", "{party} may walk away", "flag",
       "whether the party walks away when it believes no package satisfies both", kind="flag"),
    _P("scenario.ratification.{party}.threshold", "{party} ratification threshold (approval)", "approval",
       "weighted approval the party's constituencies need to ratify (0: no ratification)", 0.0, 1.0),
    _P("scenario.ratification.{party}.knows_win_set", "{party} knows its win-set", "flag",
       "whether its negotiator proposes and accepts nothing its constituencies would reject", kind="flag"),
    # -- the tariff payoff model: the incidence of a tariff, shared by both sides ---------------------
    _P("scenario.payoff.pass_through", "pass-through", "share",
       "share of each tariff borne by the importer's buyers (phi); the exporter bears 1 - phi", 0.0, 1.0),
    # -- the exporter's weights -----------------------------------------------------------------------
    _P("scenario.payoff.{party}.investment_years", "{party} investment years", "years",
       "years over which an investment pledge is spread", 1e-9, 1000.0),
    _P("scenario.payoff.{party}.investment_cost", "{party} investment cost", "per USD",
       "net cost to the exporter per USD invested", 0.0, 10.0),
    _P("scenario.payoff.{party}.purchase_cost.{item}", "{party} cost of {item}", "per USD",
       "net cost to the exporter per USD of extra purchases a year", 0.0, 10.0),
    # -- ... and the importer's ---------------------------------------------------------------------
    _P("scenario.payoff.{party}.revenue_weight", "{party} revenue weight", "per USD",
       "value to the importer of a USD of tariff revenue", 0.0, 10.0),
    _P("scenario.payoff.{party}.consumer_cost_weight", "{party} consumer cost weight", "per USD",
       "weight the importer gives its consumers' price costs", 0.0, 10.0),
    _P("scenario.payoff.{party}.investment_value", "{party} investment value", "per USD",
       "value to the importer per USD of investment a year", 0.0, 10.0),
    _P("scenario.payoff.{party}.purchase_value", "{party} purchase value", "per USD",
       "value to the importer per USD of purchases", 0.0, 10.0),
    # -- volumes, two-way tariffs and pledges (sim/domain/payoffs/tariffs.py) ---------------------------
    _P("scenario.payoff.{party}.lost_sales_margin", "{party} margin on lost sales", "per USD",
       "the party's loss per USD of export sales a tariff removes (value added not redeployed)", 0.0, 1.0),
    _P("scenario.payoff.{party}.market_access_weight", "{party} market-access weight", "per USD",
       "value to the importer of a USD of its exporters' payoff on the other side's market", 0.0, 10.0),
    _P("scenario.payoff.{party}.headline_value", "{party} headline value", "per USD",
       "value to the importer of a USD of a pledge's headline, delivered or not", 0.0, 10.0),
    _P("scenario.payoff.pledges.{form}.delivery", "delivery share: {form}", "share",
       "expected share of a pledge's headline that is delivered, by the pledge's form", 0.0, 2.0),
    _P("scenario.payoff.pledges.{form}.cost", "cost share: {form}", "per USD",
       "the pledging side's net cost per USD delivered, by the pledge's form", 0.0, 10.0),
    _P("scenario.stakes.importer_exports_usd_bn.{flow}", "importer's exports hit: {flow}", "USD bn/yr",
       "the importer's yearly exports to the exporter taxed by the exporter's tariffs on this flow", kind="money"),
    _P("scenario.stakes.elasticity.{flow}", "trade elasticity: {flow}", "elasticity",
       "fall of the flow's value per unit of log(1 + tariff): the flow is V (1 + t/100)^-elasticity", 0.0, 20.0),
    _P("scenario.payoff.disagreement.{party}", "{party} disagreement utility", "utility",
       "the pie split's utility of no deal", 0.0, 1.0),
    # -- the stakes of the tariff payoff model (currency-neutral, USD) ---------------------------------
    _P("scenario.stakes.exports_usd_bn.{flow}", "exports hit: {flow}", "USD bn/yr",
       "the exporter's yearly exports to the importer taxed by the tariffs on this flow", kind="money"),
    _P("scenario.stakes.surplus_usd_bn", "trade surplus", "USD bn/yr",
       "the exporter's goods trade surplus with the importer", kind="money"),
    _P("scenario.stakes.domestic_vehicles_m", "exporter-brand vehicles built in importer", "million vehicles/yr",
       "the exporter's brands' vehicles built in the importer's country a year (car price effect)", kind="money"),
    _P("scenario.stakes.price_effect_usd_per_vehicle", "car price effect", "USD per vehicle",
       "price rise of a domestically built car caused by the vehicle tariff at price_effect_at_pp", kind="money"),
    _P("scenario.stakes.price_effect_at_pp", "price effect at (pp)", "pp",
       "the vehicle tariff surcharge at which the price effect was estimated", 1e-9, 1000.0),
    # -- a run ------------------------------------------------------------------------------------------
    _P("run.seeds", "seeds", "negotiations", "replications per grid point", 1, 10**9, "integer"),
    _P("run.seed", "root seed", "", "the run's root seed; each world's seed derives from it", 0, 2**63 - 1,
       "integer"),
    _P("run.chunk_size", "chunk size", "worlds", "most worlds in one batched model run and one Parquet part",
       1, 10**8, "integer"),
    _P("run.workers", "workers", "processes", "parallel worker processes; null: this machine's cores", 1, 4096,
       "integer"),
    _P("run.common_random_numbers", "common random numbers", "flag",
       "whether the same seed index draws the same noise at every grid point", kind="flag"),
    _P("run.plot", "plot", "flag", "draw the figures at the end of the run", kind="flag"),
]}


def _pattern(template: str) -> re.Pattern:
    """A key template as a pattern over concrete keys: each ``{name}`` matches one key segment."""
    escaped = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^.]+)", re.escape(template))
    return re.compile(f"^{escaped}$")


def matcher(table: dict[str, Parameter]):
    """A function finding the entry of ``table`` a concrete key matches, with its placeholders' values (the
    first entry in the table's order that matches)."""
    patterns = [(_pattern(k), p) for k, p in table.items()]

    def match(key: str) -> tuple[Parameter, dict[str, str]] | None:
        for pattern, entry in patterns:
            found = pattern.match(key)
            if found:
                return entry, found.groupdict()
        return None

    return match


find = matcher(PARAMETERS)
"""The registry entry of a concrete key, with the values of its placeholders (``party``, ``item``), or ``None``."""


def parameter(key: str) -> Parameter:
    """The parameter of a concrete key: the registry's entry with its placeholders filled, or, for a key the
    registry does not list (an issue's range, a constituency's weight, a part's parameter), a plain number
    labelled from the key."""
    found = find(key)
    if found is None:
        return Parameter(key, key.split(".")[-1].replace("_", " "), "", "")
    base, values = found
    text = base.label
    for placeholder, value in values.items():
        text = text.replace("{" + placeholder + "}", value)
    return replace(base, key=key, label=text)


def label(key: str, names: dict[str, str] | None = None) -> str:
    """A label for a config key (e.g. a swept column): the registry's, with the party's display name."""
    found = find(key)
    if found is None:
        return key.split(".")[-1].replace("_", " ")
    parameter, values = found
    text = parameter.label
    for placeholder, value in values.items():
        shown = (names or {}).get(value, value) if placeholder == "party" else value
        text = text.replace("{" + placeholder + "}", shown)
    return text


def read(cfg: Tree, key: str, party: str | None = None, **kwargs: Any) -> Any:
    """Read ``key`` (a registry key, ``{party}`` filled with ``party``) through its registry entry."""
    return PARAMETERS[key].read(cfg, party, **kwargs)
