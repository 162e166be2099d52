"""Issue 14: how often ``language`` is filled, and how it compares with the page's declared language.

Unpacks the WCXB dev HTML pages (``<name>.html.gz``) into a scratch directory, runs
``newsclean run`` on them (this checkout's code), and prints, for the articles table: the share
with a language, the languages, and how often the result differs from ``<html lang>``.
Usage: python bench/language_fill.py [--html-dir ../shared/eval/wcxb-dev/html] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

# HTML_LANG_RE: the primary subtag of <html lang>. matches: b'<html class="x" lang="en-US">' -> b"en" ; does not match: b"<html>"
HTML_LANG_RE = re.compile(rb"<html[^>]*\slang=[\"']?([a-zA-Z]{2,3})", re.I)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--html-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/eval/wcxb-dev/html")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    files = sorted(args.html_dir.glob("*.html.gz"))[: args.limit or None]
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "out"
        raw.mkdir()
        declared = {}
        for f in files:
            data = gzip.decompress(f.read_bytes())
            page = raw / f.name.removesuffix(".gz")
            page.write_bytes(data)
            m = HTML_LANG_RE.search(data[:20000])
            declared[str(page.resolve())] = m.group(1).decode().lower() if m else None
        cmd = [sys.executable, "-m", "flows", "run", "--input", str(raw), "--output", str(out), "--no-progress"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        arts = pl.read_delta(str(out / "articles")).select("source", "language")
    arts = arts.with_columns(pl.col("source").replace_strict(declared, default=None, return_dtype=pl.String).alias("declared"))
    filled = arts["language"].is_not_null().mean()
    differs = arts.filter(pl.col("declared").is_not_null() & (pl.col("declared") != pl.col("language")))
    print(f"pages {len(files)}  articles {arts.height}  language filled {filled:.2%}  declared {arts['declared'].is_not_null().sum()}")
    print(f"differs from <html lang>: {differs.height}")
    print(differs.head(20))
    print(dict(arts["language"].value_counts(sort=True).iter_rows()))


if __name__ == "__main__":
    main()
