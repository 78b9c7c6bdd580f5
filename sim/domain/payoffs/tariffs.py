"""The trade payoff model: each party's payoff from tariffs both ways, lost sales, and pledges at their worth.

Two roles: the *importer* levies tariffs on the *exporter*'s goods (in the 2025 case studies, the US on its
partner; ``scenario.payoff.importer``/``exporter`` name them), and the exporter offers a package of
investment and purchases. Either side may also tariff the other's goods: a tariff issue's ``grantor`` is the
party that levies it, and the goods it taxes are the other party's (the exporter's counter-measures, or its own
tariffs on the importer's goods, whose cut is market access). Payoffs are in USD bn per year of the package in
force.

**A tariff on one flow.** A tariff of ``t`` pp on a flow of value ``V`` (USD bn/yr at no tariff,
``scenario.stakes.exports_usd_bn.<flow>`` for the exporter's goods, ``importer_exports_usd_bn.<flow>`` for the
importer's) raises the buyers' price by its passed-through part: one incidence parameter, the pass-through
``phi`` (``scenario.payoff.pass_through``), splits the tariff without a double count (the levying side's buyers
pay ``phi`` of it, the taxed side's sellers absorb ``1 - phi`` in lower pre-duty prices). The flow falls to
``V s(t)`` with the volume share

    s(t) = (1 + phi t/100) ** (-eps)       eps = scenario.stakes.elasticity.<flow>

(the elasticity of the flow with respect to one plus the tariff, as estimated for the 2018-19 tariffs, whose
pass-through was complete: with ``phi = 1`` it is the estimated elasticity; with ``phi = 0`` the sellers absorb
the whole tariff and the flow does not fall). The tariff bill is collected on the reduced flow,
``B(t) = t/100 V s(t)``: the buyers pay ``phi B``, the sellers absorb ``(1 - phi) B``, the levying side's
treasury collects ``B``. The taxed side also loses the margin ``m`` (``scenario.payoff.<party>.lost_sales_margin``,
USD per USD of sales) on the sales it no longer makes, ``V (1 - s(t))``:

    taxed side:    - (1 - phi) B(t) - m V (1 - s(t))        (times the importer's market_access_weight
                                                             when the importer's goods are taxed)
    levying side:  w_rev B(t) - w_cons phi B(t)             (its revenue_weight and consumer_cost_weight)

The importer also weighs the price effect of a vehicle tariff on domestically built cars,
``w_cons p_veh N_dom (t_veh - t_min) / t_ref`` (``stakes.price_effect_usd_per_vehicle``, ``price_effect_at_pp``,
``domestic_vehicles_m``).

**Pledges at their expected worth.** A pledge issue (``kind: investment``, headline ``I`` USD bn over ``H``
years, or ``kind: purchase``, ``y`` USD bn/yr) may carry a ``form`` tag (:data:`PLEDGE_FORMS`). A form has a
delivery share ``d`` (``scenario.payoff.pledges.<form>.delivery``: the share of a headline that past pledges of
that form delivered) and, for an investment, a cost share ``c`` (``pledges.<form>.cost``: the maker's net cost per
USD delivered); without a form ``d = 1`` and ``c`` is the exporter's ``investment_cost``. Then

    exporter:  - c d I / H                 - sum_k c_k d y_k        (c_k = purchase_cost.<item>)
    importer:  + (v_inv d + h) I / H       + sum_k (v_p d + h) y_k  (h = headline_value: the worth of the headline
                                                                     itself, if the importer's objectives say so)

**Exactness.** With ``eps = 0`` every term is affine in the issues and the payoff is the old exact affine one.
With volumes a tariff's terms are a smooth function ``g(t)`` of its own issue only (one tariff issue per flow and
direction), and the model replaces each by its chord over the issue's range: ``g`` is exact at both ends of the
range (the status quo, the maximum and the minimum are usually ends) and the payoff stays affine, so the
frontier, the Nash point and the trade-off offer stay exact *for the affine payoff*. Its distance from the
exact payoff, :meth:`TradeModel.chord_error`, is measured on a fine grid and stated in ``docs/calibration.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.domain.outcome_space import Issue, OutcomeSpace
from sim.domain.utility import LinearPayoff, ordered_dot

__all__ = [
    "FLOWS",
    "KINDS",
    "PLEDGE_FORMS",
    "TradeModel",
    "consumer_cost_coefficients",
    "derived_stakes",
    "payoffs_for",
    "tariff_bill_usd_bn",
    "volume_share",
]

# The export flows a tariff issue can tax (its ``flow`` tag).
FLOWS = ("vehicles", "auto_parts", "steel", "other_goods", "farm_goods")
KINDS = ("tariff", "investment", "purchase")
# The forms a pledge can take (its ``form`` tag), each with a delivery share and (investment) a cost share.
PLEDGE_FORMS = ("equity", "loans_guarantees", "purchase_intentions")
# Points of the grid on which the chord's error is measured, per issue.
GRID = 2001


def volume_share(t_pp: np.ndarray | float, elasticity: float, pass_through: float) -> np.ndarray | float:
    """Share of a flow left at a tariff of ``t_pp`` pp: ``(1 + phi t/100) ** -elasticity`` (1 at no tariff).

    The buyers' price rises by the passed-through part of the tariff, ``phi t/100``; the flow falls with it.

    The power is always NumPy's array function, for one world as for many: a scalar's ``**`` is the C library's
    ``pow``, which differs from the array function in the last bit on a processor where NumPy uses its own vector
    ``pow`` (AVX-512: about one value in 18), so one world's compile and the layout of many would disagree there.
    """
    return np.power(1.0 + pass_through * np.asarray(t_pp, dtype=float) / 100.0, -elasticity)


@dataclass(frozen=True)
class TradeModel:
    """The trade payoff model of one scenario: the stakes, the pass-through and each side's weights.

    Attributes:
        space: The outcome space; issues tagged with ``kind`` (``flow`` for tariffs, ``form`` for pledges).
        stakes: ``exports_usd_bn`` (the exporter's flows), ``importer_exports_usd_bn`` (the importer's, if it is
            taxed), ``elasticity`` per flow, and the car price-effect entries (USD).
        pass_through: ``phi``, in [0, 1].
        weights: Per party id: ``revenue_weight``, ``consumer_cost_weight`` (if it levies a tariff),
            ``lost_sales_margin`` (if taxed), ``market_access_weight`` (importer), ``investment_years``,
            ``investment_cost``, ``purchase_cost`` (exporter), ``investment_value``, ``purchase_value``,
            ``headline_value`` (importer).
        pledges: Per form: ``delivery`` and ``cost``.
        importer: Id of the party levying the main tariffs.
        exporter: Id of the party whose exports they tax.

    A model of many worlds at once (:meth:`affine_terms` with per-world ranges) may hold arrays of shape ``(W,)``
    in place of any number of ``stakes``, ``pass_through``, ``weights`` or ``pledges``: every term is computed
    element by element in the same order, so each world's terms are those of a model of that world alone.
    """

    space: OutcomeSpace
    stakes: dict
    pass_through: float
    weights: dict
    importer: str
    exporter: str
    pledges: dict = field(default_factory=dict)

    # -- one tariff issue --------------------------------------------------------------------------------
    def taxed(self, issue: Issue) -> str:
        """The party whose goods a tariff issue taxes: the other party than its grantor."""
        return self.exporter if issue.grantor == self.importer else self.importer

    def flow_value(self, issue: Issue) -> float:
        """``V``: the yearly value (USD bn) of the flow a tariff issue taxes, at no tariff."""
        key = "exports_usd_bn" if self.taxed(issue) == self.exporter else "importer_exports_usd_bn"
        return _number(self.stakes[key][issue.tag("flow")])

    def elasticity(self, issue: Issue) -> float:
        return _number(self.stakes.get("elasticity", {}).get(issue.tag("flow"), 0.0))

    def _tariff_terms(self, issue: Issue) -> tuple[dict[str, float], Callable, dict[str, Callable]]:
        """A tariff issue's payoff terms per party: the affine part's slope (per pp), the share of the flow left
        ``s(t)`` (:func:`volume_share`) and the remainder ``r(t, s(t))`` from lost volume (zero when the
        elasticity is zero; the share computed once for both parties)."""
        phi, v, eps = self.pass_through, self.flow_value(issue), self.elasticity(issue)
        levier, payer = issue.grantor, self.taxed(issue)
        wl, wp = self.weights[levier], self.weights[payer]
        keep = wl["revenue_weight"] - wl["consumer_cost_weight"] * phi  # per USD of bill, to the levier
        scale = wp.get("market_access_weight", 1.0) if payer == self.importer else 1.0
        margin = wp.get("lost_sales_margin", 0.0)

        def bill_rest(t, share):  # B(t) - t/100 V: revenue not collected on the lost volume
            return np.asarray(t, dtype=float) / 100.0 * v * (share - 1.0)

        def lost(share):  # V (1 - s(t)): sales no longer made
            return v * (1.0 - share)

        slope = {levier: keep * (v / 100.0), payer: -scale * (1.0 - phi) * (v / 100.0)}
        rest = {levier: lambda t, share: keep * bill_rest(t, share),
                payer: lambda t, share: -scale * ((1.0 - phi) * bill_rest(t, share) + margin * lost(share))}
        return slope, lambda t: volume_share(t, eps, phi), rest

    def ranges(self) -> tuple[np.ndarray, np.ndarray]:
        """Each issue's own range ``(lo, hi)`` (an issue off the table included), shape ``(n,)``."""
        return (np.array([i.lo for i in self.space.issues], dtype=float),
                np.array([i.hi for i in self.space.issues], dtype=float))

    # -- the payoffs ---------------------------------------------------------------------------------------
    def _parts(self, lo: np.ndarray | None = None
               ) -> tuple[dict[str, np.ndarray], dict[str, float], list[tuple[int, Callable, dict[str, Callable]]]]:
        """The affine part ``(a, b)`` per party and each tariff's share of the flow left and remainders
        (:meth:`_tariff_terms`); ``lo``: the issues' lower ends, per world ``(W, n)`` (default: the outcome
        space's, one world)."""
        ids = (self.importer, self.exporter)
        lo = self.ranges()[0] if lo is None else lo
        a = {p: np.zeros(np.shape(lo)) for p in ids}
        b = dict.fromkeys(ids, 0.0)
        rests = []
        ex, im = self.weights[self.exporter], self.weights[self.importer]
        headline = im.get("headline_value", 0.0)
        for k, issue in enumerate(self.space.issues):
            kind = issue.tag("kind")
            if kind == "tariff":
                slope, share, rest = self._tariff_terms(issue)
                for p in ids:
                    a[p][..., k] += slope[p]
                rests.append((k, share, rest))
                if issue.tag("flow") == "vehicles" and issue.grantor == self.importer:
                    # price effect on domestically built cars, linear in the surcharge above the range's floor
                    per_pp = _car_price_effect_per_pp(self.stakes)
                    a[self.importer][..., k] -= im["consumer_cost_weight"] * per_pp
                    b[self.importer] += im["consumer_cost_weight"] * per_pp * lo[..., k]
            else:
                form = issue.tag("form")
                delivery = self.pledges[form]["delivery"] if form else 1.0
                if kind == "investment":
                    years = ex["investment_years"]
                    cost = self.pledges[form]["cost"] if form else ex["investment_cost"]
                    a[self.exporter][..., k] = -cost * delivery / years
                    a[self.importer][..., k] = (im["investment_value"] * delivery + headline) / years
                else:  # a yearly purchase item
                    a[self.exporter][..., k] = -ex["purchase_cost"][issue.name] * delivery
                    a[self.importer][..., k] = im["purchase_value"] * delivery + headline
        return a, b, rests

    def affine(self) -> dict[str, LinearPayoff]:
        """Both parties' affine payoffs: each tariff's volume remainder replaced by its chord over the issue's
        range (exact at both ends; the remainder is zero without volumes)."""
        terms = self.affine_terms(*self.ranges())
        return {p: LinearPayoff.over(self.space, a, b) for p, (a, b) in terms.items()}

    def affine_terms(self, lo: np.ndarray, hi: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray | float]]:
        """Per party, the coefficients ``a`` and constant ``b`` of :meth:`affine` over the ranges ``[lo, hi]``:
        one world's ``(n,)``, or per world ``(W, n)`` (then ``a`` is ``(W, n)`` and ``b`` is ``(W,)``)."""
        a, b, rests = self._parts(lo)
        for k, share, rest in rests:
            lo_k, hi_k = lo[..., k], hi[..., k]
            s_lo, s_hi = share(lo_k), share(hi_k)
            for p, r in rest.items():
                r_lo, r_hi = np.asarray(r(lo_k, s_lo), dtype=float), np.asarray(r(hi_k, s_hi), dtype=float)
                with np.errstate(divide="ignore", invalid="ignore"):
                    slope = np.where(hi_k == lo_k, 0.0, (r_hi - r_lo) / (hi_k - lo_k))
                moved = (r_lo != 0.0) | (r_hi != 0.0)  # a remainder of zero at both ends adds nothing (not even -0.0)
                a[p][..., k] = np.where(moved, a[p][..., k] + slope, a[p][..., k])
                b[p] = np.where(moved, b[p] + (r_lo - slope * lo_k), b[p])
        return {p: (a[p], b[p] if np.ndim(b[p]) else float(b[p])) for p in (self.importer, self.exporter)}

    def exact(self, packages: np.ndarray) -> dict[str, np.ndarray]:
        """Both parties' exact payoffs (USD bn/yr) of package(s), volumes and all."""
        x = np.asarray(packages, dtype=float)
        a, b, rests = self._parts()
        out = {p: ordered_dot(x, a[p]) + b[p] for p in a}
        for k, share, rest in rests:
            s_k = share(x[..., k])
            for p, r in rest.items():
                out[p] = out[p] + r(x[..., k], s_k)
        return out

    def chord_error(self) -> dict[str, float]:
        """Per party, the largest gap (USD bn/yr) between the exact and the affine payoff over the outcome box.

        The payoff is separable by issue, so the largest gap is the sum over tariff issues of each one's largest
        gap between its remainder and its chord, measured on a grid of :data:`GRID` points of the issue's range.
        """
        _, _, rests = self._parts()
        err = dict.fromkeys((self.importer, self.exporter), 0.0)
        for k, share, rest in rests:
            issue = self.space.issues[k]
            t = np.linspace(issue.lo, issue.hi, GRID)
            s_t = share(t)
            for p, r in rest.items():
                r_t = r(t, s_t)
                chord = r_t[0] + (r_t[-1] - r_t[0]) * (t - t[0]) / ((t[-1] - t[0]) or 1.0)
                err[p] += float(np.max(np.abs(r_t - chord)))
        return err

    def exporter_loss(self, package: np.ndarray) -> dict[str, float]:
        """The exporter's exact yearly loss (USD bn) from the tariffs on its goods at ``package``, by part:
        ``absorbed`` (its sellers' share of the bill on the reduced flow) and ``lost_margin`` (the margin on the
        sales it no longer makes)."""
        x = np.asarray(package, dtype=float)
        absorbed = margin = 0.0
        m = self.weights[self.exporter].get("lost_sales_margin", 0.0)
        for k, issue in enumerate(self.space.issues):
            if issue.tag("kind") == "tariff" and self.taxed(issue) == self.exporter:
                v, s = self.flow_value(issue), float(volume_share(x[k], self.elasticity(issue), self.pass_through))
                absorbed += (1.0 - self.pass_through) * x[k] / 100.0 * v * s
                margin += m * v * (1.0 - s)
        return {"absorbed": absorbed, "lost_margin": margin, "total": absorbed + margin}


def _number(x) -> float | np.ndarray:
    """A model number: a float for one world, a float array for many."""
    return float(x) if np.ndim(x) == 0 else np.asarray(x, dtype=float)


def tariff_bill_usd_bn(space: OutcomeSpace, stakes: dict, package: np.ndarray) -> float:
    """The yearly tariff bill ``B`` (USD bn/yr) on the exporter's goods at 2024 volumes (no volume effect).

    Args:
        space: The outcome space; tariff issues tagged with their ``flow``.
        stakes: The scenario's ``stakes`` block (``exports_usd_bn`` per flow).
        package: One value per issue of ``space``.

    Returns:
        ``sum_s t_s / 100 * V_s`` over the tariff issues on the exporter's flows.
    """
    exports = stakes["exports_usd_bn"]
    return float(sum(package[k] / 100.0 * exports[i.tag("flow")]
                     for k, i in enumerate(space.issues)
                     if i.tag("kind") == "tariff" and i.tag("flow") in exports))


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
                importer: str, exporter: str, pledges: dict | None = None) -> dict[str, LinearPayoff]:
    """Both parties' affine payoffs for a scenario (:meth:`TradeModel.affine`).

    Returns:
        ``{importer: LinearPayoff, exporter: LinearPayoff}``.
    """
    return TradeModel(space, stakes, pass_through, weights, importer, exporter, pledges or {}).affine()


def consumer_cost_coefficients(space: OutcomeSpace, stakes: dict, pass_through: float,
                               importer: str | None = None) -> np.ndarray:
    """Per issue, the change in the importer's consumers' payoff (USD bn/yr) per unit of the issue: minus
    the passed-through tariff bill and the car price effect (the ``w_cons`` term, unweighted), on the tariffs
    the importer levies (at 2024 volumes)."""
    values = stakes["exports_usd_bn"]
    tariffs = [k for k, i in enumerate(space.issues)
               if i.tag("kind") == "tariff" and (importer is None or i.grantor == importer)]
    worlds = np.broadcast_shapes(np.shape(pass_through), *(np.shape(values[space.issues[k].tag("flow")])
                                                           for k in tariffs))
    c = np.zeros((*worlds, space.n))
    for k in tariffs:
        flow = space.issues[k].tag("flow")
        c[..., k] = -pass_through * values[flow] / 100.0
        if flow == "vehicles":
            c[..., k] -= _car_price_effect_per_pp(stakes)
    return c
