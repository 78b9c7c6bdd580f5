"""The Mesa model the dashboard steps: one negotiation of the chosen settings, round by round.

:class:`DashboardModel` takes the dashboard's settings as keywords (SolaraViz rebuilds it from its
controls on *Reset*) and holds a one-world :class:`~sim.scenario_model.ScenarioModel`, ``talks``. Bad
settings never raise: the model keeps the one-line message (``error``) that ``python -m sim run`` would
print, stops (``running`` is false) and the page shows the message, so the server keeps serving.
"""

from __future__ import annotations

import logging

import mesa
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from sim.config.values import ConfigError
from sim.dashboard.controls import COMPOSE_LOCK, OWN, defaults, scenario_model_kwargs
from sim.scenario_model import ScenarioModel

__all__ = ["DashboardModel", "build_talks", "readable"]

log = logging.getLogger(__name__)

_D = defaults()


def readable(err: BaseException) -> str:
    """One line for the page: the config error as the CLI prints it, or the first line of any other error."""
    if isinstance(err, ConfigError):
        return str(err)
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = lines[0] if lines else type(err).__name__
    if isinstance(err, (HydraException, OmegaConfBaseException)):
        return f"the settings could not be composed: {text}"
    return f"{type(err).__name__}: {text}"


def build_talks(settings: dict, worlds: int = 1) -> ScenarioModel:
    """The negotiation model of the dashboard's settings, with ``worlds`` seeds of them.

    World ``k`` gets the seed that ``python -m sim run run.seed=SEED`` gives seed index ``k``.

    Raises:
        ConfigError: a bad setting, naming its key.
        hydra.errors.HydraException: a setting the config composition refuses (e.g. an unknown option).
    """
    with COMPOSE_LOCK:  # ScenarioModel composes through Hydra's one global state
        kwargs = scenario_model_kwargs(settings)
        return ScenarioModel(worlds=worlds, **kwargs)


class DashboardModel(mesa.Model):
    """One negotiation of the dashboard's settings, advanced one round per :meth:`step`.

    Args:
        scenario_name: A ``conf/scenario`` name. (Not ``scenario``: Mesa 3.5's SolaraViz passes its own
            ``mesa.experimental.scenarios.Scenario`` object under that keyword on reset.)
        protocol: A ``conf/protocol`` name (the agenda).
        first_offering: The first party's offering strategy (``conf/strategy``), or :data:`OWN`.
        first_acceptance: The first party's acceptance strategy (``conf/acceptance``), or :data:`OWN`.
        first_opponent: The first party's opponent model (``conf/opponent``), or :data:`OWN`.
        second_offering: The second party's offering strategy, or :data:`OWN`.
        second_acceptance: The second party's acceptance strategy, or :data:`OWN`.
        second_opponent: The second party's opponent model, or :data:`OWN`.
        deadline: The talks' deadline (round).
        extension_probability: Probability that the deadline is extended once.
        escalation: Rise of the escalating tariff at the final deadline without a deal (pp).
        breakdown_risk: Per-round probability that the talks collapse.
        first_threshold: The first party's ratification threshold (approval; 0 keeps the scenario's).
        second_threshold: The second party's ratification threshold (approval; 0 keeps the scenario's).
        seed: Root seed, as typed (text; checked like ``run.seed``).
        rng: Seed of Mesa's own generator (the negotiation draws from ``seed``).

    Attributes:
        settings: The settings above, as given (the scenario's name under ``scenario``).
        talks: The negotiation (``None`` when the settings were refused).
        error: The one-line message for refused settings, or for a round that failed (else ``None``).
    """

    def __init__(self, scenario_name: str = _D.scenario, protocol: str = _D.protocol,
                 first_offering: str = OWN, first_acceptance: str = OWN, first_opponent: str = OWN,
                 second_offering: str = OWN, second_acceptance: str = OWN, second_opponent: str = OWN,
                 deadline: int = _D.numbers["deadline"],
                 extension_probability: float = _D.numbers["extension_probability"],
                 escalation: float = _D.numbers["escalation"], breakdown_risk: float = _D.numbers["breakdown_risk"],
                 first_threshold: float = 0.0, second_threshold: float = 0.0, seed: str | int = _D.seed,
                 rng: int | None = None) -> None:
        super().__init__(rng=rng)
        self.settings = {
            "scenario": scenario_name, "protocol": protocol,
            "first_offering": first_offering, "first_acceptance": first_acceptance, "first_opponent": first_opponent,
            "second_offering": second_offering, "second_acceptance": second_acceptance,
            "second_opponent": second_opponent, "deadline": deadline,
            "extension_probability": extension_probability, "escalation": escalation,
            "breakdown_risk": breakdown_risk, "first_threshold": first_threshold,
            "second_threshold": second_threshold, "seed": seed,
        }
        self.talks: ScenarioModel | None = None
        self.error: str | None = None
        try:
            self.talks = build_talks(self.settings)
        except (ConfigError, HydraException, OmegaConfBaseException) as err:
            self.error = readable(err)
        except Exception as err:  # noqa: BLE001 - the page must show a message and keep serving
            log.exception("dashboard: building the model failed")
            self.error = readable(err)
        self.running = self.talks is not None and self.talks.running

    def step(self) -> None:
        """Play one round of the negotiation (nothing once it has ended or was refused)."""
        if self.talks is None or not self.talks.running:
            self.running = False
            return
        try:
            self.talks.step()
        except Exception as err:  # noqa: BLE001 - a failed round is shown, not raised into the server
            log.exception("dashboard: a round failed")
            self.error = readable(err)
            self.running = False
            return
        self.running = self.talks.running
