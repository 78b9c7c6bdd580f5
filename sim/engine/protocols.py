"""Protocols: who offers when, what an offer covers, and when an agreement takes effect.

A protocol runs one round of the talks in every world of a batch: the proposer (the opener in odd
rounds, the other party in even rounds) makes an offer, the responder accepts, counters (its counter
is next round's offer) or walks away, and the protocol decides what an acceptance settles and whether
the agreement takes effect (both parties' constituencies must ratify it; if either does not, it is an
*involuntary defection*, Putnam 1988, and the talks go on).

* :class:`Package`: every offer is a whole package (alternating offers, Rubinstein 1982).
* :class:`Meeting`: in every round (a meeting) both sides table a whole package and each may accept the other's.
* :class:`Sequential`: the issues are settled stage by stage; an agreed stage is locked in, and if the
  talks end before the last stage the stages agreed so far stay in force (a piecemeal deal).
* :class:`Linked`: the same stages, but "nothing is agreed until everything is agreed": partial
  agreements fall if the talks end early.

The stages come from the scenario (its issues grouped by a tag, or listed by name), never from the
protocol. Adding a protocol takes one subclass here (or in any importable module) and one YAML file in
``conf/protocol/`` whose ``_target_`` names the class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from sim.engine.codes import END_REASONS, Response

__all__ = ["END_REASONS", "Linked", "Meeting", "Package", "Protocol", "Response", "RoundResult", "Sequential"]


@dataclass
class RoundResult:
    """What happened in one round, per world.

    Attributes:
        proposer: The negotiator who made the offer.
        offer: The offer made (with locked issues at their agreed values), ``(B, n)``.
        response: A :class:`~sim.engine.codes.Response` code per world (counter, accept or walk-away), ``(B,)``.
        agreed: Worlds whose talks ended in an agreement that takes effect.
        walked: Worlds whose responder walked away.
    """

    proposer: object
    offer: np.ndarray
    response: np.ndarray
    agreed: np.ndarray
    walked: np.ndarray


class Protocol:
    """Base class: alternating offers over a batch of worlds, with ratification of agreements.

    Args:
        stages: The issues of each stage, as indices (one stage of every issue for a package).
        n_issues: Number of issues.
        n_worlds: Number of worlds B.

    Attributes:
        staged: Whether offers cover one stage at a time (issues already agreed stay locked).
        turn_gap: Rounds from one response of a side to its next.
        keeps_partial: Whether the stages agreed so far stay in force if the talks end early.
        defections: Involuntary defections (failed ratifications) per world.
    """

    staged: ClassVar[bool] = False
    keeps_partial: ClassVar[bool] = False
    turn_gap: ClassVar[int] = 2  # rounds from one response of a side to its next (alternating offers: 2)

    def __init__(self, stages: tuple[tuple[int, ...], ...], n_issues: int, n_worlds: int) -> None:
        self.stage_mask = np.zeros((len(stages), n_issues), dtype=bool)
        for k, issues in enumerate(stages):
            self.stage_mask[k, list(issues)] = True
        self.stage = np.zeros(n_worlds, dtype=np.int32)
        self.locked = np.zeros((n_worlds, n_issues), dtype=bool)
        self.locked_value = np.full((n_worlds, n_issues), np.nan)
        self.defections = np.zeros(n_worlds, dtype=np.int32)
        self.negotiators: tuple = ()

    def seat(self, opener, replier) -> None:
        """Seat the two negotiators; ``opener`` proposes in round 1."""
        self.opener, self.replier = opener, replier
        self.negotiators = (opener, replier)

    # -- what an offer covers --------------------------------------------------------------------

    def lock(self, offer: np.ndarray, best: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """An offer and the proposer's fallback package, with the locked issues at their agreed values."""
        return offer, best

    def as_seen_by(self, me, offer: np.ndarray, t: int) -> np.ndarray:
        """The offer as the responder ``me`` values it (a package: the offer itself)."""
        return offer

    # -- a round ---------------------------------------------------------------------------------

    def turn(self, t: int) -> tuple:
        """``(proposer, responder)`` of round ``t``: alternating, the opener in odd rounds."""
        return (self.opener, self.replier) if t % 2 == 1 else (self.replier, self.opener)

    def round(self, t: int, active: np.ndarray) -> RoundResult:
        """Play round ``t`` in every world: an offer, a response, and what an acceptance settles."""
        proposer, responder = self.turn(t)
        offer = proposer.propose(t)
        response = responder.respond(offer, t)
        accepted = active & (response == Response.ACCEPT)
        agreed, offer = self.settle(accepted, offer)
        return RoundResult(proposer=proposer, offer=offer, response=response, agreed=self.ratify(agreed, offer, t),
                           walked=active & (response == Response.WALK_AWAY))

    def ratify(self, agreed: np.ndarray, offer: np.ndarray, t: int) -> np.ndarray:
        """The tentative agreements that both parties' constituencies ratify in round ``t``; the others are
        involuntary defections (counted, and reopened)."""
        if agreed.any() and any(n.ratification_binds(t) for n in self.negotiators):
            ratified = self.negotiators[0].ratifies(offer, t) & self.negotiators[1].ratifies(offer, t)
            defected = agreed & ~ratified
            if defected.any():
                self.defections += defected
                agreed = agreed & ratified
                self.reopen(defected)
        return agreed

    def settle(self, accepted: np.ndarray, offer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Worlds whose acceptance is a (tentative) agreement of the whole package, and the package."""
        return accepted, offer

    def reopen(self, defected: np.ndarray) -> None:
        """Undo a tentative agreement that was not ratified (a package: nothing is locked)."""

    # -- how it ended ----------------------------------------------------------------------------

    def partial(self, deal: np.ndarray) -> np.ndarray:
        """Worlds without a full deal whose agreed stages stay in force (a piecemeal deal)."""
        return np.zeros_like(deal) if not self.keeps_partial else ~deal & self.locked.any(axis=1)

    def stages_agreed(self, deal: np.ndarray) -> np.ndarray:
        """Stages agreed per world (all of them with a deal)."""
        return np.where(deal, len(self.stage_mask), self.stage).astype(np.int32)


class Package(Protocol):
    """Whole-package alternating offers: every offer covers every issue."""


class Meeting(Protocol):
    """Meetings: in every round both sides table a whole package, and each answers the other's.

    A side that accepts the other's package agrees to it; if both accept, they agree on the midpoint of the
    two packages (worth to each side the mean of its utilities of the two, so at least what it accepted, and
    within both sides' red lines, since both packages are). If neither accepts, a side that walks away ends the
    talks. Nothing depends on which side is seated first: both move in every round, so there is no opener
    (the round log names the first-seated side as proposer and records the agreed package, or its offer).
    Each side answers in every round (``turn_gap = 1``).
    """

    turn_gap = 1

    def turn(self, t: int) -> tuple:  # noqa: D102
        return self.negotiators

    def round(self, t: int, active: np.ndarray) -> RoundResult:  # noqa: D102
        first, second = self.negotiators
        tabled = first.propose(t), second.propose(t)
        answers = second.respond(tabled[0], t), first.respond(tabled[1], t)
        took = [active & (a == Response.ACCEPT) for a in answers]  # took[0]: the second side takes the first's
        both = (took[0] & took[1])[:, None]
        offer = np.where(both, (tabled[0] + tabled[1]) / 2, np.where(took[1][:, None], tabled[1], tabled[0]))
        accepted = took[0] | took[1]
        walked = active & ~accepted & ((answers[0] == Response.WALK_AWAY) | (answers[1] == Response.WALK_AWAY))
        response = np.where(accepted, Response.ACCEPT, np.where(walked, Response.WALK_AWAY, Response.COUNTER))
        agreed, offer = self.settle(accepted, offer)
        return RoundResult(proposer=first, offer=offer, response=response, agreed=self.ratify(agreed, offer, t),
                           walked=walked)


class Sequential(Protocol):
    """Stage by stage: an accepted stage is locked in and the talks move to the next; a deadline
    reached mid-way leaves the stages already agreed in force (a piecemeal deal).

    While a stage is under negotiation, the responder values the later stages at its own planned
    offer on them (its current expectation), so acceptance turns on the stage at hand.
    """

    staged = True
    keeps_partial = True

    def _current(self) -> np.ndarray:
        return self.stage_mask[np.minimum(self.stage, len(self.stage_mask) - 1)]

    def pending(self) -> np.ndarray:
        """Per world, the issues of stages after the current one, shape ``(B, n)``."""
        return ~self.locked & ~self._current()

    def lock(self, offer, best):  # noqa: D102
        return (np.where(self.locked, self.locked_value, offer), np.where(self.locked, self.locked_value, best))

    def as_seen_by(self, me, offer, t):  # noqa: D102
        return np.where(self.pending(), me.plan_offer(t + 1), offer)

    def settle(self, accepted, offer):  # noqa: D102
        newly = accepted[:, None] & self._current()
        self.locked_value = np.where(newly, offer, self.locked_value)
        self.locked |= newly
        self.stage = self.stage + accepted
        agreed = accepted & (self.stage >= len(self.stage_mask))
        if accepted.any():  # next round's offers must respect the new locks
            self._forget_plans()
        return agreed, np.where(self.locked, self.locked_value, offer)

    def reopen(self, defected):  # noqa: D102
        self.stage = self.stage - defected
        reopen = defected[:, None] & self._current()
        self.locked &= ~reopen
        self.locked_value = np.where(reopen, np.nan, self.locked_value)
        self._forget_plans()

    def _forget_plans(self) -> None:
        for negotiator in self.negotiators:
            negotiator.forget_plan()


class Linked(Sequential):
    """Stage by stage, but "nothing is agreed until everything is agreed": the stages agreed so far
    fall if the talks end before the last one is agreed."""

    keeps_partial = False
