"""A Hydra plugin of the ``sim`` package: its configs parsed once per content (:mod:`.sim_conf_cache`).

Hydra finds it by scanning the ``hydra_plugins`` namespace package; ``sim`` never imports it.
"""
