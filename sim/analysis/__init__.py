"""Exploratory analysis of finished runs: the floor above the report.

* :mod:`sim.analysis.sensitivity`: the recorded design, Sobol'/Morris/FAST indices through SALib, and
  extra-trees feature scoring for designs that are not sensitivity designs.
* :mod:`sim.analysis.discovery`: scenario discovery with PRIM (boxes where a condition holds).
* :mod:`sim.analysis.analyze`: the ``analyze`` verb (tables and figures written into a run folder).
* :mod:`sim.analysis.compare`: the ``compare`` verb (several run folders in one table and figure).

Floors: domain <- engine <- config <- run <- report <- analysis <- cli, api.
"""
