"""The dashboard's controls and how the settings they give become a negotiation model.

A setting is what one control holds: the scenario, the protocol (agenda), each party's offering
strategy, acceptance strategy and opponent model, and the numbers a teacher most often changes: the
deadline (round), the extension probability, the escalation at the final deadline (pp), the breakdown
risk per round, each party's ratification threshold (approval) and the root seed.

Labels, units and bounds come from the parameter registry (:data:`sim.config.parameters.PARAMETERS`), so
they read as in ``python -m sim run`` and its error messages. Where the config compiler narrows a
registry bound by another value (the deadline by the protocol's horizon, the escalation by the
escalating issue's range), the slider takes the narrowed bound of the default scenario; a value that
another scenario does not allow is refused with the compiler's own one-line message.

Parties differ between scenarios (their ids come from each scenario), so the per-party controls are
by position: the first and the second party of the chosen scenario, in its ``parties`` order.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections.abc import Mapping
from typing import Any

from omegaconf import OmegaConf

from sim.config.components import available, load_option
from sim.config.parameters import PARAMETERS, Parameter
from sim.config.values import ConfigError

__all__ = ["OWN", "PARTS", "POSITIONS", "Defaults", "control_label", "defaults", "model_params", "party_ids",
           "scenario_model_kwargs"]

OWN = "(scenario's own)"
"""Option of a negotiator part's control that keeps what the scenario chooses."""

# negotiator part -> (config group, what the control is called)
PARTS = {
    "offering": ("strategy", "offering strategy"),
    "acceptance": ("acceptance", "acceptance strategy"),
    "opponent": ("opponent", "opponent model"),
}
POSITIONS = ("first", "second")

# setting -> registry key, for the numeric controls
NUMBERS = {
    "deadline": "scenario.deadline.round",
    "extension_probability": "scenario.deadline.extension.probability",
    "escalation": "scenario.escalation",
    "breakdown_risk": "scenario.breakdown_risk",
}
THRESHOLD_KEY = "scenario.ratification.{party}.threshold"
COMPOSE_LOCK = threading.RLock()
"""Held while composing a config: Hydra's global state is one per process, and the page serves each
browser session from its own thread."""
SEED_KEY = "run.seed"


class Defaults:
    """What the controls start at: the default config (``conf/config.yaml`` and its scenario), compiled.

    Attributes:
        scenario: The default scenario's name.
        protocol: The default protocol's name.
        numbers: Start value of each numeric setting (:data:`NUMBERS`).
        seed: The default root seed.
        max_rounds: The default protocol's horizon (rounds), which bounds the deadline.
        escalation_max: The most escalation (pp) the default scenario's escalating issue allows.
    """

    def __init__(self) -> None:
        from sim.scenario_model import (
            ScenarioModel,  # composing the config needs Hydra; only when asked
        )

        from hydra import compose

        from sim.config.compose import hydra_context

        with COMPOSE_LOCK, hydra_context():  # the default config as Hydra composes it, with its choices
            cfg = compose(config_name="config", return_hydra_config=True)
        self.scenario: str = cfg.hydra.runtime.choices.scenario
        self.protocol: str = cfg.hydra.runtime.choices.protocol
        self.seed: int = int(cfg.run.seed)
        model = ScenarioModel(rng=self.seed)
        inputs, structure = model.point.inputs, model.structure
        self.numbers: dict[str, float] = {
            "deadline": int(inputs.deadline),
            "extension_probability": float(inputs.extension_probability),
            "escalation": float(inputs.escalation),
            "breakdown_risk": float(inputs.breakdown_risk),
        }
        self.max_rounds: int = int(structure.max_rounds)
        self.escalation_max: float = PARAMETERS[NUMBERS["escalation"]].hi
        if structure.escalation_issue is not None:
            issue = structure.space.issues[structure.escalation_issue]
            self.escalation_max = float(issue.hi - issue.status_quo)


@functools.cache
def defaults() -> Defaults:
    """The controls' start values (composed once per process)."""
    return Defaults()


def control_label(parameter: Parameter, party: str | None = None) -> str:
    """A control's label: the registry's label, with its unit unless the label already names it."""
    text = parameter.label if party is None else parameter.label.replace("{party}", party)
    unit = parameter.unit
    if unit and unit not in text and not (unit == "rounds" and "round" in text):
        text = f"{text} ({unit})"
    return text


@functools.cache
def _composed(scenario: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A scenario's party ids and the ids of the parties with constituencies, from its composed config
    (a scenario may inherit its parties from another through its Hydra defaults)."""
    from sim.config.compose import compose_config

    with COMPOSE_LOCK:
        cfg = compose_config(f"scenario={scenario}")
    node = OmegaConf.to_container(cfg.scenario, resolve=False)
    return tuple(node.get("parties") or {}), tuple(node.get("ratification") or {})


def party_ids(scenario: str) -> tuple[str, ...]:
    """The party ids of a scenario, in its ``parties`` order.

    Raises:
        ConfigError: an unknown scenario, naming the ones there are.
    """
    if scenario not in available("scenario"):
        load_option("scenario", scenario, "scenario")  # raises, naming the options
    return _composed(scenario)[0]


def position_names(k: int) -> str:
    """What the ``k``-th party's controls are called: ``first party``, ``second party``.

    Parties differ between scenarios, so the controls name a position, and the page's settings line says
    who holds it in the chosen scenario (``first party: <its display name> (...)``).
    """
    return f"{POSITIONS[k]} party"


def _slider(parameter: Parameter, value: float, lo: float, hi: float, step: float,
            integer: bool = False) -> dict[str, Any]:
    return {"type": "SliderInt" if integer else "SliderFloat", "label": control_label(parameter),
            "value": value, "min": lo, "max": hi, "step": step}


def model_params() -> dict[str, dict[str, Any]]:
    """The SolaraViz ``model_params``: one user input per setting, keyed by the setting's keyword."""
    d = defaults()
    params: dict[str, dict[str, Any]] = {
        "scenario_name": {"type": "Select", "label": "scenario", "value": d.scenario, "values": available("scenario")},
        "protocol": {"type": "Select", "label": "protocol (agenda)", "value": d.protocol,
                     "values": available("protocol")},
    }
    for k, position in enumerate(POSITIONS):
        who = position_names(k)
        for part, (group, what) in PARTS.items():
            params[f"{position}_{part}"] = {"type": "Select", "label": f"{who}: {what}", "value": OWN,
                                            "values": [OWN, *available(group)]}
    deadline = PARAMETERS[NUMBERS["deadline"]]
    params["deadline"] = _slider(deadline, d.numbers["deadline"], int(deadline.lo),
                                 int(min(deadline.hi, d.max_rounds)), 1, integer=True)
    probability = PARAMETERS[NUMBERS["extension_probability"]]
    params["extension_probability"] = _slider(probability, d.numbers["extension_probability"], 0.0, 1.0, 0.05)
    escalation = PARAMETERS[NUMBERS["escalation"]]
    params["escalation"] = _slider(escalation, d.numbers["escalation"], max(escalation.lo, 0.0), d.escalation_max,
                                   0.5)
    risk = PARAMETERS[NUMBERS["breakdown_risk"]]
    params["breakdown_risk"] = _slider(risk, d.numbers["breakdown_risk"], 0.0, 1.0, 0.005)
    threshold = PARAMETERS[THRESHOLD_KEY]
    for k, position in enumerate(POSITIONS):
        params[f"{position}_threshold"] = _slider(threshold, 0.0, threshold.lo, threshold.hi, 0.05)
        params[f"{position}_threshold"]["label"] = f"{position_names(k)}: ratification threshold"
    seed = PARAMETERS[SEED_KEY]
    params["seed"] = {"type": "InputText", "label": f"{control_label(seed)} (integer in [{int(seed.lo)}, {int(seed.hi)}])",
                      "value": str(d.seed)}
    return params


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"\d+")


def _choice(value: Any, key: str, allowed: list[str], own: bool = False) -> str:
    """A name from the page, checked against a config group's options (never passed on unchecked)."""
    options = ([OWN] if own else []) + list(allowed)
    if not isinstance(value, str) or value not in options:
        raise ConfigError(key, f"must be one of {', '.join(allowed)}, got {str(value)[:40]!r}")
    return value


def _number(value: Any, key: str, *, integer: bool = False) -> int | float:
    """A number from the page, parsed here: only digits, a sign, a point and an exponent get through.

    The override is then written from the parsed number, so nothing typed on the page (an
    interpolation such as ``${oc.env:...}``, a list, a second override) reaches Hydra as text.
    """
    if isinstance(value, bool):
        raise ConfigError(key, f"must be a number, got {value!r}")
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str) and (_INTEGER if integer else _NUMBER).fullmatch(value.strip()):
        number = int(value.strip()) if integer else float(value.strip())
    else:
        shown = value if isinstance(value, (str, int, float)) else type(value).__name__
        kind = "an integer" if integer else "a number"
        raise ConfigError(key, f"must be {kind}, got {str(shown)[:40]!r}")
    if integer and not float(number).is_integer():
        raise ConfigError(key, f"must be an integer, got {number!r}")
    if not math.isfinite(number):
        raise ConfigError(key, f"must be a finite number, got {number!r}")
    return int(number) if integer else float(number)


def scenario_model_kwargs(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`~sim.scenario_model.ScenarioModel` keywords for the dashboard's settings.

    Every value is typed here before it becomes an override: names are checked against the options
    of their config group, numbers are parsed as numbers and written back from the parsed value, so
    no text from the page (and no ``${...}`` interpolation) reaches Hydra. The values then go through
    the same config composition and checks as ``python -m sim run``: the numbers as Hydra overrides of
    their registry keys, the seed as ``run.seed``.

    Raises:
        ConfigError: a bad setting, naming its key and what is allowed.
    """
    scenario = _choice(settings.get("scenario"), "scenario", available("scenario"))
    protocol = _choice(settings.get("protocol", defaults().protocol), "protocol", available("protocol"))
    ids = party_ids(scenario)
    strategies, overrides = {}, [f"protocol={protocol}"]
    for position, pid in zip(POSITIONS, ids, strict=False):
        for part, (group, _) in PARTS.items():
            choice = settings.get(f"{position}_{part}", OWN)
            if choice in (None, ""):
                continue
            choice = _choice(choice, f"{group}@{pid}", available(group), own=True)
            if choice == OWN:
                continue
            if part == "offering":
                strategies[pid] = choice
            else:
                overrides.append(f"{group}@{pid}={choice}")
        key = THRESHOLD_KEY.replace("{party}", pid)
        threshold = _number(settings.get(f"{position}_threshold", 0.0), key)
        if threshold:
            if pid not in _composed(scenario)[1]:
                raise ConfigError(key, f"scenario {scenario!r} gives {pid!r} no constituencies to ratify; set it to 0")
            overrides.append(f"{key}={threshold!r}")
    for name, key in NUMBERS.items():
        if name in settings:
            value = _number(settings[name], key, integer=PARAMETERS[key].kind == "integer")
            overrides.append(f"{key}={value!r}")
    seed_range = f"an integer in [0, {int(PARAMETERS[SEED_KEY].hi)}]"
    seed = settings.get("seed", "")
    if seed is None or (isinstance(seed, str) and not seed.strip()):
        raise ConfigError(SEED_KEY, f"must be {seed_range}, got nothing")
    try:
        seed = _number(seed, SEED_KEY, integer=True)
    except ConfigError:
        raise ConfigError(SEED_KEY, f"must be {seed_range}, got {str(seed)[:40]!r}") from None
    overrides.append(f"{SEED_KEY}={seed}")
    return {"scenario": scenario, "overrides": overrides, "strategies": strategies}
