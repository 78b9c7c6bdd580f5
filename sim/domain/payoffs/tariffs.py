"""The tariff payoff model: each party's payoff from tariffs, an investment pledge and purchases.

Two roles: the *importer* levies tariffs on the *exporter*'s goods (in the 2025 talks, the United
States on Japan), and the exporter offers a package of investment and purchases. Payoffs are in USD bn
per year of the package being in force. With tariff rates ``t_s`` in percentage points and the export
value ``V_s`` (USD bn/yr) of the goods each tariff hits, the tariff bill on flow ``s`` is
``B_s = t_s / 100 * V_s``, and

exporter::

    P_X(x) = - theta * sum_s B_s                       tariff cost on its exports
             - c_inv * I / H                           investment pledge I (USD bn) over H years
             - sum_k c_k * y_k                         purchases y_k (USD bn/yr) at net cost c_k

importer::

    P_M(x) =   w_rev  * sum_s B_s                      tariff revenue
             - w_cons * ( pi * sum_s B_s               consumer prices on imports (pass-through pi)
                          + p_veh * N_dom * (t_veh - t_mfn) / t_ref )   price effect on domestically built cars
             + v_inv * I / H + v_p * sum_k y_k         value of investment and purchases

Issues are recognised by their scenario tags: ``kind: tariff`` with ``flow`` (``vehicles``,
``auto_parts``, ``steel``, ``other_goods``), ``kind: investment`` and ``kind: purchase``. In the
US–Japan scenario the four tariff flows are vehicles (28.3 % of Japan's ¥21.3 tn exports to the US),
auto parts (¥7.2 tn less vehicles), steel (¥0.30 tn) and all other goods (the rest), converted at
¥145/$; the car price effect is $2,000 per vehicle for the 25 pp §232 tariff on the 3.3 M
Japanese-brand cars built in the US (SEED-000). Both payoffs are affine in the package, so their
utilities are exact (:mod:`sim.domain.utility`).
"""

from __future__ import annotations

import numpy as np

from sim.domain.outcome_space import OutcomeSpace
from sim.domain.utility import LinearPayoff

__all__ = [
    "FLOWS",
    "consumer_cost_coefficients",
    "derived_stakes",
    "export_values_usd_bn",
    "payoffs_for",
]

# The export flows a tariff issue can tax (its ``flow`` tag).
FLOWS = ("vehicles", "auto_parts", "steel", "other_goods")
KINDS = ("tariff", "investment", "purchase")


def export_values_usd_bn(stakes: dict, yen_per_usd: float) -> dict[str, float]:
    """The exporter's yearly exports to the importer by the tariff flow that hits them, in USD bn.

    Args:
        stakes: The scenario's ``stakes`` block (values in ¥ trillion and shares).
        yen_per_usd: Exchange rate in the exporter's currency per US dollar.

    Returns:
        Export value per flow: vehicles, auto parts, steel and other goods.
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
        Export values by flow and the surplus (USD bn/yr), the surplus due to cars and parts, the
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


def _car_price_effect_per_pp(stakes: dict) -> float:
    """USD bn/yr of domestic car prices per pp of the vehicle tariff (the ``p_veh N_dom / t_ref`` term)."""
    return (stakes["price_effect_usd_per_vehicle"] * stakes["cars_built_in_us_m"] * 1e6 / 1e9
            ) / stakes["price_effect_at_pp"]


def payoffs_for(space: OutcomeSpace, stakes: dict, yen_per_usd: float, weights: dict,
                importer: str, exporter: str) -> dict[str, LinearPayoff]:
    """Both parties' payoffs for a scenario, from its stakes and weights.

    Args:
        space: The outcome space; issues tagged with ``kind`` (and ``flow`` for tariffs).
        stakes: The scenario's ``stakes`` block.
        yen_per_usd: Exchange rate.
        weights: The scenario's ``payoff`` block, with a sub-block per party id.
        importer: Id of the party levying the tariffs.
        exporter: Id of the party whose exports they tax.

    Returns:
        ``{importer: LinearPayoff, exporter: LinearPayoff}``.
    """
    values = export_values_usd_bn(stakes, yen_per_usd)
    ex, im = weights[exporter], weights[importer]
    a_ex, a_im = np.zeros(space.n), np.zeros(space.n)
    b_ex = b_im = 0.0
    for k, issue in enumerate(space.issues):
        kind = issue.tag("kind")
        if kind == "tariff":
            bill_per_pp = values[issue.tag("flow")] / 100.0  # USD bn/yr per pp
            a_ex[k] = -ex["tariff_cost_share"] * bill_per_pp
            a_im[k] = (im["revenue_weight"] - im["consumer_cost_weight"] * im["pass_through"]) * bill_per_pp
            if issue.tag("flow") == "vehicles":
                # price effect on domestically built cars, linear in the surcharge above the MFN floor
                per_pp = _car_price_effect_per_pp(stakes)
                a_im[k] -= im["consumer_cost_weight"] * per_pp
                b_im += im["consumer_cost_weight"] * per_pp * issue.lo
        elif kind == "investment":
            years = ex["investment_years"]
            a_ex[k] = -ex["investment_cost"] / years
            a_im[k] = im["investment_value"] / years
        else:  # a yearly purchase item
            a_ex[k] = -ex["purchase_cost"][issue.name]
            a_im[k] = im["purchase_value"]
    return {importer: LinearPayoff.over(space, a_im, b_im), exporter: LinearPayoff.over(space, a_ex, b_ex)}


def consumer_cost_coefficients(space: OutcomeSpace, stakes: dict, yen_per_usd: float, weights: dict,
                               importer: str) -> np.ndarray:
    """Per issue, the change in the importer's consumers' payoff (USD bn/yr) per unit of the issue: minus
    the passed-through tariff bill and the car price effect (the ``w_cons`` term, unweighted)."""
    values = export_values_usd_bn(stakes, yen_per_usd)
    im = weights[importer]
    c = np.zeros(space.n)
    for k, issue in enumerate(space.issues):
        if issue.tag("kind") == "tariff":
            c[k] = -im["pass_through"] * values[issue.tag("flow")] / 100.0
            if issue.tag("flow") == "vehicles":
                c[k] -= _car_price_effect_per_pp(stakes)
    return c

