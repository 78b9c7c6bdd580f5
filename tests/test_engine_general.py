"""The engine knows no country: a neutral scenario runs through every protocol and every strategy,
and a model built from keyword values runs under mesa.batch_run."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from sim.config import available, plan
from sim.engine.protocols import Package
from sim.runner import simulate
from sim.scenario_model import ScenarioModel
from tests.conftest import compose_config

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
    if protocol == "package":
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


def test_a_new_protocol_is_one_class_named_in_the_config():
    """The README's example: a protocol in which only the opener proposes, chosen by its _target_."""
    o, rounds = simulate(plan(compose_config("scenario=example_bilateral", "run.seeds=5",
                                             "protocol._target_=tests.test_engine_general.OpenerProposes")))
    assert set(rounds["proposer"]) == {"south"}  # example_bilateral's opener
    assert len(rounds) > len(o)  # several rounds per negotiation, all proposed by the opener
