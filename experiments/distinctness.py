"""Distinctness of the shipped options (experiments/strategies.md): do two options of a part give different outcomes?

For each part (offering strategy, acceptance strategy, opponent model) and each pair of its shipped options, and
for Japan's ratification threshold, the default scenario is run with each option in three settings (the US's
part, Japan's part, both sides'; acceptance rules with both sides on `random` offers, opponent models with both
on `tradeoff_boulware`, so that the part is used), ``SEEDS`` seeds each at the root seed, and the two samples are compared: the deal
rate by Fisher's exact test and each agreed term (over the deals) by the two-sample Kolmogorov-Smirnov test. A pair
is *distinct* when some setting gives p < 0.01 after a Bonferroni correction over the tests of that pair.

    python experiments/distinctness.py [SEEDS]      # prints the markdown table (about a minute for 1,000 seeds)
"""

from __future__ import annotations

import itertools
import sys

from scipy import stats

from sim.config import available, plan
from sim.config.compose import compose_config
from sim.run.runner import simulate

PARTS = ("strategy", "acceptance", "opponent")
SIDES = {"US": ("us",), "Japan": ("japan",), "both": ("us", "japan")}
# the strategies a part is tried under: an acceptance rule also against random offers (not monotone, so the best
# recent offer is not the latest), an opponent model under trade-off offers (the line strategies use no weights)
CONTEXT = {"strategy": [], "acceptance": ["strategy@us=random", "strategy@japan=random"],
           "opponent": ["strategy@us=tradeoff_boulware", "strategy@japan=tradeoff_boulware"]}
THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 0.85)
LEVEL = 0.01


def outcomes(overrides: list[str], seeds: int):
    """The outcomes of the default scenario with ``overrides``."""
    return simulate(plan(compose_config(*overrides, f"run.seeds={seeds}", "run.record_rounds=none")))[0]


def compare(a, b, terms: list[str]) -> float:
    """The smallest Bonferroni-corrected p-value of the deal-rate and per-term two-sample tests (1 if identical)."""
    if a.drop(columns=[c for c in a.columns if "strategy" in c or c in ("world",)]).equals(
            b.drop(columns=[c for c in b.columns if "strategy" in c or c in ("world",)])):
        return 1.0
    table = [[a["deal"].sum(), (~a["deal"]).sum()], [b["deal"].sum(), (~b["deal"]).sum()]]
    p = [stats.fisher_exact(table)[1]]
    da, db = a[a["deal"]], b[b["deal"]]
    if len(da) > 1 and len(db) > 1:
        p += [stats.ks_2samp(da[t], db[t]).pvalue for t in terms]
    return min(1.0, min(p) * len(p))


def options(part: str) -> list[tuple[str, list[str]]]:
    """The options of a part, each with its override per side (a placeholder ``{side}``)."""
    return [(name, [f"{part}@{{side}}={name}"]) for name in available(part)]


def samples(part: str, seeds: int) -> dict[tuple[str, str], object]:
    """Outcomes per (option, setting)."""
    out = {}
    for name, over in options(part):
        for setting, sides in SIDES.items():
            out[name, setting] = outcomes([*CONTEXT[part], *(o.format(side=s) for s in sides for o in over)], seeds)
    return out


def thresholds(seeds: int) -> dict[tuple[str, str], object]:
    """Outcomes per Japan ratification threshold (known to its negotiator, as in the two_level experiment)."""
    return {(f"{rho:g}", "both"): outcomes([f"scenario.ratification.japan.threshold={rho}"], seeds)
            for rho in THRESHOLDS}


def table(results: dict, terms: list[str]) -> list[tuple[str, str, dict[str, float], bool]]:
    """Per pair of options: the p-value per setting and whether the pair is distinct."""
    names = list(dict.fromkeys(name for name, _ in results))
    settings = list(dict.fromkeys(setting for _, setting in results))
    rows = []
    for x, y in itertools.combinations(names, 2):
        p = {s: compare(results[x, s], results[y, s], terms) for s in settings}
        rows.append((x, y, p, min(p.values()) < LEVEL))
    return rows


def main(seeds: int = 1000) -> None:
    terms = list(plan(compose_config()).points[0].structure.space.names)
    print("| part | option A | option B | p (US) | p (Japan) | p (both) | distinct |\n| --- | --- | --- | ---: | ---: | ---: | --- |")
    for part in PARTS:
        for x, y, p, distinct in table(samples(part, seeds), terms):
            cells = " | ".join(f"{v:.2g}" for v in p.values())
            print(f"| {part} | {x} | {y} | {cells} | {'yes' if distinct else '**no**'} |", flush=True)
    for x, y, p, distinct in table(thresholds(seeds), terms):
        print(f"| ratification threshold (Japan) | {x} | {y} | | | {p['both']:.2g} | "
              f"{'yes' if distinct else '**no**'} |", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
