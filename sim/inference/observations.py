"""The dated observations a calibration may use: each panel case's announced arrangement, as known on a date.

A panel scenario records the arrangement announced at the end of its talks as data, ``scenario.evidence.
arrangement`` (its ``date``, ``source`` and ``terms``; the engine never reads it). A calibration as of a date D
uses the arrangements announced on or before D, and nothing later. Each arrangement gives, per case:

- one observation per stated term (its value in the issue's unit, and the issue's range ``[min, max]`` as the
  scale the distance divides by);
- ``deal``: a deal was struck by the talks' deadline (1, on the scale [0, 1]);
- ``date``: the days from the forecast origin (the day before the announcement) to the announcement, on the
  scale of the days from the origin to the talks' horizon.

The cases are named by the calibration's config (``conf/inference/calibrate.yaml``, ``cases``), never
discovered, so a forecast case cannot enter a calibration by accident.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["Observation", "announcement", "observations", "origin"]


@dataclass(frozen=True)
class Observation:
    """One observed quantity of one panel case.

    Attributes:
        case: The scenario's name (``us_uk_2025``).
        term: An issue's name, ``deal`` or ``date``.
        value: The observed value, in the issue's unit (``deal``: 1; ``date``: days after the origin).
        low: The low end of its scale (the issue's ``min``; 0 for ``deal`` and ``date``).
        high: The high end (the issue's ``max``; 1 for ``deal``; the days to the horizon for ``date``).
        date: The day it became known (the announcement).
        source: Where it is recorded.
    """

    case: str
    term: str
    value: float
    low: float
    high: float
    date: dt.date
    source: str

    @property
    def scaled(self) -> float:
        """The value on its scale: (value - low) / (high - low)."""
        return (self.value - self.low) / (self.high - self.low)


def announcement(cfg: dict) -> dt.date | None:
    """The date of the scenario's recorded arrangement, or None without one."""
    arrangement = ((cfg.get("scenario") or {}).get("evidence") or {}).get("arrangement")
    return dt.date.fromisoformat(str(arrangement["date"])) if arrangement else None


def origin(cfg: dict) -> dt.date:
    """The forecast origin of a panel case: the day before its arrangement was announced."""
    return announcement(cfg) - dt.timedelta(days=1)


def horizon_days(cfg: dict, start: dt.date) -> float:
    """Days from ``start`` to the talks' horizon (round ``protocol.max_rounds`` of the calendar)."""
    cal = cfg["scenario"]["calendar"]
    first = dt.date.fromisoformat(str(cal["start_date"]))
    end = first + dt.timedelta(days=int(cal["round_days"]) * int(cfg["protocol"]["max_rounds"]))
    return float((end - start).days)


def case_observations(case: str, cfg: dict) -> list[Observation]:
    """Every observation of one panel case's arrangement (its terms, the deal, the date)."""
    arrangement = cfg["scenario"]["evidence"]["arrangement"]
    day, source = announcement(cfg), str(arrangement.get("source", ""))
    out = []
    for name, term in arrangement["terms"].items():
        issue = cfg["scenario"]["issues"][name]
        out.append(Observation(case, name, float(term["value"]), float(issue["min"]), float(issue["max"]), day,
                               source))
    out.append(Observation(case, "deal", 1.0, 0.0, 1.0, day, source))
    out.append(Observation(case, "date", 1.0, 0.0, horizon_days(cfg, origin(cfg)), day, source))
    return out


def observations(configs: dict[str, dict], as_of: dt.date, before: bool = False) -> list[Observation]:
    """The observations of the cases in ``configs`` known by ``as_of``, in date order.

    Args:
        configs: Per case name, its composed config (plain containers).
        as_of: The calibration date.
        before: Keep only those dated strictly before ``as_of`` (a backtest's origin) instead of on or before.
    """
    out = []
    for case, cfg in configs.items():
        day = announcement(cfg)
        if day is None or day > as_of or (before and day == as_of):
            continue
        out += case_observations(case, cfg)
    return sorted(out, key=lambda o: (o.date, o.case))
