"""The outcome space: the issues under negotiation and the packages they span.

A *package* (an offer or an agreement) is one value per issue, ordered as the issues are. US tariff
issues are total tariff rates in percentage points (pp) on Japanese goods of a sector; Japanese
items are amounts in USD billions (a one-off total for investment, a yearly amount for purchases).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SIDES", "Issue", "OutcomeSpace"]

SIDES = ("us", "japan")


@dataclass(frozen=True)
class Issue:
    """One negotiable issue.

    Attributes:
        name: Identifier, e.g. ``"cars"``.
        grantor: The side whose concession the issue is (``"us"`` for tariffs, ``"japan"`` for items).
        unit: Unit of the value (``"pp"``, ``"USD bn"`` or ``"USD bn/yr"``).
        status_quo: Value in force when the talks open.
        lo: Lowest negotiable value.
        hi: Highest negotiable value.
        negotiable: False if the scenario takes the issue off the table: it stays at its status quo.
    """

    name: str
    grantor: str
    unit: str
    status_quo: float
    lo: float
    hi: float
    negotiable: bool = True


@dataclass(frozen=True)
class OutcomeSpace:
    """The box of packages spanned by the issues' ranges.

    Attributes:
        issues: The issues, in package order.
    """

    issues: tuple[Issue, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Issue names in package order."""
        return tuple(i.name for i in self.issues)

    @property
    def n(self) -> int:
        """Number of issues."""
        return len(self.issues)

    @property
    def lo(self) -> np.ndarray:
        """Lower bounds of the negotiation box, shape ``(n,)`` (the status quo for an issue off the table)."""
        return np.array([i.lo if i.negotiable else i.status_quo for i in self.issues])

    @property
    def hi(self) -> np.ndarray:
        """Upper bounds of the negotiation box, shape ``(n,)`` (the status quo for an issue off the table)."""
        return np.array([i.hi if i.negotiable else i.status_quo for i in self.issues])

    @property
    def status_quo(self) -> np.ndarray:
        """Status-quo package, shape ``(n,)``."""
        return np.array([i.status_quo for i in self.issues])

    def index(self, name: str) -> int:
        """Position of the issue called ``name``."""
        return self.names.index(name)

    def granted_by(self, side: str) -> list[str]:
        """Names of the issues that ``side`` grants."""
        return [i.name for i in self.issues if i.grantor == side]
