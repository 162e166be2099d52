"""Render the report of some tables, open it in headless Chromium, and check every plot drew.

    PYTHONPATH=tests python -m browser.check --output data/clean --html bench/out/report.html --png bench/out/report.png
    PYTHONPATH=tests python -m browser.check --synthetic --html bench/out/report-synthetic.html --png bench/out/report-synthetic.png

Exit codes: 0 all plots drawn, 1 a plot did not draw (or the page's check did not run), 2 no Chromium.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from flows.report import write_report

from browser.chromium import check_plots, dump_dom, find_chromium, screenshot
from browser.synthetic import write_synthetic_tables


def check_report(tables: Path, page: Path, png: Path) -> dict:
    write_report(tables, page)
    result = check_plots(dump_dom(page))
    screenshot(page, png)
    return {"ok": result.ok, "page": str(page), "screenshot": str(png), **asdict(result)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output", type=Path, default=Path("data/clean"), help="folder of the Delta tables")
    ap.add_argument("--synthetic", action="store_true", help="check a report of seeded synthetic tables instead")
    ap.add_argument("--html", type=Path, default=Path("bench/out/report.html"))
    ap.add_argument("--png", type=Path, default=Path("bench/out/report.png"))
    args = ap.parse_args(argv)
    if find_chromium() is None:
        print("chromium is not installed (make browser-check installs it)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="newsclean-synthetic-") as tmp:
        tables = args.output
        if args.synthetic:
            tables = Path(tmp)
            write_synthetic_tables(tables)
        result = check_report(tables, args.html, args.png)
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
