"""The engine: typed inputs, random streams, protocols, negotiator parts, agents and the Mesa model.

It takes a :class:`~sim.engine.inputs.Structure` and stacked :class:`~sim.engine.inputs.WorldInputs`
(compiled by :mod:`sim.config`) and plays the negotiations of a batch of worlds; it never reads a config.
"""
