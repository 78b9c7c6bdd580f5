"""A scenario built in Python as typed objects (sim.config.schema), run without Hydra or any scenario file.

The toy scenario: two parties, ``a`` and ``b``, three issues on [0, 10], linear payoffs whose directions are
opposite on every issue (so each side's ideal is the other's worst package), magnitudes differing:

    payoff_a = price - 2 quality - delivery         range [-30, 10]   (span 40)
    payoff_b = -2 price + quality + 3 delivery       range [-20, 40]   (span 60)

The status quo (price 5, quality 10, delivery 0) is worth -15 to a (utility 15/40 = 0.375) and 0 to b
(utility 20/60 = 1/3). Every expected value below is worked out by hand from these numbers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.config.scenario import compile_point
from sim.config.schema import Announcement, Deadline, Issue, Part, Party, Scenario, Stance
from sim.config.values import ConfigError

LINEAR = Part("sim.engine.offering.TimeDependent", {"beta": 1.0})
HARDLINER = Part("sim.engine.offering.Hardliner")
ISSUES = (Issue("price", grantor="b", unit="USD", lo=0, hi=10, status_quo=5),
          Issue("quality", grantor="a", unit="grade", lo=0, hi=10, status_quo=10),
          Issue("delivery", grantor="a", unit="days", lo=0, hi=10, status_quo=0))


def toy(offering: Part = LINEAR, **changes) -> Scenario:
    """The three-issue toy scenario, deterministic (no noise, no breakdown, no extension)."""
    parties = (Party("a", "Seller", weights={"price": 1.0, "quality": -2.0, "delivery": -1.0}, offering=offering),
               Party("b", "Buyer", weights={"price": -2.0, "quality": 1.0, "delivery": 3.0}, offering=offering))
    settings = {"issues": ISSUES, "deadline": Deadline(round=13), "opener": "b", **changes}
    return Scenario("toy", parties=parties, **settings)


def test_a_three_issue_scenario_built_in_python_runs_and_agrees_where_the_concession_lines_cross():
    # Linear concession to the deadline 13: a side's concession in round t is (t - 1) / 12 and its offer, on the
    # straight line between the ideals, is worth (t - 1) / 12 to the other side. b opens (odd rounds). In round 6
    # a offers b 5/12, below b's own next offer (1 - 6/12): rejected. In round 7 b offers a 6/12 >= a's own next
    # (1 - 7/12): accepted. Neither reservation value (0.375, 1/3) binds. The package is the midpoint.
    out = toy().run(seeds=3)
    assert out["deal"].tolist() == [True] * 3
    assert out["end_round"].tolist() == [7] * 3
    for issue in ("price", "quality", "delivery"):
        assert out[issue] == pytest.approx(np.full(3, 5.0))
    # payoffs at the midpoint: a 5 - 10 - 5 = -10, b -10 + 5 + 15 = 10
    assert out["a_payoff"] == pytest.approx(np.full(3, -10.0))
    assert out["b_payoff"] == pytest.approx(np.full(3, 10.0))


def test_hardliners_end_at_the_deadline_with_the_no_deal_payoffs():
    # neither concedes: no deal at round 13; each keeps its payoff at the status quo (a -15, b 0), no escalation
    out = toy(HARDLINER).run(seeds=2)
    assert not out["deal"].any() and out["end_round"].tolist() == [13, 13]
    assert out["a_payoff"] == pytest.approx([-15.0, -15.0]) and out["b_payoff"] == pytest.approx([0.0, 0.0])


def test_a_hard_red_line_bounds_the_agreement():
    # b's floor of 8 on delivery: the deal on the line would give delivery 5; b never accepts below 8
    lined = toy(stances=(Stance("b", "min", "delivery", 8.0),))
    out = lined.run(seeds=2)
    assert (np.nan_to_num(out["delivery"], nan=10.0) >= 8.0 - 1e-9).all()


def test_a_bad_value_in_an_object_is_refused_naming_its_key():
    bad = toy(deadline=Deadline(round=40))  # beyond the horizon of 26 rounds
    with pytest.raises(ConfigError, match=r"^scenario\.deadline\.round: must be an integer in \[1, 26\]"):
        bad.compile()
    issues = (*ISSUES[:2], Issue("delivery", grantor="c", unit="days", lo=0, hi=10, status_quo=0))
    with pytest.raises(ConfigError, match=r"^scenario\.issues\.delivery\.grantor: "):
        toy(issues=issues).compile()


def test_the_dated_record_of_an_object_is_cut_at_its_vantage_date():
    # round 1 on Mon 6 Jan 2025, weekly. A deadline announced 1 Jan for 24 Mar (round 12: 77 days, 1 + 77 // 7),
    # moved on 1 Mar to 7 Apr (round 14: 91 days) with a larger escalation. From 4 Mar (57 days: rounds 1..9 held,
    # the 9th on 3 Mar) the talks start in round 10 with the deadline of 7 Apr; from 28 Feb (53 days) in round 9,
    # with that of 24 Mar.
    announcements = (Announcement(dt.date(2025, 1, 1), dt.date(2025, 3, 24), 2.0),
                     Announcement(dt.date(2025, 3, 1), dt.date(2025, 4, 7), 3.0))
    base = dict(deadline=Deadline(round=12, announcements=announcements), escalation_issue="price")
    late = toy(as_of=dt.date(2025, 3, 4), **base).compile()
    early = toy(as_of=dt.date(2025, 2, 28), **base).compile()
    assert late.structure.first_round == 10 and float(late.inputs.deadline) == 14.0
    assert float(late.inputs.escalation) == 3.0
    assert early.structure.first_round == 9 and float(early.inputs.deadline) == 12.0
    assert float(early.inputs.escalation) == 2.0


def test_building_and_running_an_object_composes_nothing_and_reads_no_scenario_file():
    # Hydra's instantiate builds the negotiator parts and the payoff model from their _target_, but nothing is
    # composed: Hydra is never initialised on conf/ and the compose module is never imported.
    probe = ("import sys\n"
             "from hydra.core.global_hydra import GlobalHydra\n"
             "from tests.test_schema import toy\n"
             "out = toy().run(seeds=1)\n"
             "assert out['end_round'][0] == 7\n"
             "print(GlobalHydra.instance().is_initialized(), 'sim.config.compose' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False False"


def test_a_part_parameter_the_config_leaves_out_can_have_a_prior_and_is_drawn():
    """The worked example of docs/architecture.md: a parameter a part declares in PARAMS but no config file sets
    (here the Bayesian model's rationality, declared with default 50 on [0, 1e4]) is a config key once planned,
    so the scenario's calibration block alone gives it a source and a prior, and an ensemble draws it."""
    from sim.config import plan
    from sim.engine.opponent import BayesianModel
    from tests.conftest import compose_config

    assert BayesianModel.PARAMS["rationality"] == (50.0, 0.0, 1e4)
    overrides = ("+experiment=forecast", "scenario.as_of=null", "sweep.sample.n=16", "opponent@japan=bayesian",
                 "~japan.opponent.rationality")
    cfg = OmegaConf.to_container(compose_config(*overrides), resolve=True)
    assert "rationality" not in cfg["japan"]["opponent"]
    cfg["scenario"]["calibration"]["japan.opponent.rationality"] = {
        "source": "a test", "tag": "ASSUMPTION", "prior": {"dist": "uniform", "lo": 10.0, "hi": 20.0}}
    points = plan(cfg).points
    drawn = [p.coordinates["japan.opponent.rationality"] for p in points]
    assert len(set(drawn)) == 16 and all(10.0 <= d <= 20.0 for d in drawn)
    assert [float(p.inputs.parties[1].opponent["rationality"]) for p in points] == drawn
    # without the entry the declared default compiles, as before
    point = plan(compose_config("opponent@japan=bayesian", "~japan.opponent.rationality")).points[0]
    assert float(point.inputs.parties[1].opponent["rationality"]) == 50.0


def test_an_issue_title_is_scenario_data_read_through_the_compiled_outcome_space():
    from sim.report.labels import issue_title

    titled = toy()
    titled = dataclasses.replace(titled, issues=tuple(dataclasses.replace(i, title=f"The {i.name}")
                                                      if i.name == "price" else i for i in titled.issues))
    space = titled.compile().structure.space
    assert issue_title("price", space) == "The price"
    other = next(i.name for i in space.issues if i.name != "price")
    assert issue_title(other, space) == other.replace("_", " ").capitalize()  # no title: made from the name
    assert issue_title("price") == "Price"  # no scenario at hand


def test_an_issue_title_that_is_not_text_is_refused_naming_the_key():
    cfg = toy().to_config()
    cfg["scenario"]["issues"]["price"]["title"] = 3
    with pytest.raises(ConfigError, match=r"^scenario\.issues\.price\.title: must be text"):
        compile_point(cfg)


def test_the_worked_example_a_new_stance_parameter_needs_its_part_and_its_scenario_only(monkeypatch):
    """docs/architecture.md's worked example, step by step: (1) the part declares ``rush`` in its PARAMS (here
    patched onto the offering class, as the edit of sim/engine/offering.py would); (2) the scenario's calibration
    block gives it a source and a prior. Nothing else: the value is checked against the declared bounds, drawn
    from the prior in an ensemble, and reaches the part's inputs."""
    from sim.config import plan
    from sim.engine.offering import TimeDependent
    from tests.conftest import compose_config

    monkeypatch.setattr(TimeDependent, "PARAMS", {**TimeDependent.PARAMS, "rush": (0.0, 0.0, 1.0)})
    cfg = OmegaConf.to_container(compose_config("+experiment=forecast", "scenario.as_of=null", "sweep.sample.n=8"),
                                 resolve=True)
    assert cfg["japan"]["offering"]["_target_"] == "sim.engine.offering.TimeDependent"
    cfg["scenario"]["calibration"]["japan.offering.rush"] = {
        "source": "a test", "tag": "ASSUMPTION", "prior": {"dist": "uniform", "lo": 0.0, "hi": 0.5}}
    points = plan(cfg).points
    drawn = [p.coordinates["japan.offering.rush"] for p in points]
    assert len(set(drawn)) == 8 and all(0.0 <= d <= 0.5 for d in drawn)
    assert [float(p.inputs.parties[1].offering["rush"]) for p in points] == drawn
    with pytest.raises(ConfigError, match=r"^japan\.offering\.rush: "):
        plan(compose_config("+japan.offering.rush=2"))
