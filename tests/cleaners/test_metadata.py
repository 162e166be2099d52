"""cleaners.metadata: title, date, author, URL and site of an HTML page."""

from __future__ import annotations

from pathlib import Path

from cleaners.config import PipelineConfig

ARTICLE = """<!DOCTYPE html>
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
<p>Russia will leave the International Space Station after 2024, the new head of Roscosmos told President Putin.</p>
</article></body></html>"""


def _meta_pages(shared_dir: Path) -> list[str]:
    import gzip

    from cleaners.decode import decode_bytes

    pages = [ARTICLE, ARTICLE.replace('<meta name="author" content="Jane Reporter">', "") + '<p class="byline">By Max Mustermann</p>']
    d = shared_dir / "eval" / "extract-dev" / "html"
    for f in sorted(d.glob("*.html.gz"))[:30] if d.is_dir() else []:
        pages.append(decode_bytes(gzip.decompress(f.read_bytes()), PipelineConfig().load).text)
    return pages


def test_page_metadata_equals_trafilatura_extract_metadata(shared_dir: Path) -> None:
    """The trimmed metadata pass gives trafilatura's values for every field a row keeps."""
    from trafilatura.metadata import extract_metadata
    from trafilatura.utils import load_html

    from cleaners.metadata import add_page_author, page_metadata

    for html in _meta_pages(shared_dir):
        want = extract_metadata(load_html(html), None)
        tree = load_html(html)
        got, need_author = page_metadata(tree, None)
        if need_author:
            add_page_author(tree, got)
        for field in ("title", "author", "date", "url", "hostname", "sitename", "description", "language"):
            assert getattr(got, field) == getattr(want, field), field


def test_page_metadata_leaves_the_tree_alone() -> None:
    from lxml.html import tostring
    from trafilatura.utils import load_html

    from cleaners.metadata import page_metadata

    tree = load_html(ARTICLE)
    before = tostring(tree)
    page_metadata(tree, None)
    assert tostring(tree) == before


def test_page_author_is_trafilaturas_author_search_and_leaves_the_tree_alone(shared_dir: Path) -> None:
    """The one-walk search names the author trafilatura's ``extract_author`` names (its XPaths
    after pruning comments, dates, figures), without touching the tree."""
    from lxml.html import tostring
    from trafilatura.metadata import extract_author
    from trafilatura.utils import load_html

    from cleaners.metadata import _trim_field, page_author

    body = "<p>Russia will leave the International Space Station after 2024, the new head of Roscosmos said.</p>"
    pages = [
        f"<html><body><h1>T</h1><div class='byline'>By <time>May 2</time> Max Mustermann</div>{body}</body></html>",
        f"<html><body><h1>T</h1><span class='author-name'>Jo<span class='date'>x</span>hn Smith</span>{body}</body></html>",
        f"<html><body><div id='comments'><a rel='author'>A Commenter</a></div><p class='post-author'>Erika Musterfrau</p>{body}</body></html>",
        *_meta_pages(shared_dir),
    ]
    for html in pages:
        tree = load_html(html)
        before = tostring(tree)
        want = extract_author(tree)
        assert page_author(tree) == (_trim_field(want) if want else None)
        assert tostring(tree) == before
