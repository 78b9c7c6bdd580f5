"""The jobs a command line launches: its overrides expanded as Hydra's basic sweeper expands them.

The overrides are parsed by Hydra's own grammar (``OverridesParser``) with the config loader at hand, and each
sweep is expanded by Hydra itself (``Override.sweep_string_iterator``): ``a,b``, ``range(...)``,
``choice(...)`` and ``glob(...)``. :mod:`sim.preflight` composes and checks each job before Hydra runs.
"""

from __future__ import annotations

import itertools

from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import OverrideParseException

from sim.config.compose import hydra_context
from sim.console import UsageError

__all__ = ["MAX_JOBS", "jobs"]

# At most this many jobs of a -m sweep are composed and validated one by one; beyond it, each
# swept value is checked with the other keys at their first value.
MAX_JOBS = 64


def jobs(overrides: list[str], multirun: bool) -> list[list[str]]:
    """The override lists of the jobs a command would launch.

    The overrides are parsed by Hydra's own grammar with the config loader at hand, so a sweep is
    expanded exactly as Hydra's basic sweeper expands it: ``a,b``, ``range(...)``, ``choice(...)``
    and ``glob(...)`` (over a config group's options). ``interval(...)`` is for sampling sweepers
    (such as Optuna); the basic sweeper refuses it, and so does this check, in one line.
    """
    with hydra_context():
        parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
        try:
            parsed = parser.parse_overrides(overrides)
        except OverrideParseException as err:
            raise UsageError(f"malformed override: {str(err).splitlines()[0]}") from None
        choices = [_values(o, multirun) for o in parsed if not o.key_or_group.startswith("hydra")]
    product = 1
    for c in choices:
        product *= len(c)
    if product <= MAX_JOBS:
        return [list(job) for job in itertools.product(*choices)]
    firsts = [c[0] for c in choices]
    jobs = []
    for k, c in enumerate(choices):
        jobs.extend([*firsts[:k], v, *firsts[k + 1:]] for v in c[1:])
    return [firsts, *jobs]


def _values(o: Override, multirun: bool) -> list[str]:
    """The overrides one command-line override stands for: itself, or one per value of a sweep."""
    if not o.is_sweep_override():
        return [o.input_line]
    if not multirun:
        raise UsageError(f"{o.input_line}: a sweep over several values needs -m (multirun); "
                         "to give a list as one value, quote it as a list, e.g. 'key=[a,b]'")
    if not o.is_discrete_sweep():
        raise UsageError(f"{o.input_line}: Hydra's basic sweeper cannot sweep an interval (that needs a sampling "
                         "sweeper such as Optuna); use a,b,c, range(start,stop,step), choice(...) or glob(...), "
                         "or sample inside the run with sweep.sample.ranges")
    try:
        values = list(o.sweep_string_iterator())
    except Exception as err:  # noqa: BLE001  (Hydra raises assorted errors for a bad sweep)
        raise UsageError(f"{o.input_line}: {' '.join(str(err).split())}") from None
    if not values:
        raise UsageError(f"{o.input_line}: the sweep has no values (a glob that matches no option, or an "
                         "empty range)")
    return [f"{o.get_key_element()}={v}" for v in values]
