"""Run reporting: a terminal progress bar, the end-of-run summary, the Prefect artifacts.

``publish_artifacts(summary)`` is the one call a flow makes at its end: a table artifact (one
row per number: counts, rejects by reason, edits by kind, clusters, per-step chars_delta,
timings) and the markdown summary. The HTML page with plots is ``newsclean report``
(``flows/report_html.py``), built from the tables rather than from one run.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from uuid import UUID

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


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


def _rows(summary: dict) -> list[tuple[str, str]]:
    rows = [
        ("pages read", str(summary["pages_read"])),
        ("inputs already done (skipped)", str(summary.get("inputs_already_done", 0))),
        ("articles (canonical)", str(summary["articles"])),
        ("duplicates", str(summary["duplicates"])),
        ("rejected", str(summary["rejected"])),
    ]
    if "clusters_with_copies" in summary:
        rows.append(("stories with copies", str(summary["clusters_with_copies"])))
    rows += [
        ("new rows written", ", ".join(f"{k} {v}" for k, v in summary["inserted"].items())),
    ]
    for reason, n in sorted(summary["rejected_by_reason"].items(), key=lambda kv: -kv[1]):
        rows.append((f"  rejected: {reason}", str(n)))
    for kind, n in sorted(summary["edits_by_kind"].items(), key=lambda kv: -kv[1]):
        rows.append((f"  edits: {kind}", str(n)))
    t = summary["timings"]
    rows.append(("time", f"{summary['seconds']:.1f} s (clean {t['clean']:.1f}, dedup {t['dedup']:.2f}, write {t['write']:.2f})"))
    return rows


def print_summary(summary: dict, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"newsclean run {summary['run_id']} -> {summary['output']}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for k, v in _rows(summary):
        table.add_row(k, v)
    console.print(table)


def summary_markdown(summary: dict) -> str:
    lines = [f"# newsclean run `{summary['run_id']}`", "", "| what | count |", "|---|---:|"]
    lines += [f"| {k.strip()} | {v} |" for k, v in _rows(summary)]
    lines += ["", f"Plots of the whole tables: `newsclean report --output {summary['output']}`."]
    return "\n".join(lines)


TABLE_ARTIFACT_KEY = "newsclean-run-table"
MARKDOWN_ARTIFACT_KEY = "newsclean-run-summary"
COUNT_KEYS = ("pages_read", "articles", "duplicates", "rejected", "clusters_with_copies")


def _by_count(counts: dict) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def summary_table(summary: dict) -> list[dict]:
    """One row ``{section, item, value}`` per number of a run summary, for a Prefect table artifact.

    Sections: ``count``, ``inserted``, ``rejected`` (by reason), ``edits`` (by kind),
    ``chars_delta`` (per step; negative = characters removed), ``seconds`` (per stage, and total).
    """
    rows = [{"section": "count", "item": k, "value": summary[k]} for k in COUNT_KEYS if k in summary]
    rows += [{"section": "inserted", "item": k, "value": v} for k, v in summary.get("inserted", {}).items()]
    rows += [{"section": "rejected", "item": k, "value": v} for k, v in _by_count(summary.get("rejected_by_reason", {}))]
    rows += [{"section": "edits", "item": k, "value": v} for k, v in _by_count(summary.get("edits_by_kind", {}))]
    stats = summary.get("stats", {})
    rows += [
        {"section": "chars_delta", "item": k.removesuffix(".chars_delta"), "value": v}
        for k, v in sorted(stats.items())
        if k.endswith(".chars_delta")
    ]
    rows += [{"section": "seconds", "item": k, "value": round(float(v), 3)} for k, v in summary.get("timings", {}).items()]
    if "seconds" in summary:
        rows.append({"section": "seconds", "item": "total", "value": round(float(summary["seconds"]), 3)})
    return rows


def publish_artifacts(summary: dict) -> dict[str, UUID]:
    """Create the run's Prefect table artifact and markdown summary (call inside the flow run)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    description = f"newsclean run {summary['run_id']} -> {summary['output']}"
    return {
        TABLE_ARTIFACT_KEY: create_table_artifact(summary_table(summary), key=TABLE_ARTIFACT_KEY, description=description),
        MARKDOWN_ARTIFACT_KEY: create_markdown_artifact(summary_markdown(summary), key=MARKDOWN_ARTIFACT_KEY, description=description),
    }
