"""The calibration table, ``docs/calibration.md``: every scenario parameter with its value, unit, source and prior.

Generated from the parameter registry (:mod:`sim.config.parameters`: label, unit, bounds) and the
``calibration`` block of each shipped scenario that has one (:mod:`sim.config.calibration`) by
``python -m sim calibration`` (``--check`` exits 1 if the file is out of date, or if a shipped scenario
has a numeric parameter without an entry or a value outside its prior).

It also writes the check of the exporter's no-deal loss against the published GDP-impact estimates
(:data:`NO_DEAL_BENCHMARKS`): the model's yearly tariff cost to the exporter at the escalated no-deal
tariffs, ``(1 - phi) * B``, in USD bn and as a share of the exporter's GDP, next to each estimate.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from sim.config.calibration import Entry, calibration_entries
from sim.config.parameters import find
from sim.report.codebook import write_or_check
from sim.resources import doc_path

__all__ = ["NO_DEAL_BENCHMARKS", "PASS_THROUGH_EVIDENCE", "markdown", "missing_entries", "no_deal_rows",
           "numeric_parameters"]

DOC = doc_path("calibration.md")


@dataclass(frozen=True)
class Benchmark:
    """A published estimate of the exporter's GDP loss from the US tariffs."""

    source: str
    scenario: str
    low_pct: float
    high_pct: float


@dataclass(frozen=True)
class GdpCheck:
    """The exporter's GDP and the published estimates to compare the model's no-deal loss with."""

    gdp_usd_bn: float
    gdp_source: str
    benchmarks: tuple[Benchmark, ...]


# Japan's nominal GDP 2024: ¥609.3 tn (Cabinet Office preliminary estimate of 17 Feb 2025, reported by the Yomiuri
# editorial of 18 Feb 2025), converted at the scenario's own ¥145/$ (DOMAIN §3a), so that the ratio of the
# model's loss to GDP is the same in yen and in dollars: ¥609.3 tn x 1000 / 145 = $4,202 bn (at the 2024 average
# of about ¥151/$ it is the "~$4.0 tn" usually quoted). The estimates are the rows of DOMAIN §4a.
NO_DEAL_BENCHMARKS: dict[str, GdpCheck] = {
    "us_japan_2025": GdpCheck(
        gdp_usd_bn=609.3 * 1000 / 145.0,
        gdp_source="¥609.3 tn, calendar 2024 (Cabinet Office, 17 Feb 2025; DOMAIN §4a) at ¥145/$",
        benchmarks=(
            Benchmark("NRI (Kiuchi), 3 Apr 2025 (DOMAIN §4a)", "24 % reciprocal tariff alone", 0.59, 0.59),
            Benchmark("NRI (Kiuchi), 3 Apr 2025 (DOMAIN §4a)", "24 % reciprocal + auto tariffs", 0.71, 0.76),
            Benchmark("NRI (Kiuchi), Jul 2025 (DOMAIN §4a)", "all tariffs, 25 % letter rate", 0.85, 0.85),
            Benchmark("Daiwa Institute of Research, 8 Jul 2025 (DOMAIN §4a)", "25 % reciprocal, 2025", 0.8, 0.8),
            Benchmark("Daiwa Institute of Research, 8 Jul 2025 (DOMAIN §4a)", "25 % + auto and other tariffs, 2025",
                      1.3, 1.3),
            Benchmark("Nikkei estimate (DOMAIN §4a, [UNCERTAIN])", "car and steel tariffs stay", 0.7, 0.7),
        )),
    # Korea's nominal GDP 2024: ₩2,549.1 tn (Bank of Korea, 5 Mar 2025) at the 2024 average of ₩1,363.98/$
    # (Yonhap, 2 Feb 2025): $1,869 bn. The estimates are the rows of docs/DOMAIN_us_korea.md §4a (all before 15 Jul).
    "us_korea_2025": GdpCheck(
        gdp_usd_bn=2549.1 * 1000 / 1363.98,
        gdp_source="₩2,549.1 tn, calendar 2024 (Bank of Korea, 5 Mar 2025; DOMAIN_us_korea §4a) at ₩1,363.98/$",
        benchmarks=(
            Benchmark("KIET, Nov 2024 (DOMAIN_us_korea §4a)", "10–20 % universal US tariff", 0.1, 0.2),
            Benchmark("Hana Bank, Apr 2025 (DOMAIN_us_korea §4a): value added > ₩10.6 tn / ₩2,549.1 tn",
                      "25 % reciprocal tariff", 0.42, 0.42),
            Benchmark("National Assembly Budget Office, 22 May 2025 (DOMAIN_us_korea §4a)",
                      "worst case: 25 % on Korea and 145 % on China (growth, pp)", 0.69, 0.69),
        )),
}

# What each study found about who pays a US tariff, for the pass-through entry (scenario.payoff.pass_through).
PASS_THROUGH_EVIDENCE = [
    ("Amiti, Redding & Weinstein (2019), \"The Impact of the 2018 Tariffs on Prices and Welfare\", *Journal of "
     "Economic Perspectives* 33(4): 187–210",
     "2018 US tariffs (steel, aluminium, washers, solar panels, \\$250 bn of Chinese goods): complete pass-through "
     "of the tariffs into the domestic prices of imported goods; the full incidence fell on US consumers and "
     "importers (a real-income loss of \\$1.4 bn a month by the end of 2018)", "≈ 1.0"),
    ("Fajgelbaum, Goldberg, Kennedy & Khandelwal (2020), \"The Return to Protectionism\", *Quarterly Journal of "
     "Economics* 135(1): 1–55",
     "complete pass-through of the 2018 tariffs to duty-inclusive import prices (foreign export prices did not "
     "fall); buyers of imports lost \\$51 bn (0.27 % of GDP), the net real-income loss was \\$7.2 bn (DOMAIN §4c)",
     "≈ 1.0"),
    ("Cavallo, Gopinath, Neiman & Tang (2021), \"Tariff Pass-Through at the Border and at the Store: Evidence "
     "from US Trade Policy\", *AER: Insights* 3(1): 19–34",
     "near-complete pass-through of the 2018–19 tariffs to the prices US importers paid at the border (much "
     "higher than exchange-rate pass-through); retail prices rose less, so retailers' margins absorbed part; "
     "US exporters facing retaliatory tariffs did cut their prices", "≈ 0.9–1.0 at the border"),
    ("2025, Japanese cars: Bank of Japan corporate goods price index (export price of vehicles to North "
     "America −19.4 % y/y in May 2025, contract-currency basis, the steepest fall since 2016); Ministry of "
     "Finance trade statistics of 18 Jun 2025 (car exports to the US −24.7 % in value, −3.9 % in volume); "
     "Yomiuri, 19 Jul 2025 (June: value −26.7 %, volume +3.4 %; US new-car prices +3 % y/y, Cox Automotive)",
     "Japanese carmakers cut the dollar price of cars shipped to the US by about as much as the 25 pp tariff "
     "in the first months: they, not US buyers, absorbed most of the car tariff (a 19.4 % cut under a 25 % "
     "tariff leaves the duty-inclusive price at 0.806 × 1.25 = 1.008 of its old level: φ ≈ 0.04)", "≈ 0–0.1 on cars"),
]

PASS_THROUGH_TEXT = """\
**The value and its range.** One pass-through φ serves every tariff flow and both sides. The 2018–19
literature finds φ ≈ 1 (complete pass-through at the border); the spring-2025 evidence on Japanese cars finds
φ ≈ 0–0.1 on cars, the largest flow, in the first months (a short-run absorption that the carmakers said they
could not keep up). Weighting φ = 0.1 on cars and parts and φ = 1 on steel and other goods by the tariff bill
[DERIVED]: at the status quo (cars and parts \\$13.45 bn of \\$24.0 bn) φ = (13.45 × 0.1 + 10.56 × 1)/24.0 =
0.50; at the escalated tariffs (\\$13.45 bn of \\$37.3 bn) φ = (1.35 + 23.88)/37.3 = 0.68. The default is the
middle, **φ = 0.6**, with the prior **triangular [0.3, 0.6, 1.0]**: 1.0 is the 2018–19 benchmark (complete
pass-through), 0.3 allows exporters of other goods to absorb part as well. Japan's exporters therefore bear
1 − φ = 40 % of each tariff, US buyers 60 %, and the US Treasury collects the whole bill: no double count.
"""


def _leaves(node, prefix: str):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, f"{prefix}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, f"{prefix}[{i}]")
    else:
        yield prefix, node


def numeric_parameters(cfg: dict) -> dict[str, float]:
    """Every numeric setting of the composed config's scenario (``scenario.*``), except the calibration block
    and the dated lists (``schedule``, ``threshold_changes``), whose entries cite their own dates and rows."""
    scenario = {k: v for k, v in (cfg.get("scenario") or {}).items() if k != "calibration"}
    return {k: float(v) for k, v in _leaves(scenario, "scenario")
            if isinstance(v, (int, float)) and not isinstance(v, bool) and "[" not in k}


def missing_entries(cfg: dict) -> list[str]:
    """The scenario's numeric settings without a calibration entry."""
    have = {e.key for e in calibration_entries(cfg)}
    return [k for k in numeric_parameters(cfg) if k not in have]


def _label_unit_bounds(key: str, cfg: dict) -> tuple[str, str, str]:
    found = find(key)
    if found is not None:
        parameter, values = found
        label = parameter.label
        for placeholder, value in values.items():
            label = label.replace("{" + placeholder + "}", value)
        lo = 0.0 if parameter.kind in ("probability", "money") and parameter.lo < 0 else parameter.lo
        hi = 1.0 if parameter.kind == "probability" else parameter.hi
        bounds = f"[{lo:g}, {hi:g}]".replace("inf", "∞")
        return label, parameter.unit, bounds
    parts = key.split(".")
    if parts[1] == "issues" and len(parts) == 4:
        issue = cfg["scenario"]["issues"][parts[2]]
        what = {"status_quo": "status quo", "min": "range min", "max": "range max"}.get(parts[3], parts[3])
        return f"{parts[2]} {what}", str(issue.get("unit", "")), "issue range"
    if parts[1] == "ratification" and parts[-1] == "weight":
        return f"{parts[2]} {parts[4]} weight", "share", "[0, 1]"
    return parts[-1].replace("_", " "), "", ""


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(cfg: dict, entries: list[Entry]) -> list[str]:
    lines = ["| key | parameter | value | unit | registry bounds | tag | source | prior |",
             "| --- | --- | ---: | --- | --- | --- | --- | --- |"]
    for e in entries:
        label, unit, bounds = _label_unit_bounds(e.key, cfg)
        prior = e.prior.describe() if e.prior else "— (exact)"
        lines.append(f"| `{e.key}` | {_cell(label)} | {e.value:g} | {_cell(unit)} | {bounds} | {e.tag} | "
                     f"{_cell(e.source)} | {prior} |")
    return lines


def no_deal_rows(cfg: dict) -> list[dict]:
    """The exporter's no-deal tariff cost in the model against the GDP estimates of :data:`NO_DEAL_BENCHMARKS`.

    The cost is the exporter's payoff at the escalated no-deal package (status quo with the scheduled changes
    and the escalation, no concessions), ``-(1 - phi) * B``, taken from the compiled scenario; it is also given at the prior's
    bounds of phi and at phi = 0 (the exporter absorbs every tariff).

    Returns:
        One row per pass-through shown: ``phi``, ``loss_usd_bn`` and ``loss_pct_gdp``; empty for a scenario
        without a benchmark or without the tariff payoff model.
    """
    from sim.config import plan
    from sim.domain.no_deal import escalated

    name = cfg["scenario"].get("name")
    check = NO_DEAL_BENCHMARKS.get(name)
    if check is None or cfg["scenario"].get("payoff", {}).get("model", "trade") != "trade":
        return []
    entries = {e.key: e for e in calibration_entries(cfg)}
    phi0 = float(cfg["scenario"]["payoff"]["pass_through"])
    prior = entries.get("scenario.payoff.pass_through")
    phis = sorted({phi0, 0.0, *((prior.prior.lo, prior.prior.hi) if prior and prior.prior else ())})
    rows = []
    for phi in phis:
        point_cfg = {**cfg, "scenario": {**cfg["scenario"], "payoff": {**cfg["scenario"]["payoff"],
                                                                      "pass_through": phi}},
                     "run": {**cfg["run"], "seeds": 1}}
        point = plan(point_cfg).points[0]
        structure = point.structure
        exporter = cfg["scenario"]["payoff"]["exporter"]
        party = next(p for p, s in zip(point.inputs.parties, structure.parties, strict=True) if s.id == exporter)
        # the no-deal package after the deadline: the status quo with every scheduled change and threat (in
        # date order, each applying without a deal), then the escalation
        base = np.array(structure.space.status_quo, dtype=float)
        for change in sorted(structure.schedule, key=lambda c: (c.effective, c.index)):
            base[change.issue] = change.value
        worst = escalated(base, structure.escalation_issue, float(point.inputs.escalation))
        loss = round(-float(worst @ party.payoff_a + party.payoff_b), 9) + 0.0  # + 0.0: no "-0.0"
        rows.append({"phi": phi, "default": phi == phi0, "loss_usd_bn": loss,
                     "loss_pct_gdp": 100.0 * loss / check.gdp_usd_bn})
    return rows


def _no_deal_section(cfg: dict) -> list[str]:
    rows = no_deal_rows(cfg)
    if not rows:
        return []
    check = NO_DEAL_BENCHMARKS[cfg["scenario"]["name"]]
    exporter = cfg["scenario"]["payoff"]["exporter"]
    name_x = cfg["scenario"]["parties"][exporter]["name"]
    lo = min(b.low_pct for b in check.benchmarks)
    hi = max(b.high_pct for b in check.benchmarks)
    default = next(r for r in rows if r["default"])
    inside = lo <= default["loss_pct_gdp"] <= hi
    all_absorbed = next(r for r in rows if r["phi"] == 0.0)["loss_pct_gdp"]
    # the loss is (1 - phi) times the loss at phi = 0: it reaches the range's top at phi_hi, its bottom at phi_lo
    phi_lo, phi_hi = 1.0 - lo / all_absorbed, 1.0 - hi / all_absorbed
    lines = [
        f"### No-deal loss of `{exporter}` against the published GDP estimates",
        "",
        f"The model's yearly tariff cost to {exporter} with no deal after the deadline (the escalated tariffs, no "
        f"concessions) is its payoff there, −(1 − φ)·B, as a share of its GDP ({check.gdp_source} = "
        f"\\${check.gdp_usd_bn:,.0f} bn):",
        "",
        "| pass-through φ | model: yearly tariff cost (USD bn) | model: % of GDP |",
        "| ---: | ---: | ---: |",
        *(f"| {r['phi']:g}{' (default)' if r['default'] else ''} | {r['loss_usd_bn']:.1f} | "
          f"{r['loss_pct_gdp']:.2f} |" for r in rows),
        "",
        "| published estimate | scenario | real GDP loss (%) |",
        "| --- | --- | ---: |",
        *(f"| {b.source} | {b.scenario} | {b.low_pct:g}{'' if b.low_pct == b.high_pct else f'–{b.high_pct:g}'} |"
          for b in check.benchmarks),
        "",
        f"**Result.** At the default φ = {default['phi']:g} the model's no-deal loss, "
        f"{default['loss_pct_gdp']:.2f} % of GDP, falls {'inside' if inside else 'outside'} the published range "
        f"of {lo:g}–{hi:g} %{'' if inside else (' (below it)' if default['loss_pct_gdp'] < lo else ' (above it)')}. "
        f"The two are not the same quantity: the model counts only the part of the tariff bill {name_x}'s "
        "exporters absorb, at 2024 export volumes, while the GDP estimates add the fall in export volumes, its "
        "knock-on effects on output and, in some estimates, several years of them; so the model's figure should "
        "sit below them. "
        + (f"It stays in the range for φ from {max(phi_hi, 0.0):.2f} to {phi_lo:.2f}" if inside
           else f"It would enter the range only for φ below {phi_lo:.2f}" if default["loss_pct_gdp"] < lo
           else f"It would enter the range only for φ above {phi_hi:.2f}")
        + " (loss ∝ 1 − φ). No parameter was tuned to bring it inside the range.",
        "",
    ]
    return lines


def scenario_configs() -> list[tuple[str, dict]]:
    """Each shipped scenario with a calibration block, composed with its defaults (plain containers)."""
    from omegaconf import OmegaConf

    from sim.config import available
    from sim.config.compose import compose_config

    out = []
    for name in available("scenario"):
        cfg = OmegaConf.to_container(compose_config(f"scenario={name}"), resolve=True)
        if (cfg.get("scenario") or {}).get("calibration"):
            out.append((name, cfg))
    return out


def markdown(configs: list[tuple[str, dict]]) -> str:
    """The calibration table as Markdown, one section per scenario."""
    lines = [
        "# Calibration",
        "",
        "<!-- generated by `python -m sim calibration` from sim/report/calibration.py, the parameter registry "
        "and each scenario's `calibration:` block; do not edit by hand -->",
        "",
        "Every numeric parameter of each shipped scenario with a calibration block: its value, unit, the bounds "
        "the config compiler allows (from the parameter registry, `sim/config/parameters.py`), where the value "
        "comes from, and its prior. Tags: DOMAIN (a row of [DOMAIN.md](DOMAIN.md)), SEED (one of the two source "
        "articles), PAPER (published research), STATEMENT (a public statement, dated), DERIVED (arithmetic on "
        "cited values, shown), ASSUMPTION (a modelling choice, always with a prior). A prior is "
        "`uniform [lo, hi]` or `triangular [lo, mode, hi]`; \"— (exact)\" marks an exact fact. Every source "
        "predates the end of the talks; no value was chosen by comparing the model's outputs with the deal "
        "eventually reached.",
        "",
        "## The pass-through of a tariff (`scenario.payoff.pass_through`)",
        "",
        "| study | finding | implied φ |",
        "| --- | --- | --- |",
        *(f"| {_cell(s)} | {_cell(f)} | {v} |" for s, f, v in PASS_THROUGH_EVIDENCE),
        "",
        PASS_THROUGH_TEXT,
    ]
    for name, cfg in configs:
        entries = calibration_entries(cfg)
        missing = missing_entries(cfg)
        tags = {t: sum(e.tag == t for e in entries) for t in sorted({e.tag for e in entries})}
        lines += [
            f"## Scenario `{name}`",
            "",
            f"{len(entries)} parameters: " + ", ".join(f"{n} {t}" for t, n in tags.items())
            + (f". **Without an entry:** {', '.join(f'`{k}`' for k in missing)}." if missing else
               "; none without an entry."),
            "",
            *_table(cfg, entries),
            "",
            *_no_deal_section(cfg),
        ]
    return "\n".join(lines).rstrip() + "\n"


def check_values(configs: list[tuple[str, dict]]) -> list[str]:
    """Problems of the shipped scenarios: numeric settings without an entry, values outside their prior."""
    from sim.config.values import ConfigError

    problems = []
    for name, cfg in configs:
        try:
            calibration_entries(cfg, values=True)
        except ConfigError as err:
            problems.append(f"scenario {name}: {err}")
        problems += [f"scenario {name}: {key} has no calibration entry" for key in missing_entries(cfg)]
    return problems


def main(args: list[str]) -> int:
    """``python -m sim calibration [--check]``: write docs/calibration.md, or check that it is current."""
    if args not in ([], ["--check"]):
        print("usage: python -m sim calibration [--check]", file=sys.stderr)
        return 2
    configs = scenario_configs()
    problems = check_values(configs)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    status = write_or_check(DOC, markdown(configs), "python -m sim calibration", args == ["--check"])
    return 1 if problems else status
