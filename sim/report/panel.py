"""Individual rationality of the arrangements observed in the panel: would each side rather have had no deal?

A panel scenario records the arrangement announced at the end of its talks as an observation,
``scenario.evidence.arrangement`` (its date, source and terms per issue; the engine never reads it). For each of
``n`` draws from the scenario's priors (:func:`sim.config.priors.draw`) this compares both parties' exact payoffs
(:meth:`sim.domain.payoffs.tariffs.TradeModel.exact`, volumes and all) at the observed terms with their payoffs at
no deal: the tariffs in force with every scheduled change and threat applied and the escalation of the deadline
then in force (as the calibration table's no-deal loss). An issue the arrangement leaves unstated stays at that
no-deal value. The share of draws in which the terms are at least as good as no deal for a side, and for both,
is the arrangement's individual-rationality share (issue 21, item 7); ``docs/calibration.md`` tables it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Rationality", "no_deal_package", "observed_package", "rationality"]

DRAWS = 1000
SEED = 20250715


@dataclass(frozen=True)
class Rationality:
    """The individual-rationality shares of one observed arrangement under ``draws`` prior draws.

    Attributes:
        share: Per party id, the share of draws in which the terms are at least as good as no deal.
        both: The share in which they are for both parties.
        gain_median: Per party, the median gain of the terms over no deal (USD bn/yr).
        gain_range: Per party, the 5th and 95th percentiles of that gain.
        draws: Number of draws.
    """

    share: dict[str, float]
    both: float
    gain_median: dict[str, float]
    gain_range: dict[str, tuple[float, float]]
    draws: int


def no_deal_package(cfg: dict, space) -> np.ndarray:
    """The no-deal package of a (cut) config: the status quo, every scheduled change and threat, the escalation."""
    x = np.array(space.status_quo, dtype=float)
    for entry in cfg["scenario"].get("schedule") or []:
        x[space.index(entry["issue"])] = float(entry["value"])
    target = cfg["scenario"].get("escalation_issue")
    if target is not None:
        x[space.index(target)] += float(cfg["scenario"]["escalation"])
    return x


def observed_package(cfg: dict, space, base: np.ndarray) -> np.ndarray:
    """The observed arrangement's terms as a package: each stated term, the no-deal value ``base`` elsewhere."""
    x = base.copy()
    for name, term in cfg["scenario"]["evidence"]["arrangement"]["terms"].items():
        x[space.index(name)] = float(term["value"])
    return x


def rationality(cfg: dict, draws: int = DRAWS, seed: int = SEED) -> Rationality | None:
    """The individual-rationality shares of the scenario's observed arrangement under its priors.

    Args:
        cfg: A composed config (plain containers) whose scenario has ``evidence.arrangement``.
        draws: Number of prior draws.
        seed: Root seed of the draws.

    Returns:
        ``None`` for a scenario without an observed arrangement.
    """
    from sim.config.as_of import cut
    from sim.config.priors import draw
    from sim.config.scenario import trade_model
    from sim.config.values import copy_on_write

    arrangement = ((cfg.get("scenario") or {}).get("evidence") or {}).get("arrangement")
    if not arrangement:
        return None
    gains = []
    ids = None
    for point in draw(cfg, draws, seed, set()):
        world, put = copy_on_write(cfg)
        for key, value in point.items():
            put(key, value)
        model = trade_model(world)
        ids = (model.importer, model.exporter)
        cut_cfg, _ = cut(world)
        base = no_deal_package(cut_cfg, model.space)
        deal = model.exact(observed_package(cut_cfg, model.space, base))
        none = model.exact(base)
        gains.append([deal[p] - none[p] for p in ids])
    g = np.array(gains)
    ok = g >= -1e-9
    return Rationality(share={p: float(ok[:, k].mean()) for k, p in enumerate(ids)},
                       both=float(ok.all(axis=1).mean()),
                       gain_median={p: float(np.median(g[:, k])) for k, p in enumerate(ids)},
                       gain_range={p: (float(np.quantile(g[:, k], 0.05)), float(np.quantile(g[:, k], 0.95)))
                                   for k, p in enumerate(ids)},
                       draws=len(g))


def panel_lines(configs: list[tuple[str, dict]], draws: int = DRAWS) -> list[str]:
    """The calibration page's section on the observed arrangements: per panel case, its date, its terms and the
    individual-rationality shares under the scenario's priors."""
    rows = []
    for name, cfg in configs:
        found = rationality(cfg, draws)
        if found is None:
            continue
        arrangement = cfg["scenario"]["evidence"]["arrangement"]
        importer, exporter = cfg["scenario"]["payoff"]["importer"], cfg["scenario"]["payoff"]["exporter"]
        terms = ", ".join(f"{k} {v['value']:g}" for k, v in arrangement["terms"].items())
        gain = "; ".join(f"{p} {found.gain_median[p]:+.1f} [{found.gain_range[p][0]:+.1f}, {found.gain_range[p][1]:+.1f}]"
                         for p in (importer, exporter))
        rows.append(f"| `{name}` | {arrangement['date']} | {terms} | {found.share[importer]:.2f} | "
                    f"{found.share[exporter]:.2f} | {found.both:.2f} | {gain} |")
        never = [p for p in (importer, exporter) if found.share[p] == 0.0]
        if never:
            rows[-1] += f" **irrational for {', '.join(never)} under every draw** |"
    if not rows:
        return []
    return [
        "## The observed arrangements: individual rationality under the priors",
        "",
        f"Per panel case, the share of {draws} draws from the scenario's priors (`sim/report/panel.py`) in which the "
        "announced terms (`evidence.arrangement`, with their source) are at least as good as no deal, for each side "
        "and for both, by the exact payoffs (volumes and all). No deal is the tariffs in force with every scheduled "
        "change and threat and the escalation of the deadline; a term the arrangement leaves unstated stays there. "
        "The gains are the median and the 5–95 % range of terms minus no deal, USD bn/yr. A share far below 1 says "
        "the model misses what made that side accept: each case's page in `experiments/` says which mechanism.",
        "",
        "| case | announced | terms | importer | exporter | both | gain: median [5 %, 95 %] |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
        *rows,
        "",
    ]
