"""The configs, shipped inside the package as ``sim.conf`` (see ``sim/resources.py``); only YAML files live here."""
