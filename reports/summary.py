"""The end-of-run summary for people: a terminal table, a markdown page, one row per number.

``summary`` is the dict ``ingest_flow`` returns (``newsclean run --json`` prints it).
``flows.report.publish_artifacts`` publishes the markdown and the rows as the run's Prefect
artifacts; the HTML page with plots (``newsclean report``, ``reports.page``) is built from the
tables rather than from one run.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


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
