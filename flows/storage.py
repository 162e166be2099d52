"""The only code that touches the output tables.

Layout under the output directory::

    articles/     Delta table, one row per canonical article        (ARTICLES_SCHEMA)
    duplicates/   Delta table, every other copy of a story           (DUPLICATES_SCHEMA)
    rejected/     Delta table, the quarantine, one row per lost input (REJECTED_SCHEMA)
    _state/       staging files of runs in progress (safe to delete between runs)

Every write casts the frame to its schema and is an insert-only merge keyed on ``doc_id``: a
page already written is never written twice, so rerunning on the same input adds no rows.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError

from cleaners import schema

TABLES = {
    "articles": schema.ARTICLES_SCHEMA,
    "duplicates": schema.DUPLICATES_SCHEMA,
    "rejected": schema.REJECTED_SCHEMA,
}


def _arrow(df: pl.DataFrame):
    # large_string/large_list: the types every Delta reader (Spark, DuckDB, pandas) understands
    return df.to_arrow(compat_level=pl.CompatLevel.oldest())


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
        return self.root / "_state"

    def staging_dir(self, run_id: str) -> Path:
        path = self.state_dir / "runs" / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def drop_staging(self, run_id: str) -> None:
        shutil.rmtree(self.state_dir / "runs" / run_id, ignore_errors=True)

    # --- reads -------------------------------------------------------------------------
    def exists(self, table: str) -> bool:
        try:
            DeltaTable(self.uri(table))
        except TableNotFoundError:
            return False
        return True

    def read(self, table: str, columns: list[str] | None = None) -> pl.DataFrame:
        """The whole table (or some columns); an empty frame of the right schema if missing."""
        if not self.exists(table):
            df = schema.empty(TABLES[table])
            return df.select(columns) if columns else df
        return pl.read_delta(self.uri(table), columns=columns)

    def scan(self, table: str) -> pl.LazyFrame:
        if not self.exists(table):
            return schema.empty(TABLES[table]).lazy()
        return pl.scan_delta(self.uri(table))

    def version(self, table: str) -> int | None:
        return DeltaTable(self.uri(table)).version() if self.exists(table) else None

    # --- writes ------------------------------------------------------------------------
    def ensure_tables(self) -> None:
        """Create every missing table empty, so readers can rely on all three existing."""
        for table, table_schema in TABLES.items():
            if not self.exists(table):
                self.root.mkdir(parents=True, exist_ok=True)
                write_deltalake(self.uri(table), _arrow(schema.empty(table_schema)), mode="append")

    def insert_new(self, table: str, df: pl.DataFrame) -> WriteResult:
        """Insert rows whose ``doc_id`` is not in the table yet (idempotent; one commit)."""
        target_schema = TABLES[table]
        rows_in = df.height
        df = schema.conform(df, target_schema).unique(subset=[schema.DOC_ID], keep="first", maintain_order=True)
        if df.is_empty():
            return WriteResult(table, rows_in, 0)
        uri = self.uri(table)
        if not self.exists(table):
            self.root.mkdir(parents=True, exist_ok=True)
            write_deltalake(uri, _arrow(df), mode="append")
            return WriteResult(table, rows_in, df.height)
        metrics = (
            DeltaTable(uri)
            .merge(_arrow(df), predicate="t.doc_id = s.doc_id", source_alias="s", target_alias="t")
            .when_not_matched_insert_all()
            .execute()
        )
        return WriteResult(table, rows_in, int(metrics.get("num_target_rows_inserted", 0)))
