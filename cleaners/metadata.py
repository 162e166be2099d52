"""Page metadata of an HTML tree: title, publication date, author, URL, site, description (pure).

``page_metadata(tree, url)`` reads what the page declares and what it shows under its headline,
cheapest sources first; the costly searches (htmldate's full date search, trafilatura's author
elements) run only when the cheap sources found nothing. ``add_page_author(tree, meta)`` is that
author search, run by ``cleaners.extract`` when ``page_metadata`` says it is still needed. Neither
changes ``tree``. The sources, each a name in the shipped rules (``metadata_rules.json``, chosen
on site folds by ``python -m evals.metadata --write``):

- title: the page's ``<h1>`` headings are compared with the titles it declares (``jsonld``: a
  JSON-LD article headline; ``meta``: og:title, else a title meta tag; ``html``: ``<title>``);
  the heading most like one of them is the title when it is at least ``min_heading_similarity``
  alike (F1 of their word sets; a page that declares no title takes its first heading). Else the
  first declared title in ``title_order``, a site name before or after it cut off ("Headline |
  Site"); else trafilatura's title search (class names, ``<h2>``).
- published, the first date found in ``date_order``: ``url`` (a full date in the URL path),
  ``byline`` (the first date written in a short line of the ``BYLINE_CHARS`` characters after
  the title heading, not labelled as an update, and not more than ``ZONE_DAYS`` after the date of
  ``meta``), ``meta`` (meta tags, then JSON-LD ``datePublished``: htmldate's header and JSON
  passes), ``byline_updated`` (a date labelled "Updated ..." there, or later than ``meta``'s),
  ``time`` (``<time datetime>`` elements), ``htmldate`` (htmldate's full search, which also reads
  the text of the whole page).
- author, the first found in ``author_order``: ``jsonld`` (JSON-LD Person names), ``meta``
  (author meta tags, a name of two words or more), ``byline`` ("By Name" after the title heading);
  else trafilatura's search of author elements (``rel=author``, ``class=byline``, ...), done as
  one walk over the tree (``page_author``: the same answer at about a quarter of the time).

URL, host name, site name and description are trafilatura's (``examine_meta`` and JSON-LD,
canonical link, site name from the URL), every string field trimmed as trafilatura does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from html import unescape
from pathlib import Path

from courlan import extract_domain
from htmldate import find_date
from htmldate.core import examine_header, examine_time_elements
from htmldate.extractors import extract_url_date, json_search
from htmldate.utils import Extractor
from htmldate.validators import get_max_date, get_min_date
from lxml.etree import XPath, iterwalk
from lxml.html import HtmlElement
from trafilatura.baseline import block_text
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

from cleaners.boilerplate import find_date as find_written_date
from cleaners.boilerplate.lines import SENTENCE_END_RE
from cleaners.boilerplate.vocab import TIME_ZONE_END_RE
from cleaners.shipped import read_json

RULES_PATH = Path(__file__).with_name("metadata_rules.json")  # package data (pyproject)
TITLE_SOURCES = ("jsonld", "meta", "html")
DATE_SOURCES = ("url", "byline", "meta", "byline_updated", "time", "htmldate")
AUTHOR_SOURCES = ("jsonld", "meta", "byline")  # trafilatura's element search comes after them all
MAX_HEADINGS = 10  # <h1> elements looked at: a page with more uses them as section heads
BYLINE_CHARS = 600  # text after the headline searched for the byline (date, "By ...")
BYLINE_NODES = 80  # text nodes read for it at most (keeps the XPath bounded on link-heavy pages)
MAX_BYLINE_WORDS = 14  # "Last updated: Dec 4, 2025 · 12 min read"; a sentence quoting a date is longer
MAX_LABEL_WORDS = 4  # "Last updated on" ahead of a date (in its text node or the one before)
# The date printed under a headline is the local one; the meta tags' timestamp may be UTC, a day
# off. A byline date later than that is an update the page did not label as one.
ZONE_DAYS = 1
MAX_SITE_WORDS = 4  # "Budget Travel With Gabby"; a longer title part naming the site is a headline
MAX_AUTHOR_WORDS = 5  # "Danielle DeSiato"; longer is a sentence, not a name
# Text nodes of these elements are no part of what a reader sees.
INVISIBLE_TAGS = frozenset(("script", "style", "noscript", "template", "title"))
# BYLINE_TEXT_XPATH: the text nodes after an element in document order (position() bounds the walk).
BYLINE_TEXT_XPATH = XPath(f"following::text()[position() <= {BYLINE_NODES}]")

# UPDATED_RE: a date labelled as a revision. matches "Last updated:", "Updated on", "Modified";
# does not match "Published", "Update your settings"
UPDATED_RE = re.compile(r"\b(?:updated|modified|revised)\b", re.IGNORECASE)
# BYLINE_LABEL_RE: a text node that only introduces the author. matches "By", "Written by:",
# "Author:"; does not match "Reviewed by", "Bylines"
BYLINE_LABEL_RE = re.compile(r"^(?:(?:written|posted|words|story|article|published)\s+)?by:?$|^authors?:?$", re.IGNORECASE)
# NOT_AUTHOR_RE: what makes a "by" credit someone other than the author. matches "Medically
# reviewed", "Fact checked", "Photos"; does not match "Written", "Posted"
NOT_AUTHOR_RE = re.compile(r"(?:review|edit|check|photo|illustrat|translat|sponsor)\w*\s*$", re.IGNORECASE)
# BYLINE_INLINE_RE: "By Name" in one text node. matches "By Jane Doe", "Written by: Jane Doe" ->
# "Jane Doe"; does not match "Reviewed by Jane Doe", "Bypass the queue"
BYLINE_INLINE_RE = re.compile(r"^(?:(?:written|posted|words|story|article|published)\s+)?by:?\s+(?P<name>.+)$", re.IGNORECASE)
# AUTHOR_NAME_RE: what a byline name looks like: a letter first, no digits or sentence marks.
# matches "Jane Doe", "Maria & Katerina"; does not match "12 min read", "Share: Facebook"
AUTHOR_NAME_RE = re.compile(r"^[^\W\d_][^\d@:!?|•]*$")
# TITLE_SEPARATOR_RE: where a declared title joins its parts. matches " | ", " - ", " – ", ": ";
# does not match "Cross-Country", "4:30"
TITLE_SEPARATOR_RE = re.compile(r"\s+[|–—·•»~/-]\s+|\s+::\s+|:\s+")
# SITE_KEY_RE: characters dropped to compare a title part with a site name. "Move.org" -> "moveorg"
SITE_KEY_RE = re.compile(r"[\W_]+")
WORD_RE = re.compile(r"\w+")  # title words compared with each other: "Don't stop" -> don, t, stop

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


@dataclass(frozen=True)
class MetadataRules:
    """Which source wins (see the module docstring); the shipped ones are in ``metadata_rules.json``."""

    min_heading_similarity: float = 0.5
    title_order: tuple[str, ...] = TITLE_SOURCES
    date_order: tuple[str, ...] = ("url", "meta", "byline", "byline_updated", "htmldate")
    author_order: tuple[str, ...] = AUTHOR_SOURCES

    def __post_init__(self) -> None:
        for name, order, known in (
            ("title_order", self.title_order, TITLE_SOURCES),
            ("date_order", self.date_order, DATE_SOURCES),
            ("author_order", self.author_order, AUTHOR_SOURCES),
        ):
            unknown = [s for s in order if s not in known]
            if unknown or len(set(order)) < len(order):
                raise ValueError(f"{name}: {list(order)} (sources are {', '.join(known)}, each at most once)")


def rules_from_dict(data: dict) -> MetadataRules:
    return MetadataRules(
        min_heading_similarity=float(data["min_heading_similarity"]),
        title_order=tuple(data["title_order"]),
        date_order=tuple(data["date_order"]),
        author_order=tuple(data["author_order"]),
    )


@cache
def shipped_rules() -> MetadataRules:
    """The shipped rules (read once), or the defaults above when the file is not shipped."""
    data = read_json(RULES_PATH)
    return MetadataRules() if data is None else rules_from_dict(data["rules"])


def _trim_field(value: str) -> str | None:
    """trafilatura's ``Document.clean_and_trim`` for one string field."""
    if len(value) > 10000:
        value = value[:9999] + "…"
    return line_processing(unescape(value))


def _words(text: str) -> set[str]:
    return set(WORD_RE.findall(unescape(text).casefold()))


def similarity(a: str, b: str) -> float:
    """F1 of the two texts' word sets (0.0 when either has none)."""
    wa, wb = _words(a), _words(b)
    return 2 * len(wa & wb) / (len(wa) + len(wb)) if wa and wb else 0.0


def _site_key(text: str) -> str:
    return SITE_KEY_RE.sub("", text.casefold())


def site_keys(sitename: str | None, hostname: str | None) -> tuple[str, ...]:
    """What a site calls itself, as compared (``_site_key``): its name and the labels of its host
    name but the last ("move.org" -> "move"), those of 4+ characters."""
    names = [sitename or "", *(hostname or "").split(".")[:-1]]
    return tuple(k for k in map(_site_key, names) if len(k) >= 4)


def site_like(text: str, keys: tuple[str, ...]) -> bool:
    """``text`` names the site: its key is a site key or inside one, or it is a short text
    (``MAX_SITE_WORDS``) containing one ("Psychiatry.org", "The Motley Fool" for fool.com)."""
    key = _site_key(text)
    if not key:
        return False
    short = len(text.split()) <= MAX_SITE_WORDS
    return any(key in k or (short and k in key) for k in keys)


def cut_site_name(title: str, keys: tuple[str, ...]) -> str:
    """``title`` without the site name at its start or end ("Headline | Site", "Site: Headline")."""
    parts = TITLE_SEPARATOR_RE.split(title)
    if len(parts) < 2 or not keys:
        return title
    start, end = 0, len(parts)
    while end - start > 1 and site_like(parts[end - 1], keys):
        end -= 1
    while end - start > 1 and site_like(parts[start], keys):
        start += 1
    if (start, end) == (0, len(parts)):
        return title
    # the parts kept, joined as the title had them
    spans = [m.span() for m in TITLE_SEPARATOR_RE.finditer(title)]
    begin = spans[start - 1][1] if start else 0
    stop = spans[end - 1][0] if end < len(parts) else len(title)
    return title[begin:stop].strip()


@dataclass(frozen=True)
class Byline:
    """What the text right after the headline states: dates (unlabelled, "updated") and an author."""

    date: str | None = None
    updated: str | None = None
    author: str | None = None


def _visible_texts(nodes: list) -> list[str]:
    """The text nodes a reader sees, whitespace collapsed, empty ones left out, up to BYLINE_CHARS."""
    out: list[str] = []
    total = 0
    for node in nodes:
        parent = node.getparent()
        if parent is None or (not node.is_tail and parent.tag in INVISIBLE_TAGS):
            continue
        text = " ".join(node.split())
        if not text:
            continue
        out.append(text)
        total += len(text)
        if total > BYLINE_CHARS:
            break
    return out


def _byline_author(text: str, previous: str | None, before: str | None) -> str | None:
    """The author named by ``text``, given the two text nodes before it (a "By" label there)."""
    labelled = previous is not None and BYLINE_LABEL_RE.match(previous)
    name = text if labelled and not (before is not None and NOT_AUTHOR_RE.search(before)) else None
    if name is None and (m := BYLINE_INLINE_RE.match(text)):
        name = m.group("name").strip()
    if name and len(name.split()) <= MAX_AUTHOR_WORDS and AUTHOR_NAME_RE.match(name) and name[0].isupper():
        return normalize_authors(None, name)
    return None


def later_than(date: str, declared: str, days: int) -> bool:
    """``date`` (ISO) is more than ``days`` after ``declared`` (ISO, a time may follow)."""
    try:
        return dt.date.fromisoformat(date[:10]) - dt.date.fromisoformat(declared[:10]) > dt.timedelta(days=days)
    except ValueError:
        return False


def _prose_date(text: str, label: str) -> bool:
    """A sentence quoting a date ("The launch is now planned for 12 May 2022."): more words
    before the date than a label has, and a sentence's end."""
    return len(label.split()) > MAX_LABEL_WORDS and bool(SENTENCE_END_RE.search(text)) and not TIME_ZONE_END_RE.search(text)


def read_byline(heading: HtmlElement, earliest: dt.date, latest: dt.date) -> Byline:
    """The byline under ``heading``: the first plausible dates (in [earliest, latest]) written in a
    short text node, split by whether an "updated" label precedes them, and a "By Name" author."""
    date = updated = author = None
    previous = before = None
    for text in _visible_texts(BYLINE_TEXT_XPATH(heading)):
        if author is None:
            author = _byline_author(text, previous, before)
        if (
            len(text.split()) <= MAX_BYLINE_WORDS
            and (found := find_written_date(text))
            and earliest <= found <= latest
            and not _prose_date(text, label := text[: text.find(str(found.year))])
        ):
            if previous is not None and len(previous.split()) <= MAX_LABEL_WORDS:
                label = previous + " " + label
            if UPDATED_RE.search(label):
                updated = updated or found.isoformat()
            else:
                date = date or found.isoformat()
        if date and updated and author:
            break
        previous, before = text, previous
    return Byline(date, updated, author)


@dataclass
class PageSources:
    """Every metadata source of one parsed page, each read when first asked for and then kept,
    so that ``decide`` reads only what its rules reach, and an evaluation can try several rules
    on one page without reading a source twice."""

    tree: HtmlElement
    url: str | None  # the canonical URL, else the given one
    meta: Document  # trafilatura's meta tags + JSON-LD (site, description, URL, ...)
    titles: dict[str, str]  # declared titles by source
    authors: dict[str, str]  # declared authors by source
    headings: list[tuple[HtmlElement, str]]  # non-empty <h1> elements and their text
    sites: tuple[str, ...]  # site_keys of the page's site
    options: Extractor  # htmldate's date bounds
    date_config: dict
    _best_heading: tuple[int, float] | None = None
    _dates: dict = field(default_factory=dict)
    _bylines: dict = field(default_factory=dict)

    def heading(self, rules: MetadataRules) -> int | None:
        """Index of the title heading: the one most like a declared title when alike enough; the
        first when the page declares no title."""
        if self._best_heading is None:
            candidates = [i for i, (_, text) in enumerate(self.headings) if not site_like(text, self.sites)]
            if not candidates:
                self._best_heading = (-1, 0.0)
            elif not self.titles:
                self._best_heading = (candidates[0], 1.0)
            else:
                declared = [cut_site_name(t, self.sites) for t in self.titles.values()]
                scores = {i: max(similarity(self.headings[i][1], t) for t in declared) for i in candidates}
                best = max(candidates, key=scores.__getitem__)  # the first of equals
                self._best_heading = (best, scores[best])
        best, score = self._best_heading
        return best if best >= 0 and score >= rules.min_heading_similarity and score > 0 else None

    def title(self, rules: MetadataRules, heading: int | None) -> str | None:
        if heading is not None:
            return self.headings[heading][1]
        for source in rules.title_order:
            if title := self.titles.get(source):
                return cut_site_name(title, self.sites)
        return extract_title(self.tree)

    def byline(self, heading: int | None) -> Byline:
        if heading is None:
            return Byline()
        if heading not in self._bylines:
            self._bylines[heading] = read_byline(self.headings[heading][0], self.options.min.date(), self.options.max.date())
        return self._bylines[heading]

    def date(self, source: str, heading: int | None) -> str | None:
        if source in ("byline", "byline_updated"):
            byline = self.byline(heading)
            date, updated = byline.date, byline.updated
            if date and (declared := self.date("meta", heading)) and later_than(date, declared, ZONE_DAYS):
                date, updated = None, updated or date  # an update the page did not label as one
            return date if source == "byline" else updated
        if source not in self._dates:
            self._dates[source] = DATE_FINDERS[source](self)
        return self._dates[source]

    def author(self, source: str, heading: int | None) -> str | None:
        return self.byline(heading).author if source == "byline" else self.authors.get(source)


DATE_FINDERS: dict[str, Callable[[PageSources], str | None]] = {
    "url": lambda p: extract_url_date(p.url, p.options),
    "meta": lambda p: examine_header(p.tree, p.options) or json_search(p.tree, p.options),
    "time": lambda p: examine_time_elements(p.tree, p.options),
    "htmldate": lambda p: find_date(p.tree, **p.date_config),  # works on its own copy of the tree
}


@dataclass(frozen=True)
class Decision:
    title: str | None
    date: str | None
    author: str | None  # None: trafilatura's author element search is still to run


def choose_date(page: PageSources, rules: MetadataRules) -> str | None:
    heading = page.heading(rules)
    return next((d for s in rules.date_order if (d := page.date(s, heading))), None)


def choose_author(page: PageSources, rules: MetadataRules) -> str | None:
    heading = page.heading(rules)
    return next((a for s in rules.author_order if (a := page.author(s, heading))), None)


def decide(page: PageSources, rules: MetadataRules) -> Decision:
    """Title, date and author of ``page`` under ``rules`` (reading only the sources needed)."""
    return Decision(page.title(rules, page.heading(rules)), choose_date(page, rules), choose_author(page, rules))


def read_sources(tree: HtmlElement, url: str | None) -> PageSources:
    """The cheap pass over ``tree`` (left as it was): meta tags, JSON-LD, headings, canonical URL."""
    meta = examine_meta(tree)
    titles = {"meta": meta.title} if meta.title else {}
    authors = {"meta": meta.author} if meta.author and " " in meta.author else {}  # one word: a user name
    meta.title = meta.author = None
    try:  # JSON-LD alone fills these, the meta tags' site name and URL stay as trafilatura merges them
        meta = extract_meta_json(tree, meta)
    except Exception:  # noqa: BLE001 - bugs in trafilatura's JSON-LD parsing (it logs and goes on too)
        pass
    if meta.title:
        titles["jsonld"] = meta.title
    if meta.author:
        authors["jsonld"] = meta.author
    title_element = tree.find(".//head//title")
    if title_element is not None and (html_title := " ".join(title_element.text_content().split())):
        titles["html"] = html_title
    headings = [(h, text) for h in tree.iter("h1") if (text := block_text(h))][:MAX_HEADINGS]
    if not meta.url:
        meta.url = extract_url(tree, url)
    if meta.url:
        meta.hostname = extract_domain(meta.url, fast=True)
    date_config = set_date_params(DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))
    date_config["url"] = meta.url
    options = Extractor(
        date_config["extensive_search"],
        get_max_date(date_config["max_date"]),
        get_min_date(None),
        date_config["original_date"],
        "%Y-%m-%d",
    )
    sites = site_keys(meta.sitename, meta.hostname)
    return PageSources(tree, meta.url, meta, titles, authors, headings, sites, options, date_config)


def page_metadata(tree: HtmlElement, url: str | None, rules: MetadataRules | None = None) -> tuple[Document, bool]:
    """Title, date, url, hostname, sitename, description and an author from the cheap sources
    (trimmed as trafilatura trims them). ``tree`` is left as it was. Returns the metadata and
    whether the author must still be searched in the page (``add_page_author``)."""
    page = read_sources(tree, url)
    found = decide(page, rules or shipped_rules())
    meta = page.meta
    meta.title, meta.date, meta.author = found.title, found.date, found.author
    if not meta.sitename:
        meta.sitename = extract_sitename(tree)
    if meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    elif meta.url and (m := META_URL.match(meta.url)):
        meta.sitename = m[1]
    meta.clean_and_trim()
    return meta, not meta.author


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
