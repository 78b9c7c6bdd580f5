"""The codes a negotiation records: how a responder answered an offer, and how the talks ended.

Both are :class:`~enum.IntEnum`\\ s, stored as small integers in the model's arrays and written out by their
labels (``outcomes.end_reason``, ``rounds.response``). Reading a run's outcomes needs no Mesa, so they live
here and not in the model.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["END_REASONS", "EndReason", "Response"]


class EndReason(IntEnum):
    """How the talks in a world ended (``end_reason``); ``TALKING`` while they go on."""

    TALKING = 0
    AGREEMENT = 1
    WALK_AWAY = 2
    DEADLINE = 3
    BREAKDOWN = 4
    REFUSED = 5

    @property
    def label(self) -> str:
        """The label in the outcomes table."""
        return _END_LABELS[self]


class Response(IntEnum):
    """What a round's record says of the responder: it countered, accepted or walked away; or the talks ended in
    that round by the final deadline or a breakdown."""

    COUNTER = 0
    ACCEPT = 1
    WALK_AWAY = 2
    DEADLINE = 3
    BREAKDOWN = 4

    @property
    def label(self) -> str:
        """The label in the rounds table."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def ended_by(cls, reason: EndReason) -> Response | None:
        """The round record's code for talks that ended by ``reason`` regardless of the response (or ``None``)."""
        return {EndReason.DEADLINE: cls.DEADLINE, EndReason.BREAKDOWN: cls.BREAKDOWN}.get(reason)


_END_LABELS = {EndReason.TALKING: "talking", EndReason.AGREEMENT: "agreement", EndReason.WALK_AWAY: "walk-away",
               EndReason.DEADLINE: "deadline", EndReason.BREAKDOWN: "breakdown",
               EndReason.REFUSED: "refused protocol"}

# code -> label of every end reason (not TALKING), in code order
END_REASONS = {int(r): r.label for r in EndReason if r is not EndReason.TALKING}
