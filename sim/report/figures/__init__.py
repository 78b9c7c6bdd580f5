"""The figures of a run folder, one module per family; :mod:`sim.report.plots` is their registry."""
