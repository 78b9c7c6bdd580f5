"""The jobs a command line launches, as Hydra's basic sweeper splits it.

The overrides are parsed by Hydra's own grammar (``OverridesParser``) with the config loader at hand, and a
``-m`` command line is split into jobs by Hydra's basic sweeper itself (``BasicSweeper.split_arguments``, the
call its ``sweep`` makes): ``a,b``, ``range(...)``, ``choice(...)`` and ``glob(...)``, in Hydra's job order and
with Hydra's spelling of each override (so each job's folder name is the one Hydra gives it).
:mod:`sim.preflight` composes and checks each job before Hydra runs them.
"""

from __future__ import annotations

from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import OverrideParseException

from sim.config.compose import hydra_context
from sim.console import UsageError

__all__ = ["MAX_JOBS", "checked_jobs", "jobs"]

# At most this many jobs of a -m sweep are composed and validated one by one; beyond it, each
# swept value is checked with the other keys at their first value.
MAX_JOBS = 64


def jobs(overrides: list[str], multirun: bool, loader=None) -> list[list[str]]:
    """The override lists of the jobs a command would launch, in Hydra's order (job 0 first).

    Hydra's own keys (``hydra.*``) are left out: Hydra composes them with every job. ``interval(...)`` is
    for sampling sweepers (such as Optuna); the basic sweeper refuses it, and so does this check, in one line.

    Args:
        overrides: The command line's overrides (for ``-m``, with the sweeper's ``hydra.sweeper.params``
            first, as the sweeper takes them).
        multirun: Whether it is a ``-m`` sweep.
        loader: Hydra's config loader (``glob(...)`` lists a config group's options); None: one for ``conf/``.
    """
    if loader is None:
        with hydra_context():
            return jobs(overrides, multirun, GlobalHydra.instance().config_loader())
    try:
        parsed = OverridesParser.create(config_loader=loader).parse_overrides(overrides)
    except OverrideParseException as err:
        raise UsageError(f"malformed override: {str(err).splitlines()[0]}") from None
    parsed = [o for o in parsed if not o.key_or_group.startswith("hydra")]
    for o in parsed:
        _check_sweep(o, multirun)
    if not multirun:
        return [[o.input_line for o in parsed]]
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper  # the sweeper sim runs (sim.__main__)

    return BasicSweeper.split_arguments(parsed, None)[0]


def checked_jobs(all_jobs: list[list[str]]) -> list[int]:
    """The numbers of the jobs the pre-run check composes: all of them up to :data:`MAX_JOBS`; beyond, job 0
    and each job that differs from it in one override (each swept value once, the others at their first)."""
    if len(all_jobs) <= MAX_JOBS:
        return list(range(len(all_jobs)))
    first = all_jobs[0]
    return [0] + [n for n, job in enumerate(all_jobs) if sum(a != b for a, b in zip(job, first)) == 1]


def _check_sweep(o: Override, multirun: bool) -> None:
    """Refuse, in one line, a sweep Hydra's basic sweeper cannot run or a run without ``-m`` cannot take."""
    if not o.is_sweep_override():
        return
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
