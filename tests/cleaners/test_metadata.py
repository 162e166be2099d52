"""cleaners.metadata: title, date, author, URL and site of an HTML page, cheap sources first."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
from pathlib import Path

import pytest
from lxml.html import tostring
from trafilatura.utils import load_html

from cleaners import metadata as md
from cleaners.config import ExtractConfig, PipelineConfig
from cleaners.decode import decode_bytes
from cleaners.extract import extract_html

BODY = (
    "<p>Russia will leave the International Space Station after 2024, the new head of Roscosmos told "
    "President Putin on Tuesday, and build its own orbital station instead.</p>"
    "<p>NASA officials said they had received no formal notice of the decision, which was announced at a "
    "meeting in the Kremlin and surprised partners in Europe, Japan and Canada.</p>"
)
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
<article><h1>Russia to quit ISS after 2024</h1>
{BODY}
</article></body></html>"""


def page(head: str, body: str) -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def meta_of(html: str, url: str | None = None):
    """What ``extract_html`` keeps of the metadata, the author search included."""
    tree = load_html(html)
    meta, need_author = md.page_metadata(tree, url)
    if need_author:
        md.add_page_author(tree, meta)
    return meta


@pytest.fixture(autouse=True)
def _quiet_trafilatura(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="trafilatura")
    caplog.set_level(logging.CRITICAL, logger="htmldate")


def _dev_pages(shared_dir: Path, wcxb: int) -> list[str]:
    """The AEB dev pages and the first ``wcxb`` WCXB dev pages (none when the data is absent)."""
    cfg = PipelineConfig().load
    files = sorted((shared_dir / "eval" / "extract-dev" / "html").glob("*.html.gz"))
    files += sorted((shared_dir / "eval" / "wcxb-dev" / "html").glob("*.html.gz"))[:wcxb]
    return [decode_bytes(gzip.decompress(f.read_bytes()), cfg).text for f in files]


# --- titles -----------------------------------------------------------------------------------


def test_the_headline_heading_wins_over_a_declared_title_with_the_site_name() -> None:
    html = page(
        '<title>Russia to quit ISS after 2024 | Space Daily</title><meta property="og:title" content="Russia to quit ISS after 2024 | Space Daily">',
        f"<h1>Russia to quit ISS after 2024</h1>{BODY}",
    )
    assert meta_of(html).title == "Russia to quit ISS after 2024"


def test_a_heading_naming_the_site_is_no_title_the_declared_one_loses_the_site_name() -> None:
    html = page(
        '<title>Advent of Code, week two - RogerBW\'s Blog</title><meta property="og:site_name" content="RogerBW\'s Blog">',
        f"<h1>RogerBW's Blog</h1><h2>Day 7</h2>{BODY}",
    )
    assert meta_of(html, "https://blog.firedrake.example/2025/advent").title == "Advent of Code, week two"


def test_the_heading_most_like_the_declared_title_is_chosen_among_several() -> None:
    html = page(
        '<meta property="og:title" content="Budget traveller\'s guide to travel insurance - Budget Travel With Gabby">',
        f"<h1>Budget Travel With Gabby</h1><h1>Budget Traveller's Guide To Travel Insurance</h1><h1>Follow me</h1>{BODY}",
    )
    assert meta_of(html).title == "Budget Traveller's Guide To Travel Insurance"


def test_a_heading_unlike_every_declared_title_leaves_the_declared_one() -> None:
    html = page("<title>Nutrition trends for autumn: what experts eat - Site</title>", f"<h1>Subscribe to our newsletter</h1>{BODY}")
    assert meta_of(html).title == "Nutrition trends for autumn: what experts eat - Site"


@pytest.mark.parametrize(
    ("title", "keys", "cut"),
    [
        ("Russia to quit ISS | Space Daily", ("spacedaily",), "Russia to quit ISS"),
        ("Psychiatry.org - What are the latest trends?", ("psychiatry",), "What are the latest trends?"),
        ("Best buys: a guide | Reviews | The Motley Fool", ("fool",), "Best buys: a guide | Reviews"),
        ("Guide to composition: a four-step process", ("markdenney",), "Guide to composition: a four-step process"),
        ("The Guardian view on Hong Kong: a city on the brink", ("theguardian",), "The Guardian view on Hong Kong: a city on the brink"),
        ("Space Daily", ("spacedaily",), "Space Daily"),
    ],
)
def test_cut_site_name(title: str, keys: tuple[str, ...], cut: str) -> None:
    assert md.cut_site_name(title, keys) == cut


# --- dates ------------------------------------------------------------------------------------


def test_the_declared_publication_date_wins_over_dates_in_the_text() -> None:
    """No date line under the headline: JSON-LD datePublished, not a date the story quotes nor
    the crawl stamp at the foot of the page."""
    jsonld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Rocket test delayed", "datePublished": "2021-03-04T08:00:00Z"}
    html = page(
        f'<script type="application/ld+json">{json.dumps(jsonld)}</script>',
        f"<h1>Rocket test delayed</h1><p>The launch is now planned for 12 May 2022.</p>{BODY * 3}<footer>Crawled 2023-01-15</footer>",
    )
    assert meta_of(html).date == "2021-03-04"


def test_the_date_printed_under_the_headline_wins_over_other_dates_of_the_page() -> None:
    """htmldate would take the copyright-like stamp of the sidebar; the byline states the date."""
    html = page(
        "<title>Rocket test delayed</title>",
        "<aside><p>Most read, 2019-05-02</p></aside><h1>Rocket test delayed</h1><p>By <a href='/jane'>Jane Doe</a></p>"
        f"<p>March 4, 2021</p>{BODY}",
    )
    assert meta_of(html).date == "2021-03-04"


def test_an_update_date_under_the_headline_does_not_replace_the_declared_publication_date() -> None:
    html = page(
        '<meta property="article:published_time" content="2020-01-10T09:00:00Z">',
        f"<h1>Rocket test delayed</h1><p>Last updated:</p><p>June 18, 2025</p>{BODY}",
    )
    assert meta_of(html).date == "2020-01-10"


def test_an_update_date_is_the_date_when_the_page_states_no_other() -> None:
    html = page("", f"<h1>Rocket test delayed</h1><p>Updated on June 18, 2025</p>{BODY}")
    assert meta_of(html).date == "2025-06-18"


def test_a_date_in_the_url_comes_first() -> None:
    html = page('<meta property="article:published_time" content="2020-01-10T09:00:00Z">', f"<h1>Rocket test delayed</h1>{BODY}")
    assert meta_of(html, "https://news.example.org/2020/01/09/rocket-test").date == "2020-01-09"


# --- authors ----------------------------------------------------------------------------------


def test_a_by_line_under_the_headline_names_the_author() -> None:
    html = page("<title>Rocket test delayed</title>", f"<h1>Rocket test delayed</h1><p>By</p><p>Jane Doe</p><p>March 4, 2021</p>{BODY}")
    assert meta_of(html).author == "Jane Doe"


def test_a_reviewer_is_not_the_author() -> None:
    html = page(
        "<title>Whole foods diet guide</title>",
        f"<h1>Whole foods diet guide</h1><span>Medically reviewed</span><span>by</span><span>Kim Rose</span>"
        f"<span>Written by</span><span>Jillian Kubala</span>{BODY}",
    )
    assert meta_of(html).author == "Jillian Kubala"


def test_page_author_is_trafilaturas_author_search_and_leaves_the_tree_alone(shared_dir: Path) -> None:
    from trafilatura.metadata import extract_author

    pages = [
        page("", f"<h1>T</h1><div class='byline'>By <time>May 2</time> Max Mustermann</div>{BODY}"),
        page("", f"<h1>T</h1><span class='author-name'>Jo<span class='date'>x</span>hn Smith</span>{BODY}"),
        page("", f"<div id='comments'><a rel='author'>A Commenter</a></div><p class='post-author'>Erika Musterfrau</p>{BODY}"),
        *_dev_pages(shared_dir, 60),
    ]
    for html in pages:
        tree = load_html(html)
        before = tostring(tree)
        want = extract_author(tree)
        assert md.page_author(tree) == (md._trim_field(want) if want else None)
        assert tostring(tree) == before


# --- the whole pass ---------------------------------------------------------------------------


def test_the_fields_trafilatura_decides_stay_trafilaturas(shared_dir: Path) -> None:
    """URL, host, site name and description are ``extract_metadata``'s."""
    from trafilatura.metadata import extract_metadata

    for html in [ARTICLE, *_dev_pages(shared_dir, 0)[:30]]:
        want = extract_metadata(load_html(html), None)
        got = meta_of(html)
        for name in ("url", "hostname", "sitename", "description"):
            assert getattr(got, name) == getattr(want, name), name


def test_page_metadata_leaves_the_tree_alone() -> None:
    tree = load_html(ARTICLE)
    before = tostring(tree)
    meta, need_author = md.page_metadata(tree, None)
    md.add_page_author(tree, meta)
    assert tostring(tree) == before


def test_extract_html_keeps_what_the_metadata_pass_found() -> None:
    doc = extract_html(ARTICLE, ExtractConfig(), url="https://spacedaily.example/russia-iss")
    assert (doc.title, doc.author, doc.published, doc.site) == ("Russia to quit ISS after 2024", "Jane Reporter", dt.date(2022, 7, 26), "Space Daily")


def test_shipped_rules_are_valid_and_unknown_sources_are_refused() -> None:
    shipped = json.loads(md.RULES_PATH.read_text(encoding="utf-8"))
    assert md.shipped_rules() == md.rules_from_dict(shipped["rules"])
    assert "held_out_by_site" in shipped
    with pytest.raises(ValueError, match="date_order"):
        md.MetadataRules(date_order=("url", "crawl_date"))
    with pytest.raises(ValueError, match="title_order"):
        md.MetadataRules(title_order=("html", "html"))


def test_a_byline_date_well_after_the_declared_one_is_an_unlabelled_update() -> None:
    """A day apart is the local date under the headline vs a UTC timestamp: the byline's; months
    later is a republication: the declared publication date."""
    declared = '<meta property="article:published_time" content="2018-04-18T23:30:00Z">'
    republished = page(declared, f"<h1>Milan Design Week 2018</h1><p>By</p><p>Federica Lusiardi</p><p>- 2019-04-10</p>{BODY}")
    local = page(declared, f"<h1>Milan Design Week 2018</h1><p>By</p><p>Federica Lusiardi</p><p>April 19, 2018</p>{BODY}")
    assert (meta_of(republished).date, meta_of(local).date) == ("2018-04-18", "2018-04-19")
