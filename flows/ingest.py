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
import datetime as dt
import gc
import json
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
from cleaners.selection import n_repairs_expr, output_rows, rejected_rows, split_kept
from cleaners.steps import Stats, merge_stats
from flows import feeds, fetch, guard, report, warc
from flows.failpoints import failpoint
from flows.liveness import INTERRUPTED, exit_with_parent_process, retry_unless_interrupted, stop_if_interrupted
from flows.runners import default_task_runner
from flows.sources import Unit, discover_files, iter_unit_pages, path_of_source, plan_units
from flows.storage import Storage


def load_config_file(config_file: str | None, overrides: dict | None = None) -> PipelineConfig:
    text = Path(config_file).read_text(encoding="utf-8") if config_file else None
    return parse_config(text, overrides or {})


def config_fingerprint(cfg: PipelineConfig) -> str:
    """Short hash of the whole config: staged batches are only reused under the same config."""
    return xxhash.xxh3_64_hexdigest(json.dumps(cfg.to_dict(), sort_keys=True, default=str).encode())[:12]


def stage_key(unit: Unit, cfg: PipelineConfig) -> str:
    return f"{unit.key}-{config_fingerprint(cfg)}"


def unit_pages(unit: Unit, cfg: PipelineConfig, stats: Stats, storage: Storage, fresh_validators: dict):
    """Pages of a unit; WARC and URL units count skipped records and unchanged (304) URLs in ``stats``."""
    if unit.kind == "warc":
        return warc.iter_warc_pages(path_of_source(unit.items[0]), cfg, stats)
    if unit.kind == "urls":
        known = fetch.load_validators(storage.state_dir)
        return fetch.fetch_pages(list(unit.items), cfg, stats, validators=known, fresh_validators=fresh_validators)
    return iter_unit_pages(unit, cfg)


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
    cleaner = guard.GuardedCleaner(cfg)  # HTML pages in a worker process with a per-page time limit

    def flush() -> None:
        frame = cleaner.clean(batch, stats)
        paths.append(storage.write_part(frame, directory, len(paths)))
        batch.clear()

    with cleaner:
        for page in unit_pages(unit, cfg, stats, storage, fresh_validators):
            stop_if_interrupted()  # Ctrl-C: the flow is waiting for this task to end
            batch.append(page)
            if len(batch) >= cfg.run.batch_size:
                flush()
        if batch:
            flush()
    if fresh_validators:  # merged into _state only after the commit (see ingest_flow)
        (directory / fetch.VALIDATORS_STAGED).write_text(json.dumps(fresh_validators))
    result = {"unit": unit.key, "paths": paths, "rows": int(stats.counters.get("pages.read", 0)), "stats": stats.as_dict()}
    stop_if_interrupted()  # a unit cut short by Ctrl-C (a fetch given up, say) must be redone, not reused
    storage.mark_staged(directory, result)
    return result


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
    staged: list[str], unit_keys: list[str], cfg: PipelineConfig, output: str, replace_range: tuple[dt.date, dt.date] | None = None
) -> dict:
    """Cluster one chunk of staged pages against the index and commit it (one task run per chunk)."""
    return commit_chunk(staged, unit_keys, cfg, Storage(output), replace_range)


class ChunkCommitter:
    """Dedups and commits a run chunk by chunk, in input order, while later units are still cleaning.

    ``ready`` is called whenever a unit finishes: the units finished in an unbroken prefix of
    the input order feed the ``ChunkPlanner``, and each chunk it closes is clustered against
    the index (which holds every chunk before it) and committed at once, in the flow's process,
    while the task runner goes on cleaning. ``finish`` commits the last chunk together with the
    units' completion markers, so a run killed between chunks redoes every unit and, since an
    indexed document keeps its stored cluster, ends with the same tables. A backfill
    (``replace_range``) is one chunk: its range is replaced in one commit per table.
    """

    def __init__(self, units: list[Unit], cfg: PipelineConfig, storage: Storage, replace_range: tuple[dt.date, dt.date] | None = None):
        self.waiting = list(reversed(units))  # next unit in input order at the end
        self.unit_keys = [u.key for u in units]
        self.cfg, self.storage, self.replace_range = cfg, storage, replace_range
        self.planner = ChunkPlanner(10**18 if replace_range else cfg.run.max_dedup_docs)
        self.total: dict = {"inserted": Counter(), "rejected_by_reason": Counter(), "chunks": 0}

    def ready(self, results: dict) -> None:
        while self.waiting and results.get(self.waiting[-1].key) is not None:
            unit = self.waiting.pop()
            for path in results[unit.key]["paths"]:
                chunk = self.planner.add(path, part_rows(path))
                if chunk is not None:
                    self._commit(chunk, [])
                    failpoint("after_first_chunk")

    def finish(self) -> dict:
        assert not self.waiting, "finish() before every unit was ready"
        self._commit(self.planner.finish(), self.unit_keys)
        total = dict(self.total)
        total["inserted"] = dict(total["inserted"])
        total["rejected_by_reason"] = dict(total["rejected_by_reason"])
        return total

    def _commit(self, chunk: list[str], unit_keys: list[str]) -> None:
        part = dedup_commit_chunk(chunk, unit_keys, self.cfg, str(self.storage.root), self.replace_range)
        release_memory()
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
    staged: list[str], unit_keys: list[str], cfg: PipelineConfig, storage: Storage, replace_range: tuple[dt.date, dt.date] | None
) -> dict:
    """Cluster one chunk of staged pages, stage its commit, then merge it into the tables."""
    t0 = time.perf_counter()
    cleaned = pl.read_parquet(staged) if staged else S.empty(S.CLEANED_SCHEMA)
    kept, dropped = split_kept(cleaned)
    outside_range = 0
    forget = None
    frames: dict[str, pl.DataFrame] = {}
    if replace_range:
        in_range = pl.col(S.PUBLISHED).is_between(*replace_range)
        outside_range = kept.filter(~in_range | pl.col(S.PUBLISHED).is_null()).height
        kept = kept.filter(in_range)
        # the range's current articles and copies are being replaced: so are their index rows
        forget = pl.concat(
            [storage.scan(t).filter(in_range).select(S.DOC_ID).collect()[S.DOC_ID] for t in ("articles", "duplicates")]
        ).unique()
        frames["dedup_index_delete"] = pl.DataFrame({S.DOC_ID: forget})
    clustered, new_index, canonical_of = cluster_run(kept, storage, cfg, forget)
    t1 = time.perf_counter()
    now = dt.datetime.now(dt.timezone.utc)
    articles, duplicates = output_rows(clustered, now, cfg.pipeline_version, canonical_of)
    rejected = rejected_rows(dropped, now, cfg.pipeline_version)
    failpoint("before_commit")
    frames.update({"rejected": rejected, "duplicates": duplicates, "dedup_index": new_index, "articles": articles})
    pending = storage.stage_commit(
        frames,
        unit_keys,
        {"committed_at": now, "pipeline_version": cfg.pipeline_version},
        replace_range=replace_range,
    )
    counts = {
        "articles": articles.height,
        "duplicates": duplicates.height,
        "rejected": rejected.height,
        "clusters_with_copies": int((articles[S.N_COPIES] > 1).sum()) if articles.height else 0,
        "rejected_by_reason": dict(Counter(rejected[S.REASON].to_list())),
        "outside_range": outside_range,
    }
    # the commit is on disk now: drop the chunk's frames before the inserts read it back, so
    # the write phase does not hold two copies of every text (-300 MB on 10k 10 KB pages)
    del cleaned, kept, dropped, clustered, new_index, canonical_of, articles, duplicates, rejected, frames
    failpoint("commit_staged")
    results = storage.apply_commit(pending)
    t2 = time.perf_counter()
    return {
        **counts,
        "inserted": {k: v.rows_inserted for k, v in results.items()},
        "seconds_dedup": t1 - t0,
        "seconds_write": t2 - t1,
    }


def clean_and_commit(
    units: list[Unit],
    cfg: PipelineConfig,
    storage: Storage,
    show_progress: bool = False,
    replace_range: tuple[dt.date, dt.date] | None = None,
) -> tuple[Stats, dict]:
    """Clean every unit in parallel tasks (reusing completely staged ones) and commit the run.

    Dedup and commits overlap the cleaning (see ``ChunkCommitter``): a chunk is committed as
    soon as every unit up to its last part is staged. Returns the merged cleaning stats and the
    commit totals (with ``seconds_clean``: wall time until the last unit was staged).
    """
    t0 = time.perf_counter()
    # Every table exists before the first chunk: readers can open all four during a long first
    # run, and the first chunk meets the (empty) index by the same path as every later one. The
    # Delta reader/writer code that maps (~45 MB of shared-library pages, measured) is then in
    # every chunk's peak from the first, not a step at the second.
    storage.ensure_tables()
    INTERRUPTED.clear()  # an interrupted earlier run in this process (a notebook) is over
    results = {u.key: staged_result(storage, u, cfg) for u in units}
    committer = ChunkCommitter(units, cfg, storage, replace_range)
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
    written = committer.finish()
    written["seconds_clean"] = seconds_clean
    stats = merge_stats(Stats(Counter(r["stats"])) for r in results.values())
    return stats, written


@dataclass
class RunSummary:
    run_id: str
    inputs: list[str]
    output: str
    pages_read: int = 0
    inputs_already_done: int = 0  # inputs of units a previous run committed (skipped)
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
        if storage.clear_done_if_tables_missing():
            logger.warning("tables under %s are missing: completion markers cleared, every input is redone", output)
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
        units = plan_units(files, cfg, urls=web_urls)
        todo = [u for u in units if not storage.is_done(u.key)]
        logger.info(
            "run %s: %d input files in %d units (%d already done) from %s", run_id, len(files), len(units), len(units) - len(todo), inputs
        )
        stats, written = clean_and_commit(todo, cfg, storage, show_progress)
        fetch.save_validators(storage.state_dir, [storage.staging_dir(stage_key(u, cfg)) / fetch.VALIDATORS_STAGED for u in todo])
        storage.drop_staging([stage_key(u, cfg) for u in todo])
        stats = stats + web_stats
    counters = stats.as_dict()
    summary = RunSummary(
        run_id=run_id,
        inputs=inputs,
        output=str(output),
        pages_read=counters.get("pages.read", 0),
        inputs_already_done=sum(len(u) for u in units) - sum(len(u) for u in todo),
        articles=written["articles"],
        duplicates=written["duplicates"],
        rejected=written["rejected"],
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
