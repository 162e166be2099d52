"""The only code that touches the output tables and their run state.

Layout under the output directory::

    articles/     Delta table, one row per canonical article, partitioned by `published`
    duplicates/   Delta table, every other copy of a story, partitioned by `published`
    rejected/     Delta table, the quarantine: one row per input that is neither
    _state/
      lock                   the writer lock (one run at a time per output directory; flows/writerlock.py)
      lock.guard             flock'd for the milliseconds it takes to change the lock
      staging/<unit>-<cfg>/  cleaned batches of a unit (Parquet) + _SUCCESS once complete
      pending/<commit>/      the computed table changes of one commit + _READY
      index_keys/<day>-<files hash>/  the band-key cache of one seen day of dedup_index (flows/index_cache.py)
    dedup_index/  Delta table (internal): fingerprints of every written page, for later runs,
                  partitioned by `seen` (a chunk reads only the days of its dedup window)
    inputs/       Delta table (internal): the ledger of committed inputs (flows/changes.py)

Guarantees (see README "Guarantees and recovery"):
- every table write casts the frame to its schema and inserts only rows whose ``doc_id`` the
  table does not hold (checked under the writer lock, then append commits of at most 2,500 rows): a page already
  written is never written twice (also within one batch);
- the changes of one commit (articles, duplicates, rejected) are first written to
  ``pending/`` and marked ``_READY``; then each table is merged. A run killed in between
  replays the pending commit on the next start, so the tables end as if nothing happened;
- an input's ledger row (``inputs``) is written by the run's last commit, after its rows, so a
  rerun skips finished inputs and redoes unfinished ones; a commit that replaces an input's
  rows deletes the old ones (every table, keyed by ``doc_id``) before inserting the new.
- a write that fails raises ``StorageWriteError`` naming what was written, where, and the OS
  reason; a commit it interrupts stays pending and is replayed by the next run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import DeltaError, TableNotFoundError

from cleaners import dedup, schema
from flows import writerlock
from flows.changes import input_of_row
from flows.failpoints import failpoint
from flows.writerlock import LockedError as LockedError  # raised by Storage.lock; callers import it from here

TABLES = {
    "articles": schema.ARTICLES_SCHEMA,
    "duplicates": schema.DUPLICATES_SCHEMA,
    "rejected": schema.REJECTED_SCHEMA,
    "dedup_index": dedup.INDEX_SCHEMA,  # internal: the persistent fingerprint index
    "inputs": schema.INPUTS_SCHEMA,  # internal: the ledger of committed inputs
}
PUBLIC_TABLES = ("articles", "duplicates", "rejected")
PARTITIONS = {"articles": [schema.PUBLISHED], "duplicates": [schema.PUBLISHED], "rejected": None, "dedup_index": [schema.SEEN], "inputs": None}
# tables where a doc_id's rows always sit in the partition its new rows name (a page's seen day
# comes from its input; a reprocessed input's old rows are deleted before the new go in): the
# insert's check for doc_ids already held reads only those partitions
_KEYED_PARTITIONS = ("dedup_index",)
# commit order: the quarantine and the copies first, then the index, the articles, and last the
# ledger that tells the next run these inputs are done
COMMIT_ORDER = ("rejected", "duplicates", "dedup_index", "articles", "inputs")
ROW_TABLES = ("articles", "duplicates", "rejected")  # the tables whose rows name their input in `source`

# Delta has no unsigned integers: the index's hash lists are stored bit-for-bit as signed.
_UNSIGNED_LISTS = {"dedup_index": ("shingles", "band_keys")}


APPEND_SLICE_ROWS = 2_500  # rows per append commit (bounds delta-rs's copy of the data)


def _encode(table: str, df: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in _UNSIGNED_LISTS.get(table, ()) if c in df.columns]
    return df.with_columns(pl.col(c).list.eval(pl.element().reinterpret(signed=True)) for c in cols) if cols else df


def _decode(table: str, frame):
    cols = _UNSIGNED_LISTS.get(table, ())
    return frame.with_columns(pl.col(c).list.eval(pl.element().reinterpret(signed=False)) for c in cols) if cols else frame


def decode_index(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows of the stored ``dedup_index`` as read from its data files, in :data:`dedup.INDEX_SCHEMA`."""
    return schema.conform(_decode("dedup_index", frame), dedup.INDEX_SCHEMA)


def empty_index() -> pl.DataFrame:
    return schema.empty(dedup.INDEX_SCHEMA)


def _arrow(df: pl.DataFrame):
    # large_string/large_list: the types every Delta reader (Spark, DuckDB, pandas) understands
    return df.to_arrow(compat_level=pl.CompatLevel.oldest())


class MissingTablesError(FileNotFoundError):
    """An output folder lacks tables a reader asked for (nothing was written)."""


class StorageWriteError(RuntimeError):
    """Writing a table or the run state failed; the message names what, where, and why (one line)."""


# The OS error deltalake (object_store, std::io) buries in its messages, in both spellings:
# matches "Unable to copy data to file: No space left on device (os error 28)" and
# 'Error: Os { code: 20, kind: NotADirectory, message: "Not a directory" }';
# not "Failed to commit transaction: 15".
_OS_ERROR = re.compile(r"\(os error (\d+)\)|Os \{ code: (\d+)")


def _os_reason(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno:
        return f"{exc.strerror} (errno {exc.errno})"
    m = _OS_ERROR.search(str(exc))
    if m:
        code = int(m.group(1) or m.group(2))
        return f"{os.strerror(code)} (errno {code})"
    return None


def _probe(directory: Path) -> str | None:
    """Why a small file cannot be written into ``directory`` (or the nearest folder above it
    that exists), or None when it can: the OS reason behind an error that names none (deltalake
    can say only "Generic LocalFileSystem error")."""
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    probe = directory / f".write-probe-{uuid.uuid4().hex[:8]}"
    try:
        probe.write_bytes(bytes(4096))
    except OSError as exc:
        return _os_reason(exc)
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return None


@contextlib.contextmanager
def _write_errors(action: str, where: str | Path) -> Iterator[None]:
    """Turn a failed write into one ``StorageWriteError``: "cannot <action> at <where>: <OS reason>"."""
    try:
        yield
    except StorageWriteError:
        raise
    except (OSError, DeltaError) as exc:
        reason = _os_reason(exc) or _probe(Path(where)) or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StorageWriteError(f"cannot {action} at {where}: {reason}") from exc


@dataclass(frozen=True)
class WriteResult:
    table: str
    rows_in: int
    rows_inserted: int



class Storage:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # --- paths -------------------------------------------------------------------------
    def uri(self, table: str) -> str:
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}")
        return str(self.root / table)

    @property
    def state_dir(self) -> Path:
        return self.root / writerlock.STATE_DIR

    # --- the writer lock ---------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One writer per output directory (``LockedError`` if a live run holds it); a lock left
        by a dead process on this host is taken over. See flows/writerlock.py."""
        with contextlib.ExitStack() as held:
            with _write_errors("take the writer lock", self.state_dir):  # taking it, not the block's work
                held.enter_context(writerlock.hold(self.root))
            yield

    # --- staging and markers -----------------------------------------------------------
    def staging_dir(self, key: str) -> Path:
        return self.state_dir / "staging" / key

    def staged_parts(self, key: str) -> list[str] | None:
        """The staged Parquet parts of a unit, or None if it was not completely staged."""
        d = self.staging_dir(key)
        if not (d / "_SUCCESS").exists():
            return None
        return sorted(str(p) for p in d.glob("part-*.parquet"))

    def reset_staging(self, key: str) -> Path:
        d = self.staging_dir(key)
        shutil.rmtree(d, ignore_errors=True)
        with _write_errors("stage cleaned pages", d):
            d.mkdir(parents=True, exist_ok=True)
        return d

    @staticmethod
    def write_part(frame: pl.DataFrame, directory: Path, index: int) -> str:
        path = directory / f"part-{index:05d}.parquet"
        tmp = path.with_suffix(".tmp")
        with _write_errors("stage cleaned pages", directory):
            frame.write_parquet(tmp)
            tmp.replace(path)  # atomic: a part is complete or absent
        return str(path)

    @staticmethod
    def mark_staged(directory: Path, result: dict) -> None:
        """Mark a unit completely staged; ``_SUCCESS`` holds its result (counters, parts)."""
        with _write_errors("stage cleaned pages", directory):
            (directory / "_SUCCESS").write_text(json.dumps(result))

    def forget_ledger_if_tables_missing(self) -> bool:
        """A ledger without its tables (the user deleted them) means nothing: forget it."""
        if self.exists("inputs") and not all(self.exists(t) for t in PUBLIC_TABLES):
            shutil.rmtree(self.root / "inputs", ignore_errors=True)
            return True
        return False

    def drop_staging(self, keys: list[str]) -> None:
        for key in keys:
            shutil.rmtree(self.staging_dir(key), ignore_errors=True)

    # --- reads -------------------------------------------------------------------------
    def exists(self, table: str) -> bool:
        try:
            DeltaTable(self.uri(table))
        except TableNotFoundError:
            return False
        except DeltaError:
            if not Path(self.uri(table)).is_dir():  # a file in the table's place: no table (creating one says why not)
                return False
            raise
        return True

    def read(self, table: str, columns: list[str] | None = None) -> pl.DataFrame:
        """The whole table (or some columns); an empty frame of the right schema if missing."""
        if not self.exists(table):
            df = schema.empty(TABLES[table])
            return df.select(columns) if columns else df
        return _decode(table, pl.read_delta(self.uri(table), columns=columns))

    def scan(self, table: str) -> pl.LazyFrame:
        """A lazy scan of the table; columns a newer schema added and the table lacks (written
        by an older version) read as nulls."""
        if not self.exists(table):
            return schema.empty(TABLES[table]).lazy()
        frame = pl.scan_delta(self.uri(table))
        held = frame.collect_schema().names()
        missing = [pl.lit(None, dtype).alias(name) for name, dtype in TABLES[table].items() if name not in held]
        return _decode(table, frame.with_columns(missing) if missing else frame)

    def data_files(self, table: str, partition: str | None = None) -> pl.DataFrame:
        """The table's current data files: ``path`` (relative to the table) and, with
        ``partition``, that partition column's value per file as ``part`` (null when the table
        is not partitioned by it). Empty when the table does not exist."""
        if not self.exists(table):
            return pl.DataFrame({"path": [], "part": []}, schema={"path": pl.String, "part": pl.Date})
        actions = pl.DataFrame(DeltaTable(self.uri(table)).get_add_actions(flatten=True))
        col = f"partition.{partition}"
        return actions.select("path", part=pl.col(col) if partition and col in actions.columns else pl.lit(None, pl.Date))

    def scan_files(self, table: str, paths: list[str], **kwargs) -> pl.LazyFrame:
        """A lazy scan of some of the table's data files (paths from :meth:`data_files`), raw as
        stored (the caller decodes); ``kwargs`` go to ``pl.scan_parquet``."""
        return pl.scan_parquet([str(Path(self.uri(table)) / p) for p in paths], **kwargs)

    def ledger(self, inputs: list[str], roots: list[str]) -> pl.DataFrame:
        """Ledger rows of ``inputs`` and of every input at or under one of ``roots``."""
        under = pl.lit(False)
        for root in roots:
            under = under | (pl.col(schema.INPUT) == root) | pl.col(schema.INPUT).str.starts_with(root.rstrip("/") + "/")
        return self.scan("inputs").filter(pl.col(schema.INPUT).is_in(pl.Series(inputs, dtype=pl.String).implode()) | under).collect()

    def inputs_under(self, roots: list[str]) -> list[str]:
        """The inputs (files and WARC archives, not URLs) of every row under ``roots``."""
        under = pl.lit(False)
        for root in roots:
            under = under | (pl.col(schema.SOURCE) == root) | pl.col(schema.SOURCE).str.starts_with(root.rstrip("/") + "/")
        found = [
            self.scan(t).filter(under).select(input_of_row(pl.col(schema.SOURCE)).alias(schema.INPUT)).unique().collect()
            for t in ROW_TABLES
        ]
        return sorted(set(pl.concat(found)[schema.INPUT].to_list()))

    def rows_of_inputs(self, inputs: list[str], warc_inputs: list[str]) -> pl.DataFrame:
        """Every row the given inputs hold in the three tables: table, doc_id, input, published,
        cluster_id. A file's or URL's rows have ``source == input``; a WARC file's rows
        ``source == <input>#<record id>``."""
        names = pl.Series(inputs, dtype=pl.String).implode()
        warcs = pl.Series(warc_inputs, dtype=pl.String).implode()
        parts = []
        for table in ROW_TABLES:
            columns = self.scan(table).collect_schema().names()
            source = pl.col(schema.SOURCE)
            from_warc = input_of_row(source)
            parts.append(
                self.scan(table)
                .filter(source.is_in(names) | from_warc.is_in(warcs))
                .select(
                    pl.lit(table).alias("table"),
                    schema.DOC_ID,
                    pl.when(source.is_in(names)).then(source).otherwise(from_warc).alias(schema.INPUT),
                    (pl.col(schema.PUBLISHED) if schema.PUBLISHED in columns else pl.lit(None, pl.Date)).alias(schema.PUBLISHED),
                    (pl.col(schema.CLUSTER_ID) if schema.CLUSTER_ID in columns else pl.lit(None, pl.String)).alias(schema.CLUSTER_ID),
                )
                .collect()
            )
        return pl.concat(parts, how="vertical_relaxed")

    def cluster_members(self, inputs: list[str]) -> list[tuple[str, str]]:
        """``(input, kind)`` of every row sharing a story cluster with a row of ``inputs``."""
        if not inputs:
            return []
        known = self.scan("inputs").select(schema.INPUT, schema.KIND)
        warcs = known.filter(pl.col(schema.KIND) == "warc").select(schema.INPUT).collect()[schema.INPUT].to_list()
        clusters = self.rows_of_inputs(inputs, warcs)[schema.CLUSTER_ID].drop_nulls().unique()
        if clusters.is_empty():
            return []
        sources = pl.concat(
            [
                self.scan(t).filter(pl.col(schema.CLUSTER_ID).is_in(clusters.implode())).select(schema.SOURCE).collect()
                for t in ("articles", "duplicates")
            ]
        )[schema.SOURCE]
        ledger = known.collect()
        kind_of = dict(zip(ledger[schema.INPUT].to_list(), ledger[schema.KIND].to_list()))
        out: dict[str, str] = {}
        for source in sources.to_list():
            if source in kind_of:
                out[source] = kind_of[source]
                continue
            warc = source.rsplit("#", 1)[0]
            if kind_of.get(warc) == "warc":
                out[warc] = "warc"
            else:  # a row whose input's ledger row was not written (a killed run)
                out[source] = "url" if "://" in source else "file"
        return sorted(out.items())

    def version(self, table: str) -> int | None:
        return DeltaTable(self.uri(table)).version() if self.exists(table) else None

    # --- writes ------------------------------------------------------------------------
    def ensure_tables(self) -> None:
        """Create every missing table empty, so readers can rely on all three existing; an index
        written before it was partitioned by ``seen`` is rewritten so (:meth:`repartition_index`)."""
        for table, table_schema in TABLES.items():
            if not self.exists(table):
                with _write_errors(f"create table {table}", self.uri(table)):
                    self.root.mkdir(parents=True, exist_ok=True)
                    empty = _encode(table, schema.empty(table_schema))
                    write_deltalake(self.uri(table), _arrow(empty), mode="append", partition_by=PARTITIONS[table])
        self.repartition_index()

    def repartition_index(self) -> bool:
        """Rewrite a ``dedup_index`` that is not partitioned by ``seen`` (written by an older
        version) into one that is, in one Delta commit (a run killed during it leaves the old
        table, and the next run does it again). An old row's ``seen`` is its page's ``published``
        day, else the day it was ingested (from ``articles``/``duplicates``); a row of neither
        stays undated, which every window includes. True when it rewrote the table.

        The whole index is read at once: a one-off cost of the upgrade.
        """
        table = "dedup_index"
        if not self.exists(table):
            return False
        delta = DeltaTable(self.uri(table))
        if list(delta.metadata().partition_columns) == PARTITIONS[table]:
            return False
        old = pl.read_delta(self.uri(table))  # stored form (hash lists as signed): written back as is
        days = pl.concat(
            [
                self.scan(t).select(schema.DOC_ID, pl.coalesce(schema.PUBLISHED, pl.col(schema.INGESTED_AT).dt.date()).alias(schema.SEEN)).collect()
                for t in ("articles", "duplicates")
            ]
        ).unique(schema.DOC_ID, keep="first")
        new = old.drop(schema.SEEN, strict=False).join(days, on=schema.DOC_ID, how="left")
        stored = _encode(table, schema.empty(TABLES[table])).schema
        new = schema.conform(new, pl.Schema(stored))
        with _write_errors(f"repartition table {table}", self.uri(table)):
            write_deltalake(self.uri(table), _arrow(new), mode="overwrite", partition_by=PARTITIONS[table], schema_mode="overwrite")
        return True

    def expire_index(self, before: dt.date) -> int:
        """Delete the fingerprints of pages seen before ``before`` (whole partitions; undated
        rows stay): pages seen later are no longer matched against them, and ``vacuum`` then
        frees their files. Returns the rows deleted."""
        if not self.exists("dedup_index"):
            return 0
        with _write_errors("expire rows of table dedup_index", self.uri("dedup_index")):
            metrics = DeltaTable(self.uri("dedup_index")).delete(f"{schema.SEEN} < '{before.isoformat()}'")
        return int(metrics.get("num_deleted_rows", 0))

    def insert_new(self, table: str, df: pl.DataFrame) -> WriteResult:
        """Insert rows whose ``doc_id`` is not in the table yet (idempotent; one commit per
        ``APPEND_SLICE_ROWS`` rows).

        Runs under the writer lock, so no other writer can slip in between the two steps: read
        which of the ``doc_id``s the table holds (the ``doc_id`` column only), then append the
        others. A Delta MERGE does the same but joins against the whole target table, so its time
        and memory grew with the table; the append's do not. The append goes in slices because
        delta-rs holds a converted copy of what it writes: slices bound that copy at the same
        total time (figures: README, benchmarks). A run
        killed between slices is completed by the replay of its pending commit, which skips the
        rows already in.
        """
        rows_in = df.height
        df = schema.conform(df, TABLES[table]).unique(subset=[schema.DOC_ID], keep="first", maintain_order=True)
        if df.is_empty():
            return WriteResult(table, rows_in, 0)
        self.ensure_tables()
        held_where = pl.col(schema.DOC_ID).is_in(df[schema.DOC_ID].implode())
        if table in _KEYED_PARTITIONS:  # only the partitions the new rows go to
            key = PARTITIONS[table][0]  # type: ignore[index]
            days = df[key].unique()
            in_parts = pl.col(key).is_in(days.drop_nulls().implode())
            held_where = held_where & ((in_parts | pl.col(key).is_null()) if days.null_count() else in_parts)
        held = self.scan(table).filter(held_where).select(schema.DOC_ID).collect()
        if held.height:
            df = df.filter(~pl.col(schema.DOC_ID).is_in(held[schema.DOC_ID].implode()))
        if df.is_empty():
            return WriteResult(table, rows_in, 0)
        with _write_errors(f"write table {table}", self.uri(table)):
            for part in df.iter_slices(APPEND_SLICE_ROWS):
                # schema_mode="merge": a column added by a newer schema version is added to an older table
                write_deltalake(self.uri(table), _arrow(_encode(table, part)), mode="append", partition_by=PARTITIONS[table], schema_mode="merge")
        return WriteResult(table, rows_in, df.height)

    def delete_ids(self, table: str, doc_ids: pl.Series) -> int:
        """Delete the rows of these ``doc_id``s (idempotent; one commit)."""
        if doc_ids.is_empty() or not self.exists(table):
            return 0
        src = pl.DataFrame({schema.DOC_ID: doc_ids.unique()})
        with _write_errors(f"delete rows of table {table}", self.uri(table)):
            metrics = (
                DeltaTable(self.uri(table))
                .merge(_arrow(src), predicate="t.doc_id = s.doc_id", source_alias="s", target_alias="t")
                .when_matched_delete()
                .execute()
            )
        return int(metrics.get("num_target_rows_deleted", 0))

    # --- maintenance -------------------------------------------------------------------
    def compact(self) -> dict[str, dict]:
        """Rewrite small files into larger ones (a new table version; readers are not disturbed)."""
        out = {}
        for t in TABLES:
            if self.exists(t):
                with _write_errors(f"compact table {t}", self.uri(t)):
                    out[t] = DeltaTable(self.uri(t)).optimize.compact()
        return out

    def vacuum(self, retention_hours: int = 168, dry_run: bool = False) -> dict[str, list[str]]:
        """Delete files no longer referenced by versions younger than ``retention_hours``.

        Time travel to versions older than the retention stops working; readers running longer
        than the retention could lose files, so the minimum is Delta's default of 7 days unless
        the caller lowers it on purpose (``enforce`` is kept on for anything under 168 h).
        """
        out = {}
        for t in TABLES:
            if self.exists(t):
                with _write_errors(f"vacuum table {t}", self.uri(t)):
                    out[t] = DeltaTable(self.uri(t)).vacuum(
                        retention_hours=retention_hours, dry_run=dry_run, enforce_retention_duration=retention_hours >= 168
                    )
        return out

    def export(self, dest: str | Path) -> dict[str, str]:
        """Snapshot every table as plain Parquet (``dest/<table>.parquet``) for readers that glob files.

        Raises ``MissingTablesError`` before writing anything when a table is missing, so a
        mistyped ``--output`` never replaces a good snapshot with empty files.
        """
        missing = [t for t in PUBLIC_TABLES if not self.exists(t)]
        if missing:
            raise MissingTablesError(f"no {', '.join(missing)} table under {self.root}")
        dest = Path(dest)
        out = {}
        with _write_errors("write a snapshot", dest):
            dest.mkdir(parents=True, exist_ok=True)
            for t in PUBLIC_TABLES:
                target = dest / f"{t}.parquet"
                tmp = dest / f".{t}.parquet.tmp"
                self.scan(t).sink_parquet(tmp)
                tmp.replace(target)  # readers see the old or the new snapshot, never half of one
                out[t] = str(target)
        return out

    # --- commits through pending manifests ---------------------------------------------
    def stage_commit(self, frames: dict[str, pl.DataFrame], info: dict) -> Path:
        """Write a commit's table changes to pending/<id>/ and mark it _READY.

        ``frames`` maps a table to the rows to insert and ``<table>_delete`` to a frame of the
        ``doc_id``s to delete from it first (an input's old rows being replaced).
        """
        d = self.state_dir / "pending" / (dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8])
        # a commit that fails here has no _READY: the next run discards it (see recover)
        with _write_errors("stage a commit", d):
            d.mkdir(parents=True)
            for table, frame in frames.items():
                frame_path = d / f"{table}.parquet"
                tmp = d / f"{table}.tmp"
                (schema.conform(frame, TABLES[table]) if table in TABLES else frame.select(schema.DOC_ID)).write_parquet(tmp)
                tmp.replace(frame_path)
            (d / "commit.json").write_text(json.dumps({"info": info}, default=str))
            (d / "_READY").write_text("")
        return d

    def apply_commit(self, pending: Path) -> dict[str, WriteResult]:
        """Apply a pending commit (idempotent): per table, delete the listed ``doc_id``s, then
        insert the new rows; the ledger last. Replaying a half-applied commit deletes what it
        had inserted and inserts it again, so the tables end the same.

        A write that fails raises ``StorageWriteError`` and leaves the commit pending and READY:
        the next run on this output replays it.
        """
        results = {}
        for table in COMMIT_ORDER:
            if table == "articles":
                failpoint("mid_commit")
            if table == "inputs":
                failpoint("before_markers")
            deletions = pending / f"{table}_delete.parquet"
            if deletions.exists():
                self.delete_ids(table, pl.read_parquet(deletions)[schema.DOC_ID])
            path = pending / f"{table}.parquet"
            if path.exists():
                results[table] = self.insert_new(table, pl.read_parquet(path))
        shutil.rmtree(pending, ignore_errors=True)
        return results

    def recover(self) -> list[dict[str, WriteResult]]:
        """Finish commits a killed run left READY; discard ones it had not finished writing."""
        root = self.state_dir / "pending"
        out = []
        for d in sorted(root.glob("*")) if root.exists() else []:
            if (d / "_READY").exists():
                out.append(self.apply_commit(d))
            else:
                shutil.rmtree(d, ignore_errors=True)
        return out
