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

The body judge (``choose_body``, issue 14) picks the body among up to three passes, measured against
the page's visible text (``visible_chars``: body text outside script/style/noscript/template):
  1. ``first``: trafilatura with the configured mode (fast, favor_precision by default); cheap.
  2. ``recall``: when the first text is shorter than ``recall_trigger`` x visible, trafilatura's full
     mode with favor_recall (no precision); it wins when it is ``recall_wins_ratio`` times longer and
     the first text is shorter than ``recall_wins_below`` x visible (fast mode accepting a 600-char
     intro of a 13k transcript, favor_precision returning a stub of a how-to page).
  3. ``justext``: when the best text is still shorter than ``justext_trigger`` x visible and than
     ``justext_max_chars``, jusText with the stop list of the page's declared language (English when
     it declares none or one jusText lacks); it wins when ``justext_wins_ratio`` times longer.
The settings were fitted on AEB and WCXB dev with site folds held out (``evals.select_fit``).

Work is shared, never results (issue 16): the page is parsed once (``HTML_PARSER``: trafilatura's
parser options, lxml.html's element classes looked up in C) and the tree serves the page type, the
metadata, every pass and jusText; the first and recall passes start from one copy of it pruned as
trafilatura prunes its raw tree (``raw_pruned``). tests/cleaners/test_extract_passes.py checks both
against trafilatura's own path.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from justext.core import ParagraphMaker, classify_paragraphs, revise_paragraph_classification
from justext.utils import get_stoplist
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlElementClassLookup, HtmlEntity, HtmlProcessingInstruction, fromstring
from trafilatura import bare_extraction
from trafilatura.baseline import baseline, basic_cleaning
from trafilatura.core import _extract_and_compare, _forum_thread_page, _prepare_tree
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.settings import JUSTEXT_LANGUAGES, Document, Extractor
from trafilatura.utils import is_dubious_html, repair_faulty_html
from trafilatura.xml import xmltotxt
from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH, REMOVE_COMMENTS_XPATH

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
# Text a reader never sees: its characters do not count in the page's visible length.
INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "math", "head", "title", "iframe", "object")
INVISIBLE_TAG_SET = frozenset(INVISIBLE_TAGS)
# jusText's stop list when the page declares no language jusText knows (the dev sets are mostly English)
JUSTEXT_DEFAULT_LANGUAGE = "en"
# The extraction passes, in the order the judge runs them (``Extracted.extraction_path``).
PASSES = ("first", "recall", "justext")
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
    # the passes the body judge ran, "+"-joined in order, the winning one last-marked with "*":
    # "first*", "first+recall*", "first*+recall+justext"
    extraction_path: str = "first*"
    page_scores: PageScores | None = None  # page type probabilities (cleaners.pagetype), None when not asked for


@dataclass(frozen=True)
class Body:
    """The body judge's choice: the text (trafilatura's, before paragraph clean-up), the passes run and the winner."""

    text: str
    winner: str
    passes: tuple[str, ...]

    @property
    def path(self) -> str:
        return "+".join(p + ("*" if p == self.winner else "") for p in self.passes)


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


def finish_body(text: str, title: str | None, cfg: ExtractConfig) -> str:
    """The chosen pass's text as ``Extracted.text``: paragraphs, title line and copyright lines dropped."""
    text = _paragraphs(text)
    if cfg.drop_title_line:
        text = drop_title_line(text, title)
    return drop_copyright_lines(text, cfg.max_copyright_line_words)


def _none_if_blank(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def visible_chars(tree: HtmlElement) -> int:
    """Characters of the text a reader sees in the page body (blanks collapsed, script/style/... left out)."""
    body = tree.find(".//body") if tree.tag != "body" else tree
    root = body if body is not None else tree
    parts: list[str] = []
    walk = etree.iterwalk(root, events=("start",))  # 4x faster than an XPath with ancestor:: tests
    for _event, el in walk:
        if el.tag in INVISIBLE_TAG_SET:
            walk.skip_subtree()
        elif el.text and isinstance(el.tag, str):  # comments and processing instructions: no text
            parts.append(el.text)
        if el is not root and el.tail:
            parts.append(el.tail)
    return len(" ".join(" ".join(parts).split()))


@lru_cache(maxsize=16)
def _stoplist(language: str) -> frozenset[str]:
    return get_stoplist(JUSTEXT_LANGUAGES.get(language) or JUSTEXT_LANGUAGES[JUSTEXT_DEFAULT_LANGUAGE])


def justext_text(tree: HtmlElement, language: str | None) -> str:
    """jusText's non-boilerplate paragraphs (trafilatura's settings, the declared language's stop list only)."""
    stoplist = _stoplist(language if language in JUSTEXT_LANGUAGES else JUSTEXT_DEFAULT_LANGUAGE)
    try:
        paragraphs = ParagraphMaker.make_paragraphs(basic_cleaning(copy.deepcopy(tree)))
        classify_paragraphs(paragraphs, stoplist, 50, 150, 0.1, 0.2, 0.25, True)
        revise_paragraph_classification(paragraphs, 150)
    except Exception:  # jusText fails on odd trees (empty bodies, broken encodings): no candidate
        return ""
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def judge_recall(first_chars: int, recall_chars: int | None, visible: int, cfg: ExtractConfig) -> tuple[bool, bool]:
    """(run the recall pass, recall wins) from text lengths; ``recall_chars`` is None before it ran."""
    run = first_chars < cfg.recall_trigger * visible
    wins = run and recall_chars is not None and first_chars < cfg.recall_wins_below * visible and recall_chars > cfg.recall_wins_ratio * first_chars
    return run, wins


def judge_justext(best_chars: int, justext_chars: int | None, visible: int, cfg: ExtractConfig) -> tuple[bool, bool]:
    """(run jusText, jusText wins) from text lengths; ``justext_chars`` is None before it ran."""
    run = best_chars < cfg.justext_trigger * visible and best_chars < cfg.justext_max_chars
    wins = run and justext_chars is not None and justext_chars > cfg.justext_wins_ratio * best_chars
    return run, wins


def choose_body(tree: HtmlElement, cfg: ExtractConfig, url: str | None, language: str | None) -> Body:
    """The body judge (module docstring): the best of the first, recall and jusText passes."""
    visible = visible_chars(tree)  # bare_extraction works on a copy, but measure before any pass anyway
    pruned = raw_pruned(tree, cfg)  # the first and recall passes start from the same pruned copy
    first = trafilatura_text(tree, cfg, url, fast=cfg.fast, precision=cfg.favor_precision, recall=cfg.favor_recall, pruned=pruned)
    passes, best, winner = ["first"], first, "first"
    if judge_recall(len(first), None, visible, cfg)[0]:
        passes.append("recall")
        recall = trafilatura_text(tree, cfg, url, fast=False, precision=False, recall=True, pruned=pruned)
        if judge_recall(len(first), len(recall), visible, cfg)[1]:
            best, winner = recall, "recall"
    if judge_justext(len(best), None, visible, cfg)[0]:
        passes.append("justext")
        jt = justext_text(tree, language)
        if judge_justext(len(best), len(jt), visible, cfg)[1]:
            best, winner = jt, "justext"
    return Body(best, winner, tuple(passes))


def raw_pruned(tree: HtmlElement, cfg: ExtractConfig) -> HtmlElement | None:
    """A copy of ``tree`` pruned as ``bare_extraction`` prunes its raw tree before extracting in the
    precision and the recall focus with comments off (page-wide boilerplate, comment sections and
    lists): the two passes of the judge share it (``trafilatura_text``). None where they would not
    prune alike (comments kept; a forum thread, whose comments the recall focus keeps)."""
    if cfg.include_comments:
        return None
    pruned = copy.copy(tree)  # lxml: a deep copy
    if _forum_thread_page(pruned):
        return None
    pruned = prune_unwanted_nodes(pruned, RAW_TREE_PRUNE_XPATH)
    return prune_unwanted_nodes(pruned, REMOVE_COMMENTS_AND_LISTS_XPATH)


def trafilatura_text(
    tree: HtmlElement, cfg: ExtractConfig, url: str | None, *, fast: bool, precision: bool, recall: bool, pruned: HtmlElement | None = None
) -> str:
    """One trafilatura pass over (a copy of) the tree: its main text, ``""`` when it finds none.
    With ``pruned`` (``raw_pruned(tree, cfg)``) a precision or recall pass starts from it, as
    ``bare_extraction`` would after pruning its own copy (``_sequence_text``); other passes, and
    trafilatura's cross-page duplicate filter, go through ``bare_extraction``."""
    options = _options(cfg, url, fast=fast, precision=precision, recall=recall)
    if pruned is not None and options.focus != "balanced" and not options.dedup and not options.max_tree_size:
        return _sequence_text(pruned, options, url)
    doc = _run_trafilatura(tree, cfg, url=url, precision=precision, recall=recall, fast=fast)
    return (doc.text or "") if doc is not None else ""


def _options(cfg: ExtractConfig, url: str | None, *, fast: bool, precision: bool, recall: bool) -> Extractor:
    """The trafilatura options of one pass: the configured comments, images, tables and duplicate
    filter, no metadata, Python output (``_run_trafilatura`` and ``_sequence_text`` both use it)."""
    return Extractor(
        output_format="python",
        fast=fast,
        precision=precision,
        recall=recall,
        comments=cfg.include_comments,
        images=cfg.include_images,
        tables=cfg.include_tables,
        dedup=cfg.deduplicate,
        url=url,
    )


def _sequence_text(pruned: HtmlElement, options: Extractor, url: str | None) -> str:
    """``bare_extraction(...).text`` of a precision or recall pass (comments off, no dedup, no tree
    size limit), from the raw tree it prunes (``raw_pruned``): the rest of ``trafilatura_sequence``
    (trafilatura 2.3: cleaning, the precision comment prune, the main extractor and, out of fast
    mode, the external comparison, the baseline rescue outside the precision focus; no escalation
    outside the balanced focus) and of ``bare_extraction`` (the minimum size, the text). Neither
    changes ``pruned``: the cleaning and the comparison work on copies, the baseline copies its
    input. ``tests/cleaners/test_extract_passes.py`` checks it gives ``bare_extraction``'s text."""
    try:
        cleaned, backup = _prepare_tree(pruned, options, url)
        if options.focus == "precision":  # post-conversion prune of the precision focus (not on forums: no pruned tree there)
            cleaned = prune_unwanted_nodes(cleaned, REMOVE_COMMENTS_XPATH)
        body, text = _extract_and_compare(cleaned, backup, pruned, options)
        if len(text) < options.min_extracted_size and options.focus != "precision":
            b_body, b_text, b_len = baseline(pruned)
            if b_len > len(text):
                body, text = b_body, b_text
        if len(text) < options.min_output_size and 0 < options.min_output_comm_size:  # no comments: 0 chars
            return ""
        return xmltotxt(body, options.formatting) or ""
    except (TypeError, ValueError):  # bare_extraction's "discarding data"
        return ""


def _run_trafilatura(tree: HtmlElement, cfg: ExtractConfig, *, url: str | None, precision: bool, recall: bool, fast: bool):
    """``bare_extraction`` of the tree (no metadata) with the options of ``_options``."""
    return bare_extraction(tree, url=url, options=_options(cfg, url, fast=fast, precision=precision, recall=recall))


def html_parser() -> etree.HTMLParser:
    """trafilatura's HTML parser (``trafilatura.utils.HTML_PARSER``: the options of its ``load_html``)
    giving the elements the classes ``lxml.html.HTMLParser`` gives them (``HtmlElement``, ``FormElement``
    for <form>, ...) by a lookup done in C: lxml.html's lookup is a Python method called for every
    element object made, and every pass over the tree (trafilatura's, htmldate's, the page type's,
    jusText's, in the copies they make too) makes them anew. Same classes, so the same behaviour."""
    lookup = etree.ElementNamespaceClassLookup(
        etree.ElementDefaultClassLookup(element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity)
    )
    by_tag = lookup.get_namespace(None)
    for tag, cls in HtmlElementClassLookup._default_element_classes.items():  # form, input, select, textarea, label
        by_tag[tag] = cls
    parser = etree.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True)
    parser.set_element_class_lookup(lookup)
    return parser


# One parser, as trafilatura has one (lxml serialises its use across threads); it holds no page state.
HTML_PARSER = html_parser()


def load_html(html: str) -> HtmlElement | None:
    """``trafilatura.utils.load_html`` of a decoded page with ``HTML_PARSER``: the same tree, faster to walk."""
    beginning = html[:50].lower()
    dubious = is_dubious_html(beginning)
    html = repair_faulty_html(html, beginning)
    tree, fallback = None, False
    try:
        tree = fromstring(html, parser=HTML_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree, fallback = _parse_bytes(html), True
    except Exception:  # noqa: BLE001 - as trafilatura: logged there, no tree here  # pragma: no cover
        tree = None
    if (tree is None or len(tree) < 1) and not fallback:
        tree = _parse_bytes(html)
    if tree is not None and dubious and len(tree) < 2:  # not (well-formed) HTML
        return None
    return tree


def _parse_bytes(html: str) -> HtmlElement | None:
    try:
        return fromstring(html.encode("utf8", "surrogatepass"), parser=HTML_PARSER)
    except Exception:  # noqa: BLE001 - trafilatura's fromstring_bytes: no tree
        return None


def parse_page(html: str) -> HtmlElement:
    """The tree extraction works on (wrappers flattened when too deep); raises ``ExtractError``."""
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
    return tree


def extract_html(html: str, cfg: ExtractConfig, url: str | None = None, score_type: bool = False) -> Extracted:
    """Main text and metadata of one HTML page; raises ``ExtractError`` when there is none.
    ``score_type``: also score the page type (``cleaners.pagetype``) on the tree before trafilatura prunes it."""
    tree = parse_page(html)
    language = page_language(tree)
    if cfg.target_language and language and language != cfg.target_language.lower():
        raise ExtractError("wrong_language", f"page declares {language}")
    scores = score_page(tree, url) if score_type else None  # before metadata and trafilatura change the tree
    meta, need_author = page_metadata(tree, url) if cfg.with_metadata else (Document(), False)
    # trafilatura extracts with the metadata's URL when none is given (it only resolves links)
    body = choose_body(tree, cfg, url or meta.url, language)
    if need_author:
        add_page_author(tree, meta)
    text = finish_body(body.text, meta.title, cfg)
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
        extraction_path=body.path,
        page_scores=scores,
    )
