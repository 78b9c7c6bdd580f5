"""The outcome space: the issues under negotiation and the packages they span.

A *package* (an offer or an agreement) is one value per issue, ordered as the issues are. Each issue
is granted by one party: a tariff is total rate in percentage points (pp) that the importing party
levies on a sector's goods; a package item (an investment pledge, yearly purchases) is an amount in
USD billions. Issues carry free-form *tags* from the scenario (``kind: tariff``, ``sector: autos``,
``flow: vehicles``), by which protocols group them into stages and payoff models find their stakes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Issue", "OutcomeSpace"]


@dataclass(frozen=True)
class Issue:
    """One negotiable issue.

    Attributes:
        name: Identifier, e.g. ``"cars"``.
        grantor: Id of the party whose concession the issue is.
        unit: Unit of the value (``"pp"``, ``"USD bn"`` or ``"USD bn/yr"``).
        status_quo: Value in force when the talks open.
        lo: Lowest negotiable value.
        hi: Highest negotiable value.
        negotiable: False if the scenario takes the issue off the table: it stays at its status quo.
        tags: The scenario's tags, as sorted ``(key, value)`` pairs.
        title: A readable title for tables and figures (``""``: made from the name).
    """

    name: str
    grantor: str
    unit: str
    status_quo: float
    lo: float
    hi: float
    negotiable: bool = True
    tags: tuple[tuple[str, str], ...] = ()
    title: str = ""

    def tag(self, key: str, default: str | None = None) -> str | None:
        """The value of tag ``key`` (``default`` if the issue has none)."""
        return dict(self.tags).get(key, default)


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

    def granted_by(self, party: str) -> list[str]:
        """Names of the issues that ``party`` grants."""
        return [i.name for i in self.issues if i.grantor == party]

    def groups(self, tag: str) -> list[tuple[str, tuple[int, ...]]]:
        """The issues grouped by the value of ``tag``, in order of first appearance.

        An issue without the tag forms a group of its own, named after the issue.

        Returns:
            ``(group value, issue indices)`` per group.
        """
        order: dict[str, list[int]] = {}
        for j, issue in enumerate(self.issues):
            order.setdefault(issue.tag(tag, issue.name), []).append(j)
        return [(value, tuple(idx)) for value, idx in order.items()]
