"""The engine knows no country: a neutral scenario runs through every protocol and every strategy,
and a model built from keyword values runs under mesa.batch_run."""

from __future__ import annotations

from pathlib import Path

import mesa
import numpy as np
import pytest

from sim.config import available, plan
from sim.engine.acceptance import AcceptanceStrategy
from sim.engine.offering import OfferingStrategy
from sim.engine.protocols import Package
from sim.run.runner import simulate
from sim.scenario_model import ScenarioModel
from sim.config.schema import BOULWARE
from tests.conftest import compose_config
from tests.scenarios import config, simulate_config
from tests.test_schema import toy

STRATEGIES = available("strategy")
# every strategy on each side at least once: strategy k against strategy k + 1
PAIRS = [[a, STRATEGIES[(k + 1) % len(STRATEGIES)]] for k, a in enumerate(STRATEGIES)]


@pytest.mark.parametrize("protocol", available("protocol"))
def test_a_neutral_scenario_runs_through_every_protocol_and_strategy(protocol):
    pairs = "[" + ",".join(f"[{a},{b}]" for a, b in PAIRS) + "]"
    o, rounds = simulate(plan(compose_config("scenario=example_bilateral", f"protocol={protocol}", "run.seeds=20",
                                             f"sweep.pairs={pairs}")))
    assert len(o) == 20 * len(PAIRS)
    assert set(o["north_strategy"]) == set(o["south_strategy"]) == set(STRATEGIES)
    assert not [c for c in o.columns if c.startswith(("us_", "japan_"))]
    assert set(rounds["proposer"]) <= {"north", "south"}
    deals = o[o["deal"]]
    assert 0 < len(deals) < len(o)  # neither vacuous nor trivial
    for party in ("north", "south"):
        assert o[f"{party}_utility"].between(-1e-9, 1 + 1e-9).all()
        assert (deals[f"{party}_utility"] >= deals[f"{party}_reservation_utility"] - 1e-9).all()
    box = {"price": (80, 120), "volume": (5, 30), "penalty": (0, 20), "warranty": (1, 5)}
    for issue, (lo, hi) in box.items():
        assert deals[issue].between(lo - 1e-9, hi + 1e-9).all()
    assert (o["end_round"] <= o["final_deadline"]).all()
    if protocol in ("package", "meeting"):  # whole-package agendas
        assert (deals["stages_agreed"] == 1).all() and not o["partial_deal"].any()
    else:  # two chapters, commercial then service: a deal has settled both
        assert (deals["stages_agreed"] == 2).all()
        assert o["partial_deal"].any() == (protocol == "sequential") or not (o["stages_agreed"] == 1).any()


def test_keyword_model_matches_the_compiled_run():
    """The same config and seed give the same negotiation through ScenarioModel and through a run."""
    model = ScenarioModel(deadline=9, escalation=7, strategies={"japan": "conceder"}, rng=11, worlds=3)
    model.run_model()
    o = simulate(plan(compose_config("scenario.deadline.round=9", "scenario.escalation=7", "strategy@japan=conceder",
                                     "run.seed=11", "run.seeds=3")))[0]
    np.testing.assert_array_equal(model.outcomes()["end_round"], o["end_round"])
    np.testing.assert_allclose(model.outcomes()["japan_utility"], o["japan_utility"], rtol=0, atol=0)
    history = model.datacollector.get_model_vars_dataframe()
    assert len(history) == model.steps + 1 and history["talking"].iloc[-1] == 0


def test_mesa_batch_run_drives_the_keyword_model():
    results = mesa.batch_run(ScenarioModel, parameters={"escalation": [0, 14]}, rng=[1, 2], max_steps=30,
                             display_progress=False)
    assert len(results) == 4
    assert {r["escalation"] for r in results} == {0, 14}
    assert all(r["talking"] == 0 for r in results)  # every run reached its end
    with pytest.raises(TypeError, match="unknown keyword"):
        ScenarioModel(deadlin=3)



class OpenerProposes(Package):
    """The README's example protocol: whole packages, and the opener makes every offer."""

    def turn(self, t):
        return self.opener, self.replier


@pytest.fixture
def plugins(monkeypatch):
    """This repository's folder as the plugin folder, so that ``tests.*`` classes may be named as _target_."""
    monkeypatch.setenv("SIM_PLUGIN_PATH", str(Path(__file__).resolve().parents[1]))


def test_a_new_protocol_is_one_class_named_in_the_config(plugins):
    """The README's example: a protocol in which only the opener proposes, chosen by its _target_."""
    o, rounds = simulate(plan(compose_config("scenario=example_bilateral", "run.seeds=5",
                                             "protocol._target_=tests.test_engine_general.OpenerProposes")))
    assert set(rounds["proposer"]) == {"south"}  # example_bilateral's opener
    assert len(rounds) > len(o)  # several rounds per negotiation, all proposed by the opener


class Stubborn(OfferingStrategy):
    """The README's example offering strategy: no concession until a share `wait` of its time has passed."""

    PARAMS = {"wait": (0.5, 0.0, 0.99)}

    def concession(self, me, t):
        elapsed = me.relative_time(t)
        return np.clip((elapsed - self.wait) / (1 - self.wait), 0.0, 1.0)


class ACMargin(AcceptanceStrategy):
    """The README's example acceptance strategy: accept what is worth `margin` above the reservation value."""

    PARAMS = {"margin": (0.1, 0.0, 1.0)}

    def accepts(self, me, u_offer, u_next, t, final):
        return u_offer >= me.reservation(t) + self.margin


def test_new_offering_and_acceptance_strategies_are_one_class_each(plugins):
    """The README's examples, by hand, on the toy scenario of tests/test_schema.py (b opens, so a proposes in
    even rounds; both work to the deadline of 13). With wait = 0.5, a concedes nothing before round 7 (relative
    time 6/12 = 0.5) and in round 10 offers alpha = (9/12 - 0.5) / 0.5 = 0.5 of the way, worth 0.5 to b; in
    round 8 it offered (7/12 - 0.5) / 0.5 = 1/6. b (ACMargin, margin 0.05) takes the offer of round 10: 0.5 is
    above its reservation value (1/3) plus 0.05, where 1/6 was not, though AC_next would not (its own Boulware
    offer of round 11 is worth 1 - (10/12) ** 4 = 0.518 to it). a (AC_next) never takes b's Boulware offers
    before: b's offer of round 9 is worth (8/12) ** 4 = 0.198 to a, below its own next (0.5)."""
    cfg = config(toy(BOULWARE))
    cfg["a"]["offering"] = {"name": "stubborn", "_target_": "tests.test_engine_general.Stubborn", "wait": 0.5}
    cfg["b"]["acceptance"] = {"name": "margin", "_target_": "tests.test_engine_general.ACMargin", "margin": 0.05}
    o, rounds = simulate_config(cfg)
    a_offers = rounds[rounds["proposer"] == "a"].set_index("round")
    assert np.allclose(a_offers.loc[a_offers.index < 7, "a_utility"], 1.0, rtol=0, atol=1e-12)  # its ideal
    assert (a_offers.loc[a_offers.index > 7, "a_utility"] < 1.0 - 1e-6).all()
    assert a_offers.loc[8, "b_utility"] == pytest.approx(1 / 6, abs=1e-12)
    row = o.iloc[0]
    assert row["deal"] and row["end_round"] == 10
    assert row["b_utility"] == pytest.approx(0.5, abs=1e-12)
    assert row["b_reservation_utility"] == pytest.approx(1 / 3, abs=1e-12)
    assert row["b_utility"] >= row["b_reservation_utility"] + 0.05
    assert row["b_utility"] < 1 - (10 / 12) ** 4  # AC_next would have countered
