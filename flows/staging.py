"""Cleaning one unit of input into staged Parquet parts: the ``clean-unit`` task and its helpers.

A unit (a file batch, a WARC file or a URL batch, see flows/sources.py) is read and cleaned in
batches of ``run.batch_size`` pages, each staged as a Parquet part under the output's staging
folder, keyed by the unit and the config so a killed run's fully staged units are reused.
flows/commit.py turns the staged parts into commits; flows/ingest.py runs both.
"""

from __future__ import annotations

import json
import os

import polars as pl
import xxhash

from cleaners import schema as S
from cleaners.config import PipelineConfig
from cleaners.steps import Stats
from flows import changes, fetch, guard, warc
from flows.engine import task
from flows.liveness import exit_with_parent_process, retry_unless_interrupted, stop_if_interrupted
from flows.sources import Unit, file_fingerprint, iter_file_pages, path_of_source
from flows.storage import Storage


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


@task(name="clean-unit", no_cache=True, retries=1, retry_delay_seconds=2, retry_condition_fn=retry_unless_interrupted)
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
    # HTML pages in a worker process with a per-page time limit; a warm one from an earlier unit when idle
    cleaner = guard.GuardedCleaner(cfg, pool=guard.IDLE_WORKERS)

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
