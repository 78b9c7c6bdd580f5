"""Fingerprints of the shipped experiments' value tables, column by column, to show a change leaves them alone.

Usage:
    python benchmarks/value_tables.py record FILE.json [EXPERIMENT ...]
    python benchmarks/value_tables.py compare FILE.json

``record`` runs each experiment through the command line (``python -m sim run +experiment=X``, no
figures) into a temporary folder and writes, per experiment and per table (``outcomes``, ``rounds``),
the SHA-256 of every column's values in world order, with the row count. ``compare`` runs the
experiments named in the file again and prints every column whose digest differs (exit 1 if any).
A digest is taken over the values themselves (numbers as their IEEE bytes, strings and dates as text),
so it does not depend on how Parquet compressed or split the file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

GRID_EXPERIMENTS = ("smoke", "single_negotiation", "deadline_pressure", "issue_tradeoffs", "package_vs_piecemeal",
                    "strategy_tournament", "two_level", "us_korea")


def column_digest(values: np.ndarray) -> str:
    """SHA-256 of one column's values in order."""
    if values.dtype.kind in "biuf":
        return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()
    return hashlib.sha256("\x1f".join(map(str, values)).encode()).hexdigest()


def digests(run_dir: Path) -> dict[str, dict[str, str]]:
    """Per table of a run folder, each column's digest (and ``_rows``)."""
    out = {}
    for kind in ("outcomes", "rounds"):
        path = run_dir / f"{kind}.parquet"
        if not path.exists():
            continue
        table = pq.read_table(path)
        out[kind] = {"_rows": str(table.num_rows)}
        out[kind] |= {name: column_digest(table.column(name).to_numpy()) for name in table.column_names}
    return out


def run(experiment: str) -> dict[str, dict[str, str]]:
    """Run one experiment without figures and fingerprint its tables."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "sim", "run", f"+experiment={experiment}", "run.plot=false",
                        "run.progress=false", f"hydra.run.dir={tmp}/run"], check=True, stdout=subprocess.DEVNULL)
        return digests(Path(tmp) / "run")


def main() -> None:
    """Record or compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("file", type=Path)
    parser.add_argument("experiments", nargs="*", default=list(GRID_EXPERIMENTS))
    args = parser.parse_args()
    if args.mode == "record":
        args.file.write_text(json.dumps({e: run(e) for e in args.experiments}, indent=1, sort_keys=True) + "\n")
        return
    recorded = json.loads(args.file.read_text())
    differ = 0
    for experiment, tables in recorded.items():
        now, before = run(experiment), differ
        for kind, columns in tables.items():
            for name, digest in columns.items():
                got = now.get(kind, {}).get(name)
                if got != digest:
                    differ += 1
                    print(f"{experiment} {kind}.{name}: differs" if got else f"{experiment} {kind}.{name}: missing")
            for name in set(now.get(kind, {})) - set(columns):
                print(f"{experiment} {kind}.{name}: new column")
        print(f"{experiment}: {'identical' if differ == before else 'differs'}", flush=True)
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
