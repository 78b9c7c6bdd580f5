"""The calibration block, docs/calibration.md, the no-deal check against DOMAIN §4a, and the range-bound columns."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.config import plan
from sim.config.calibration import calibration_entries
from sim.config.values import ConfigError
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds
from sim.report import calibration as report
from tests.conftest import NO_STANCES, compose_config


def _cfg(*overrides: str) -> dict:
    return OmegaConf.to_container(compose_config(*overrides), resolve=True)


def test_every_numeric_parameter_of_the_default_scenario_has_an_entry():
    cfg = _cfg()
    numeric = report.numeric_parameters(cfg)
    assert "scenario.payoff.pass_through" in numeric and "scenario.issues.reciprocal.max" in numeric
    assert report.missing_entries(cfg) == []


@pytest.fixture(scope="module")
def shipped():
    """Each shipped scenario with a calibration block, composed once for the module (composing them all takes
    seconds); the tests read deep copies of it, so that none can see another's changes."""
    return report.scenario_configs()


def test_every_assumption_has_a_prior_and_every_shipped_value_lies_inside_its_prior(shipped):
    assert shipped, "no shipped scenario with a calibration block"
    for name, cfg in copy.deepcopy(shipped):
        entries = calibration_entries(cfg, values=True)  # raises on a value outside its prior
        assert all(e.prior is not None for e in entries if e.tag == "ASSUMPTION"), name
    assert report.check_values(copy.deepcopy(shipped)) == []


def test_docs_calibration_md_is_current(shipped):
    assert report.DOC.read_text() == report.markdown(copy.deepcopy(shipped)), \
        "docs/calibration.md is out of date: run python -m sim calibration"


def _with(key: str, field: str | None, value) -> dict:
    """The default config with one calibration entry (or one field of it) replaced."""
    cfg = _cfg()
    block = cfg["scenario"]["calibration"]
    if field is None:
        block[key] = value
    else:
        node = block[key]
        for part in field.split(".")[:-1]:
            node = node[part]
        node[field.split(".")[-1]] = value
    return cfg


@pytest.mark.parametrize(("key", "field", "value", "where", "words"), [
    ("scenario.no_such_key", None, {"source": "x", "tag": "DOMAIN"}, "scenario.no_such_key", "unknown key"),
    ("scenario.breakdown_risk", "prior.lo", 0.5, "scenario.breakdown_risk.prior", "above hi"),
    ("scenario.payoff.pass_through", "prior.mode", 1.5, "scenario.payoff.pass_through.prior", "outside [lo, hi]"),
    ("scenario.breakdown_risk", "tag", "GUESS", "scenario.breakdown_risk.tag", "must be one of"),
    ("scenario.breakdown_risk", "prior", None, "scenario.breakdown_risk.prior", "ASSUMPTION"),
    ("scenario.breakdown_risk", "prior.dist", "normal", "scenario.breakdown_risk.prior", "uniform, triangular"),
])
def test_a_malformed_calibration_block_is_refused_naming_the_key(key, field, value, where, words):
    with pytest.raises(ConfigError) as err:
        plan(_with(key, field, value))
    message = str(err.value)
    assert message.startswith(f"scenario.calibration.{where}:") and words in message and "\n" not in message


def test_a_value_outside_its_prior_is_refused_for_the_scenario_as_written():
    cfg = _cfg("scenario.payoff.pass_through=0.1")  # the prior is triangular [0.3, 0.6, 1.0]
    with pytest.raises(ConfigError, match=r"scenario.calibration.scenario.payoff.pass_through: the value 0.1 lies "
                                          r"outside its prior triangular \[0.3, 0.6, 1\]"):
        calibration_entries(cfg, values=True)
    plan(compose_config("scenario.payoff.pass_through=0.1"))  # a what-if run is allowed


def test_japans_no_deal_loss_matches_the_hand_calculation_with_volumes():
    """docs/calibration.md: the exporter's loss at the escalated tariffs 27.5 / 25 / 50 / 24 % on the flows of
    DOMAIN §3a (USD at ¥145/$), with each flow falling to V (1 + phi t/100)^-0.76 and a margin of 0.3 on lost sales."""
    rates = (27.5, 25.0, 50.0, 24.0)
    flows = (41.57, 8.08, 2.09, 95.15)
    gdp = 609.3 * 1000 / 145  # Japan's 2024 GDP, ¥609.3 tn (Cabinet Office), at ¥145/$ = 4,202 USD bn
    rows = {(r["phi"], r["volumes"]): r for r in report.no_deal_rows(_cfg())}
    assert rows[(0.6, True)]["default"]
    for phi in (0.0, 0.3, 0.6, 1.0):
        absorbed = margin = 0.0
        for t, v in zip(rates, flows, strict=True):
            left = (1 + phi * t / 100) ** -0.76
            absorbed += (1 - phi) * t / 100 * v * left
            margin += 0.3 * v * (1 - left)
        row = rows[(phi, True)]
        assert row["absorbed_usd_bn"] == pytest.approx(absorbed, abs=1e-9)
        assert row["lost_margin_usd_bn"] == pytest.approx(margin, abs=1e-9)
        assert row["loss_pct_gdp"] == pytest.approx(100 * (absorbed + margin) / gdp, abs=1e-9)
    # without volumes: the model before this issue, (1 - phi) B with B = 37.33 USD bn/yr (0.36 % of GDP)
    bill = sum(t / 100 * v for t, v in zip(rates, flows, strict=True))
    assert rows[(0.6, False)]["loss_usd_bn"] == pytest.approx(0.4 * bill, abs=1e-9)
    assert rows[(0.6, False)]["affine_usd_bn"] == pytest.approx(0.4 * bill, abs=1e-6)
    # the chord is exact at the ends of each range: the affine loss differs from the exact one only through the
    # tariffs inside their ranges (reciprocal 24 of [0, 46]), and by less than the measured chord error
    default = rows[(0.6, True)]
    from sim.config.scenario import trade_model
    assert abs(default["affine_usd_bn"] - default["loss_usd_bn"]) <= trade_model(_cfg()).chord_error()["japan"] + 1e-9


def test_at_bound_columns_say_which_agreed_terms_sit_on_a_range_bound():
    """Checked against the agreed values, and against linear programming: a trade-off offer is a basic solution
    of an LP with the box and one utility constraint, so at most one of its 9 terms lies inside its range."""
    # without the US floor on the reciprocal tariff: the LP's bounds are then the ranges themselves
    p = plan(compose_config("strategy@us=tradeoff_boulware", "strategy@japan=tradeoff_boulware", *NO_STANCES))
    point = p.points[0]
    seeds = world_seeds(200, list(range(200)))
    model = NegotiationModel(point.structure, stack([point.inputs] * 200), seeds)
    model.run_model()
    out = model.outcomes()
    space = point.structure.space
    deal = out["deal"]
    count = np.zeros(len(deal), dtype=int)
    for j, name in enumerate(space.names):
        value, flag = out[name], out[f"{name}_at_bound"]
        expected = np.where(~deal, 0, np.where(np.isclose(value, space.hi[j]), 1,
                                               np.where(np.isclose(value, space.lo[j]), -1, 0)))
        assert np.array_equal(flag, expected), name
        count += flag != 0
    assert np.array_equal(out["terms_at_bound"], count)
    assert deal.any() and (out["terms_at_bound"][deal] >= space.n - 1).all()
    assert (out["terms_at_bound"][~deal] == 0).all()


def test_entries_of_a_removed_issue_are_skipped_but_a_misspelt_setting_is_not():
    cfg = _cfg("~scenario.issues.steel_aluminium")
    keys = {e.key for e in calibration_entries(cfg)}
    assert "scenario.issues.steel_aluminium.max" not in keys and "scenario.issues.cars.max" in keys
    with pytest.raises(ConfigError, match="unknown key: scenario.issues.cars.maxx"):
        calibration_entries(_with("scenario.issues.cars.maxx", None, {"source": "x", "tag": "DOMAIN"}))


def test_a_run_refuses_a_scenario_file_whose_own_value_lies_outside_its_prior(monkeypatch):
    from sim import preflight

    check = preflight.check
    check(["scenario.payoff.pass_through=0.1", "run.seeds=1"], multirun=False)  # a what-if override is allowed
    written = compose_config("scenario.payoff.pass_through=0.2")  # as if the scenario file said 0.2
    monkeypatch.setattr(preflight, "_compose", lambda job, *a, **k: (written, written, {"run": None, "sweep": None}))
    with pytest.raises(preflight.UsageError, match=r"^scenario.calibration.scenario.payoff.pass_through: the value "
                                                   r"0.2 lies outside its prior"):
        check(["run.seeds=1"], multirun=False)
