"""The tariff payoff model: each party's payoff from tariffs, an investment pledge and purchases.

Two roles: the *importer* levies tariffs on the *exporter*'s goods (in the 2025 case studies, the US
on its partner; ``scenario.payoff.importer``/``exporter`` name them), and the exporter offers a package of investment and purchases. Payoffs are in USD bn
per year of the package being in force. With tariff rates ``t_s`` in percentage points and the export
value ``V_s`` (USD bn/yr) of the goods each tariff hits, the tariff bill on flow ``s`` is
``B_s = t_s / 100 * V_s`` and ``B = sum_s B_s``. One incidence parameter, the pass-through ``phi``
(``scenario.payoff.pass_through``), splits the bill between the two sides without a double count: the
importer's buyers pay ``phi * B`` in higher duty-inclusive prices, the exporter absorbs ``(1 - phi) * B``
in lower pre-duty prices, and the importer's treasury collects ``B``.

exporter::

    P_X(x) = - (1 - phi) * B                           the part of the tariff its exporters absorb
             - c_inv * I / H                           investment pledge I (USD bn) over H years
             - sum_k c_k * y_k                         purchases y_k (USD bn/yr) at net cost c_k

importer::

    P_M(x) =   w_rev  * B                              tariff revenue
             - w_cons * ( phi * B                      consumer prices on imports
                          + p_veh * N_dom * (t_veh - t_mfn) / t_ref )   price effect on domestically built cars
             + v_inv * I / H + v_p * sum_k y_k         value of investment and purchases

Issues are recognised by their scenario tags: ``kind: tariff`` with ``flow`` (``vehicles``,
``auto_parts``, ``steel``, ``other_goods``), ``kind: investment`` and ``kind: purchase``. The stakes are
in US dollars (``scenario.stakes.exports_usd_bn.<flow>``), so the model knows no currency; the default
scenario derives them from the yen rows of docs/DOMAIN.md §3a in its comments. The car price effect is
``p_veh`` per vehicle for a ``t_ref`` pp surcharge on the ``N_dom`` exporter-brand cars built in the
importer's country (``stakes.price_effect_usd_per_vehicle``, ``price_effect_at_pp``,
``domestic_vehicles_m``). Both payoffs are affine in the package, so their utilities are exact
(:mod:`sim.domain.utility`).
"""

from __future__ import annotations

import numpy as np

from sim.domain.outcome_space import OutcomeSpace
from sim.domain.utility import LinearPayoff

__all__ = [
    "FLOWS",
    "consumer_cost_coefficients",
    "derived_stakes",
    "payoffs_for",
    "tariff_bill_usd_bn",
]

# The export flows a tariff issue can tax (its ``flow`` tag).
FLOWS = ("vehicles", "auto_parts", "steel", "other_goods")
KINDS = ("tariff", "investment", "purchase")


def tariff_bill_usd_bn(space: OutcomeSpace, stakes: dict, package: np.ndarray) -> float:
    """The yearly tariff bill ``B`` (USD bn/yr) on the exporter's goods under one package.

    Args:
        space: The outcome space; tariff issues tagged with their ``flow``.
        stakes: The scenario's ``stakes`` block (``exports_usd_bn`` per flow).
        package: One value per issue of ``space``.

    Returns:
        ``sum_s t_s / 100 * V_s`` over the tariff issues.
    """
    exports = stakes["exports_usd_bn"]
    return float(sum(package[k] / 100.0 * exports[i.tag("flow")]
                     for k, i in enumerate(space.issues) if i.tag("kind") == "tariff"))


def derived_stakes(stakes: dict) -> dict[str, float]:
    """The stakes a run reports (``metadata.json``) for checking against sources, all in USD.

    Returns:
        Export values by flow and their total, the surplus (USD bn/yr), and the car price effect per pp
        of the vehicle tariff (USD bn/yr).
    """
    exports = stakes["exports_usd_bn"]
    return {
        **{f"exports_{k}_usd_bn": float(v) for k, v in exports.items()},
        "exports_total_usd_bn": float(sum(exports.values())),
        "surplus_usd_bn": float(stakes["surplus_usd_bn"]),
        "car_price_effect_usd_bn_per_pp": _car_price_effect_per_pp(stakes),
    }


def _car_price_effect_per_pp(stakes: dict) -> float:
    """USD bn/yr of domestic car prices per pp of the vehicle tariff (the ``p_veh N_dom / t_ref`` term)."""
    return (stakes["price_effect_usd_per_vehicle"] * stakes["domestic_vehicles_m"] * 1e6 / 1e9
            ) / stakes["price_effect_at_pp"]


def payoffs_for(space: OutcomeSpace, stakes: dict, pass_through: float, weights: dict,
                importer: str, exporter: str) -> dict[str, LinearPayoff]:
    """Both parties' payoffs for a scenario, from its stakes, the pass-through and the weights.

    Args:
        space: The outcome space; issues tagged with ``kind`` (and ``flow`` for tariffs).
        stakes: The scenario's ``stakes`` block (USD).
        pass_through: Share ``phi`` of each tariff borne by the importer's buyers, in [0, 1].
        weights: The scenario's ``payoff`` block's sub-block per party id.
        importer: Id of the party levying the tariffs.
        exporter: Id of the party whose exports they tax.

    Returns:
        ``{importer: LinearPayoff, exporter: LinearPayoff}``.
    """
    values = stakes["exports_usd_bn"]
    ex, im = weights[exporter], weights[importer]
    a_ex, a_im = np.zeros(space.n), np.zeros(space.n)
    b_ex = b_im = 0.0
    for k, issue in enumerate(space.issues):
        kind = issue.tag("kind")
        if kind == "tariff":
            bill_per_pp = values[issue.tag("flow")] / 100.0  # USD bn/yr per pp
            a_ex[k] = -(1.0 - pass_through) * bill_per_pp
            a_im[k] = (im["revenue_weight"] - im["consumer_cost_weight"] * pass_through) * bill_per_pp
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


def consumer_cost_coefficients(space: OutcomeSpace, stakes: dict, pass_through: float) -> np.ndarray:
    """Per issue, the change in the importer's consumers' payoff (USD bn/yr) per unit of the issue: minus
    the passed-through tariff bill and the car price effect (the ``w_cons`` term, unweighted)."""
    values = stakes["exports_usd_bn"]
    c = np.zeros(space.n)
    for k, issue in enumerate(space.issues):
        if issue.tag("kind") == "tariff":
            c[k] = -pass_through * values[issue.tag("flow")] / 100.0
            if issue.tag("flow") == "vehicles":
                c[k] -= _car_price_effect_per_pp(stakes)
    return c
