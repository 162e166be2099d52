"""HTML -> main text and metadata, wrapping trafilatura (pure: the caller passes decoded HTML).

``extract_html(html, cfg, url)`` returns an ``Extracted`` record whose ``text`` has one paragraph
per line and a blank line between paragraphs, or raises ``ExtractError`` with a stable reason:
``empty_html``, ``parse_error``, ``too_deep``, ``wrong_language``, ``no_main_text``.
libxml2 (``huge_tree`` off) silently cuts a document nested deeper than 256 elements; such a
page is re-parsed once with its wrapper tags (div, span, table cells, ...) removed
(``flatten_wrappers``) and is ``too_deep`` only if that is still too deep.
``cfg.target_language`` is checked against the language the page declares (a page that declares
none passes). Comments are never part of the text unless ``cfg.include_comments``; title, date,
author, site and canonical URL come from ``cleaners.metadata``. Two general clean-ups follow trafilatura: a first paragraph repeating the title is
dropped (``drop_title_line``) and so are short copyright/credit paragraphs (``drop_copyright_lines``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import partial

from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Document
from trafilatura.utils import load_html

from cleaners.config import ExtractConfig
from cleaners.errors import ExtractError
from cleaners.metadata import add_page_author, page_metadata
from cleaners.pagetype import PageScores, score_page

# LANG_CODE_RE: the primary subtag of a language tag. matches: "en-US" -> "en", "pt_BR" -> "pt" ; does not match: "1x"
LANG_CODE_RE = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*$")
COPYRIGHT_TOKENS = ("©", "(c)", "copyright", "all rights reserved", "tous droits réservés", "alle rechte vorbehalten")
# COPYRIGHT_RE matches: "© Inexhibit 2019 - ISSN: 2283-5474" ; does not match: "He copied the files"
COPYRIGHT_RE = re.compile("|".join(r"(?<!\w)" + re.escape(t) for t in COPYRIGHT_TOKENS), re.IGNORECASE)
# COPYRIGHT_TOKEN_RE: the tokens anywhere (a text without one has no COPYRIGHT_RE match; 3x faster
# without the look-behind). matches: "Copyrighted", "© AP" ; does not match: "He copied the files"
COPYRIGHT_TOKEN_RE = re.compile("|".join(re.escape(t) for t in COPYRIGHT_TOKENS), re.IGNORECASE)
# libxml2's nesting limit without XML_PARSE_HUGE is 256: a tree reaching it was cut short.
MAX_PARSED_DEPTH = 255
# An element with MAX_PARSED_DEPTH element ancestors exists: one child step per level from the
# root visits each element once (``//*[count(ancestor::*) >= 255]`` counts ancestors per element).
DEPTH_LIMIT_XPATH = "boolean(" + "/*" * (MAX_PARSED_DEPTH + 1) + ")"
# Tags that only wrap other content; dropping them keeps the text (paragraphs, headings, br stay).
WRAPPER_TAGS = ("div", "span", "font", "section", "article", "main", "center", "b", "i", "u", "em", "strong", "small", "big",
                "blockquote", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "ul", "ol", "li", "dl", "dt", "dd", "a", "form", "label")
# WRAPPER_TAG_RE matches: "<div class='x'>", "</SPAN>" ; does not match: "<p>", "<divx>", "<h1>"
WRAPPER_TAG_RE = re.compile(r"</?(?:" + "|".join(WRAPPER_TAGS) + r")\b[^>]*>", re.IGNORECASE)
# Where a page states its language, most to least authoritative.
LANGUAGE_XPATHS = (
    "/html/@lang",
    "/html/@xml:lang",
    '//meta[@http-equiv="content-language" or @http-equiv="Content-Language"]/@content',
    '//meta[@property="og:locale"]/@content',
)


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None = None
    author: str | None = None
    published: dt.date | None = None
    site: str | None = None
    language: str | None = None  # ISO 639 code declared by the page
    url: str | None = None  # canonical URL when the page declares one, else the given URL
    description: str | None = None
    page_scores: PageScores | None = None  # page type probabilities (cleaners.pagetype), None when not asked for


def page_language(tree: HtmlElement) -> str | None:
    """The ISO 639 code a page declares (``<html lang>``, content-language, og:locale), lower case."""
    for xpath in LANGUAGE_XPATHS:
        try:
            values = tree.xpath(xpath, namespaces={"xml": "http://www.w3.org/XML/1998/namespace"})
        except Exception:  # lxml raises on namespace edge cases of broken pages
            continue
        for value in values:
            m = LANG_CODE_RE.match(str(value))
            if m:
                return m.group(1).lower()
    return None


def hit_depth_limit(tree: HtmlElement) -> bool:
    """True if the parsed tree reaches libxml2's nesting limit (the rest of the page was dropped)."""
    return bool(tree.xpath(DEPTH_LIMIT_XPATH))


def flatten_wrappers(html: str) -> str:
    """Remove wrapper tags (a closing block wrapper becomes a line break) so that nesting collapses."""
    return WRAPPER_TAG_RE.sub(lambda m: "<br>" if m.group(0).startswith("</") and m.group(0)[2:4].lower() in ("di", "li", "tr", "bl", "ta") else "", html)


def _parse_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _paragraphs(text: str) -> str:
    """One paragraph a line, blank lines between them."""
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _casefold_words(text: str) -> str:
    return " ".join(text.split()).casefold()


def drop_title_line(text: str, title: str | None) -> str:
    """Remove a first paragraph that repeats the title (trafilatura keeps the <h1>)."""
    if not title:
        return text
    first, sep, rest = text.partition("\n\n")
    return rest if sep and _casefold_words(first) == _casefold_words(title) else text


def drop_copyright_lines(text: str, max_words: int) -> str:
    """Remove short paragraphs carrying a copyright notice or photo credit (``© AP 2019``)."""
    if max_words <= 0 or not COPYRIGHT_TOKEN_RE.search(text):
        return text
    paras = text.split("\n\n")
    kept = [p for p in paras if not (COPYRIGHT_RE.search(p) and len(p.split()) < max_words)]
    return "\n\n".join(kept) if len(kept) < len(paras) else text


def _none_if_blank(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _run_trafilatura(tree: HtmlElement, cfg: ExtractConfig, *, url: str | None, precision: bool, recall: bool, fast: bool):
    return bare_extraction(
        tree,
        url=url,
        fast=fast,
        favor_precision=precision,
        favor_recall=recall,
        include_comments=cfg.include_comments,
        include_tables=cfg.include_tables,
        include_images=cfg.include_images,
        deduplicate=cfg.deduplicate,
        with_metadata=False,
        output_format="python",
    )


def extract_html(html: str, cfg: ExtractConfig, url: str | None = None, score_type: bool = False) -> Extracted:
    """Main text and metadata of one HTML page; raises ``ExtractError`` when there is none.
    ``score_type``: also score the page type (``cleaners.pagetype``) on the tree before trafilatura prunes it."""
    if not html or not html.strip():
        raise ExtractError("empty_html")
    try:
        tree = load_html(html)
    except (TypeError, ValueError) as exc:
        raise ExtractError("parse_error", str(exc)[:120]) from exc
    if tree is None:
        raise ExtractError("parse_error", "not parseable as HTML")
    if hit_depth_limit(tree):
        tree = load_html(flatten_wrappers(html))
        if tree is None or hit_depth_limit(tree):
            raise ExtractError("too_deep", f"elements nested deeper than {MAX_PARSED_DEPTH} even without wrapper tags")
    language = page_language(tree)
    if cfg.target_language and language and language != cfg.target_language.lower():
        raise ExtractError("wrong_language", f"page declares {language}")
    scores = score_page(tree, url) if score_type else None  # before metadata and trafilatura change the tree
    meta, need_author = page_metadata(tree, url) if cfg.with_metadata else (Document(), False)
    # trafilatura extracts with the metadata's URL when none is given (it only resolves links)
    run = partial(_run_trafilatura, tree, cfg, url=url or meta.url, precision=cfg.favor_precision, recall=cfg.favor_recall)
    doc = run(fast=cfg.fast)
    if cfg.fast and (len(doc.text or "") if doc is not None else 0) < cfg.min_fast_text_chars:
        doc = run(fast=False)  # short: let readability/justext compete
    if need_author:
        add_page_author(tree, meta)
    text = _paragraphs(doc.text or "") if doc is not None else ""
    if cfg.drop_title_line and doc is not None:
        text = drop_title_line(text, meta.title)
    text = drop_copyright_lines(text, cfg.max_copyright_line_words)
    if len(text) < cfg.min_text_chars:
        raise ExtractError("no_main_text", f"{len(text)} chars")
    return Extracted(
        text=text,
        title=_none_if_blank(meta.title),
        author=_none_if_blank(meta.author),
        published=_parse_date(meta.date),
        site=_none_if_blank(meta.sitename) or _none_if_blank(meta.hostname),
        language=language or _none_if_blank(meta.language),
        url=_none_if_blank(meta.url) or url,
        description=_none_if_blank(meta.description),
        page_scores=scores,
    )
