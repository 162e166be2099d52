"""A listing page goes to `rejected` as not_article, or stays with its page_type when asked (issue 14)."""

from __future__ import annotations

import pytest

from cleaners import schema as S
from flows.ingest import ingest_flow
from flows.storage import Storage

pytestmark = pytest.mark.flows

ARTICLE = """<html><head><title>Council approves budget</title><link rel="canonical" href="https://town.example/2024/03/05/council-approves-budget/">
<meta property="og:type" content="article">
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Council approves budget"}</script></head>
<body><article><h1>Council approves budget</h1>""" + "".join(
    f"<p>The council voted on part {i} of the new budget after a long debate about schools, roads and the library, "
    f"and members said the final plan balances the needs of the town with what residents can afford to pay.</p>"
    for i in range(8)
) + "</article></body></html>"

LISTING = """<html><head><title>News archive</title><link rel="canonical" href="https://town.example/news/">
<script type="application/ld+json">{"@type": "CollectionPage"}</script><link rel="next" href="/news/page/2/"></head>
<body><h1>News</h1><ul class="post-list">""" + "".join(
    f'<li class="post-card"><h2><a href="/news/story-{i}">Story number {i}: the town plans a new park by the river</a></h2>'
    f'<time>March {i + 1}, 2024</time><p>A short teaser of story {i} about the plans, the costs and what neighbours think of them.</p>'
    f'<a href="/news/story-{i}">Read more</a></li>'
    for i in range(20)
) + '</ul><div class="pagination"><a rel="next" href="/news/page/2/">Next</a></div></body></html>'


@pytest.fixture()
def raw(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "article.html").write_text(ARTICLE, encoding="utf-8")
    (folder / "listing.html").write_text(LISTING, encoding="utf-8")
    return folder


def _by_file(df):
    return {src.rsplit("/", 1)[-1]: row for src, row in zip(df[S.SOURCE], df.iter_rows(named=True))}


def test_listing_is_rejected_as_not_article(tmp_path, raw):
    out = tmp_path / "clean"
    ingest_flow(inputs=[str(raw)], output=str(out), overrides={"pagetype.reject_non_articles": True})
    st = Storage(out)
    articles, rejected = _by_file(st.read("articles")), _by_file(st.read("rejected"))
    assert set(articles) == {"article.html"} and articles["article.html"][S.PAGE_TYPE] == "article"
    assert set(rejected) == {"listing.html"}
    assert rejected["listing.html"][S.REASON] == "not_article"
    assert rejected["listing.html"][S.STAGE] == "filter"
    assert "P(article)" in rejected["listing.html"][S.DETAIL]


def test_listing_is_kept_with_its_type_by_default(tmp_path, raw):
    out = tmp_path / "clean"
    ingest_flow(inputs=[str(raw)], output=str(out))
    st = Storage(out)
    articles = _by_file(st.read("articles"))
    assert set(articles) == {"article.html", "listing.html"}, _by_file(st.read("rejected"))
    assert articles["article.html"][S.PAGE_TYPE] == "article"
    assert articles["listing.html"][S.PAGE_TYPE] not in (None, "article")
    assert st.read("rejected").height == 0
