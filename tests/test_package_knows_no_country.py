"""The engine knows no country: parties, issues and stakes are scenario data (conf/, docs/), never Python."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMES = re.compile(r"japan|korea|united states", re.IGNORECASE)


def test_no_country_name_in_the_package():
    found = [f"{path.relative_to(ROOT)}:{k}" for path in sorted((ROOT / "sim").rglob("*.py"))
             for k, line in enumerate(path.read_text().splitlines(), 1) if NAMES.search(line)]
    assert found == [], f"country names belong in the scenario files: {found[:10]}"
