"""The main flow: load pages in batches -> clean (tasks over batches) -> dedup -> write.

Run it as ``newsclean run`` or ``python -m flows.ingest [--input PATH ...] [--output DIR]``.
Tasks sit on batch and I/O boundaries only: ``clean_unit`` (read and clean one unit of input,
a file batch, a WARC file or a URL batch, in batches of ``run.batch_size`` pages, staging each
batch as Parquet) and ``dedup_commit_chunk`` (cluster up to ``run.max_dedup_docs`` staged pages
against the fingerprint index, then the Delta commits). Chunks are committed in input order in
the flow's process while the task runner is still cleaning later units. Task results are small
summaries; the data moves through staging files, so the flow's memory does not grow with the input.
"""

from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
import gc
import json
import os
import resource
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import xxhash
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from cleaners import dedup
from cleaners import schema as S
from cleaners.config import PipelineConfig, parse_config
from cleaners.document import make_doc_id
from cleaners.selection import n_repairs_expr, output_rows, rejected_rows, split_kept
from cleaners.steps import Stats, merge_stats
from flows import changes, feeds, fetch, guard, report, warc
from flows.failpoints import failpoint
from flows.liveness import INTERRUPTED, exit_with_parent_process, retry_unless_interrupted, stop_if_interrupted
from flows.runners import default_task_runner
from flows.sources import WARC_SUFFIXES, Unit, discover_files, file_fingerprint, iter_file_pages, path_of_source, plan_units, source_key
from flows.storage import ROW_TABLES, Storage


def load_config_file(config_file: str | None, overrides: dict | None = None) -> PipelineConfig:
    text = Path(config_file).read_text(encoding="utf-8") if config_file else None
    return parse_config(text, overrides or {})


def config_fingerprint(cfg: PipelineConfig) -> str:
    """Short hash of the whole config: staged batches are only reused under the same config."""
    return xxhash.xxh3_64_hexdigest(json.dumps(cfg.to_dict(), sort_keys=True, default=str).encode())[:12]


def stage_key(unit: Unit, cfg: PipelineConfig) -> str:
    return f"{unit.key}-{config_fingerprint(cfg)}"


def unit_pages(unit: Unit, cfg: PipelineConfig, stats: Stats, fresh_validators: dict, fingerprints: dict[str, str]):
    """Pages of a unit; WARC units count skipped records in ``stats``; ``fingerprints`` gets each
    input's fingerprint as read.

    URLs are fetched without conditional headers: a URL is fetched only when it is new or its
    rows are being replaced, and a 304 would leave it without a row.
    """
    if unit.kind == "warc":
        fingerprints[unit.items[0]] = warc_fingerprint(path_of_source(unit.items[0]))
        return warc.iter_warc_pages(path_of_source(unit.items[0]), cfg, stats)
    if unit.kind == "urls":
        fingerprints.update(dict.fromkeys(unit.items, ""))
        return fetch.fetch_pages(list(unit.items), cfg, stats, fresh_validators=fresh_validators)
    return iter_file_pages(unit, cfg, fingerprints)


def warc_fingerprint(path: str) -> str:
    """A WARC archive is judged by size and mtime (hashing gigabytes each run costs too much)."""
    try:
        st = os.stat(path)
    except OSError:
        return ""
    return file_fingerprint(st.st_size, st.st_mtime_ns, None)


INPUT_KINDS = {"files": "file", "warc": "warc", "urls": "url"}


def unit_inputs(unit: Unit, fingerprints: dict[str, str], transient_sources: set[str]) -> pl.DataFrame:
    """The ledger's view of a unit's inputs: input, kind, fingerprint, retry."""
    names = list(unit.items)  # file and WARC items are their sources already
    kind = INPUT_KINDS[unit.kind]
    if unit.kind == "warc":  # every record of the archive belongs to the one input
        retry = [bool(transient_sources)]
    else:
        retry = [n in transient_sources for n in names]
    return pl.DataFrame(
        {
            S.INPUT: names,
            S.KIND: [kind] * len(names),
            S.FINGERPRINT: [fingerprints.get(n, "") for n in names],
            S.RETRY: retry,
        },
        schema={S.INPUT: pl.String, S.KIND: pl.String, S.FINGERPRINT: pl.String, S.RETRY: pl.Boolean},
    )


@task(name="discover-urls", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5)
def discover_urls(feed_urls: list[str], sitemap_urls: list[str], cfg: PipelineConfig) -> dict:
    """Feeds and sitemaps -> article URLs (one task for all of them; the URLs are batched later)."""
    stats = Stats()
    found = feeds.discover_urls(feed_urls, sitemap_urls, cfg, stats)
    return {"urls": found.urls, "failures": found.failures, "stats": stats.as_dict()}


@task(name="clean-unit", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2, retry_condition_fn=retry_unless_interrupted)
def clean_unit(unit: Unit, cfg: PipelineConfig, output: str) -> dict:
    """Read and clean one unit in batches of ``run.batch_size`` pages, staging each as Parquet.

    The unit's staging folder gets ``_SUCCESS`` (holding the counters) only once every page is
    staged, so a killed run's half-staged unit is redone and a fully staged one is reused.
    Returns counters only (task results stay small).
    """
    exit_with_parent_process()  # a pool worker must not outlive a killed flow
    storage = Storage(output)
    directory = storage.reset_staging(stage_key(unit, cfg))
    stats = Stats()
    paths: list[str] = []
    batch: list = []

    fresh_validators: dict = {}
    fingerprints: dict[str, str] = {}
    transient: set[str] = set()
    cleaner = guard.GuardedCleaner(cfg)  # HTML pages in a worker process with a per-page time limit

    def flush() -> None:
        frame = cleaner.clean(batch, stats)
        paths.append(storage.write_part(frame, directory, len(paths)))
        transient.update(frame.filter(changes.is_transient(pl.col(S.DROP_REASON), pl.col(S.STAGE)))[S.SOURCE].to_list())
        batch.clear()

    with cleaner:
        for page in unit_pages(unit, cfg, stats, fresh_validators, fingerprints):
            stop_if_interrupted()  # Ctrl-C: the flow is waiting for this task to end
            batch.append(page)
            if len(batch) >= cfg.run.batch_size:
                flush()
        if batch:
            flush()
    if fresh_validators:  # merged into _state only after the commit (see ingest_flow)
        (directory / fetch.VALIDATORS_STAGED).write_text(json.dumps(fresh_validators))
    unit_inputs(unit, fingerprints, transient).write_parquet(directory / INPUTS_STAGED)
    result = {"unit": unit.key, "paths": paths, "rows": int(stats.counters.get("pages.read", 0)), "stats": stats.as_dict()}
    stop_if_interrupted()  # a unit cut short by Ctrl-C (a fetch given up, say) must be redone, not reused
    storage.mark_staged(directory, result)
    return result


INPUTS_STAGED = "inputs.parquet"  # a staged unit's inputs as the ledger will record them


def staged_result(storage: Storage, unit: Unit, cfg: PipelineConfig) -> dict | None:
    """The result of a unit a killed run had already staged completely, or None."""
    parts = storage.staged_parts(stage_key(unit, cfg))
    if parts is None:
        return None
    result = json.loads((storage.staging_dir(stage_key(unit, cfg)) / "_SUCCESS").read_text())
    result["paths"] = parts
    return result


def cluster_run(kept: pl.DataFrame, storage: Storage, cfg: PipelineConfig, forget: pl.Series | None = None):
    """Cluster this run's kept documents against the persistent fingerprint index.

    Loads only the index rows sharing an LSH band key with the run (a semi-join on the scan),
    clusters, repairs canonical texts from agreeing copies, and returns ``(clustered,
    new_index_rows, canonical_of)``. ``forget`` lists doc_ids whose index rows are being
    replaced (a backfill), so they are clustered as new.
    """
    kept = kept.with_columns(n_repairs_expr())
    if kept.is_empty():
        none = kept.with_columns(
            pl.lit(None, pl.String).alias(S.CLUSTER_ID), pl.lit(None, pl.Boolean).alias(S.IS_CANONICAL), pl.lit(None, pl.Float64).alias(S.SIMILARITY)
        )
        return none, schema_empty_index(), pl.DataFrame(schema={S.CLUSTER_ID: pl.String, S.CANONICAL_DOC_ID: pl.String})
    index_scan = storage.scan("dedup_index")
    if forget is not None and forget.len():
        index_scan = index_scan.filter(~pl.col(S.DOC_ID).is_in(forget.implode()))
    # the scan is filtered inside: only indexed copies of these pages and their candidates load
    clustered, new_index = dedup.cluster_and_index(kept, cfg.dedup, index_scan)
    repaired = dedup.repair_clusters(clustered, cfg.dedup)  # re-derives a repaired text's columns
    local = repaired.filter(pl.col(S.IS_CANONICAL)).select(S.CLUSTER_ID, pl.col(S.DOC_ID).alias(S.CANONICAL_DOC_ID))
    joined = repaired.filter(~pl.col(S.CLUSTER_ID).is_in(local[S.CLUSTER_ID].implode()))[S.CLUSTER_ID].unique()
    earlier = (  # canonicals written by earlier runs, for copies that joined their clusters
        index_scan.filter(pl.col("is_canonical") & pl.col(S.CLUSTER_ID).is_in(joined.implode()))
        .select(S.CLUSTER_ID, pl.col(S.DOC_ID).alias(S.CANONICAL_DOC_ID))
        .collect()
    )
    canonical_of = pl.concat([local, earlier]).unique(S.CLUSTER_ID, keep="first")
    return repaired, new_index, canonical_of


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
    flow process held ~200 MB more after its first chunk than before. No-op off glibc.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def part_rows(path: str) -> int:
    return pl.scan_parquet(path).select(pl.len()).collect().item()


@task(name="dedup-commit-chunk", cache_policy=NO_CACHE)
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


# Passes after the first that settle clusters joined by copies: one suffices (its inputs are
# never flagged again); a second covers copies that the first pass's re-reads turned up.
MAX_SETTLE_PASSES = 2


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
    cleaned = pl.read_parquet(staged) if staged else S.empty(S.CLEANED_SCHEMA)
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


def clean_and_commit(
    units: list[Unit],
    cfg: PipelineConfig,
    storage: Storage,
    old_rows: pl.DataFrame,
    scope: RunScope,
    show_progress: bool = False,
) -> tuple[Stats, dict]:
    """Clean every unit in parallel tasks (reusing completely staged ones) and commit the run.

    Dedup and commits overlap the cleaning (see ``ChunkCommitter``): a chunk is committed as
    soon as every unit up to its last part is staged. Returns the merged cleaning stats and the
    commit totals (with ``seconds_clean``: wall time until the last unit was staged).
    """
    t0 = time.perf_counter()
    # Every table exists before the first chunk: readers can open them all during a long first
    # run, and the first chunk meets the (empty) index by the same path as every later one.
    storage.ensure_tables()
    INTERRUPTED.clear()  # an interrupted earlier run in this process (a notebook) is over
    results = {u.key: staged_result(storage, u, cfg) for u in units}
    committer = ChunkCommitter(units, cfg, storage, old_rows, scope)
    futures = [clean_unit.submit(u, cfg, str(storage.root)) for u in units if results[u.key] is None]
    try:
        with report.progress(total=sum(len(u) for u in units), enabled=show_progress) as advance:
            for r in results.values():
                if r is not None:
                    advance(r["rows"])
            committer.ready(results)
            for fut in as_completed(futures):
                res = fut.result()
                results[res["unit"]] = res
                advance(res["rows"])
                failpoint("after_first_unit_staged")
                committer.ready(results)
    except KeyboardInterrupt:
        # Ctrl-C: running units stop at their next page (clean_unit checks the flag), and units
        # still queued must not start (each would only crash at its first page, a task run and
        # two log lines apiece, until Prefect shuts the runner down)
        INTERRUPTED.set()
        for fut in futures:
            fut.wrapped_future.cancel()
        raise
    seconds_clean = time.perf_counter() - t0
    written = committer.finish([storage.staging_dir(stage_key(u, cfg)) for u in units])
    written["seconds_clean"] = seconds_clean
    stats = merge_stats(Stats(Counter(r["stats"])) for r in results.values())
    return stats, written


@dataclass
class RunSummary:
    run_id: str
    inputs: list[str]
    output: str
    pages_read: int = 0
    inputs_already_done: int = 0  # inputs a previous run committed, unchanged since (skipped)
    inputs_by_reason: dict = field(default_factory=dict)  # why inputs were processed: new, changed, config, retry, cluster
    inputs_vanished: int = 0  # inputs gone from a given folder: their rows were removed
    rows_replaced: int = 0  # old rows of reprocessed or vanished inputs, deleted before the new went in
    articles: int = 0
    duplicates: int = 0
    rejected: int = 0
    clusters_with_copies: int = 0
    inserted: dict = field(default_factory=dict)
    rejected_by_reason: dict = field(default_factory=dict)
    edits_by_kind: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def plan_run(
    storage: Storage, cfg: PipelineConfig, inputs: list[str], files: list, urls: list[str], force: bool = False, settle_only: bool = False
) -> tuple[changes.Plan, list[Unit], pl.DataFrame]:
    """The inputs to process (see flows/changes.py), their units, and the rows they hold now.

    A backfill (``force``) processes every given input, removes no vanished ones, and pulls
    in the members of the story clusters its inputs belong to, so that a replaced canonical
    never leaves copies pointing at nothing (those members are redone whatever their date).
    ``settle_only`` plans a run's second pass: the inputs flagged to settle their clusters and
    those clusters' members (WARC archives excepted).
    """
    roots = [source_key(Path(p)) for p in inputs]
    names = [f.path for f in files]
    ledger = storage.ledger(names + list(urls), roots)
    plan = changes.plan_inputs(
        files, urls, roots, ledger, changes.cleaning_config_hash(cfg), force=force, settle_only=settle_only, row_inputs=storage.inputs_under(roots)
    )
    if force or settle_only:
        plan.vanished = []
    changes.add_cluster_members(plan, storage.cluster_members, with_warcs=not settle_only)
    units = plan_units(plan.files, cfg, urls=plan.urls)
    todo = [f.path for f in plan.files] + plan.urls + plan.vanished
    warcs = [f.path for f in plan.files if f.format == "warc"]
    known_warcs = ledger.filter(pl.col(S.KIND) == "warc")[S.INPUT].to_list() + [v for v in plan.vanished if v.lower().endswith(WARC_SUFFIXES)]
    old_rows = storage.rows_of_inputs(todo, warcs + known_warcs) if todo else pl.DataFrame(schema=OLD_ROWS_SCHEMA)
    return plan, units, old_rows


@flow(name="newsclean-ingest", task_runner=default_task_runner(), log_prints=False)
def ingest_flow(
    inputs: list[str] | None = None,
    output: str = "data/clean",
    config_file: str | None = None,
    overrides: dict | None = None,
    show_progress: bool = False,
    urls: list[str] | None = None,
    feeds: list[str] | None = None,
    sitemaps: list[str] | None = None,
) -> dict:
    """Ingest files/folders of raw pages, URLs, and the articles of feeds and sitemaps into ``output``."""
    logger = get_run_logger()
    t0 = time.perf_counter()
    cfg = load_config_file(config_file, overrides)
    web = bool(urls or feeds or sitemaps)
    inputs = list(inputs or ([] if web else ["data/raw"]))
    storage = Storage(output)
    run_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    with storage.lock():
        recovered = storage.recover()
        if storage.forget_ledger_if_tables_missing():
            logger.warning("tables under %s are missing: the ledger of committed inputs is cleared, every input is redone", output)
        if recovered:
            logger.warning("completed %d commit(s) left pending by an interrupted run", len(recovered))
        files = discover_files(inputs)
        web_urls, web_stats = list(urls or []), Stats()
        if feeds or sitemaps:
            found = discover_urls(list(feeds or []), list(sitemaps or []), cfg)
            web_urls += found["urls"]
            web_stats = Stats(Counter(found["stats"]))
            for source, reason, detail in found["failures"]:
                logger.warning("could not read %s: %s %s", source, reason, detail)
        plan, todo, old_rows = plan_run(storage, cfg, inputs, files, web_urls)
        logger.info("run %s: %d input files, %d URLs from %s: %s", run_id, len(files), len(web_urls), inputs, plan.summary())
        scope = RunScope(vanished=tuple(plan.vanished), settling=frozenset(plan.members))
        stats, written = clean_and_commit(todo, cfg, storage, old_rows, scope, show_progress)
        passes = [todo]
        for _ in range(MAX_SETTLE_PASSES):  # copies that joined clusters earlier runs published
            settle, settle_todo, settle_old = plan_run(storage, cfg, inputs, files, web_urls, settle_only=True)
            if not settle_todo:
                break
            logger.info("run %s: settling story clusters: %s", run_id, settle.summary())
            scope = RunScope(settling=frozenset(settle.replaced | {f.path for f in settle.files} | set(settle.urls)))
            more_stats, more = clean_and_commit(settle_todo, cfg, storage, settle_old, scope)
            stats, written = stats + more_stats, merge_totals(written, more)
            plan.reasons.update({f"settle_{k}": v for k, v in settle.reasons.items()})
            passes.append(settle_todo)
        done = [u for units_of_pass in passes for u in units_of_pass]
        fetch.save_validators(storage.state_dir, [storage.staging_dir(stage_key(u, cfg)) / fetch.VALIDATORS_STAGED for u in done])
        storage.drop_staging([stage_key(u, cfg) for u in done])
        stats = stats + web_stats
    counters = stats.as_dict()
    placed = Counter(written.pop("placed").values())
    summary = RunSummary(
        run_id=run_id,
        inputs=inputs,
        output=str(output),
        pages_read=counters.get("pages.read", 0),
        inputs_already_done=len(plan.skipped),
        inputs_by_reason=dict(plan.reasons),
        inputs_vanished=len(plan.vanished),
        rows_replaced=written["replaced"],
        # where the rows this run wrote ended (a settle pass may rewrite a row of the first)
        articles=placed["articles"],
        duplicates=placed["duplicates"],
        rejected=placed["rejected"],
        clusters_with_copies=written["clusters_with_copies"],
        inserted=written["inserted"],
        rejected_by_reason=written["rejected_by_reason"],
        edits_by_kind={k.removeprefix("edits."): v for k, v in counters.items() if k.startswith("edits.")},
        stats=counters,
        timings={"clean": written["seconds_clean"], "dedup": written["seconds_dedup"], "write": written["seconds_write"]},
        seconds=time.perf_counter() - t0,
    )
    report.publish_artifacts(summary.as_dict())
    logger.info("run %s done: %d read, %d articles, %d duplicates, %d rejected", run_id, summary.pages_read, summary.articles, summary.duplicates, summary.rejected)
    return summary.as_dict()


def main(argv: list[str] | None = None) -> int:
    from flows.cli import app

    return app(["run", *(argv or [])]) or 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
