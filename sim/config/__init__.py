"""From a Hydra config to the engine's typed inputs: values, the parameter registry, parts, scenario, sweep.

* :mod:`sim.config.values`: reading and checking values; :class:`ConfigError`.
* :mod:`sim.config.parameters`: the parameter registry (key, label, unit, bounds, description).
* :mod:`sim.config.components`: swappable parts (negotiator parts, protocols) as classes.
* :mod:`sim.config.payoffs`, :mod:`sim.config.parties`, :mod:`sim.config.protocol`: compile per area.
* :mod:`sim.config.scenario`: one grid point compiled into a Structure and WorldInputs.
* :mod:`sim.config.sweep`: the plan: grid points (pairs x grid x samples) and run settings.

The names below are loaded on first use, so that importing the light modules (the registry, the value
readers) does not import NumPy, OmegaConf or the engine.
"""

from __future__ import annotations

import importlib

__all__ = ["CONF_DIR", "ConfigError", "GridPoint", "Plan", "available", "load_option", "plan"]

_WHERE = {"CONF_DIR": "values", "ConfigError": "values", "GridPoint": "sweep", "Plan": "sweep", "plan": "sweep",
          "available": "components", "load_option": "components"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"sim.config.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'sim.config' has no attribute {name!r}")
