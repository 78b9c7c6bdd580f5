"""Compile the protocol: its class (from ``protocol.agenda``, a ``conf/protocol`` name) and, for a staged
agenda, its stages, which come from the scenario (``scenario.stages``: a tag to group the issues by, or a
list of stages of issue names or tag values), never from the protocol's own config.
"""

from __future__ import annotations

from sim.config.components import available, import_class, load_option
from sim.config.values import MISSING, ConfigError, Tree, choice, get, lookup
from sim.domain.outcome_space import OutcomeSpace
from sim.engine.protocols import Protocol

__all__ = ["protocol", "stages"]


def protocol(cfg: Tree) -> tuple[str, type]:
    """The protocol: its agenda name and class (the class of ``conf/protocol/<agenda>.yaml``)."""
    agendas = tuple(available("protocol"))
    agenda = "package" if lookup(cfg, "protocol.agenda") is MISSING else choice(cfg, "protocol.agenda", agendas)
    node = get(cfg, "protocol")
    target = node.get("_target_") if node.get("name", agenda) == agenda else None
    if target is None:
        target = load_option("protocol", agenda, "protocol.agenda").get("_target_")
    return agenda, import_class(target, "protocol._target_", Protocol)


def stages(cfg: Tree, space: OutcomeSpace) -> tuple[tuple[int, ...], ...]:
    """The stages of a staged agenda, from the scenario: a tag to group the issues by (in order of first
    appearance), or a list of stages, each a list of issue names or tag values; every issue in exactly one."""
    spec = lookup(cfg, "scenario.stages")
    if spec is MISSING or spec is None:
        return tuple((j,) for j in range(space.n))
    if isinstance(spec, str):
        tags = sorted({name for issue in space.issues for name, _ in issue.tags})
        if spec not in tags:  # else every issue would silently be a stage of its own
            raise ConfigError("scenario.stages", f"names no tag {spec!r} of the scenario's issues; choose from "
                                                 f"{', '.join(tags) or 'none (give a list of stages)'}")
        return tuple(idx for _, idx in space.groups(spec))
    if not isinstance(spec, list) or not spec or not all(isinstance(g, list) and g for g in spec):
        raise ConfigError("scenario.stages", "must be a tag name, or a list of non-empty lists of issue names")
    stages = []
    for group in spec:
        members = []
        for entry in group:
            hits = [j for j, i in enumerate(space.issues) if i.name == entry or entry in dict(i.tags).values()]
            if not hits:
                raise ConfigError("scenario.stages", f"names no issue or tag value {entry!r}; choose from "
                                                     f"{', '.join(space.names)}")
            members.extend(hits)
        stages.append(tuple(members))
    names = [space.names[j] for group in stages for j in group]
    if sorted(names) != sorted(space.names):
        missing = [n for n in space.names if n not in names]
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError("scenario.stages", "must put every issue in exactly one stage"
                          + (f"; missing {', '.join(missing)}" if missing else "")
                          + (f"; repeated {', '.join(twice)}" if twice else ""))
    return tuple(stages)
