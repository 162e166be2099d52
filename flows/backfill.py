"""The date-range flow: reprocess the given inputs where their rows fall in a range of `published`.

``newsclean backfill --since 2022-07-01 --until 2022-07-31 [--input PATH ...]`` cleans the
given inputs again (whatever the ledger says) and replaces the rows of those inputs whose old
or new ``published`` lies in the range: the old row is deleted and the new one written, in
whichever table it now belongs (an article that now fails a filter moves to ``rejected``).
Rows of inputs not given stay, whatever their date, and so do the given inputs' rows outside
the range. The commit goes through a pending manifest like every run, so a killed backfill is
completed by the next run on the same output. A backfill writes no ledger rows: a later run
still reprocesses what changed since the ledger's last record.
"""

from __future__ import annotations

import datetime as dt
import time

from flows.commit import RunScope
from flows.engine import flow, get_run_logger
from flows.ingest import clean_and_commit, load_config_file, plan_run
from flows.sources import discover_files
from flows.staging import stage_key
from flows.storage import Storage


@flow(name="newsclean-backfill", export_as="backfill_flow")
def backfill(
    since: dt.date,
    until: dt.date,
    inputs: list[str] | None = None,
    output: str = "data/clean",
    config_file: str | None = None,
    overrides: dict | None = None,
    show_progress: bool = False,
) -> dict:
    if since > until:
        raise ValueError(f"--since {since} is after --until {until}")
    logger = get_run_logger()
    t0 = time.perf_counter()
    cfg = load_config_file(config_file, overrides)
    inputs = list(inputs or ["data/raw"])
    storage = Storage(output)
    with storage.lock():
        storage.recover()
        plan, units, old_rows = plan_run(storage, cfg, inputs, discover_files(inputs), [], force=True)
        logger.info("backfill %s..%s: %d units from %s: %s", since, until, len(units), inputs, plan.summary())
        scope = RunScope(replace_range=(since, until), members=frozenset(plan.members))
        stats, written = clean_and_commit(units, cfg, storage, old_rows, scope, show_progress=show_progress)
        written.pop("placed")
        storage.drop_staging([stage_key(u, cfg) for u in units])
    written.update(
        {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "pages_read": stats.as_dict().get("pages.read", 0),
            "seconds": time.perf_counter() - t0,
        }
    )
    return written


def __getattr__(name: str):
    """``backfill_flow``: the Prefect flow of ``backfill``, built on first use (see flows/engine.py)."""
    if name == "backfill_flow":
        return backfill.prefect()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
