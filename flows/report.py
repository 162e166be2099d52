"""Reporting on the world side: a run's progress bar and Prefect artifacts, the report file.

``publish_artifacts(summary)`` is the one call a flow makes at its end: a table artifact (one
row per number: counts, rejects by reason, edits by kind, clusters, per-step chars_delta,
timings) and the markdown summary, both made by ``reports.summary``. ``write_report(root,
dest)`` is ``newsclean report``: the HTML page with plots (``reports``), built from the tables
(read through ``Storage``) rather than from one run.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from flows.storage import Storage
from reports.page import render_html
from reports.queries import build_report, load_tables
from reports.summary import summary_markdown, summary_table


@contextlib.contextmanager
def progress(total: int, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draws a bar on a terminal when enabled, else does nothing."""
    if not enabled or not sys.stderr.isatty():
        yield lambda n: None
        return
    bar = Progress(TextColumn("cleaning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    with bar:
        tid = bar.add_task("pages", total=total)
        yield lambda n: bar.advance(tid, n)


TABLE_ARTIFACT_KEY = "newsclean-run-table"
MARKDOWN_ARTIFACT_KEY = "newsclean-run-summary"


def publish_artifacts(summary: dict) -> dict[str, UUID]:
    """Create the run's Prefect table artifact and markdown summary (call inside the flow run)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    description = f"newsclean run {summary['run_id']} -> {summary['output']}"
    return {
        TABLE_ARTIFACT_KEY: create_table_artifact(summary_table(summary), key=TABLE_ARTIFACT_KEY, description=description),
        MARKDOWN_ARTIFACT_KEY: create_markdown_artifact(summary_markdown(summary), key=MARKDOWN_ARTIFACT_KEY, description=description),
    }


def write_report(root: str | Path, dest: str | Path, top_sites: int = 15, recent: int = 20) -> Path:
    """Read the tables under ``root`` and write the page to ``dest`` (atomically); return ``dest``."""
    report = build_report(load_tables(Storage(root)), output=str(root), top_sites=top_sites, recent=recent)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.write_text(render_html(report), encoding="utf-8")
    tmp.replace(dest)
    return dest
