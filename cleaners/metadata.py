"""Page metadata of an HTML tree: title, date, author, URL, site, description (pure).

``page_metadata(tree, url)`` is trafilatura's ``extract_metadata`` trimmed to what a row keeps;
``add_page_author(tree, meta)`` finishes it with trafilatura's author search in the page when
the meta tags and JSON-LD named none (``page_author``: the same search done as one walk over the
tree, which it leaves as it was). ``cleaners.extract`` calls both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

from courlan import extract_domain
from htmldate import find_date
from lxml.etree import iterwalk
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
    normalize_authors,
)
from trafilatura.settings import DEFAULT_CONFIG, Document, set_date_params
from trafilatura.utils import line_processing

# trafilatura's author search (trafilatura.xpaths, version pinned in requirements.lock) as
# attribute tests: AUTHOR_DISCARD_XPATHS prunes elements of these tags with these attributes, then
# each of AUTHOR_XPATHS selects elements of its tags (any tag for the last one) with its
# attributes. Its XPaths take a full-tree pass each and prune a copy of the tree; one walk over
# the tree costs a fraction of that. tests/cleaners/test_metadata.py checks both find the same
# author on the dev pages.
DROPPED_TAGS = frozenset(("time", "figure"))
DISCARD_TAGS = frozenset(("a", "div", "section", "span"))
DISCARD_CLASSES = frozenset(("comments", "title", "date"))
# DISCARD_ID_RE matches ids "comments-12", "commentlist"; does not match "author"
DISCARD_ID_RE = re.compile(r"^comments|comment-?list|ProductReviews")
# DISCARD_CLASS_RE matches classes "sidebar-left", "meta-date"; does not match "byline"
DISCARD_CLASS_RE = re.compile(
    r"^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|article-(?:share|support)"
    r"|print|category|meta-date|meta-reviewer"
)
AUTHOR_TAGS = (
    frozenset(("a", "address", "div", "link", "p", "span", "strong")),
    frozenset(("a", "div", "h3", "h4", "p", "span")),
)
# AUTHOR_CLASS_RES, one per XPath: match "author-name", "post-author", "Byline"; do not match "title"
AUTHOR_CLASS_RES = (
    re.compile(r"author-?name|AuthorName|authorName"),
    re.compile(r"author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"),
    re.compile(r"[Aa]uthor|screenname|writer|[Bb]yline"),
)
# AUTHOR_ID_RES for the second and third XPath: match "author-box", "postAuthor"; do not match "title"
AUTHOR_ID_RES = (re.compile(r"author|zuozhe|bianji|xiaobian"), re.compile(r"[Aa]uthor"))
MAX_AUTHOR_CHARS = 120  # trafilatura's len_limit for an author element's text


def _trim_field(value: str) -> str | None:
    """trafilatura's ``Document.clean_and_trim`` for one string field."""
    if len(value) > 10000:
        value = value[:9999] + "…"
    return line_processing(unescape(value))


def page_metadata(tree: HtmlElement, url: str | None) -> tuple[Document, bool]:
    """trafilatura's ``extract_metadata`` (trimmed fields) for what a row keeps: title, date, url,
    hostname, sitename, description and an author from the meta tags or JSON-LD. Categories,
    tags and the licence are not looked for. ``tree`` is left as it was. Returns the metadata
    and whether the author must still be searched in the page (``add_page_author``)."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None
    try:
        meta = extract_meta_json(tree, meta)
    except Exception:  # noqa: BLE001 - bugs in trafilatura's JSON-LD parsing (it logs and goes on too)
        pass
    if not meta.title:
        meta.title = extract_title(tree)
    need_author = not meta.author
    if not meta.url:
        meta.url = extract_url(tree, url)
    if meta.url:
        meta.hostname = extract_domain(meta.url, fast=True)
    date_config = set_date_params(DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))
    date_config["url"] = meta.url
    meta.date = find_date(tree, **date_config)  # works on its own copy of the tree
    if not meta.sitename:
        meta.sitename = extract_sitename(tree)
    if meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    elif meta.url and (m := META_URL.match(meta.url)):
        meta.sitename = m[1]
    meta.clean_and_trim()
    return meta, need_author


def _discarded(tag: str, get: Callable[[str], str | None]) -> bool:
    """The element is one trafilatura prunes before its author search (``AUTHOR_DISCARD_XPATHS``)."""
    if tag in DROPPED_TAGS:
        return True
    if tag not in DISCARD_TAGS:
        return False
    id_, class_ = get("id"), get("class")
    return bool(
        id_ == "comments"
        or class_ in DISCARD_CLASSES
        or (id_ is not None and DISCARD_ID_RE.search(id_))
        or (class_ is not None and DISCARD_CLASS_RE.search(class_))
        or "Figure" in (get("data-component") or "")
    )


def _author_rank(element: HtmlElement, tag: str, get: Callable[[str], str | None], rel_tags: bool) -> int | None:
    """Index of the first of trafilatura's ``AUTHOR_XPATHS`` that selects the element, or None."""
    id_, class_, itemprop = get("id"), get("class"), get("itemprop")
    if tag == "author" or (
        tag in AUTHOR_TAGS[0]
        and (
            get("rel") == "author"
            or id_ == "author"
            or class_ == "author"
            or itemprop == "author name"
            or get("data-testid") in ("AuthorCard", "AuthorURL")
            or (class_ is not None and AUTHOR_CLASS_RES[0].search(class_))
            or (rel_tags and any(c.tag == "rel" and c.text_content() == "me" for c in element))
        )
    ):
        return 0
    if tag in AUTHOR_TAGS[1] and (
        class_ in ("byline", "username", "byl", "BBL")
        or "author" in (itemprop or "")
        or (id_ is not None and AUTHOR_ID_RES[0].search(id_))
        or (class_ is not None and AUTHOR_CLASS_RES[1].search(class_))
    ):
        return 1
    if (
        "Byline" in (get("data-component") or "")
        or "author" in (itemprop or "")
        or (id_ is not None and AUTHOR_ID_RES[1].search(id_))
        or (class_ is not None and AUTHOR_CLASS_RES[2].search(class_))
    ):
        return 2
    return None


def _pruned_text(element: HtmlElement) -> str:
    """``trim(" ".join(element.itertext()))`` as it reads once the discarded elements are deleted:
    a deleted element's text goes and its tail joins the text before it (trafilatura's
    ``delete_element``), so "Jo<time>..</time>hn" reads "John"."""
    pieces: list[str] = []

    def walk(node: HtmlElement) -> None:
        text = node.text or ""  # what the tail of a deleted next child joins
        for child in node:
            if isinstance(child.tag, str) and _discarded(child.tag, child.get):
                text += child.tail or ""
                continue
            if text:
                pieces.append(text)
            if isinstance(child.tag, str):  # a comment's own text is not read, its tail is
                walk(child)
            text = child.tail or ""
        if text:
            pieces.append(text)

    walk(element)
    return " ".join(" ".join(pieces).split())


def page_author(tree: HtmlElement) -> str | None:
    """trafilatura's ``extract_author`` (prune comments, dates, figures, sidebars; then the first
    element its author XPaths select, in their order, whose text is 3-119 characters), done as
    one walk over the tree with the same attribute tests, which leaves ``tree`` as it was."""
    rel_tags = tree.find(".//rel") is not None  # a <rel>me</rel> child marks an author (XPath 1)
    later: tuple[list[HtmlElement], list[HtmlElement]] = ([], [])
    walker = iterwalk(tree, events=("start",))
    for _, element in walker:
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if element is not tree and _discarded(tag, element.get):
            walker.skip_subtree()
            continue
        rank = _author_rank(element, tag, element.get, rel_tags)
        if rank == 0:  # the first XPath's first valid match is the answer: no later element can win
            if 2 < len(text := _pruned_text(element)) < MAX_AUTHOR_CHARS:
                return _author(text)
        elif rank is not None:
            later[rank - 1].append(element)
    for candidates in later:
        for element in candidates:
            if 2 < len(text := _pruned_text(element)) < MAX_AUTHOR_CHARS:
                return _author(text)
    return None


def _author(text: str) -> str | None:
    author = normalize_authors(None, text)
    return _trim_field(author) if author else None


def add_page_author(tree: HtmlElement, meta: Document) -> None:
    """``page_author`` into ``meta``."""
    meta.author = page_author(tree)
