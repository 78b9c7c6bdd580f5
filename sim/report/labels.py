"""Readable names for config keys and issues, shared by the terminal summary and the figures.

A swept key's name comes from the parameter registry (:mod:`sim.config.parameters`): its label, with
the unit, on an axis or as a table heading (``scenario.deadline.round`` -> "deadline (round)"), and the
label without the unit in a legend ("deadline"), so that a bare "round" never stands for a deadline.
Per-party keys name the party (by its display name when the caller knows it). This module imports
nothing heavy, so the terminal summary can use it without Matplotlib.
"""

from __future__ import annotations

import re

from sim.config.parameters import find, label

__all__ = ["heading", "issue_title", "short_key"]


def issue_title(name: str, space=None) -> str:
    """A readable title for the issue ``name``: its scenario's ``title`` (``scenario.issues.<name>.title``,
    from the :class:`~sim.domain.outcome_space.OutcomeSpace` ``space`` when the caller has it), else made from
    the name (``auto_parts`` -> "Auto parts")."""
    for issue in getattr(space, "issues", ()):
        if issue.name == name and issue.title:
            return issue.title
    return name.replace("_", " ").capitalize()


def _unlisted(key: str) -> str:
    """A name for a key the registry does not list (an issue's own setting, a part's parameter)."""
    parts = key.split(".")
    if len(parts) == 4 and parts[:2] == ["scenario", "issues"] and parts[3] == "negotiable":
        return f"{parts[2].replace('_', ' ')} on the table"
    if parts[-1] == "round" and len(parts) > 1:
        return f"{parts[-2].replace('_', ' ')} (round)"
    if len(parts) >= 3 and parts[1] in ("offering", "acceptance", "opponent"):
        return f"{parts[0]} {parts[-1].replace('_', ' ')}"
    return parts[-1].replace("_", " ")


def short_key(key: str | None, long: bool = False, names: dict[str, str] | None = None) -> str:
    """A readable name for a swept config key: its registry label; ``long`` keeps the unit (for an axis)."""
    key = str(key)
    text = label(key, names) if find(key) else _unlisted(key)
    return text if long else re.sub(r"\s*\([^)]*\)$", "", text)


def heading(key: str, names: dict[str, str] | None = None) -> str:
    """A short table heading for a swept config key, with its unit where it has one."""
    return short_key(key, long=True, names=names)
