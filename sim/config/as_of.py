"""The as-of cut: a scenario as it stood on a vantage date (``scenario.as_of``).

Every dated fact of a scenario carries the date it became known, so the cut is mechanical: a fact
known on or before ``as_of`` exists for the run, one known after it does not. Three kinds of dated
facts are read:

* ``scenario.facts.tariffs.<issue>``: the values of a tariff over time, each
  ``{value, effective, known, source}``. On ``as_of`` the status quo is the last value known and in
  effect; a value known but taking effect later becomes a scheduled change (``scenario.schedule``,
  announced on its ``known`` date). Schedule entries of other issues announced after ``as_of`` drop out.
* ``scenario.facts.deadlines``: the talks' deadline as announced over time, each
  ``{date, escalation, known, source}``. The last one known sets ``scenario.deadline.round`` (the last
  round held on or before its date) and, if given, ``scenario.escalation`` (the rise it threatens).
  A later announcement that moves the deadline (the 7 July 2025 letters) is unknown before its date.
  ``scenario.deadline.extension`` is the uncertain extension of the first deadline announced; once a
  later one is known, that extension is on the record, so from then on no further extension is drawn
  (probability and rounds 0), rather than the extended deadline being extended again.
  A scenario without dated deadlines refuses a vantage date past its written deadline (the talks would
  start after their own deadline), in one line naming ``scenario.as_of``.
* ``scenario.facts.meetings``: the meetings on the record, each ``{date, known, source}`` (``known``: the date of
  its first source, by default its date). On
  ``as_of`` the calendar's first rounds are the meetings held by then (``scenario.calendar.meetings``), then a
  round on ``as_of`` itself if it is later (the talks resume on the vantage date), then one round every
  ``scenario.calendar.round_days`` days (the stated cadence); :mod:`sim.domain.calendar`.
* ``scenario.positions.<name>``: a party's stated position, ``{party, kind, issue, value, stated,
  source}``, with ``kind`` one of ``min`` or ``max`` (a bound on ``issue`` the party has said it will
  not cross: a red line, ``scenario.sides.<party>.red_lines``), ``refuses`` (agendas it has refused,
  ``value`` a list) or ``off_table`` (an issue it has refused to negotiate).

The talks start from the state on ``as_of``: the first simulated round is the first calendar round
held on or after it, the rounds before it having been held (``Structure.first_round``). The
negotiators' time-dependent tactics read the round number as in talks that began in round 1, so each
side's concession state is the one its tactic had reached by then.

Without ``as_of`` (``null``, the default) the scenario is used as written and none of this applies.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sim.config.values import (
    MISSING,
    ConfigError,
    Tree,
    check_number,
    copy_on_write,
    date,
    get,
    lookup,
)
from sim.domain.calendar import round_date, round_on_or_after, round_on_or_before

__all__ = ["POSITION_KINDS", "Fact", "cut", "facts", "replay", "vantage"]

POSITION_KINDS = ("min", "max", "refuses", "off_table")


@dataclass(frozen=True)
class Fact:
    """One dated fact of a scenario.

    Attributes:
        key: Where it is written (``scenario.facts.tariffs.cars[0]``, ``scenario.positions.NAME``).
        known: The date it became known.
        source: Its source, as written.
    """

    key: str
    known: dt.date
    source: str


def _date(entry: dict, key: str, field: str) -> dt.date:
    if field not in entry:
        raise ConfigError(f"{key}.{field}", "is missing (a date as YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(str(entry[field]))
    except ValueError:
        raise ConfigError(f"{key}.{field}", f"must be a date as YYYY-MM-DD, got {entry[field]!r}") from None


def _entries(cfg: Tree, key: str, what: str) -> list[dict]:
    entries = lookup(cfg, key)
    if entries is MISSING or entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(key, f"must be a list of {what}")
    return entries


def _meetings(cfg: Tree) -> list[tuple[dt.date, dt.date, str]]:
    """The meetings on the record (``scenario.facts.meetings``): ``(date, known, source)`` each."""
    out = []
    for k, e in enumerate(_entries(cfg, "scenario.facts.meetings", "{date, known, source}")):
        day = _date(e, f"scenario.facts.meetings[{k}]", "date")
        known = _date(e, f"scenario.facts.meetings[{k}]", "known") if "known" in e else day
        if known < day:
            raise ConfigError(f"scenario.facts.meetings[{k}].known", f"must not come before the meeting ({day})")
        out.append((day, known, str(e.get("source", ""))))
    return out


def _mapping(cfg: Tree, key: str, what: str) -> dict:
    entries = lookup(cfg, key)
    if entries is MISSING or entries is None:
        return {}
    if not isinstance(entries, dict):
        raise ConfigError(key, f"must map names to {what}")
    return entries


def vantage(cfg: Tree) -> dt.date | None:
    """The vantage date ``scenario.as_of``, or ``None`` (the scenario as written).

    Raises:
        ConfigError: if it is not a date, or lies outside [the talks' start, the horizon].
    """
    value = lookup(cfg, "scenario.as_of")
    if value is MISSING or value is None:
        return None
    start = date(cfg, "scenario.calendar.start_date")
    round_days = int(get(cfg, "scenario.calendar.round_days"))
    max_rounds = int(get(cfg, "protocol.max_rounds"))
    horizon = round_date([max_rounds], start, round_days)[0].astype(dt.date)
    allowed = (f"must be a date YYYY-MM-DD from {start} (the talks' start, scenario.calendar.start_date) to "
               f"{horizon} (round {max_rounds}, the horizon protocol.max_rounds), or null")
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            raise ConfigError("scenario.as_of", f"{allowed}; got {value!r}") from None
    if not start <= day <= horizon:
        raise ConfigError("scenario.as_of", f"{allowed}; got {day}")
    return day


def facts(cfg: Tree) -> list[Fact]:
    """Every dated fact of the scenario, in the order written."""
    out = []
    for issue, history in _mapping(cfg, "scenario.facts.tariffs", "lists of {value, effective, known, source}").items():
        key = f"scenario.facts.tariffs.{issue}"
        for k, e in enumerate(_entries(cfg, key, "{value, effective, known, source}")):
            out.append(Fact(f"{key}[{k}]", _date(e, f"{key}[{k}]", "known"), str(e.get("source", ""))))
    for k, e in enumerate(_entries(cfg, "scenario.facts.deadlines", "{date, escalation, known, source}")):
        out.append(Fact(f"scenario.facts.deadlines[{k}]", _date(e, f"scenario.facts.deadlines[{k}]", "known"),
                        str(e.get("source", ""))))
    for k, (_, known, source) in enumerate(_meetings(cfg)):
        out.append(Fact(f"scenario.facts.meetings[{k}]", known, source))
    for name, e in _mapping(cfg, "scenario.positions", "{party, kind, issue, value, stated, source}").items():
        key = f"scenario.positions.{name}"
        if not isinstance(e, dict):
            raise ConfigError(key, "must be {party, kind, issue, value, stated, source}")
        out.append(Fact(key, _date(e, key, "stated"), str(e.get("source", ""))))
    return out


def cut(cfg: Tree) -> tuple[Tree, int]:
    """The config as it stood on ``scenario.as_of``, and the first round of the talks from then.

    Args:
        cfg: A fully specified config (one grid point).

    Returns:
        The config with the facts known on ``as_of`` applied (a copy; ``cfg`` itself when there is no
        ``as_of``), and the first round to simulate (1 without ``as_of``).

    Raises:
        ConfigError: naming the key of a malformed fact, or ``scenario.as_of`` if it falls after the
            talks' deadline as known on that date.
    """
    as_of = vantage(cfg)
    if as_of is None:
        return (replay(cfg) if _replays(cfg) else cfg), 1
    if _replays(cfg):
        raise ConfigError("scenario.replay", "replays the record from the talks' start; scenario.as_of cuts it at "
                                             "a vantage date instead: set one of them")
    start = date(cfg, "scenario.calendar.start_date")
    round_days = int(get(cfg, "scenario.calendar.round_days"))
    out, put = copy_on_write(cfg)
    held = tuple(sorted(day for day, known, _ in _meetings(cfg) if known <= as_of))
    if held:
        held += (as_of,) if held[-1] < as_of else ()
        put("scenario.calendar.meetings", [d.isoformat() for d in held])
    first_round = round_on_or_after(as_of, start, round_days, held)
    _tariffs(cfg, put, as_of, as_of)
    _deadline(cfg, put, as_of, first_round, start, round_days, held)
    for name, e in _mapping(cfg, "scenario.positions", "{party, kind, issue, value, stated, source}").items():
        key = f"scenario.positions.{name}"
        if _date(e, key, "stated") > as_of:
            continue
        _apply_position(out, cfg, key, e, put)
    return out, first_round


def _replays(cfg: Tree) -> bool:
    found = lookup(cfg, "scenario.replay")
    if found is MISSING or found is None or found is False:
        return False
    if found is not True:
        raise ConfigError("scenario.replay", f"must be true or false, got {found!r}")
    return True


def replay(cfg: Tree) -> Tree:
    """The dated tariff record unfolding from the talks' start (``scenario.replay: true``).

    Each issue with a record (``scenario.facts.tariffs``) starts from its value in force on
    ``scenario.calendar.start_date``; every later value applies on its date as a scheduled change, announced
    on the day it became known (a change known before the talks opened is anticipated from round 1). The
    deadline and the stances are as written.

    Raises:
        ConfigError: naming a malformed fact, or an issue whose record has no value in force at the start.
    """
    out, put = copy_on_write(cfg)
    _tariffs(cfg, put, date(cfg, "scenario.calendar.start_date"), None)
    return out


def _tariffs(cfg: Tree, put, day: dt.date, known_by: dt.date | None) -> None:
    """Set each recorded issue's status quo to its value in force on ``day``, and schedule its later values,
    of the facts known by ``known_by`` (``None``: every fact); ``scenario.schedule`` keeps the written changes
    of other issues announced by then."""
    tariffs = _mapping(cfg, "scenario.facts.tariffs", "lists of {value, effective, known, source}")
    schedule = [e for k, e in enumerate(_entries(cfg, "scenario.schedule", "{issue, value, effective, announced}"))
                if e.get("issue") not in tariffs
                and (known_by is None or _date(e, f"scenario.schedule[{k}]", "announced") <= known_by)]
    where_day = "scenario.as_of" if known_by is not None else "scenario.replay"
    for issue in tariffs:
        key = f"scenario.facts.tariffs.{issue}"
        if lookup(cfg, f"scenario.issues.{issue}") is MISSING:
            raise ConfigError(key, f"names no issue; {issue!r} is not in scenario.issues")
        known = [x for x in _record(cfg, key) if known_by is None or x[1] <= known_by]
        in_force = [x for x in known if x[0] <= day]
        if not in_force:
            first = min((x[1] for x in _record(cfg, key)), default=None)
            raise ConfigError(where_day, f"comes before the first value of {key} in force and known "
                                         f"(known from {first}); choose a later date")
        put(f"scenario.issues.{issue}.status_quo", max(in_force, key=lambda x: (x[0], x[1]))[2])
        for effective, announced, value, source in sorted(x for x in known if x[0] > day):
            schedule.append({"issue": issue, "value": value, "effective": effective.isoformat(),
                             "announced": announced.isoformat(), "kind": "change", "note": source})
    put("scenario.schedule", schedule)


def _record(cfg: Tree, key: str) -> list[tuple[dt.date, dt.date, float, str]]:
    """The dated values of one issue's record: ``(in force from, known from, value, source)``, as written."""
    out = []
    for k, e in enumerate(_entries(cfg, key, "{value, effective, known, source}")):
        where = f"{key}[{k}]"
        if "value" not in e:
            raise ConfigError(f"{where}.value", "is missing (the tariff, in the issue's unit)")
        value = check_number(e["value"], f"{where}.value", -math.inf, math.inf)
        out.append((_date(e, where, "effective"), _date(e, where, "known"), value, str(e.get("source", ""))))
    return out


def _deadline(cfg: Tree, put, as_of: dt.date, first_round: int, start: dt.date, round_days: int,
              held: tuple[dt.date, ...] = ()) -> None:
    """Set the deadline (round, escalation) to the last one announced by ``as_of``."""
    deadlines = []
    for k, e in enumerate(_entries(cfg, "scenario.facts.deadlines", "{date, escalation, known, source}")):
        where = f"scenario.facts.deadlines[{k}]"
        escalation = e.get("escalation")
        if escalation is not None:
            escalation = check_number(escalation, f"{where}.escalation", 0.0, math.inf, what=" (pp)")
        deadlines.append((_date(e, where, "known"), _date(e, where, "date"), escalation))
    known = sorted((d for d in deadlines if d[0] <= as_of), key=lambda d: d[0])
    if deadlines and not known:
        raise ConfigError("scenario.as_of", f"comes before any deadline was known (the first is known from "
                                            f"{min(d[0] for d in deadlines)}); choose a later date")
    if not known:
        _written_deadline(cfg, put, as_of, start, round_days, held)
        return
    _, day, escalation = known[-1]
    deadline = round_on_or_before(day, start, round_days, held)
    if deadline < first_round:
        raise ConfigError("scenario.as_of", f"comes after the talks' deadline as known then ({day}); choose "
                                            f"a date up to it")
    put("scenario.deadline.round", deadline)
    if escalation is not None:
        put("scenario.escalation", escalation)
    if len(known) > 1:  # the extension the scenario models is now on the record: not drawn a second time
        put("scenario.deadline.extension.probability", 0.0)
        put("scenario.deadline.extension.rounds", 0)


def _written_deadline(cfg: Tree, put, as_of: dt.date, start: dt.date, round_days: int,
                      held: tuple[dt.date, ...]) -> None:
    """The deadline as written, when the scenario records no dated deadline.

    ``scenario.deadline.round`` is a round of the written (weekly) calendar. A vantage date past its date is
    refused (the talks would start after their own deadline, with no record of the deadline then in force);
    on a calendar of meetings (``held``) the deadline becomes the last round held on or before that date.
    """
    deadline = lookup(cfg, "scenario.deadline.round")
    if not isinstance(deadline, int) or isinstance(deadline, bool):
        return
    day = round_date([deadline], start, round_days)[0].astype(dt.date)
    if day < as_of:
        raise ConfigError("scenario.as_of", f"{as_of} comes after the talks' deadline (round {deadline}, {day}) and "
                                            "scenario.facts.deadlines records no later one; choose a date up to "
                                            f"{day} or add the deadline then in force to scenario.facts.deadlines")
    if held:
        put("scenario.deadline.round", round_on_or_before(day, start, round_days, held))


def _apply_position(out: Tree, cfg: Tree, key: str, position: dict, put) -> None:
    """Write one stated position into the party's stance (red lines, refused agendas, issues off the table)
    of ``out`` with ``put(key, value)``."""
    party = position.get("party")
    if lookup(cfg, f"scenario.sides.{party}") is MISSING:
        raise ConfigError(f"{key}.party", f"must be a party of scenario.sides, got {party!r}")
    kind = position.get("kind")
    if kind not in POSITION_KINDS:
        raise ConfigError(f"{key}.kind", f"must be one of {', '.join(POSITION_KINDS)}, got {kind!r}")
    side = f"scenario.sides.{party}"
    if kind == "refuses":
        value = position.get("value")
        if not isinstance(value, list):
            raise ConfigError(f"{key}.value", "must be a list of agendas, e.g. [sequential, linked]")
        current = lookup(out, f"{side}.refuses")
        current = [] if current is MISSING or current is None else list(current)
        put(f"{side}.refuses", current + [a for a in value if a not in current])
        return
    issue = position.get("issue")
    if lookup(cfg, f"scenario.issues.{issue}") is MISSING:
        raise ConfigError(f"{key}.issue", f"must be an issue of scenario.issues, got {issue!r}")
    if kind == "off_table":
        current = lookup(out, f"{side}.off_table")
        current = [] if current is MISSING or current is None else list(current)
        put(f"{side}.off_table", current + ([issue] if issue not in current else []))
        return
    if "value" not in position:
        raise ConfigError(f"{key}.value", f"is missing (the {kind} of {issue} the party will not cross)")
    value = check_number(position["value"], f"{key}.value", -math.inf, math.inf)
    lines = lookup(out, f"{side}.red_lines")
    lines = {} if lines is MISSING or lines is None else dict(lines)
    bound = dict(lines.get(issue) or {})
    bound[kind] = value if kind not in bound else (max(bound[kind], value) if kind == "min"
                                                   else min(bound[kind], value))
    lines[issue] = bound
    put(f"{side}.red_lines", lines)
