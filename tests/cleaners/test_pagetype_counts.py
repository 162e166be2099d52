"""page_features' tag counts and heading links equal the XPath counts they replace (issue 16)."""

from __future__ import annotations

import gzip
from pathlib import Path

from lxml import etree

from cleaners.config import PipelineConfig
from cleaners.decode import decode_bytes
from cleaners.extract import parse_page
from cleaners.pagetype import COUNTED_TAGS, HEADING_LINKS_XPATH, tag_counts

from shared_data import need

OLD_HEADING_LINKS = etree.XPath("count(//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5][ancestor::a or .//a])")
PAGE = (
    "<html><body><a href='/x'><h2>Teaser</h2></a><h3><a href='/y'>Linked</a></h3><h1>Plain</h1>"
    "<ul><li>a</li><li>b</li></ul><p>one</p><div><p>two</p></div><h6><a href='/z'>not counted</a></h6></body></html>"
)


def _check(tree) -> None:
    assert tag_counts(tree) == {tag: int(etree.XPath(f"count(//{tag})")(tree)) for tag in COUNTED_TAGS}
    assert HEADING_LINKS_XPATH(tree) == OLD_HEADING_LINKS(tree)


def test_counts_on_a_small_page() -> None:
    tree = parse_page(PAGE)
    counts = tag_counts(tree)
    assert counts["li"] == 2 and counts["p"] == 2 and counts["h1"] == 1 and counts["a"] == 3
    assert HEADING_LINKS_XPATH(tree) == 2.0
    _check(tree)
    _check(tree.find(".//ul"))  # from any element: the whole document, as // reads it


def test_counts_on_dev_pages(shared_dir: Path) -> None:
    d = need(shared_dir / "eval" / "wcxb-dev" / "html", "wcxb-dev")
    for f in sorted(d.glob("*.html.gz"))[::50]:
        _check(parse_page(decode_bytes(gzip.decompress(f.read_bytes()), PipelineConfig().load).text))
