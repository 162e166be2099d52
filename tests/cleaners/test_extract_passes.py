"""The shared-work paths of cleaners.extract give what trafilatura's own give (issue 16).

``HTML_PARSER`` parses as ``trafilatura.utils.load_html`` does, with the same element classes;
``trafilatura_text`` with the raw-pruned tree (``raw_pruned``) gives ``bare_extraction``'s text in
both judge passes, and leaves that tree as it was for the next pass.
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest
from lxml import etree
from lxml.html import FormElement, HtmlElement, InputElement, LabelElement, SelectElement, TextareaElement
from trafilatura import bare_extraction
from trafilatura.utils import load_html as trafilatura_load_html

from cleaners.config import ExtractConfig, PipelineConfig
from cleaners.decode import decode_bytes
from cleaners.extract import load_html, parse_page, raw_pruned, trafilatura_text

from shared_data import need

CFG = ExtractConfig()
PASSES = {"first": {"fast": True, "precision": True, "recall": False}, "recall": {"fast": False, "precision": False, "recall": True}}
FORM_PAGE = (
    "<html><head><title>T</title></head><body><form><label>L</label><input name='q'><select><option>o</option></select>"
    "<textarea>t</textarea></form><!-- a comment --><?pi x?><p>" + "A sentence of the article body. " * 20 + "</p></body></html>"
)
TABLE_PAGE = (
    "<html><body><article><h1>Results</h1><p>" + "The council published the results of the vote on Tuesday. " * 8 + "</p>"
    "<table><tr><td>Ward one, for the budget</td><td>1,204 votes</td></tr><tr><td>Ward two, against it</td><td>988 votes</td></tr></table>"
    "<img src='a.jpg' alt='The council chamber on the night of the vote'><p>" + "Turnout was higher than at the last vote. " * 8 + "</p></article></body></html>"
)
FORUM_PAGE = (
    '<html><head><script type="application/ld+json">{"@type": "DiscussionForumPosting"}</script></head>'
    "<body><article><p>" + "The first post of the thread. " * 20 + "</p></article></body></html>"
)


@pytest.fixture(autouse=True)
def _quiet_trafilatura(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="trafilatura")


def _dev_pages(shared_dir: Path, n: int) -> list[str]:
    d = need(shared_dir / "eval" / "wcxb-dev" / "html", "wcxb-dev")
    files = sorted(d.glob("*.html.gz"))[::40][:n]
    assert files
    return [decode_bytes(gzip.decompress(f.read_bytes()), PipelineConfig().load).text for f in files]


def test_parser_gives_lxml_html_classes() -> None:
    tree = load_html(FORM_PAGE)
    classes = {el.tag: type(el) for el in tree.iter()}
    assert classes["form"] is FormElement and classes["input"] is InputElement and classes["label"] is LabelElement
    assert classes["select"] is SelectElement and classes["textarea"] is TextareaElement
    assert classes["p"] is HtmlElement and classes["option"] is HtmlElement
    assert tree.makeelement("form").__class__ is FormElement  # elements made later get them too
    assert etree.tostring(tree) == etree.tostring(trafilatura_load_html(FORM_PAGE))  # comments, PIs dropped alike
    assert b"comment" not in etree.tostring(tree)
    assert load_html("just text, no markup") is None and trafilatura_load_html("just text, no markup") is None


def test_same_trees_on_dev_pages(shared_dir: Path) -> None:
    for html in _dev_pages(shared_dir, 10):
        ours, theirs = load_html(html), trafilatura_load_html(html)
        assert etree.tostring(ours) == etree.tostring(theirs)
        assert [type(e) for e in ours.iter()] == [type(e) for e in theirs.iter()]


@pytest.mark.parametrize("name", PASSES)
def test_shared_pruned_tree_gives_bare_extraction_text(shared_dir: Path, name: str) -> None:
    for html in _dev_pages(shared_dir, 12):
        tree = parse_page(html)
        pruned = raw_pruned(tree, CFG)
        assert pruned is not None
        before = etree.tostring(pruned)
        assert trafilatura_text(tree, CFG, None, pruned=pruned, **PASSES[name]) == trafilatura_text(tree, CFG, None, **PASSES[name])
        assert etree.tostring(pruned) == before  # the next pass starts from the same tree


@pytest.mark.parametrize("name", PASSES)
def test_a_pass_gives_bare_extraction_with_the_configured_keywords(shared_dir: Path, name: str) -> None:
    """``_options`` maps ``ExtractConfig`` as trafilatura's own keyword arguments would."""
    flags = PASSES[name]
    cfg = ExtractConfig(include_tables=False, include_images=True)  # not trafilatura's defaults either
    for html in [*_dev_pages(shared_dir, 6), TABLE_PAGE]:
        tree = parse_page(html)
        doc = bare_extraction(
            parse_page(html), fast=flags["fast"], favor_precision=flags["precision"], favor_recall=flags["recall"],
            include_comments=cfg.include_comments, include_tables=cfg.include_tables, include_images=cfg.include_images,
            deduplicate=cfg.deduplicate, with_metadata=False,
        )  # fmt: skip
        assert trafilatura_text(tree, cfg, None, **flags) == (doc.text or "" if doc is not None else "")


def test_no_shared_tree_for_forums_or_comments() -> None:
    tree = parse_page(FORUM_PAGE)
    assert raw_pruned(tree, CFG) is None  # the recall focus keeps a forum's comment sections
    assert raw_pruned(parse_page(FORM_PAGE), ExtractConfig(include_comments=True)) is None
    assert raw_pruned(parse_page(FORM_PAGE), CFG) is not None
