"""The output columns of a run, declared once: name, unit and meaning of every column of ``outcomes.parquet``,
``rounds.parquet`` and ``summary.csv`` (the dtype is the one the engine computes, recorded by Parquet).

The runner writes these entries into the Parquet files as field metadata (keys ``unit``, ``meaning``
and, for a swept config key, ``config_key``); :mod:`sim.report.codebook` renders them as
``docs/codebook.md``.

Some columns depend on the run: one column per issue of the scenario's outcome space (its unit is
the issue's own, ``pp`` for a tariff, ``USD bn`` or ``USD bn/yr`` for a package item), one column per
swept config key, named by :func:`sim.config.sweep.column_name` (``scenario.deadline.round`` ->
``deadline_round``; its ``config_key`` metadata names the key), and the per-party columns, named after the
scenario's party ids (``<party>_utility``). A swept key whose column would repeat another column's name
is refused (:class:`~sim.config.values.ConfigError`, before the run).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.sweep import column_name
from sim.config.values import ConfigError
from sim.domain.outcome_space import OutcomeSpace

__all__ = ["ISSUE", "PARTY", "SWEPT", "Entry", "field_metadata", "outcome_entries", "round_entries",
           "summary_entries", "table_entries"]


@dataclass(frozen=True)
class Entry:
    """One column: its name, unit (``-`` for none) and meaning; ``config_key`` for a swept key."""

    name: str
    unit: str
    meaning: str
    config_key: str | None = None


ISSUE = "{issue}"  # placeholder: one column per issue
SWEPT = "{swept}"  # placeholder: one column per swept config key
PARTY = "{party}"  # placeholder: one column per party (its id), "{name}" in a meaning: its display name

_IDENTITY = [
    Entry("world", "-", "negotiation number in the run: grid point index × run.seeds + seed_index"),
    Entry("seed", "-", "the negotiation's own seed, derived from run.seed and its coordinates (sim/engine/streams.py)"),
    Entry("seed_index", "-", "replication number at its grid point, 0 … run.seeds − 1"),
]
_POINT = [
    Entry(f"{PARTY}_strategy", "-", "{name}'s negotiator: its strategy (conf/strategy/NAME.yaml)", "strategy@{party}"),
    Entry("agenda", "-", "how the issues are negotiated: package, sequential or linked", "protocol.agenda"),
    Entry(SWEPT, "that key's unit", "value of a swept config key at this grid point; the column is named after "
                                    "the key by the rule below"),
    Entry("constraints", "-", "the constraints in force: issues off the table, red lines ('none' without any)"),
]
_OUTCOME = [
    Entry("deal", "-", "true if the talks ended in an agreement on the whole package"),
    Entry("partial_deal", "-", "true if sequential talks stopped with some stages agreed: those stay in force"),
    Entry("stages_agreed", "stages", "agenda stages agreed (all of them for a deal)"),
    Entry("defections", "count", "involuntary defections: tentative agreements a side's constituencies rejected"),
    Entry("end_round", "round", "round in which the talks ended (round 1, the first offer, is on the scenario's "
                                "start date, 16 April 2025 by default; rounds 7 days apart by default)"),
    Entry("end_date", "date", "calendar date of end_round"),
    Entry("end_reason", "-", "agreement, walk-away, deadline (the final deadline passed), breakdown (random), or "
                             "refused protocol"),
    Entry("deadline", "round", "the talks' deadline as scheduled (scenario.deadline.round), before any extension"),
    Entry("deadline_extended", "-", "true if the deadline was extended once when it was reached "
                                    "(probability scenario.deadline.extension.probability)"),
    Entry("final_deadline", "round", "the last round of talks: deadline, plus the extension's rounds if "
                                     "deadline_extended; a no-deal escalation applies from it"),
    Entry(ISSUE, "the issue's unit", "agreed value of the issue (pp for a tariff, USD bn or USD bn/yr for a "
                                     "package item); in a partial deal the agreed stages' values and, on the "
                                     "issues not agreed, the value in force in the end round; null without a "
                                     "deal"),
    Entry(ISSUE + "_at_bound", "-", "for a deal, whether the agreed value of the issue sits on a bound of its "
                                    "range (scenario.issues.<issue>.min / max): -1 at the min, 1 at the max, 0 "
                                    "inside; 0 without a deal"),
    Entry("terms_at_bound", "count", "for a deal, the number of issues whose agreed value sits on a range bound "
                                     "(0 without a deal)"),
    Entry("red_line_binding", "-", "true if the deal sits on a red line of either party"),
    Entry("zopa", "-", "true if there is a zone of agreement: a package within both parties' red lines that both "
                       "prefer to no deal, by their true utilities at the final deadline (ratification not "
                       "considered)"),
]
_SIDE = [
    ("payoff", "USD bn/yr", ("{side}'s payoff: yearly value of the package in force (or of the no-deal path), "
                             "minus its delay cost for every round of talks")),
    ("utility", "0-1", ("{side}'s normalised utility of the outcome, excluding delay costs (its reservation "
                        "utility without a deal)")),
    ("reservation_utility", "0-1", ("{side}'s reservation value in the end round: utility of no deal valued "
                                    "over the next scenario.valuation_rounds rounds")),
    ("approval", "0-1", ("{side}'s domestic approval of the final package: weighted share of the best its "
                         "constituencies could get (null without a settlement)")),
]
_METRICS = [
    Entry(f"{PARTY}_advantage", "utility", "{name}'s utility above its reservation value "
                                           "(<party>_utility − <party>_reservation_utility)"),
    Entry("welfare", "utility", "joint welfare: the sum of both parties' utilities"),
    Entry("agreement_time", "share", "end_round / final_deadline for a deal (null without one): 1 = agreed in the "
                                     "last round"),
    Entry("individually_rational", "-", "true if a deal gives each side at least its reservation value"),
    Entry("pareto_dist", "utility", "Euclidean distance in utility space to the rational Pareto frontier"),
    Entry("nash_dist", "utility", "Euclidean distance in utility space to the Nash bargaining solution"),
    Entry("kalai_dist", "utility", "Euclidean distance in utility space to the Kalai–Smorodinsky point"),
]
_ROUND = [
    Entry("world", "-", "the negotiation (joins outcomes.parquet on world)"),
    Entry("round", "round", "round number (round 1 on the scenario's start date; rounds 7 days apart by default)"),
    Entry("date", "date", "calendar date of the round"),
    Entry("proposer", "-", "the party making the offer (its id)"),
    Entry("response", "-", "what the other side did: counter, accept, walk-away; or deadline / breakdown when the "
                           "talks ended in this round for that reason"),
    Entry(f"{PARTY}_utility", "0-1", "the offer's normalised utility to {name}"),
    Entry(ISSUE, "the issue's unit", "value of the issue in the offer"),
]
_SUMMARY = [
    Entry("runs", "count", "negotiations at the grid point"),
    Entry("deals", "count", "negotiations that ended in a deal"),
    Entry("deal_rate", "share", "deals / runs"),
    Entry("deal_rate_low", "share", "lower bound of the 95 % Wilson score interval of deal_rate"),
    Entry("deal_rate_high", "share", "upper bound of the 95 % Wilson score interval of deal_rate"),
    Entry("zopa_runs", "count", "negotiations with a zone of agreement (zopa)"),
    Entry("deal_rate_zopa", "share", "deals / runs among the negotiations with a zone of agreement (null without "
                                     "any)"),
    *(Entry(f"ended_{reason}", "count", f"negotiations that ended by {reason.replace('_', ' ')}")
      for reason in ("agreement", "walk_away", "deadline", "breakdown", "refused_protocol")),
    Entry("partial_deals", "count", "negotiations whose agreed stages stay in force without a full deal"),
    Entry("median_round", "round", "median end_round of the deals (null without any)"),
    Entry("median_" + ISSUE, "the issue's unit", "median agreed value of the issue over the deals"),
    Entry(f"median_{PARTY}_utility", "0-1", "median utility to {name} over all negotiations (no deal at its "
                                            "reservation value)"),
    Entry(f"median_{PARTY}_payoff", "USD bn/yr", "median payoff to {name} over all negotiations"),
    Entry("median_welfare", "utility", "median joint welfare over all negotiations"),
]


def _sides() -> list[Entry]:
    return [Entry(f"{PARTY}_{name}", unit, text.format(side="{name}")) for name, unit, text in _SIDE]


def _expand(template: list[Entry], space: OutcomeSpace | None, swept: list[str] | None,
            parties: list[tuple[str, str]]) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for e in template:
        if PARTY in e.name:  # one column per party, in scenario order
            for pid, name in parties:
                column = e.name.replace(PARTY, pid)
                out[column] = Entry(column, e.unit, e.meaning.replace("{name}", name).replace("<party>", pid),
                                    e.config_key.replace(PARTY, pid) if e.config_key else None)
        elif ISSUE in e.name and space is None:  # the document: one generic row
            out[e.name] = e
        elif e.name == SWEPT and swept is None:
            out[e.name] = e
        elif ISSUE in e.name:
            for issue in space.issues:
                out[e.name.replace(ISSUE, issue.name)] = Entry(e.name.replace(ISSUE, issue.name), issue.unit,
                                                               e.meaning)
        elif e.name == SWEPT:
            for key in swept or ():
                column = column_name(key)
                out[column] = Entry(column, "-", f"value of the swept config key {key} at this grid point", key)
        else:
            out[e.name] = e
    return out


def outcome_entries(space: OutcomeSpace, swept: list[str], parties: list[tuple[str, str]]) -> dict[str, Entry]:
    """The columns of ``outcomes.parquet`` for a run over ``space`` sweeping ``swept``, between ``parties``
    (``(id, display name)`` in scenario order)."""
    parts = [_expand(_IDENTITY, space, swept, parties), _expand(_POINT, space, swept, parties),
             _expand(_OUTCOME, space, swept, parties)]
    parts += [_expand(_sides(), space, swept, [side]) for side in parties]  # each party's columns together
    return _joined(parts + [_expand(_METRICS, space, swept, parties)])


def round_entries(space: OutcomeSpace, swept: list[str], parties: list[tuple[str, str]]) -> dict[str, Entry]:
    """The columns of ``rounds.parquet`` (the grid point's coordinates included)."""
    rounds = _expand(_ROUND, space, swept, parties)
    return _joined([{"world": rounds.pop("world")}, _expand(_POINT, space, swept, parties), rounds])


def summary_entries(space: OutcomeSpace, swept: list[str], parties: list[tuple[str, str]]) -> dict[str, Entry]:
    """The columns of ``summary.csv``."""
    return _joined([_expand(_POINT, space, swept, parties), _expand(_SUMMARY, space, swept, parties)])


def _joined(parts: list[dict[str, Entry]]) -> dict[str, Entry]:
    """The columns of one table, in order; a swept key's column that repeats another column is refused."""
    out: dict[str, Entry] = {}
    for part in parts:
        for name, entry in part.items():
            if name in out:
                key = entry.config_key or out[name].config_key
                raise ConfigError("sweep", f"the swept key {key} would be the output column {name!r}, which the "
                                           "tables already have; it cannot be swept")
            out[name] = entry
    return out


def table_entries(plan) -> dict[str, dict[str, Entry]]:
    """The columns of each Parquet table of a run of ``plan`` (a :class:`sim.config.sweep.Plan`).

    Raises:
        ConfigError: if a swept key's column repeats another column's name.
    """
    space, swept = plan.points[0].structure.space, list(plan.swept_keys)
    return {"outcomes": outcome_entries(space, swept, plan.parties),
            "rounds": round_entries(space, swept, plan.parties)}


def field_metadata(entries: dict[str, Entry]) -> dict[str, dict[str, str]]:
    """Parquet field metadata per column: ``unit``, ``meaning`` and, for a swept key, ``config_key``."""
    out = {}
    for name, e in entries.items():
        meta = {"unit": e.unit, "meaning": e.meaning}
        if e.config_key is not None:
            meta["config_key"] = e.config_key
        out[name] = meta
    return out


PLAIN = "plain"  # field metadata ``encoding``: written without a Parquet dictionary (see :func:`plain_drawn`)


def plain_drawn(fields: dict[str, dict[str, str]], plan) -> dict[str, dict[str, str]]:
    """``fields`` with ``encoding: plain`` on the columns of the keys an ensemble draws from their priors (and its
    constraints text, one per world): a value per world, so a Parquet dictionary only costs time (measured on
    100,000 rows of 59 drawn floats and a text: written in 0.81 CPU s and read in 1.89 s with dictionaries, 0.09
    and 0.10 s without, same values). Other runs' fields are returned as they are (their files unchanged)."""
    drawn = drawn_columns(plan)
    return {name: (meta | {"encoding": PLAIN}) if name in drawn else meta for name, meta in fields.items()}


def drawn_columns(plan) -> set[str]:
    """The output columns of the keys an ensemble draws from their priors, and (when there are any) of its
    constraints text, which their values determine: a value per world, not a grid point's coordinate."""
    drawn = {plan.columns[k] for k in plan.prior_keys if k in plan.columns}
    if plan.prior_keys and "constraints" in plan.columns:
        drawn.add(plan.columns["constraints"])
    return drawn


def dictionary_columns(schema) -> list[str]:
    """Parquet's ``use_dictionary`` for a table: the columns with few distinct values (text, dates, booleans,
    integers of up to 32 bits: labels, codes, rounds), but not those marked ``encoding: plain`` (an ensemble's text
    per world). Floats and 64-bit integers (payoffs, utilities, drawn numbers, seeds, world numbers: nearly every
    value its own) are written plain: a dictionary page would be built and then abandoned for them (measured on
    200,000 rows of an ensemble's 54 outcome columns: written in 0.68 CPU s with dictionaries, 0.21 s and 10 %
    smaller without; the same values either way)."""
    import pyarrow as pa

    plain = {f.name for f in schema if (f.metadata or {}).get(b"encoding") == PLAIN.encode()}

    def few_values(t) -> bool:
        small = pa.types.is_integer(t) and t.bit_width <= 32
        return small or any(is_(t) for is_ in (pa.types.is_string, pa.types.is_large_string, pa.types.is_boolean,
                                               pa.types.is_temporal, pa.types.is_dictionary))

    return [f.name for f in schema if f.name not in plain and few_values(f.type)]
