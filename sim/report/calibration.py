"""The calibration table, ``docs/calibration.md``: every scenario parameter with its value, unit, source and prior.

Generated from the parameter registry (:mod:`sim.config.parameters`: label, unit, bounds) and the
``calibration`` block of each shipped scenario that has one (:mod:`sim.config.calibration`) by
``python -m sim calibration`` (``--check`` exits 1 if the file is out of date, or if a shipped scenario
has a numeric parameter without an entry or a value outside its prior).

It also writes the check of the exporter's no-deal loss against the published GDP-impact estimates of
the scenario's ``evidence.no_deal_gdp`` (:func:`gdp_check`): the model's yearly loss to the exporter at the
escalated no-deal tariffs (the absorbed tariff on the reduced flow and the margin on lost sales), in USD bn and as
a share of the exporter's GDP, next to each estimate; and the studies of ``evidence.pass_through`` behind the pass-through. The evidence is scenario
data, written in the scenario file with its sources; this module only lays it out.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from sim.config.calibration import calibration_entries, value_at
from sim.config.parameters import Parameter, find
from sim.config.values import flatten
from sim.report.codebook import write_or_check
from sim.resources import doc_path

__all__ = ["gdp_check", "markdown", "missing_entries", "no_deal_rows", "numeric_parameters"]

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


def gdp_check(cfg: dict) -> GdpCheck | None:
    """The scenario's ``evidence.no_deal_gdp``: the exporter's GDP in USD bn (local currency tn x 1000 / the USD
    rate) and the published estimates of its GDP loss; ``None`` without one."""
    node = ((cfg.get("scenario") or {}).get("evidence") or {}).get("no_deal_gdp")
    if not node:
        return None
    return GdpCheck(gdp_usd_bn=node["gdp_local_tn"] * 1000 / node["usd_rate"], gdp_source=node["source"],
                    benchmarks=tuple(Benchmark(b["source"], b["scenario"], b["low_pct"], b["high_pct"])
                                     for b in node["estimates"]))


def _pass_through_section(cfg: dict) -> list[str]:
    node = ((cfg.get("scenario") or {}).get("evidence") or {}).get("pass_through")
    if not node:
        return []
    return ["### The pass-through of a tariff (`scenario.payoff.pass_through`)", "",
            "| study | finding | implied φ |", "| --- | --- | --- |",
            *(f"| {_cell(e['study'])} | {_cell(e['finding'])} | {e['implied']} |" for e in node["studies"]),
            "", node["text"]]


def numeric_parameters(cfg: dict) -> dict[str, float]:
    """Every numeric setting of the composed config's scenario (``scenario.*``), except the calibration block,
    the evidence it is set against, and the dated lists (``schedule``, ``threshold_changes``), whose entries
    cite their own dates and rows."""
    scenario = {k: v for k, v in (cfg.get("scenario") or {}).items() if k not in ("calibration", "evidence")}
    return {k: float(v) for k, v in flatten(scenario, "scenario").items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


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


def _table(cfg: dict, entries: list[Parameter]) -> list[str]:
    lines = ["| key | parameter | value | unit | registry bounds | tag | source | prior |",
             "| --- | --- | ---: | --- | --- | --- | --- | --- |"]
    for e in entries:
        label, unit, bounds = _label_unit_bounds(e.key, cfg)
        prior = e.prior.describe() if e.prior else "— (exact)"
        lines.append(f"| `{e.key}` | {_cell(label)} | {value_at(cfg, e.key):g} | {_cell(unit)} | {bounds} | {e.tag} | "
                     f"{_cell(e.source.text)} | {prior} |")
    return lines


def no_deal_rows(cfg: dict) -> list[dict]:
    """The exporter's no-deal loss in the model against the GDP estimates of :func:`gdp_check`.

    The loss is taken at the escalated no-deal package (status quo with the scheduled changes and the escalation,
    no concessions), exactly (:meth:`sim.domain.payoffs.tariffs.TradeModel.exporter_loss`: the absorbed share of
    the bill on the reduced flow plus the margin on the lost sales) and as the affine payoff the negotiators use
    (the chord); at the default pass-through, at the prior's bounds of phi and at phi = 0, and once at the default
    without volumes (every elasticity 0, the model before volumes).

    Returns:
        One row per case: ``phi``, ``volumes``, ``default``, ``loss_usd_bn`` (exact), ``absorbed_usd_bn``,
        ``lost_margin_usd_bn``, ``affine_usd_bn`` and ``loss_pct_gdp``; empty for a scenario without a benchmark or
        without the trade payoff model.
    """
    from sim.config import plan
    from sim.config.payoffs import Trade, payoff_model
    from sim.config.scenario import trade_model
    from sim.domain.no_deal import escalated

    check = gdp_check(cfg)
    if check is None or not isinstance(payoff_model(cfg), Trade):
        return []
    entries = {e.key: e for e in calibration_entries(cfg)}
    phi0 = float(cfg["scenario"]["payoff"]["pass_through"])
    prior = entries.get("scenario.payoff.pass_through")
    phis = sorted({phi0, 0.0, *((prior.prior.lo, prior.prior.hi) if prior and prior.prior else ())})
    flat = cfg["scenario"].get("stakes", {}).get("elasticity") or {}
    cases = [(phi, True) for phi in phis] + ([(phi0, False)] if any(flat.values()) else [])
    rows = []
    for phi, volumes in cases:
        scenario = {**cfg["scenario"], "payoff": {**cfg["scenario"]["payoff"], "pass_through": phi}}
        if not volumes:
            scenario["stakes"] = {**scenario["stakes"], "elasticity": dict.fromkeys(flat, 0.0)}
        point_cfg = {**cfg, "scenario": scenario, "run": {**cfg["run"], "seeds": 1}}
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
        exact = trade_model(point_cfg).exporter_loss(worst)
        affine = round(-float(worst @ party.payoff_a + party.payoff_b), 9) + 0.0  # + 0.0: no "-0.0"
        rows.append({"phi": phi, "volumes": volumes, "default": phi == phi0 and volumes,
                     "loss_usd_bn": exact["total"], "absorbed_usd_bn": exact["absorbed"],
                     "lost_margin_usd_bn": exact["lost_margin"], "affine_usd_bn": affine,
                     "loss_pct_gdp": 100.0 * exact["total"] / check.gdp_usd_bn})
    return rows


def _no_deal_section(cfg: dict) -> list[str]:
    rows = no_deal_rows(cfg)
    if not rows:
        return []
    check = gdp_check(cfg)
    exporter = cfg["scenario"]["payoff"]["exporter"]
    lo = min(b.low_pct for b in check.benchmarks)
    hi = max(b.high_pct for b in check.benchmarks)
    default = next(r for r in rows if r["default"])
    inside = lo <= default["loss_pct_gdp"] <= hi
    at = [r for r in rows if r["volumes"]]
    within = [f"{r['phi']:g}" for r in at if lo <= r["loss_pct_gdp"] <= hi]
    lines = [
        f"### No-deal loss of `{exporter}` against the published GDP estimates",
        "",
        f"The model's yearly loss to {exporter} with no deal after the deadline (the escalated tariffs, no "
        f"concessions): the share (1 − φ) of the tariff bill its sellers absorb, collected on the flow the tariffs "
        f"leave, V·(1 + φt/100)^−ε, plus the margin on the sales lost, V·(1 − (1 + φt/100)^−ε); as a share of its "
        f"GDP ({check.gdp_source} = \\${check.gdp_usd_bn:,.0f} bn). The affine column is the same loss in the "
        "payoff the negotiators use (each tariff's volume term replaced by its chord over the issue's range):",
        "",
        "| pass-through φ | volumes | absorbed (USD bn) | lost margin (USD bn) | exact loss (USD bn) | affine (USD bn) "
        "| exact: % of GDP |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
        *(f"| {r['phi']:g}{' (default)' if r['default'] else ''} | {'yes' if r['volumes'] else 'no (ε = 0)'} | "
          f"{r['absorbed_usd_bn']:.1f} | {r['lost_margin_usd_bn']:.1f} | {r['loss_usd_bn']:.1f} | "
          f"{r['affine_usd_bn']:.1f} | {r['loss_pct_gdp']:.2f} |" for r in rows),
        "",
        "| published estimate | scenario | real GDP loss (%) |",
        "| --- | --- | ---: |",
        *(f"| {b.source} | {b.scenario} | {b.low_pct:g}{'' if b.low_pct == b.high_pct else f'–{b.high_pct:g}'} |"
          for b in check.benchmarks),
        "",
        f"**Result.** At the default φ = {default['phi']:g} the model's no-deal loss, "
        f"{default['loss_pct_gdp']:.2f} % of GDP, falls {'inside' if inside else 'outside'} the published range "
        f"of {lo:g}–{hi:g} %{'' if inside else (' (below it)' if default['loss_pct_gdp'] < lo else ' (above it)')}"
        f"; of the pass-throughs shown, {', '.join(within) if within else 'none'} "
        f"{'gives' if len(within) == 1 else 'give'} a loss inside it. The two are not the same quantity: the GDP "
        "estimates add knock-on effects on output and, in some, several years of them, while the model counts one "
        "year of the exporter's own loss. The comparison is a calibration target for the next issue, not a tuned "
        "constant: no parameter was set to bring the loss inside the range.",
        "",
        *_chord_lines(cfg),
    ]
    return lines


def _chord_lines(cfg: dict) -> list[str]:
    """How far the affine payoff the negotiators use lies from the exact one, per party (the chord's error)."""
    from sim.config.scenario import trade_model

    trade = trade_model(cfg)
    error, affine = trade.chord_error(), trade.affine()
    parts = [f"{pid} {error[pid]:.2f} (USD bn/yr; {100 * error[pid] / (affine[pid].p_max - affine[pid].p_min):.1f} % "
             f"of its payoff range)" for pid in error]
    return [f"**Exactness.** With volumes a tariff's payoff is not affine in the tariff; the negotiators use its chord "
            f"over the issue's range, exact at both ends, so the frontier, the Nash point and the trade-off offer are "
            f"exact for that affine payoff. The largest gap between the exact and the affine payoff anywhere in the "
            f"outcome box (`TradeModel.chord_error`, measured on a grid): {'; '.join(parts)}.", ""]


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
    ]
    from sim.report.panel import panel_lines

    lines += panel_lines(configs)
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
            *_pass_through_section(cfg),
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
