"""Dedup and commit of staged pages, chunk by chunk: the ``dedup-commit-chunk`` task and its planning.

``ChunkPlanner`` cuts the staged parts, in input order, into chunks of at most
``run.max_dedup_docs`` rows; ``ChunkCommitter`` clusters each chunk against the fingerprint
index (``cluster_run``) and commits it (``commit_chunk``) while later units are still cleaning;
``RunScope``, ``ChunkHistory`` and ``settle_flags`` say what a commit replaces and which inputs
must be redone to settle a story cluster. flows/ingest.py drives it.
"""

from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
import functools
import gc
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cleaners import dedup
from cleaners import schema as S
from cleaners.config import PipelineConfig
from cleaners.document import make_doc_id
from cleaners.selection import n_repairs_expr, output_rows, rejected_rows, split_kept
from flows import changes, index_cache
from flows.engine import get_run_logger, task
from flows.failpoints import failpoint
from flows.sources import Unit
from flows.staging import INPUTS_STAGED, unit_inputs
from flows.storage import ROW_TABLES, Storage


def cluster_run(kept: pl.DataFrame, storage: Storage, cfg: PipelineConfig, forget: pl.Series | None = None):
    """Cluster this run's kept documents against the persistent fingerprint index.

    Loads only the index rows sharing an LSH band key with the run (a semi-join on the scan),
    clusters, repairs canonical texts from agreeing copies, and returns ``(clustered,
    new_index_rows, canonical_of)``. ``forget`` lists doc_ids whose index rows are being
    replaced (a backfill), so they are clustered as new.

    A page without a ``seen`` day (none of WARC-Date, fetch time, published, mtime known) is
    seen today; the index lookups read only the days of the chunk's window (``dedup.window_days``),
    and the candidates come from the index's band-key cache (flows/index_cache.py), whose cost per
    chunk does not grow with the pages indexed.
    """
    today = dt.datetime.now(dt.timezone.utc).date()
    seen = pl.col(S.SEEN).cast(pl.Date) if S.SEEN in kept.columns else pl.lit(None, pl.Date)
    kept = kept.with_columns(n_repairs_expr(), pl.coalesce(seen, pl.lit(today)).alias(S.SEEN))
    if kept.is_empty():
        none = kept.with_columns(
            pl.lit(None, pl.String).alias(S.CLUSTER_ID), pl.lit(None, pl.Boolean).alias(S.IS_CANONICAL), pl.lit(None, pl.Float64).alias(S.SIMILARITY)
        )
        return none, schema_empty_index(), pl.DataFrame(schema={S.CLUSTER_ID: pl.String, S.CANONICAL_DOC_ID: pl.String})
    index_scan = storage.scan("dedup_index")
    if forget is not None and forget.len():
        index_scan = index_scan.filter(~pl.col(S.DOC_ID).is_in(forget.implode()))
    # the scan is filtered inside: only indexed copies of these pages and their candidates load,
    # the candidates found by the index's band-key cache (flows/index_cache.py)
    bounds = dedup.window_bounds(kept[S.SEEN], cfg.dedup)
    lookup = functools.partial(index_cache.lookup, storage, bounds=bounds, forget=forget, with_rows=True)
    clustered, new_index = dedup.cluster_and_index(kept, cfg.dedup, index_scan, lookup)
    repaired = dedup.repair_clusters(clustered, cfg.dedup)  # re-derives a repaired text's columns
    local = repaired.filter(pl.col(S.IS_CANONICAL)).select(S.CLUSTER_ID, pl.col(S.DOC_ID).alias(S.CANONICAL_DOC_ID))
    joined = repaired.filter(~pl.col(S.CLUSTER_ID).is_in(local[S.CLUSTER_ID].implode()))[S.CLUSTER_ID].unique()
    # canonicals written by earlier runs, for copies that joined their clusters: looked up in the
    # chunk's window first, then in the whole index for a cluster whose canonical is older
    earlier = _canonicals(index_scan, joined, bounds)
    missing = joined.filter(~joined.is_in(earlier[S.CLUSTER_ID].implode()))
    if missing.len():
        earlier = pl.concat([earlier, _canonicals(index_scan, missing, None)])
    canonical_of = pl.concat([local, earlier]).unique(S.CLUSTER_ID, keep="first")
    return repaired, new_index, canonical_of


def _canonicals(index_scan: pl.LazyFrame, clusters: pl.Series, bounds: tuple[dt.date, dt.date] | None) -> pl.DataFrame:
    """cluster_id, canonical_doc_id of the indexed canonicals of ``clusters`` (within ``bounds``)."""
    if clusters.is_empty():
        return pl.DataFrame(schema={S.CLUSTER_ID: pl.String, S.CANONICAL_DOC_ID: pl.String})
    scan = index_scan.filter(dedup.in_window(bounds)) if bounds is not None else index_scan
    return (
        scan.filter(pl.col("is_canonical") & pl.col(S.CLUSTER_ID).is_in(clusters.implode()))
        .select(S.CLUSTER_ID, pl.col(S.DOC_ID).alias(S.CANONICAL_DOC_ID))
        .collect()
    )


def schema_empty_index() -> pl.DataFrame:
    return pl.DataFrame(schema=dedup.INDEX_SCHEMA)


class ChunkPlanner:
    """Groups staged parts, fed in input order, into chunks of at most ``max_docs`` rows.

    A part never splits; a chunk closes when the next part would overflow it. The rule is the
    same whether the parts arrive all at once or one unit at a time while later units are still
    being cleaned, so a run's chunks (and so its clusters) never depend on task timing: a rerun
    after a crash cuts the same chunks as an undisturbed run.
    """

    def __init__(self, max_docs: int):
        self.max_docs = max_docs
        self.current: list[str] = []
        self.rows = 0

    def add(self, path: str, rows: int) -> list[str] | None:
        """Add one part; return the chunk this closed, if any."""
        closed = None
        if self.current and self.rows + rows > self.max_docs:
            closed, self.current, self.rows = self.current, [], 0
        self.current.append(path)
        self.rows += rows
        return closed

    def finish(self) -> list[str]:
        """The last chunk (empty when the run staged nothing)."""
        return self.current


def release_memory() -> None:
    """Hand the heap a chunk's dedup freed back to the system (glibc keeps it otherwise).

    numpy's large temporaries come from glibc malloc, whose mmap threshold rises after the first
    big free, so later ones are carved from the heap and stay resident after they are freed: the
    flow process held more after its first chunk than before (README, benchmarks). No-op off glibc.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def part_rows(path: str) -> int:
    return pl.scan_parquet(path).select(pl.len()).collect().item()


@task(name="dedup-commit-chunk", no_cache=True)
def dedup_commit_chunk(
    staged: list[str],
    old_rows: pl.DataFrame,
    ledger: pl.DataFrame | None,
    cfg: PipelineConfig,
    output: str,
    scope: RunScope,
    history: ChunkHistory,
) -> dict:
    """Cluster one chunk of staged pages against the index and commit it (one task run per chunk)."""
    return commit_chunk(staged, old_rows, ledger, cfg, Storage(output), scope, history)


@dataclass(frozen=True)
class RunScope:
    """What a run's commits replace beyond the rows of the inputs they rewrite."""

    vanished: tuple[str, ...] = ()  # inputs gone from a given folder: rows and ledger rows go (last commit)
    replace_range: tuple[dt.date, dt.date] | None = None  # a backfill's range of `published`
    members: frozenset[str] = frozenset()  # a backfill: cluster members pulled in, redone whatever their date
    settling: frozenset[str] = frozenset()  # inputs redone to settle or rebuild a cluster: never flagged to settle again


def merge_totals(a: dict, b: dict) -> dict:
    """Commit totals of two passes of one run, added up."""
    out = dict(a)
    for key, value in b.items():
        if key == "placed":  # doc_id -> table: the later pass's placement wins
            out[key] = {**a.get(key, {}), **value}
        elif isinstance(value, dict):
            out[key] = dict(Counter(a.get(key, {})) + Counter(value))
        else:
            out[key] = a.get(key, 0) + value
    return out


@dataclass
class ChunkHistory:
    """What the chunks of one pass committed so far, for the ``settle`` flags of the last one."""

    created: set[str] = field(default_factory=set)  # clusters whose canonical this pass wrote
    joined: dict[str, str] = field(default_factory=dict)  # source -> cluster, copies that joined a cluster not in their chunk


def settle_flags(ledger: pl.DataFrame, history: ChunkHistory, settling: frozenset[str]) -> pl.Expr:
    """The ledger's ``settle`` column: an input (not a WARC archive's record: re-reading whole
    archives for a few records costs too much) whose copy joined a cluster an earlier run
    published, not one this pass wrote, unless this pass already redid it to settle or rebuild
    a cluster (so settling ends)."""
    joined = {s for s, c in history.joined.items() if c not in history.created} - settling
    return pl.col(S.INPUT).is_in(sorted(joined)) & (pl.col(S.KIND) != "warc")


OLD_ROWS_SCHEMA = {"table": pl.String, S.DOC_ID: pl.String, S.INPUT: pl.String, S.PUBLISHED: pl.Date, S.CLUSTER_ID: pl.String}


class ChunkCommitter:
    """Dedups and commits a run chunk by chunk, in input order, while later units are still cleaning.

    ``ready`` is called whenever a unit finishes: the units finished in an unbroken prefix of
    the input order feed the ``ChunkPlanner``, and each chunk it closes is clustered against
    the index (which holds every chunk before it) and committed at once, in the flow's process,
    while the task runner goes on cleaning. The old rows of a unit's inputs (``old_rows``: rows
    in the tables whose inputs are being processed again) are deleted by the commit of the
    chunk that holds the unit's first part, in the same commit as the new rows. ``finish``
    commits the last chunk together with the ledger rows of every processed input (and the
    removal of ``vanished`` inputs), so a run killed between chunks processes every input again
    and, since an input's old rows go with the chunk that rewrites them, ends with the same
    tables. A backfill (``scope.replace_range``) is one chunk and writes no ledger rows.
    """

    def __init__(
        self,
        units: list[Unit],
        cfg: PipelineConfig,
        storage: Storage,
        old_rows: pl.DataFrame,
        scope: RunScope,
    ):
        self.waiting = list(reversed(units))  # next unit in input order at the end
        self.units = units
        self.cfg, self.storage, self.scope = cfg, storage, scope
        self.planner = ChunkPlanner(10**18 if scope.replace_range else cfg.run.max_dedup_docs)
        self.old_by_input = old_rows.partition_by(S.INPUT, as_dict=True, include_key=True) if old_rows.height else {}
        self.old_at: dict[str, pl.DataFrame] = {}  # first part of a unit -> the old rows it replaces
        gone = old_rows.filter(pl.col(S.INPUT).is_in(list(scope.vanished)))
        self.unplaced: list[pl.DataFrame] = [gone]  # old rows no part goes with (the last chunk's)
        self.total: dict = {"inserted": Counter(), "rejected_by_reason": Counter(), "chunks": 0}
        self.history = ChunkHistory()
        self.placed: dict[str, str] = {}  # doc_id -> the table its last write this run went to

    def _old_rows_of(self, unit: Unit) -> pl.DataFrame:
        names = list(unit.items)  # file and WARC items are their sources already
        parts = [self.old_by_input[(n,)] for n in names if (n,) in self.old_by_input]
        return pl.concat(parts) if parts else pl.DataFrame(schema=OLD_ROWS_SCHEMA)

    def ready(self, results: dict) -> None:
        while self.waiting and results.get(self.waiting[-1].key) is not None:
            unit = self.waiting.pop()
            paths = results[unit.key]["paths"]
            old = self._old_rows_of(unit)
            if paths:
                self.old_at[paths[0]] = old
            else:
                self.unplaced.append(old)
            for path in paths:
                chunk = self.planner.add(path, part_rows(path))
                if chunk is not None:
                    self._commit(chunk, None)
                    failpoint("after_first_chunk")

    def finish(self, staging_dirs: list[Path]) -> dict:
        assert not self.waiting, "finish() before every unit was ready"
        ledger = None
        if not self.scope.replace_range:
            staged = [pl.read_parquet(d / INPUTS_STAGED) for d in staging_dirs if (d / INPUTS_STAGED).exists()]
            ledger = pl.concat(staged) if staged else pl.DataFrame(schema=unit_inputs(Unit("files", ()), {}, set()).schema)
        self._commit(self.planner.finish(), ledger)
        total = dict(self.total)
        total["inserted"] = dict(total["inserted"])
        total["rejected_by_reason"] = dict(total["rejected_by_reason"])
        total["placed"] = self.placed
        return total

    def _commit(self, chunk: list[str], ledger: pl.DataFrame | None) -> None:
        old = [self.old_at.pop(p) for p in chunk if p in self.old_at]
        if ledger is not None:  # the last chunk: also what no chunk took
            old += self.unplaced
        old_rows = pl.concat(old, how="vertical_relaxed") if old else pl.DataFrame(schema=OLD_ROWS_SCHEMA)
        scope = self.scope if ledger is not None else dataclasses.replace(self.scope, vanished=())
        part = dedup_commit_chunk(chunk, old_rows, ledger, self.cfg, str(self.storage.root), scope, self.history)
        release_memory()
        self.history.created |= set(part.pop("created"))
        self.history.joined.update(part.pop("joined"))
        for table, ids in part.pop("placed").items():
            self.placed.update(dict.fromkeys(ids, table))
        self.total["chunks"] += 1
        get_run_logger().info(
            "chunk %d: %d pages, dedup %.1f s, write %.1f s, flow process peak RSS so far %d MB",
            self.total["chunks"],
            part["articles"] + part["duplicates"] + part["rejected"],
            part["seconds_dedup"],
            part["seconds_write"],
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        )
        for key, value in part.items():
            if isinstance(value, dict):
                self.total[key].update(value)
            else:
                self.total[key] = self.total.get(key, 0) + value


def commit_chunk(
    staged: list[str],
    old_rows: pl.DataFrame,
    ledger: pl.DataFrame | None,
    cfg: PipelineConfig,
    storage: Storage,
    scope: RunScope,
    history: ChunkHistory | None = None,
) -> dict:
    """Cluster one chunk of staged pages, stage its commit, then apply it to the tables.

    ``old_rows`` (table, doc_id, input, published, cluster_id) are rows this commit replaces:
    deleted from their table (and their fingerprints from the index) before the new rows go
    in. ``ledger`` (the last chunk of a run) is the processed inputs' ledger rows; the ledger
    rows of ``scope.vanished`` inputs are removed with it. A backfill (``scope.replace_range``)
    replaces only the rows whose old or new ``published`` lies in the range, and every row of
    the cluster members it pulled in: every other new row is left unwritten and every other
    old row stays.
    """
    t0 = time.perf_counter()
    # parts staged by an older version may lack a newer column (`seen`): it reads as nulls
    cleaned = pl.read_parquet(staged, schema=S.CLEANED_SCHEMA, missing_columns="insert") if staged else S.empty(S.CLEANED_SCHEMA)
    kept, dropped = split_kept(cleaned)
    outside_range = 0
    if scope.replace_range:
        in_range = pl.col(S.PUBLISHED).is_between(*scope.replace_range)
        members = pl.Series(sorted(scope.members), dtype=pl.String).implode()
        of_member = pl.col(S.SOURCE).is_in(members) | changes.input_of_row(pl.col(S.SOURCE)).is_in(members)
        redo_ids = pl.concat(
            [
                old_rows.filter(in_range | pl.col(S.INPUT).is_in(members))[S.DOC_ID],
                kept.filter(in_range | of_member)[S.DOC_ID],
                dropped.filter(of_member)[S.DOC_ID],
            ]
        ).unique()
        # a story cluster is redone whole or not at all: a copy redone beside a canonical left in
        # place (or the reverse) would point at a canonical the index no longer holds
        touched = old_rows.filter(pl.col(S.DOC_ID).is_in(redo_ids.implode()))[S.CLUSTER_ID].drop_nulls().unique()
        redo_ids = pl.concat([redo_ids, old_rows.filter(pl.col(S.CLUSTER_ID).is_in(touched.implode()))[S.DOC_ID]]).unique()
        redo = redo_ids.implode()
        outside_range = kept.height + dropped.height
        kept = kept.filter(pl.col(S.DOC_ID).is_in(redo))
        dropped = dropped.filter(pl.col(S.DOC_ID).is_in(redo))
        outside_range -= kept.height + dropped.height
        old_rows = old_rows.filter(pl.col(S.DOC_ID).is_in(redo))
    frames: dict[str, pl.DataFrame] = {f"{t}_delete": old_rows.filter(pl.col("table") == t).select(S.DOC_ID) for t in ROW_TABLES}
    forget = old_rows.filter(pl.col("table").is_in(["articles", "duplicates"]))[S.DOC_ID]
    frames["dedup_index_delete"] = forget.to_frame()
    clustered, new_index, canonical_of = cluster_run(kept, storage, cfg, forget)
    t1 = time.perf_counter()
    now = dt.datetime.now(dt.timezone.utc)
    articles, duplicates = output_rows(clustered, now, cfg.pipeline_version, canonical_of)
    rejected = rejected_rows(dropped, now, cfg.pipeline_version)
    failpoint("before_commit")
    frames.update({"rejected": rejected, "duplicates": duplicates, "dedup_index": new_index, "articles": articles})
    created = articles[S.CLUSTER_ID].unique().to_list()
    joined_rows = duplicates.filter(~pl.col(S.CLUSTER_ID).is_in(articles[S.CLUSTER_ID].implode()))
    joined = dict(zip(joined_rows[S.SOURCE].to_list(), joined_rows[S.CLUSTER_ID].to_list()))
    if ledger is not None:
        seen = ChunkHistory(set(created), dict(joined))
        if history is not None:
            seen = ChunkHistory(history.created | seen.created, {**history.joined, **joined})
        ledger = ledger.with_columns(settle_flags(ledger, seen, scope.settling).alias(S.SETTLE))
        rows = changes.ledger_rows(ledger.filter(~pl.col(S.INPUT).is_in(list(scope.vanished))), changes.cleaning_config_hash(cfg), now)
        gone = pl.Series(S.DOC_ID, [make_doc_id(i) for i in scope.vanished], dtype=pl.String)
        frames["inputs_delete"] = pl.concat([rows[S.DOC_ID], gone]).to_frame()
        frames["inputs"] = rows
    pending = storage.stage_commit(frames, {"committed_at": now, "pipeline_version": cfg.pipeline_version})
    counts = {
        "articles": articles.height,
        "duplicates": duplicates.height,
        "rejected": rejected.height,
        "replaced": old_rows.height,
        "clusters_with_copies": int((articles[S.N_COPIES] > 1).sum()) if articles.height else 0,
        "rejected_by_reason": dict(Counter(rejected[S.REASON].to_list())),
        "outside_range": outside_range,
        "placed": {t: frame[S.DOC_ID].to_list() for t, frame in (("articles", articles), ("duplicates", duplicates), ("rejected", rejected))},
    }
    # the commit is on disk now: drop the chunk's frames before the inserts read it back, so
    # the write phase does not hold two copies of every text
    del cleaned, kept, dropped, clustered, new_index, canonical_of, articles, duplicates, rejected, frames
    failpoint("commit_staged")
    results = storage.apply_commit(pending)
    t2 = time.perf_counter()
    return {
        **counts,
        "inserted": {k: v.rows_inserted for k, v in results.items()},
        "seconds_dedup": t1 - t0,
        "seconds_write": t2 - t1,
        "created": created,
        "joined": joined,
    }
