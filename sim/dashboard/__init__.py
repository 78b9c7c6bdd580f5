"""The interactive dashboard: one negotiation played round by round in the browser, and a batch view.

``python -m sim dashboard`` serves a Mesa SolaraViz page (needs the ``dashboard`` extra:
``pip install -e ".[dashboard]"``). The modules:

* :mod:`sim.dashboard.controls`: the page's controls, taken from the parameter registry and the
  config groups, and the settings they give turned into a model;
* :mod:`sim.dashboard.session`: :class:`~sim.dashboard.session.DashboardModel`, the Mesa model the page
  steps, which turns bad settings into a readable message instead of an exception;
* :mod:`sim.dashboard.views`: the figures (concession paths, utility plane, reservation values,
  ratification approval) and the batch of N seeds, as plain functions of a model (no Solara);
* :mod:`sim.dashboard.app`: the SolaraViz page;
* :mod:`sim.dashboard.serve`: the ``dashboard`` verb (host, port, the local-only default).
"""
