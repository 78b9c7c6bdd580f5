"""Reading a run folder back: its outcomes and rounds, each file checked against the digest in its manifest.

Every read goes through :func:`read_table`: the merged file (``outcomes.parquet``, ``rounds.parquet``)
checked against the SHA-256 recorded in ``manifest.json`` when it was written, or, for an unfinished
sweep, the parts of the chunks the manifest records as done, each checked against its own digest.
A file changed after the run wrote it is refused in one line (:class:`RunDirError`) naming it, so
``plot``, ``analyze``, ``compare`` and the Python API never read silently damaged numbers. A folder
written before the merged digests were recorded is read as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.config import ConfigError
from sim.config.sweep import Plan, column_name
from sim.config.values import flatten
from sim.engine.inputs import Structure
from sim.run.manifest import MANIFEST, Manifest, file_digest, part_path, read_manifest

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["OutcomeColumns", "RunData", "RunDirError", "load_run", "pair_labels", "party_ids", "read_outcomes",
           "read_table", "to_frame", "required_outcomes"]


class RunDirError(Exception):
    """A run folder that cannot be read, with a one-line reason."""


def _manifest(run_dir: Path) -> Manifest | None:
    try:
        return read_manifest(run_dir)
    except ConfigError as err:
        raise RunDirError(str(err).removeprefix("hydra.run.dir: ")) from None


def _read_checked(path: Path, digest: str | None, columns: list[str] | None, categories: bool = False,
                  threads: bool = True) -> pa.Table:
    """One Parquet file, its bytes checked against ``digest`` (``None``: not recorded, read as it is).

    The digest is taken by streaming the file (1 MB at a time), then the file is read again (from the page
    cache): its bytes are never held in memory beside the table. With ``categories``, its text columns are
    read dictionary-encoded (each distinct label once; pandas categories), not as one string per row; without
    ``threads``, in this thread only (a column or two: less work than sharing it out).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if digest is not None and file_digest(path) != digest:
            raise RunDirError(f"{path}: damaged: its SHA-256 differs from the one recorded in {MANIFEST} when it "
                              "was written; run the run's command again (metadata.json) to rebuild it from its parts")
    except OSError as err:
        raise RunDirError(f"{path}: cannot be read ({err.strerror or err})") from None
    try:
        dictionary = None
        if categories:
            dictionary = [f.name for f in pq.read_schema(path) if (columns is None or f.name in columns)
                          and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))]
        return pq.read_table(path, columns=columns, memory_map=False, read_dictionary=dictionary, use_threads=threads)
    except (pa.ArrowException, OSError) as err:
        reason = " ".join(str(err).split())[:200]
        raise RunDirError(f"{path}: cannot read this Parquet file; it is partial or corrupt ({reason})") from None


def read_table(run_dir: Path, kind: str, columns: list[str] | None = None,
               categories: bool = False) -> tuple[pa.Table | None, int | None]:
    """A run's table of ``kind`` (``outcomes`` or ``rounds``), checked against its manifest (``columns``: only
    those; ``categories``: text columns dictionary-encoded, see :func:`_read_checked`).

    Returns:
        The table (``None``: the run has none of this kind), and ``None`` when it is the merged file, else
        the number of chunks it was read from (an unfinished sweep).

    Raises:
        RunDirError: a file differs from its recorded digest, or cannot be read (one line naming it).
    """
    import pyarrow as pa

    run_dir = Path(run_dir)
    manifest = _manifest(run_dir)
    merged = run_dir / f"{kind}.parquet"
    if merged.exists():
        return _read_checked(merged, manifest.merged.get(kind) if manifest else None, columns, categories), None
    if manifest is None:  # a folder without a record: whatever parts are there, unchecked
        paths = [(p, None) for p in sorted((run_dir / kind).glob("part-*.parquet"))]
    else:
        paths = [(part_path(run_dir, kind, i), manifest.parts[i][kind]) for i in sorted(manifest.parts)
                 if manifest.parts[i].get(kind)]
    tables = [_read_checked(path, digest, columns, categories) for path, digest in paths]
    return (pa.concat_tables(tables) if tables else None), len(tables)


def to_frame(table: pa.Table, dates_as_objects: bool = True) -> pd.DataFrame:
    """An Arrow table as pandas, each column's Arrow memory freed as it is converted (the table is spent);
    ``dates_as_objects=False``: date columns as ``datetime64`` (not one ``datetime.date`` per row)."""
    return table.to_pandas(self_destruct=True, split_blocks=True, date_as_object=dates_as_objects)


def read_outcomes(run_dir: Path, columns: list[str] | None = None, categories: bool = False) -> pa.Table:
    """Read a run's outcomes: the merged file, or the parts finished so far, each checked (:func:`read_table`).

    Raises:
        RunDirError: a file is damaged or unreadable, or the folder holds no outcomes.
    """
    table, _ = read_table(run_dir, "outcomes", columns, categories)
    if table is None:
        raise RunDirError(f"{run_dir}: holds no outcomes (outcomes.parquet, or parts in outcomes/)")
    return table


KEEP_BYTES = 256 * 2**20  # the columns an OutcomeColumns read are kept up to this size (a million worlds' summary's)


class OutcomeColumns:
    """An outcomes table read a few columns at a time, so that a summary of a million negotiations holds a few
    columns at once, never the whole table: from a frame in memory, or from a run folder's merged
    ``outcomes.parquet``, checked against its digest once (:func:`from_run`), text columns as categories.
    The columns read from the file are kept, up to :data:`KEEP_BYTES` in all, so a column that several tables
    read is read once.

    Attributes:
        columns: The names of the columns it has (in the table's order).
    """

    def __init__(self, frame: pd.DataFrame | None = None, path: Path | None = None,
                 columns: list[str] | None = None) -> None:
        import pyarrow.parquet as pq

        self.frame, self.path = frame, path
        self.kept: dict[tuple[str, bool], pd.Series] = {}  # (column, dates as objects) -> the column read
        self.kept_bytes = 0
        names = list(frame.columns) if frame is not None else pq.read_schema(path).names
        self.columns = [c for c in names if columns is None or c in columns]
        self.rows = len(frame) if frame is not None else pq.read_metadata(path).num_rows

    @classmethod
    def of(cls, outcomes: pd.DataFrame | OutcomeColumns) -> OutcomeColumns:
        """``outcomes`` as columns to read (a frame's columns are its own, not copied)."""
        return outcomes if isinstance(outcomes, OutcomeColumns) else cls(frame=outcomes)

    @classmethod
    def from_run(cls, run_dir: Path, columns: list[str] | None = None) -> OutcomeColumns:
        """A run's outcomes (only ``columns``): its merged file, checked now; an unfinished sweep's parts, read.

        Raises:
            RunDirError: as :func:`read_table`.
        """
        run_dir = Path(run_dir)
        merged, manifest = run_dir / "outcomes.parquet", _manifest(run_dir)
        if not merged.exists():
            return cls(frame=to_frame(read_outcomes(run_dir, columns, categories=True)))
        _read_checked(merged, manifest.merged.get("outcomes") if manifest else None, [])  # the digest, once
        return cls(path=merged, columns=columns)

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def __len__(self) -> int:
        return self.rows

    def __call__(self, names: list[str], dates_as_objects: bool = True) -> pd.DataFrame:
        """The columns ``names`` it has (each once, in the order given), read now (from a file: dates as
        :func:`to_frame` says)."""
        import pandas as pd

        names = [c for c in dict.fromkeys(names) if c in self.columns]
        if self.frame is not None:
            return self.frame[names]
        missing = [c for c in names if (c, dates_as_objects) not in self.kept]
        read = to_frame(_read_checked(self.path, None, missing, categories=True, threads=len(missing) > 2),
                        dates_as_objects) if missing else None
        for name in missing:
            size = int(read[name].memory_usage(index=False, deep=False))
            if self.kept_bytes + size <= KEEP_BYTES:
                self.kept[name, dates_as_objects] = read[name]
                self.kept_bytes += size
        # not copied: pandas >= 3 copies on write (and the summaries only read the frames they are given)
        return pd.DataFrame({c: self.kept[c, dates_as_objects] if (c, dates_as_objects) in self.kept else read[c]
                             for c in names}, index=pd.RangeIndex(self.rows), copy=False)


# columns every outcomes table written by ``python -m sim run`` has and the figures rely on ({party}: each
# party of the run's scenario)
REQUIRED_OUTCOMES = ("world", "{party}_strategy", "deal", "end_round", "end_reason", "final_deadline",
                     "{party}_utility", "{party}_reservation_utility")


def required_outcomes(parties: list[tuple[str, str]]) -> list[str]:
    """The columns an outcomes table between ``parties`` must have."""
    return [c.replace("{party}", pid) for c in REQUIRED_OUTCOMES for pid, _ in (parties if "{party}" in c
                                                                                   else parties[:1])]


def _refuse_interpolations(tree) -> None:
    """Refuse a ``${...}`` anywhere in a run folder's resolved config (it holds resolved values only)."""
    for key, value in flatten(tree).items():
        if "${" in str(value):  # a list leaf is searched with all it holds
            raise ConfigError(key, "holds an interpolation (${...}); a resolved config holds none, so it is not used")


def load_run(run_dir: Path):
    """Read ``run_dir`` back: its plan, outcomes and rounds, for plotting or analysis.

    Returns:
        A :class:`RunData`, and a notice if the sweep in it is unfinished (else None).

    Raises:
        RunDirError: the folder is not a run folder, or one of its files cannot be read or is not
            what ``python -m sim run`` writes (one line naming the file).
    """
    import pandas as pd
    import yaml
    from omegaconf.errors import OmegaConfBaseException

    from sim.config import plan

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such folder")
    config_path = run_dir / "config_resolved.yaml"
    outcomes, chunks = read_table(run_dir, "outcomes")
    if not config_path.is_file() or outcomes is None:
        raise RunDirError(f"{run_dir} is not a run folder: it needs config_resolved.yaml and outcomes.parquet "
                          "(written by python -m sim run)")
    try:
        # plain YAML, never OmegaConf: a run folder's file is data, and no ${...} in it is resolved
        container = yaml.safe_load(config_path.read_text())
        if not isinstance(container, dict):
            raise ConfigError("config", "is not a mapping of config keys")
        _refuse_interpolations(container)
        the_plan = plan(container)  # imports only sim's own classes and the plugin folders' (sim.config.plugins)
    except (ConfigError, OmegaConfBaseException, yaml.YAMLError, UnicodeDecodeError, ValueError, OSError) as err:
        reason = " ".join(str(err).split())[:300]
        raise RunDirError(f"{config_path}: cannot be used to re-make the run ({reason})") from None
    outcomes, notice, source = to_frame(outcomes), None, run_dir / "outcomes.parquet"
    if chunks is not None:
        source = run_dir / "outcomes"
        notice = (f"the sweep in {run_dir} is unfinished: plotting the {chunks} chunks done so far "
                  f"({len(outcomes)} of {the_plan.n_worlds} negotiations)")
    # a run folder written before swept keys had identifier columns holds them under the dotted key
    outcomes = outcomes.rename(columns={key: column_name(key) for key in the_plan.swept_keys})
    missing = [c for c in (*required_outcomes(the_plan.parties), *the_plan.swept_columns) if c not in outcomes.columns]
    if missing:
        raise RunDirError(f"{source}: lacks the column(s) {', '.join(missing)}; it is not an outcomes table "
                          "written by python -m sim run for this config")
    if outcomes.empty:
        raise RunDirError(f"{source}: has no rows; there is nothing to plot")
    rounds, _ = read_table(run_dir, "rounds")
    rounds = pd.DataFrame() if rounds is None else to_frame(rounds)
    rounds = rounds.rename(columns={key: column_name(key) for key in the_plan.swept_keys})
    return RunData(outcomes=outcomes, rounds=rounds, plan=the_plan), notice


@dataclass
class RunData:
    """What the figures are drawn from.

    Attributes:
        outcomes: One row per negotiation.
        rounds: Recorded rounds (may be empty).
        plan: The run's plan, re-made from its resolved config.
    """

    outcomes: pd.DataFrame
    rounds: pd.DataFrame
    plan: Plan

    @property
    def structure(self) -> Structure:
        """Structure of the first grid point (calendar, issues)."""
        return self.plan.points[0].structure

    @property
    def deals(self) -> pd.DataFrame:
        """The negotiations that ended in a deal."""
        return self.outcomes[self.outcomes["deal"]]

    @property
    def numeric_keys(self) -> list[str]:
        """Swept keys (config keys; their columns: :func:`~sim.config.sweep.column_name`) with numeric values
        and more than one value."""
        import pandas as pd

        columns = {k: self.outcomes[column_name(k)] for k in self.plan.swept_keys}
        return [k for k, c in columns.items() if pd.api.types.is_numeric_dtype(c)
                and not pd.api.types.is_bool_dtype(c) and c.nunique() > 1]

    @property
    def pairs(self) -> pd.Series:
        """Strategy pair label per negotiation: 'first party's strategy vs second party's strategy'."""
        return pair_labels(self.outcomes)

    @property
    def party_ids(self) -> tuple[str, str]:
        """The parties' ids, in scenario order (the column prefixes)."""
        return party_ids(self.outcomes)

    @property
    def party_names(self) -> dict[str, str]:
        """Display name of each party id (from the scenario)."""
        names = dict(self.plan.parties)
        return {pid: names.get(pid, pid) for pid in self.party_ids}

    @property
    def versus(self) -> str:
        """'first party vs second party', by display name (for legends and axis titles)."""
        first, second = self.party_ids
        return f"{self.party_names[first]} vs {self.party_names[second]}"


def party_ids(frame: pd.DataFrame) -> tuple[str, ...]:
    """The parties' ids, from the ``<party>_strategy`` columns (the first two, in scenario order; a table of
    a run has both, a hand-made one may have fewer)."""
    return tuple(c[: -len("_strategy")] for c in frame.columns if c.endswith("_strategy"))[:2]


def pair_labels(frame: pd.DataFrame) -> pd.Series:
    """Strategy pair label per row: 'first party's strategy vs second party's strategy'."""
    first, second = party_ids(frame)
    return frame[f"{first}_strategy"] + " vs " + frame[f"{second}_strategy"]
