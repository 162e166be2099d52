"""The main flow: load pages in batches -> clean (tasks over batches) -> dedup -> write.

Run it as ``newsclean run`` (or ``python -m flows run``). Tasks sit on batch and I/O
boundaries only: ``clean_unit`` (flows/staging.py: read and clean one unit of input, a file
batch, a WARC file or a URL batch, in batches of ``run.batch_size`` pages, staging each batch
as Parquet) and ``dedup_commit_chunk`` (flows/commit.py: cluster up to
``run.max_dedup_docs`` staged pages against the fingerprint index, then the Delta commits). Chunks are committed in input order in
the flow's process while the task runner is still cleaning later units. Task results are small
summaries; the data moves through staging files, so the flow's memory does not grow with the input.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cleaners import schema as S
from cleaners.config import PipelineConfig, parse_config
from cleaners.steps import Stats, merge_stats
from flows import changes, engine, feeds, fetch, guard, report
from flows.commit import OLD_ROWS_SCHEMA, ChunkCommitter, RunScope, merge_totals
from flows.engine import flow, get_run_logger, task
from flows.failpoints import failpoint
from flows.liveness import INTERRUPTED
from flows.sources import WARC_SUFFIXES, Unit, discover_files, plan_units, source_key
from flows.staging import clean_unit, stage_key, staged_result
from flows.storage import Storage


def load_config_file(config_file: str | None, overrides: dict | None = None) -> PipelineConfig:
    text = Path(config_file).read_text(encoding="utf-8") if config_file else None
    return parse_config(text, overrides or {})


# Passes after the first that settle clusters joined by copies: one suffices (its inputs are
# never flagged again); a second covers copies that the first pass's re-reads turned up.
MAX_SETTLE_PASSES = 2


@task(name="discover-urls", no_cache=True, retries=1, retry_delay_seconds=5)
def discover_urls(feed_urls: list[str], sitemap_urls: list[str], cfg: PipelineConfig) -> dict:
    """Feeds and sitemaps -> article URLs (one task for all of them; the URLs are batched later)."""
    stats = Stats()
    found = feeds.discover_urls(feed_urls, sitemap_urls, cfg, stats)
    return {"urls": found.urls, "failures": found.failures, "stats": stats.as_dict()}


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
            for fut in engine.as_completed(futures):
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
            engine.cancel(fut)
        raise
    finally:
        guard.IDLE_WORKERS.close_all()  # the warm extraction workers the units passed on (flows/guard.py)
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


@flow(name="newsclean-ingest", log_prints=False, export_as="ingest_flow")
def ingest(
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
    if engine.in_prefect_run():  # the local engine has no API to keep artifacts in
        report.publish_artifacts(summary.as_dict())
    logger.info("run %s done: %d read, %d articles, %d duplicates, %d rejected", run_id, summary.pages_read, summary.articles, summary.duplicates, summary.rejected)
    return summary.as_dict()


def __getattr__(name: str):
    """``ingest_flow``: the Prefect flow of ``ingest`` (built on first use: importing Prefect
    costs seconds the local engine does not spend). prefect.yaml's entrypoint names it."""
    if name == "ingest_flow":
        return ingest.prefect()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
