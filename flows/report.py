"""Run reporting: a terminal progress bar, the end-of-run summary, the Prefect artifact text."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

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
        ("articles (canonical)", str(summary["articles"])),
        ("duplicates", str(summary["duplicates"])),
        ("rejected", str(summary["rejected"])),
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
    return "\n".join(lines)
