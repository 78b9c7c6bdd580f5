"""Readable names for config keys and issues, shared by the terminal summary and the figures.

A swept key such as ``scenario.deadline.round`` is shown as "deadline" in a legend and as
"US deadline (round)" on an axis or as a table heading, so that a bare "round" never stands for a
deadline. This module imports nothing heavy, so the terminal summary can use it without Matplotlib.
"""

from __future__ import annotations

__all__ = ["ISSUE_TITLES", "KEY_HEADINGS", "KEY_LABELS", "heading", "issue_title", "short_key"]

ISSUE_TITLES = {
    "cars": "Car tariff", "auto_parts": "Auto-parts tariff", "steel_aluminium": "Steel & aluminium tariff",
    "reciprocal": "Reciprocal tariff", "investment": "Investment pledge", "agriculture": "Agriculture purchases",
    "energy": "Energy purchases", "aircraft": "Aircraft purchases", "defence": "Defence purchases",
}
# config key -> (short name for a legend, long name with its unit for an axis or a table heading)
KEY_LABELS = {
    "scenario.deadline.round": ("deadline", "US deadline (round)"),
    "scenario.escalation": ("escalation", "escalation at the deadline (pp)"),
    "scenario.deadline.extension.probability": ("extension probability", "probability of an extension"),
    "scenario.breakdown_risk": ("breakdown risk", "breakdown risk per round"),
    "scenario.issues.cars.negotiable": ("cars on the table", "cars on the table"),
    "protocol.agenda": ("agenda", "agenda"),
    "scenario.ratification.japan.threshold": ("Japan's threshold", "Japan's ratification threshold (approval needed)"),
    "scenario.ratification.us.threshold": ("US threshold", "US ratification threshold (approval needed)"),
}
# short table headings with the unit (terminal summary)
KEY_HEADINGS = {
    "scenario.deadline.round": "deadline (round)",
    "scenario.escalation": "escalation (pp)",
    "scenario.deadline.extension.probability": "extension probability",
    "scenario.breakdown_risk": "breakdown risk (per round)",
}


def issue_title(name: str) -> str:
    """A readable title for an issue."""
    return ISSUE_TITLES.get(name, name.replace("_", " ").capitalize())


def short_key(key: str | None, long: bool = False) -> str:
    """A readable name for a swept config key (``long``: an axis label with its unit)."""
    if key in KEY_LABELS:
        return KEY_LABELS[key][1 if long else 0]
    return str(key).split(".")[-1].replace("_", " ")


def heading(key: str) -> str:
    """A short table heading for a swept config key, with its unit where it has one.

    A key ending in ``.round`` is always shown with what the round is of (``deadline (round)``),
    never as a bare "round".
    """
    if key in KEY_HEADINGS:
        return KEY_HEADINGS[key]
    if key in KEY_LABELS:
        return KEY_LABELS[key][0]
    parts = key.split(".")
    if len(parts) >= 3 and parts[-3] == "sides":  # scenario.sides.japan.deadline -> Japan's deadline
        side = {"us": "US", "japan": "Japan's"}.get(parts[-2], parts[-2])
        return f"{side} {parts[-1].replace('_', ' ')}"
    if parts[-1] == "round" and len(parts) > 1:
        return f"{parts[-2].replace('_', ' ')} (round)"
    return parts[-1].replace("_", " ")
