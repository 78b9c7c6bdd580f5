"""Stances from the record: red lines that hold with a given strength, firmness per issue, and the priors
the default scenario gives them (docs/stances.md).

The mechanisms (a line's strength, its draw per world, firmness) on the toy scenario of tests/test_schema.py; the
tests of the case study's own stances (the US floor on the reciprocal tariff and the firmness of its record,
docs/stances.md) read its file.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.config import plan
from sim.config.values import MISSING, ConfigError, lookup
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds
from sim.run.runner import simulate
from sim.config.scenario import compile_point
from sim.config.schema import BOULWARE, Stance
from tests.conftest import compose_config
from tests.scenarios import config
from tests.test_schema import toy

FLOOR = "scenario.sides.us.red_lines.reciprocal"


def _model(*overrides: str, seeds: np.ndarray, root_seed: int = 11) -> NegotiationModel:
    """A model of the worlds ``seeds`` (replication indices) of a single-point config, not yet run."""
    point = plan(compose_config(*overrides)).points[0]
    return NegotiationModel(point.structure, stack([point.inputs] * len(seeds)), world_seeds(root_seed, seeds))


def _reciprocal(model: NegotiationModel) -> int:
    return model.space.index("reciprocal")


def _toy_model(*stances: Stance, seeds: np.ndarray, scenario_keys: dict | None = None) -> NegotiationModel:
    """The toy scenario of tests/test_schema.py (both sides Boulware, deadline 13) with ``stances``, not yet run."""
    cfg = config(toy(BOULWARE, stances=stances), scenario_keys)
    compiled = compile_point(cfg)
    return NegotiationModel(compiled.structure, stack([compiled.inputs] * len(seeds)), world_seeds(11, seeds))


@pytest.mark.parametrize("strength", [0.3, 0.9])
def test_a_red_line_of_strength_p_holds_in_a_binomial_share_of_worlds(strength):
    n = 4000
    # b's floor of 4 on quality (b wants quality high), holding with probability p
    model = _toy_model(Stance("b", "min", "quality", 4.0, strength=strength), seeds=np.arange(n))
    b, j = model.negotiators[1], model.space.index("quality")
    held = b.red_lo[:, j] == 4.0
    # where the line does not hold, the issue keeps the whole box
    assert (b.red_lo[~held, j] == model.space.lo[j]).all()
    # k ~ Binomial(n, p): within 4 standard deviations of n p
    assert abs(held.sum() - n * strength) <= 4 * math.sqrt(n * strength * (1 - strength))
    # the other issues, without lines, are untouched
    others = np.arange(model.space.n) != j
    assert (b.red_lo[:, others] == model.space.lo[others]).all()


def test_whether_a_line_holds_in_a_world_does_not_depend_on_its_batch():
    line = Stance("b", "min", "quality", 4.0, strength=0.5)
    whole = _toy_model(line, seeds=np.arange(300))
    first = _toy_model(line, seeds=np.arange(0, 120))
    rest = _toy_model(line, seeds=np.arange(120, 300))
    split = np.concatenate([first.negotiators[1].lines_hold, rest.negotiators[1].lines_hold])
    assert np.array_equal(whole.negotiators[1].lines_hold, split)
    assert 0 < whole.negotiators[1].lines_hold[:, 1].sum() < 300  # both outcomes occur


def test_strength_one_is_the_hard_red_line_byte_for_byte():
    common = ("run.seeds=300", "~scenario.sides.us.firmness", "~scenario.sides.japan.firmness")
    hard, _ = simulate(plan(compose_config(f"~{FLOOR}.strength", *common)))
    one, _ = simulate(plan(compose_config(f"{FLOOR}.strength=1", *common)))
    assert hard["deal"].any()
    assert hard.equals(one)


def test_no_stance_reproduces_the_scenario_without_stances_byte_for_byte():
    # firmness 1 everywhere and a line at the bottom of the range change nothing
    plain = ("run.seeds=200", "~scenario.sides.us.firmness", "~scenario.sides.japan.firmness",
             "~scenario.sides.us.red_lines")
    explicit = ("run.seeds=200", "scenario.sides.us.firmness.autos=1.0", "scenario.sides.us.firmness.steel=1.0",
                "scenario.sides.japan.firmness.autos=1.0", f"{FLOOR}.min=0", f"{FLOOR}.strength=1")
    a, _ = simulate(plan(compose_config(*plain)))
    b, _ = simulate(plan(compose_config(*explicit)))
    assert a["deal"].any()
    assert a.drop(columns="constraints").equals(b.drop(columns="constraints"))


def test_no_agreed_reciprocal_tariff_below_the_floor_where_it_holds():
    n = 2000
    model = _model(seeds=np.arange(n))  # the default scenario, with its 10 % floor of strength 0.9
    model.run_model()
    out = model.outcomes()
    held = model.negotiators[0].lines_hold[:, _reciprocal(model)]
    deals = out["deal"]
    assert (deals & held).sum() > 100  # not vacuous
    assert (out["reciprocal"][deals & held] >= 10.0 - 1e-9).all()
    # the floor is a line the US offers never cross either, where it holds
    assert (model.negotiators[0].last_offer[held, _reciprocal(model)] >= 10.0 - 1e-9).all()


@pytest.mark.parametrize("firm", [2.0, 3.5])
def test_a_firm_issue_concedes_alpha_to_its_firmness_and_less_than_a_soft_one_every_round(firm):
    # the toy scenario: a (Boulware) firm on quality, not on price
    model = _toy_model(seeds=np.arange(3), scenario_keys={"sides": {"a": {"firmness": {"quality": firm}}}})
    a = model.negotiators[0]
    quality, price = model.space.index("quality"), model.space.index("price")
    beta, deadline = 0.25, 13  # boulware; a works to the talks' deadline, round 13
    for t in range(1, deadline + 1):
        x = a.offering.package(a, t)
        share = (x - a.best) / (a.other.best - a.best)
        alpha = ((t - 1) / (deadline - 1)) ** (1 / beta)  # Faratin's tactic, written out
        assert np.allclose(share[:, price], alpha)
        assert np.allclose(share[:, quality], alpha**firm)
        assert (share[:, quality] <= share[:, price] + 1e-12).all()
        if 0 < alpha < 1:
            assert (share[:, quality] < share[:, price]).all()


@pytest.mark.parametrize(("override", "key"), [
    (f"{FLOOR}.strength=1.5", f"{FLOOR}.strength"),
    ("+scenario.sides.japan.red_lines.agriculture={strength: 0.5}", "scenario.sides.japan.red_lines.agriculture"),
    ("+scenario.sides.us.firmness.shipbuilding=2", "scenario.sides.us.firmness.shipbuilding"),
    ("scenario.sides.us.firmness.autos=0", "scenario.sides.us.firmness.autos"),
])
def test_a_bad_stance_is_refused_naming_its_key(override, key):
    with pytest.raises(ConfigError) as error:
        plan(compose_config(override))
    assert str(error.value).startswith(key)


def test_every_calibration_entry_names_a_key_of_the_default_config_within_its_prior():
    tree = OmegaConf.to_container(compose_config(), resolve=True)
    block = tree["scenario"]["calibration"]
    for key in ("scenario.sides.us.red_lines.reciprocal.strength", "scenario.sides.us.firmness.autos",
                "scenario.sides.us.firmness.steel", "scenario.sides.japan.firmness.autos"):
        assert key in block
    for key, entry in block.items():
        value = lookup(tree, key)
        assert value is not MISSING, key
        assert entry["tag"] in {"DOMAIN", "SEED", "PAPER", "STATEMENT", "DERIVED", "ASSUMPTION"}, key
        assert entry["source"].strip(), key
        prior = entry.get("prior")
        if prior is None:  # a fact: no spread
            assert entry["tag"] != "ASSUMPTION", key
            continue
        assert prior["dist"] in {"uniform", "triangular"}, key
        assert prior["lo"] <= value <= prior["hi"], key
        if prior["dist"] == "triangular":
            assert prior["lo"] <= prior["mode"] <= prior["hi"], key
