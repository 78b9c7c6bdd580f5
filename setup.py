"""Refuse, in one readable line, to install on a Python older than the project needs.

pip resolves the dependencies before it checks the project's own ``requires-python``, so on Python
3.11 it used to stop at "No matching distribution found for mesa". Everything else is in
pyproject.toml.
"""

import sys

if sys.version_info < (3, 12):  # noqa: UP036  (runs on the old Python, to refuse it)
    sys.exit(f"error: sim needs Python 3.12 or newer, and this is Python {sys.version.split()[0]}. Make a 3.12 "
             "environment first, e.g. `python3.12 -m venv .venv` or `pyenv install 3.12 && pyenv local 3.12`, "
             "then `pip install -e .` in it (README: Quick start).")

from setuptools import find_packages, setup

# sim and its subpackages (config, domain, engine, ...), and the configs as the package ``sim.conf`` (the folder
# conf/ at the top of the repository, mapped by [tool.setuptools.package-dir] in pyproject.toml), and sim's
# Hydra plugin (the parse cache of its configs) in Hydra's namespace package hydra_plugins (no __init__.py).
setup(packages=[*find_packages(include=["sim", "sim.*"]), "sim.conf",
                # hydra_plugins listed too, so that an editable install maps its folder (Hydra's plugin scan walks it)
                "hydra_plugins", "hydra_plugins.sim_conf_cache"])
