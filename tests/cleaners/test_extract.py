"""cleaners.extract: main text, metadata and stable failure reasons (with/without snippets)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from cleaners.config import ExtractConfig, PipelineConfig
from cleaners.extract import Extracted, ExtractError, extract_html

from shared_data import need

CFG = ExtractConfig()
PARAS = [
    "Russia will leave the International Space Station after 2024, the new head of Roscosmos told President Putin on Tuesday.",
    "Yuri Borisov said the country would build its own orbital station, and that all obligations to partners would be fulfilled.",
    "NASA officials said they had received no formal notice of the decision, which was announced at a meeting in the Kremlin.",
    "The station has been continuously crewed since 2000 and is run by the space agencies of the US, Russia, Europe, Japan and Canada.",
]
ARTICLE = f"""<!DOCTYPE html>
<html lang="en-GB"><head>
<title>Russia to quit ISS after 2024 | Space Daily</title>
<meta property="og:title" content="Russia to quit ISS after 2024">
<meta property="og:site_name" content="Space Daily">
<meta name="author" content="Jane Reporter">
<meta name="description" content="Roscosmos says it will leave the station.">
<meta property="article:published_time" content="2022-07-26T10:00:00Z">
<link rel="canonical" href="https://spacedaily.example/russia-iss">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/about">About us</a></li></ul></nav>
<article><h1>Russia to quit ISS after 2024</h1>
{''.join(f'<p>{p}</p>' for p in PARAS)}
</article>
<div id="comments" class="comments"><h3>Comments</h3>
<div class="comment"><p>Reader42: This is a terrible decision and everyone knows it, honestly.</p></div></div>
<footer><p>Copyright 2022 Space Daily. All rights reserved. Privacy policy. Cookie settings.</p></footer>
</body></html>"""


@pytest.fixture(autouse=True)
def _quiet_trafilatura(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="trafilatura")


def test_article_text_and_metadata() -> None:
    doc = extract_html(ARTICLE, CFG, url="https://spacedaily.example/russia-iss?utm=x")
    assert isinstance(doc, Extracted)
    for para in PARAS:
        assert para in doc.text
    assert doc.title == "Russia to quit ISS after 2024"
    assert doc.author == "Jane Reporter"
    assert doc.published == dt.date(2022, 7, 26)
    assert doc.site == "Space Daily"
    assert doc.language == "en"
    assert doc.url == "https://spacedaily.example/russia-iss"
    assert doc.description == "Roscosmos says it will leave the station."


@pytest.mark.parametrize(
    "without",
    [
        pytest.param("Reader42", id="comment"),
        pytest.param("All rights reserved", id="footer"),
        pytest.param("About us", id="nav"),
    ],
)
def test_boilerplate_left_out(without: str) -> None:
    assert without not in extract_html(ARTICLE, CFG).text


def test_paragraphs_are_separated_by_blank_lines() -> None:
    text = extract_html(ARTICLE, CFG).text
    blocks = text.split("\n\n")
    assert all(block.strip() == block and block for block in blocks)
    assert [b for b in blocks if b in PARAS] == PARAS
    assert "\n\n\n" not in text


def test_result_is_frozen() -> None:
    doc = extract_html(ARTICLE, CFG)
    with pytest.raises(AttributeError):
        doc.text = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        pytest.param("", "empty_html", id="empty"),
        pytest.param("   \n", "empty_html", id="blank"),
        pytest.param("just some words, no markup", "parse_error", id="not_html"),
        pytest.param('<?xml version="1.0"?><rss></rss>', "parse_error", id="xml_feed"),
        pytest.param("<html><head><title>x</title></head><body></body></html>", "no_main_text", id="empty_body"),
        pytest.param("<html><body><nav><a href='/'>Home</a></nav></body></html>", "no_main_text", id="nav_only"),
    ],
)
def test_extract_errors(html: str, reason: str) -> None:
    with pytest.raises(ExtractError) as info:
        extract_html(html, CFG)
    assert info.value.reason == reason


def test_wrong_language_reason() -> None:
    html = ARTICLE.replace('lang="en-GB"', 'lang="de"')
    with pytest.raises(ExtractError) as info:
        extract_html(html, ExtractConfig(target_language="fr"))
    assert info.value.reason == "wrong_language"
    assert extract_html(html, ExtractConfig(target_language="de")).text


def test_eval_floor_on_extract_dev(shared_dir: Path) -> None:
    """Our pipeline must beat trafilatura alone on the dev pages, on both halves."""
    from evals.extract import evaluate_extract

    root = shared_dir / "eval" / "extract-dev"
    need(root / "ground-truth.json", "extract-dev")
    result = evaluate_extract(root / "ground-truth.json", root / "html", PipelineConfig())
    assert result["pages"] >= 80
    for split in ("all", "even", "odd"):
        assert result["newsclean"][split]["f1"] > result["trafilatura"][split]["f1"]
    assert result["newsclean"]["all"]["f1"] >= 0.97


@pytest.mark.parametrize(
    ("text", "title", "after"),
    [
        pytest.param("Russia quits ISS\n\nBody text.", "Russia  quits ISS", "Body text.", id="title_repeated"),
        pytest.param("russia quits iss\n\nBody text.", "Russia quits ISS", "Body text.", id="case_insensitive"),
        pytest.param("Body text.\n\nRussia quits ISS", "Russia quits ISS", "Body text.\n\nRussia quits ISS", id="noop_not_first"),
        pytest.param("Russia quits ISS", "Russia quits ISS", "Russia quits ISS", id="noop_only_paragraph"),
        pytest.param("Body text.", None, "Body text.", id="noop_no_title"),
    ],
)
def test_drop_title_line(text: str, title: str | None, after: str) -> None:
    from cleaners.extract import drop_title_line

    assert drop_title_line(text, title) == after


@pytest.mark.parametrize(
    ("text", "after"),
    [
        pytest.param("Body.\n\ncopyright Inexhibit 2019 - ISSN: 2283-5474", "Body.", id="copyright_footer"),
        pytest.param("Body.\n\nPhoto: © NASA\n\nMore.", "Body.\n\nMore.", id="photo_credit"),
        pytest.param("Body.\n\n2022 Acme Corp. All Rights Reserved.", "Body.", id="all_rights_reserved"),
        pytest.param("He copied the files.\n\nClause 5(c) applies.", "He copied the files.\n\nClause 5(c) applies.", id="noop_prose"),
        pytest.param(
            "The court ruled on the copyright claim, which the record label had pursued for several years against the streaming service and two of its former executives in New York.",
            "The court ruled on the copyright claim, which the record label had pursued for several years against the streaming service and two of its former executives in New York.",
            id="noop_long_paragraph",
        ),
    ],
)
def test_drop_copyright_lines(text: str, after: str) -> None:
    from cleaners.extract import drop_copyright_lines

    assert drop_copyright_lines(text, ExtractConfig().max_copyright_line_words) == after
    assert drop_copyright_lines(text, 0) == text


def _nested(depth: int) -> str:
    return "<html><body>" + "<q>" * depth + "words " * 20 + "</q>" * depth + "</body></html>"


@pytest.mark.parametrize(
    ("depth", "hit"),
    [
        pytest.param(200, False, id="shallow"),
        pytest.param(252, False, id="just_below"),  # html, body + 252 q = 254 levels
        pytest.param(254, True, id="at_limit"),  # 256 levels: an element with 255 ancestors
        pytest.param(1000, True, id="cut_by_libxml2"),
    ],
)
def test_hit_depth_limit_matches_ancestor_count(depth: int, hit: bool) -> None:
    """The child-step XPath says what ``count(ancestor::*) >= MAX_PARSED_DEPTH`` says."""
    from trafilatura.utils import load_html

    from cleaners.extract import MAX_PARSED_DEPTH, hit_depth_limit

    tree = load_html(_nested(depth))
    assert hit_depth_limit(tree) is hit
    assert hit_depth_limit(tree) == tree.xpath(f"boolean(//*[count(ancestor::*) >= {MAX_PARSED_DEPTH}])")


def test_fast_mode_falls_back_on_short_text() -> None:
    """A fast extraction shorter than ``min_fast_text_chars`` is redone in full mode: with the
    threshold above any text length the result is full mode's."""
    full = extract_html(ARTICLE, ExtractConfig(fast=False))
    assert extract_html(ARTICLE, ExtractConfig(fast=True, min_fast_text_chars=10**9)) == full
    assert extract_html(ARTICLE, ExtractConfig(fast=True)).text == full.text


def test_fast_mode_with_fallback_keeps_dev_outputs(shared_dir: Path) -> None:
    """On the dev pages, fast-then-full gives full mode's text on every page."""
    import gzip

    from cleaners.decode import decode_bytes

    d = need(shared_dir / "eval" / "extract-dev" / "html", "extract-dev")
    files = sorted(d.glob("*.html.gz"))
    assert files
    for f in files:
        html = decode_bytes(gzip.decompress(f.read_bytes()), PipelineConfig().load).text
        try:
            full = extract_html(html, ExtractConfig(fast=False))
        except ExtractError as exc:
            with pytest.raises(ExtractError, match=exc.reason):
                extract_html(html, ExtractConfig(fast=True))
            continue
        assert extract_html(html, ExtractConfig(fast=True)) == full, f.name
