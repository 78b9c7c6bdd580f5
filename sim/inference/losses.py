"""Published pre-deal estimates of the exporter's no-deal loss, as dated observations, and the model's value of them.

A panel scenario may record, in ``scenario.evidence.no_deal_gdp``, the exporter's GDP and published estimates of
its loss from the US tariffs, in per cent of GDP (``low_pct``, ``high_pct``), each with its ``source`` and its
``date``: the latest day the source allows (an ISO date; "≈Apr 2025" is recorded as 2025-04-30, "≈4-7 Apr 2025"
as 2025-04-07), so that it is never used before it could have been read. Each dated estimate becomes an
observation (term ``no_deal_loss:<k>``); an estimate without a date is not used. Its value is the middle of its
range, on a scale of 0 to :data:`SCALE_PCT` per cent.

The model's value (:func:`model_loss_pct`) is the exporter's exact yearly loss at the no-deal package (the tariffs
in force at the origin with every scheduled change and threat, then the deadline's escalation;
:func:`sim.report.panel.no_deal_package`), over its GDP, for one parameter vector and one draw of the other priors.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.inference.observations import Observation

__all__ = ["SCALE_PCT", "estimate_date", "loss_observations", "model_loss_pct"]

SCALE_PCT = 10.0  # the scale of a loss observation: 0 to 10 % of GDP


def estimate_date(estimate: dict) -> dt.date | None:
    """An estimate's ``date`` (ISO ``YYYY-MM-DD``), or None if it has none.

    Raises:
        ValueError: naming the estimate, if its date is not an ISO date.
    """
    day = estimate.get("date")
    if day is None:
        return None
    try:
        return dt.date.fromisoformat(str(day))
    except ValueError:
        raise ValueError(f"scenario.evidence.no_deal_gdp.estimates: date {day!r} of {estimate.get('source')!r} is "
                         "not an ISO date YYYY-MM-DD") from None


def loss_observations(case: str, cfg: dict) -> list[Observation]:
    """The dated loss estimates of one case (none without ``evidence.no_deal_gdp``)."""
    node = ((cfg.get("scenario") or {}).get("evidence") or {}).get("no_deal_gdp")
    out = []
    for k, e in enumerate((node or {}).get("estimates") or []):
        day = estimate_date(e)
        if day is None:
            continue
        mid = (float(e["low_pct"]) + float(e["high_pct"])) / 2
        out.append(Observation(case, f"no_deal_loss:{k}", mid, 0.0, SCALE_PCT, day,
                               f"{e.get('source', '')}: {e.get('scenario', '')}"))
    return out


def model_loss_pct(cfg: dict, points: list[dict[str, float]]) -> np.ndarray:
    """The model's no-deal loss of the exporter, per cent of GDP, one per point (config key -> value)."""
    from sim.config.as_of import cut
    from sim.config.scenario import trade_model
    from sim.config.values import copy_on_write
    from sim.report.calibration import gdp_check
    from sim.report.panel import no_deal_package

    gdp = gdp_check(cfg).gdp_usd_bn
    out = np.empty(len(points))
    for i, point in enumerate(points):
        world, put = copy_on_write(cfg)
        for key, value in point.items():
            put(key, value)
        model = trade_model(world)
        base = no_deal_package(cut(world)[0], model.space)
        out[i] = 100.0 * model.exporter_loss(base)["total"] / gdp
    return out
