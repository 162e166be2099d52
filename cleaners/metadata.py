"""Page metadata of an HTML tree: title, date, author, URL, site, description (pure).

``page_metadata(tree, url)`` is trafilatura's ``extract_metadata`` trimmed to what a row keeps;
``add_page_author(tree, meta)`` finishes it with trafilatura's author search in the page when
the meta tags and JSON-LD named none. ``cleaners.extract`` calls both.
"""

from __future__ import annotations

from copy import deepcopy
from html import unescape

from courlan import extract_domain
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.metadata import (
    AUTHOR_DISCARD_XPATHS,
    AUTHOR_XPATHS,
    META_URL,
    examine_meta,
    extract_meta_json,
    extract_metainfo,
    extract_sitename,
    extract_title,
    extract_url,
    normalize_authors,
)
from trafilatura.settings import DEFAULT_CONFIG, Document, set_date_params
from trafilatura.utils import line_processing


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


def add_page_author(tree: HtmlElement, meta: Document) -> None:
    """trafilatura's ``extract_author`` into ``meta``, pruning ``tree`` in place (its last use)
    instead of a deep copy. A copy of the root leaves out what the parser put beside it (a
    byline after ``</html>``), so such a tree is still copied."""
    if tree.getprevious() is not None or tree.getnext() is not None:
        tree = deepcopy(tree)
    author = extract_metainfo(prune_unwanted_nodes(tree, AUTHOR_DISCARD_XPATHS), AUTHOR_XPATHS, len_limit=120)
    author = normalize_authors(None, author) if author else None
    meta.author = _trim_field(author) if author else author
