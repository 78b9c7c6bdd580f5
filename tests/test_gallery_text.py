"""The gallery's sensitivity page says what its own table says (issue 25: it once said the deadline led every
outcome but one while its table said the pass-through led most of them)."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "experiments" / "sensitivity.md"
NOT_ESTIMABLE = "not estimable"


def _table() -> dict[str, str]:
    """Outcome -> its 1st column, from the page's table of leading parameters."""
    rows = {}
    for line in PAGE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 4 and cells[0] not in ("outcome", "---"):
            rows[cells[0]] = cells[1]
    return rows


def _leading_line() -> dict[str, str]:
    """Outcome (lower case) -> leading parameter, from the page's 'Leading parameter per outcome' paragraph."""
    text = " ".join(PAGE.read_text().split())
    paragraph = re.search(r"\*\*Leading parameter per outcome\*\* \([^)]*\): (.*?)\.(?: |$)", text)[1]
    return {k.lower(): v for k, v in (item.split(": ", 1) for item in paragraph.split("; "))}


def _parameter(cell: str) -> str:
    """The parameter of a table cell such as 'pass-through 0.48 ± 0.18 (S1 0.25)'."""
    return NOT_ESTIMABLE if cell.startswith(NOT_ESTIMABLE) else re.split(r" [-−\d]", cell, maxsplit=1)[0]


def test_the_leading_parameter_in_the_text_is_the_first_of_the_table_for_every_outcome():
    table, said = _table(), _leading_line()
    assert len(table) == 14  # deal, agreement time, 9 terms, 2 utilities, welfare
    for outcome, cell in table.items():
        if cell.startswith(NOT_ESTIMABLE):  # named in the text as not estimable, alone or in a group
            assert any(outcome.lower() in k and v == NOT_ESTIMABLE for k, v in said.items()), outcome
        else:
            assert said[outcome.lower()] == _parameter(cell), outcome


def test_no_sentence_ranks_an_outcome_the_table_calls_not_estimable():
    table = _table()
    missing = [o.lower() for o, cell in table.items() if cell.startswith(NOT_ESTIMABLE)]
    text = " ".join(PAGE.read_text().split())
    findings = text[text.index("**Findings**"):text.index("**Cost**")]
    for sentence in re.split(r"(?<=\.) ", findings):
        ranks = re.search(r"\b(first|second|third|largest|leads?)\b", sentence)
        if ranks and NOT_ESTIMABLE not in sentence:
            named = [o for o in missing if o in sentence.lower()]
            assert not named, f"ranks {named}: {sentence}"
