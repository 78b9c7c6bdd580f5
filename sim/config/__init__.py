"""From a Hydra config to the engine's typed inputs: values, the parameter registry, parts, scenario, sweep.

* :mod:`sim.config.values`: reading and checking values; :class:`ConfigError`.
* :mod:`sim.config.parameters`: the parameter registry (key, label, unit, bounds, description).
* :mod:`sim.config.components`: swappable parts (negotiator parts, protocols) as classes.
* :mod:`sim.config.scenario`: one grid point compiled into a Structure and WorldInputs.
* :mod:`sim.config.sweep`: the plan: grid points (pairs x grid x samples) and run settings.
"""

from sim.config.components import available, load_option
from sim.config.sweep import GridPoint, Plan, plan
from sim.config.values import CONF_DIR, ConfigError

__all__ = ["CONF_DIR", "ConfigError", "GridPoint", "Plan", "available", "load_option", "plan"]
