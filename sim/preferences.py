"""Preferences: each side's payoff, normalised utility and reservation value.

Payoffs are in USD bn per year of the package being in force. With tariff rates ``t_s`` in
percentage points and the 2024 export value ``V_s`` (USD bn/yr) of the goods each tariff hits,
the tariff bill on sector ``s`` is ``B_s = t_s / 100 * V_s``, and

Japan::

    P_J(x) = - theta * sum_s B_s                       tariff cost on its exports
             - c_inv * I / H                           investment pledge I (USD bn) over H years
             - sum_k c_k * y_k                         purchases y_k (USD bn/yr) at net cost c_k

United States::

    P_U(x) =   w_rev  * sum_s B_s                      tariff revenue
             - w_cons * ( pi * sum_s B_s               consumer prices on imports (pass-through pi)
                          + p_veh * N_us * (t_cars - t_mfn) / t_ref )   price effect on US-built cars
             + v_inv * I / H + v_p * sum_k y_k         value of investment and purchases

The four tariff issues hit, in order: vehicles (28.3 % of ¥21.3 tn), auto parts (¥7.2 tn less
vehicles), steel (¥0.30 tn) and all other goods (the rest), converted at ¥145/$; the car price
effect is $2,000 per vehicle for the 25 pp §232 tariff on the 3.3 M Japanese-brand cars built in the
US (SEED-000). Both payoffs are affine in the package, ``P(x) = a @ x + b``, so the utility

    u(x) = (P(x) - P_min) / (P_max - P_min)

is affine too, with ``P_min`` and ``P_max`` taken exactly at corners of the outcome box; every
package therefore has a utility in [0, 1]. The reservation value at a round is the utility of the
no-deal package then in force: the status quo, with the reciprocal tariff raised by the escalation
from the final deadline on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.outcome_space import OutcomeSpace

__all__ = [
    "TARIFF_SECTORS",
    "LinearPayoff",
    "consumer_cost_coefficients",
    "derived_stakes",
    "export_values_usd_bn",
    "payoffs_for",
    "split_payoffs",
]

# Tariff issue -> the export flow it taxes.
TARIFF_SECTORS = {
    "cars": "vehicles",
    "auto_parts": "auto_parts",
    "steel_aluminium": "steel",
    "reciprocal": "other_goods",
}
INVESTMENT = "investment"


def export_values_usd_bn(stakes: dict, yen_per_usd: float) -> dict[str, float]:
    """Japan's 2024 exports to the US by the tariff that hits them, in USD bn per year.

    Args:
        stakes: The scenario's ``stakes`` block (values in ¥ trillion and shares).
        yen_per_usd: Exchange rate in yen per US dollar.

    Returns:
        Export value per sector: vehicles, auto parts, steel and other goods.
    """
    total = stakes["exports_to_us_tn_yen"]
    vehicles = stakes["vehicle_share_of_exports"] * total
    parts = stakes["cars_and_parts_tn_yen"] - vehicles
    steel = stakes["steel_tn_yen"]
    other = total - stakes["cars_and_parts_tn_yen"] - steel
    to_usd_bn = 1000.0 / yen_per_usd  # ¥1 tn = 1000 ¥ bn
    return {
        "vehicles": vehicles * to_usd_bn,
        "auto_parts": parts * to_usd_bn,
        "steel": steel * to_usd_bn,
        "other_goods": other * to_usd_bn,
    }


def derived_stakes(stakes: dict, yen_per_usd: float) -> dict[str, float]:
    """The stakes in dollars, as a run reports them (``metadata.json``) for checking against sources.

    Returns:
        Export values by sector and the surplus (USD bn/yr), the surplus due to cars and parts, the
        value of an imported car and its status-quo tariff (USD per vehicle, at 27.5 %).
    """
    exports = export_values_usd_bn(stakes, yen_per_usd)
    surplus = stakes["surplus_tn_yen"] * 1000.0 / yen_per_usd
    per_car = exports["vehicles"] * 1e9 / (stakes["cars_exported_to_us_m"] * 1e6)
    return {
        **{f"exports_{k}_usd_bn": v for k, v in exports.items()},
        "surplus_usd_bn": surplus,
        "surplus_from_cars_and_parts_usd_bn": stakes["surplus_share_cars_and_parts"] * surplus,
        "value_per_imported_car_usd": per_car,
        "tariff_per_imported_car_at_27.5pct_usd": 0.275 * per_car,
        "price_effect_per_us_built_car_usd": stakes["price_effect_usd_per_vehicle"],
    }


@dataclass(frozen=True)
class LinearPayoff:
    """An affine payoff ``P(x) = a @ x + b`` over a box, with its exact extremes.

    Attributes:
        a: Coefficient per issue, USD bn/yr per unit of the issue.
        b: Constant, USD bn/yr.
        p_min: Lowest payoff over the outcome box.
        p_max: Highest payoff over the outcome box.
    """

    a: np.ndarray
    b: float
    p_min: float
    p_max: float

    @classmethod
    def over(cls, space: OutcomeSpace, a: np.ndarray, b: float) -> LinearPayoff:
        """Build the payoff and find its extremes at the corners of ``space``."""
        a = np.asarray(a, dtype=float)
        lo_term, hi_term = a * space.lo, a * space.hi
        p_min = b + np.minimum(lo_term, hi_term).sum()
        p_max = b + np.maximum(lo_term, hi_term).sum()
        return cls(a=a, b=float(b), p_min=float(p_min), p_max=float(p_max))

    def payoff(self, x: np.ndarray) -> np.ndarray:
        """Payoff of package(s) ``x`` in USD bn/yr."""
        return x @ self.a + self.b

    def utility(self, x: np.ndarray) -> np.ndarray:
        """Normalised utility of package(s) ``x`` in [0, 1]."""
        return (self.payoff(x) - self.p_min) / (self.p_max - self.p_min)


def payoffs_for(space: OutcomeSpace, stakes: dict, yen_per_usd: float, weights: dict) -> dict[str, LinearPayoff]:
    """The US and Japanese payoffs for a scenario, from its stakes and weights.

    Args:
        space: The outcome space; tariff issues must be named as in :data:`TARIFF_SECTORS`.
        stakes: The scenario's ``stakes`` block.
        yen_per_usd: Exchange rate.
        weights: The scenario's ``payoff`` block with ``us`` and ``japan`` sub-blocks.

    Returns:
        ``{"us": LinearPayoff, "japan": LinearPayoff}``.
    """
    values = export_values_usd_bn(stakes, yen_per_usd)
    jp, us = weights["japan"], weights["us"]
    a_jp, a_us = np.zeros(space.n), np.zeros(space.n)
    b_jp = b_us = 0.0
    for k, issue in enumerate(space.issues):
        if issue.name in TARIFF_SECTORS:
            bill_per_pp = values[TARIFF_SECTORS[issue.name]] / 100.0  # USD bn/yr per pp
            a_jp[k] = -jp["tariff_cost_share"] * bill_per_pp
            a_us[k] = (us["revenue_weight"] - us["consumer_cost_weight"] * us["pass_through"]) * bill_per_pp
            if issue.name == "cars":
                # price effect on US-built cars, linear in the §232 surcharge above the MFN floor
                per_pp = (
                    stakes["price_effect_usd_per_vehicle"] * stakes["cars_built_in_us_m"] * 1e6 / 1e9
                ) / stakes["price_effect_at_pp"]
                a_us[k] -= us["consumer_cost_weight"] * per_pp
                b_us += us["consumer_cost_weight"] * per_pp * issue.lo
        elif issue.name == INVESTMENT:
            years = jp["investment_years"]
            a_jp[k] = -jp["investment_cost"] / years
            a_us[k] = us["investment_value"] / years
        else:  # a yearly purchase item
            a_jp[k] = -jp["purchase_cost"][issue.name]
            a_us[k] = us["purchase_value"]
    return {"us": LinearPayoff.over(space, a_us, b_us), "japan": LinearPayoff.over(space, a_jp, b_jp)}


def consumer_cost_coefficients(space: OutcomeSpace, stakes: dict, yen_per_usd: float, weights: dict) -> np.ndarray:
    """Per issue, the change in US consumers' payoff (USD bn/yr) per unit of the issue: minus the
    passed-through tariff bill and the car price effect (the ``w_cons`` term of the US payoff, unweighted)."""
    values = export_values_usd_bn(stakes, yen_per_usd)
    us = weights["us"]
    c = np.zeros(space.n)
    for k, issue in enumerate(space.issues):
        if issue.name in TARIFF_SECTORS:
            c[k] = -us["pass_through"] * values[TARIFF_SECTORS[issue.name]] / 100.0
            if issue.name == "cars":
                c[k] -= (stakes["price_effect_usd_per_vehicle"] * stakes["cars_built_in_us_m"] * 1e6 / 1e9
                         ) / stakes["price_effect_at_pp"]
    return c


def split_payoffs(space: OutcomeSpace) -> dict[str, LinearPayoff]:
    """Payoffs of the pie split (THEORY §1): one issue, the US share ``x`` of a pie of size 1.

    The US gets ``x`` and Japan ``1 - x``; utilities equal payoffs.
    """
    if space.names != ("share",) or (space.lo[0], space.hi[0]) != (0.0, 1.0):
        raise ValueError("the split payoff model needs exactly one issue, share, ranging over [0, 1]")
    return {"us": LinearPayoff.over(space, np.array([1.0]), 0.0),
            "japan": LinearPayoff.over(space, np.array([-1.0]), 1.0)}
