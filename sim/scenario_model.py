"""A negotiation model built from ordinary keyword values, for ``mesa.batch_run`` and interactive use.

:class:`~sim.engine.model.NegotiationModel` takes compiled inputs; :class:`ScenarioModel` composes
the Hydra config itself (the same ``conf/`` and the same checks as ``python -m sim run``) from a
scenario name, Hydra overrides and a few named values, and builds a model of one or a few worlds::

    model = ScenarioModel(deadline=12, escalation=14, strategies={"us": "hardliner"}, rng=3)   # default scenario
    model = ScenarioModel(scenario="example_bilateral", strategies={"north": "conceder"}, worlds=10)
    model.run_model()
    model.outcomes()["deal"]

    mesa.batch_run(ScenarioModel, parameters={"escalation": [0, 7, 14]}, rng=range(20), max_steps=30)

Its ``datacollector`` records, per round, how many worlds are still talking and have agreed, and the
utility to each party of the offer made in the first world (what a dashboard draws).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mesa
import numpy as np

from sim.config.compose import compose_config
from sim.config.sweep import plan
from sim.engine.inputs import stack
from sim.engine.model import NegotiationModel
from sim.engine.streams import world_seeds

__all__ = ["NAMED", "ScenarioModel", "compose_overrides"]

# keyword -> config key, for the values a user most often changes
NAMED = {
    "deadline": "scenario.deadline.round",
    "extension_probability": "scenario.deadline.extension.probability",
    "escalation": "scenario.escalation",
    "breakdown_risk": "scenario.breakdown_risk",
}


def compose_overrides(scenario: str | None = None, overrides: Sequence[str] = (),
                      strategies: Mapping[str, str] | None = None, **values) -> list[str]:
    """The Hydra overrides for a scenario, named values and each party's offering strategy."""
    out = [] if scenario is None else [f"scenario={scenario}"]
    out += [f"strategy@{party}={name}" for party, name in (strategies or {}).items()]
    for name, value in values.items():
        if name not in NAMED:
            raise TypeError(f"unknown keyword {name!r}; use one of {', '.join(NAMED)} or overrides=[...]")
        out.append(f"{NAMED[name]}={value}")
    return out + list(overrides)


class ScenarioModel(NegotiationModel):
    """A :class:`NegotiationModel` of ``worlds`` negotiations of one composed config.

    Args:
        scenario: A ``conf/scenario`` name (``None``: the default scenario).
        overrides: Further Hydra overrides, e.g. ``["protocol=sequential"]``.
        strategies: Offering strategy per party id (the scenario's ``parties``), e.g. ``{"north": "conceder"}``.
        worlds: Number of negotiations advanced together.
        rng: Root seed (Mesa's keyword, which ``mesa.batch_run`` sets): world ``k`` gets the seed that a run
            with ``run.seed=rng`` gives seed index ``k``; ``None`` takes ``run.seed``'s default.
        **values: Named values (see :data:`NAMED`), e.g. ``deadline=12``.

    Raises:
        sim.config.ConfigError: a bad value, naming its key.
    """

    def __init__(self, scenario: str | None = None, overrides: Sequence[str] = (),
                 strategies: Mapping[str, str] | None = None, worlds: int = 1, rng: int | None = None,
                 **values) -> None:
        cfg = compose_config(*compose_overrides(scenario, overrides, strategies, **values), "run.seeds=1",
                             "sweep.pairs=[]", "sweep.grid={}", "sweep.sample.method=none")
        the_plan = plan(cfg)
        point = the_plan.points[0]
        seed = the_plan.root_seed if rng is None else int(rng)
        self.point = point
        inputs = stack([point.inputs] * worlds)
        super().__init__(point.structure, inputs, world_seeds(seed, np.arange(worlds)),
                         record_rounds=np.arange(worlds), rng=seed)
        reporters = {"talking": lambda m: int(m.active.sum()), "deals": lambda m: int((m.end_reason == 1).sum())}
        for negotiator in self.negotiators:
            reporters[f"{negotiator.id}_offer_utility"] = (
                lambda m, n=negotiator: np.nan if m.last_round is None else float(n.utility(m.last_round.offer)[0]))
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    def step(self) -> None:
        """Play one round, then record it."""
        super().step()
        self.datacollector.collect(self)
