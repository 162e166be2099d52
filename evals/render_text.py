"""Render a dev set's HTML pages to whole-page plain text, the way ``textmode-dev`` was made.

``textmode-dev`` holds the AEB dev pages (``extract-dev``) rendered by inscriptis 2.7.6 with its
default configuration (``inscriptis.get_text(html)``: the page's whole visible text, navigation
and footers included, nested lists indented with ``*`` bullets) from the gzipped HTML read as
UTF-8; rendering ``extract-dev`` this way gives its 91 ``.txt`` files byte for byte. This module
renders the WCXB dev articles (``--set wcxb``) the same way, so the line classifier can be fitted
and scored on a second set of sites (issue 14): ``<id>.txt`` (the page) and ``<id>.gold.txt``
(WCXB's ``main_content``) per article, the layout ``evals.textmode.load_pages`` reads, and
``urls.json`` (``{id: url}``, the sites of ``evals.textmode.load_set``).
``--set aeb`` renders ``extract-dev`` (a check that this renderer is the one that made
``textmode-dev``).

The rendered set (about 30 MB for WCXB) is not committed: it is a cache under
``evals.data.cache(TEXTMODE_RENDERED)``, written when missing (``ensure_rendered``, what
``evals.fit_boilerplate`` and ``newsclean eval text`` call) and kept with a ``manifest.json``
naming the inscriptis version and the page count, so a cache from another renderer is redone.

    python -m evals.render_text --set wcxb [--out DIR] [--force]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from evals import data
from evals.extract import GoldPage, aeb_pages, wcxb_pages
from evals.textmode import URLS_FILE

RENDERER = "inscriptis"
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1  # the folder's layout (pages, gold, urls.json); bumped when it changes
READERS = {"aeb": (data.EXTRACT_DEV, aeb_pages), "wcxb": (data.WCXB_DEV, wcxb_pages)}


def render_html(html: str) -> str:
    """The whole page as plain text: inscriptis with its defaults (what made ``textmode-dev``)."""
    from inscriptis import get_text  # an eval/test dependency: imported when a page is rendered

    return get_text(html)


def read_html(path: Path) -> str:
    """The page's HTML as ``textmode-dev`` read it: gunzipped, UTF-8, undecodable bytes replaced."""
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def articles(set_name: str, root: Path | None = None) -> list[GoldPage]:
    """The article pages of a dev set (WCXB's other page types have no article body to find)."""
    relative, reader = READERS[set_name]
    return [p for p in reader(root or data.shared(relative)) if p.page_type == "article"]


def _manifest(pages: Sequence[GoldPage]) -> dict:
    return {"layout": MANIFEST_VERSION, "renderer": RENDERER, "version": metadata.version(RENDERER), "pages": len(pages)}


def render_set(pages: Sequence[GoldPage], out: Path) -> Path:
    """Write ``<id>.txt`` and ``<id>.gold.txt`` for every page into ``out``, then the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    for page in pages:
        (out / f"{page.page_id}.txt").write_text(render_html(read_html(page.path)), encoding="utf-8")
        (out / f"{page.page_id}.gold.txt").write_text(page.gold, encoding="utf-8")
    urls = {page.page_id: page.url or "" for page in pages}  # the sites of evals.textmode.load_set
    (out / URLS_FILE).write_text(json.dumps(urls, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    # the manifest last: a render stopped half-way leaves no manifest and is redone
    (out / MANIFEST).write_text(json.dumps(_manifest(pages), indent=1) + "\n", encoding="utf-8")
    return out


def is_current(out: Path, pages: Sequence[GoldPage]) -> bool:
    """Whether ``out`` holds a complete render of ``pages`` by the installed renderer."""
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8")) == _manifest(pages)
    except (OSError, ValueError):
        return False


def ensure_rendered(set_name: str, out: Path | None = None, root: Path | None = None, force: bool = False) -> Path:
    """The folder of the set's rendered articles, rendered first when missing or stale."""
    out = out or data.cache(f"{data.TEXTMODE_RENDERED}/{set_name}")
    pages = articles(set_name, root)
    if force or not is_current(out, pages):
        render_set(pages, out)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="set_name", choices=sorted(READERS), default="wcxb")
    parser.add_argument("--root", type=Path, default=None, help="the set's folder (default: evals.data)")
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: the cache)")
    parser.add_argument("--force", action="store_true", help="render even when the folder is current")
    args = parser.parse_args(argv)
    out = ensure_rendered(args.set_name, args.out, args.root, args.force)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    print(f"{manifest['pages']} pages rendered by {RENDERER} {manifest['version']} in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
