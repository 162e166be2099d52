"""What is an article: the page type of an HTML page from its parsed tree (issue 14).

``page_features(tree, url)`` reads cheap signals from the already-parsed lxml tree, with a few XPath
queries and one pass over the counted tags (no Python walk over every element), before trafilatura prunes it:
- declared types: JSON-LD ``@type`` values and microdata ``itemtype`` (``ld:newsarticle``,
  ``ld:product``), ``og:type`` (``og:article``) and the names of the page's meta tags
  (``meta:article:published_time``, ``meta:product:price:amount``);
- the URL's path: depth, digits, a date, a query, the last segment's length and hyphens, and its
  words (``url:tag``, ``url:products``, ``url:docs``);
- counts (log1p), from one pass over the elements of the counted tags: links, list items, ``<article>``, forms, inputs,
  buttons, headings, tables, code blocks, ``<time>``; headings that are or hold links (teaser
  headlines); currency marks, "add to cart", forum, documentation and service phrases and years
  in the visible text; paragraph lengths; visible text and the share of it inside links;
- repeated structure: the most repeated class value (cards of a listing) and how many class
  values repeat at least ``MIN_CARD_REPEAT`` times;
- the class/id vocabulary: each token of the elements' class and id attributes (``cls:price``,
  ``cls:pagination``, ``cls:comment``), log1p of the number of elements carrying it.
Every feature is a name -> number; the model (``pagetype.json``, fitted by
``evals/fit_pagetype.py``) names the features it uses, so tokens it never saw are ignored.

``PagetypeModel`` is a multinomial logistic regression (softmax) over the standardised features;
``default_model()`` reads the shipped weights once. ``page_type(probabilities, cfg)`` is the
decision: ``article`` when P(article) reaches ``cfg.min_article_probability``, else the most
probable other type; ``check_page_type`` turns a non-article into the drop reason ``not_article``.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import numpy as np
from lxml import etree
from lxml.html import HtmlElement

from cleaners.config import PagetypeConfig
from cleaners.shipped import read_json

ARTICLE = "article"
# The page types of the WCXB labels, article first.
PAGE_TYPES = (ARTICLE, "listing", "collection", "product", "service", "forum", "documentation")
NOT_ARTICLE = "not_article"  # the drop reason of a page that is not an article
MODEL_RESOURCE = "pagetype.json"  # package data beside this module (pyproject: [tool.setuptools.package-data])
MODEL_PATH = Path(__file__).with_name(MODEL_RESOURCE)

COUNTED_TAGS = (
    "a", "p", "li", "article", "section", "form", "input", "button", "select", "h1", "h2", "h3", "h4",
    "table", "img", "nav", "aside", "time", "code", "pre", "iframe", "blockquote", "figure", "label",
)
# Counted in one pass over the document's elements of these tags (``tag_counts``): with the C-level
# class lookup of ``cleaners.extract.HTML_PARSER`` that costs a third of one ``count(//tag)`` XPath
# per tag (a Python walk over every element costs ~5x more).
CLASS_ID_XPATH = etree.XPath("//@class | //@id", smart_strings=False)
ITEMTYPE_XPATH = etree.XPath("//@itemtype", smart_strings=False)
JSONLD_XPATH = etree.XPath('//script[@type="application/ld+json"]/text()', smart_strings=False)
META_XPATH = etree.XPath("//meta[@property or @name or @itemprop]")
VISIBLE_TEXT_XPATH = etree.XPath(
    "//body//text()[not(parent::script or parent::style or parent::noscript or parent::template)]", smart_strings=False
)
LINK_TEXT_XPATH = etree.XPath("//body//a//text()", smart_strings=False)
PARAGRAPH_XPATH = etree.XPath("//p")
# headings that are links or hold one: the teaser headlines of a listing
# (the union of five name tests: 2.5x faster than ``//*[self::h1 or ...]``, the same elements)
HEADING_LINKS_XPATH = etree.XPath("count((//h1|//h2|//h3|//h4|//h5)[ancestor::a or .//a])")
CANONICAL_XPATH = etree.XPath('//link[@rel="canonical"]/@href | //meta[@property="og:url"]/@content', smart_strings=False)
REL_NEXT_XPATH = etree.XPath('boolean(//link[@rel="next"] | //a[@rel="next"])')
MAX_TEXT_CHARS = 200_000  # the text searched for prices and dates (a long page's first part tells enough)
MAX_TOKEN_CHARS = 30  # longer class tokens are generated names, not words
MIN_CARD_REPEAT = 4  # elements sharing one class value this often are a repeated structure (cards, rows)
LONG_PARAGRAPH_CHARS = 150  # a paragraph of prose, not a teaser or a label

# CLASS_TOKEN_RE: the words of a class or id value, camelCase split. "post-title" -> post, title;
# "productCard__price2" -> product, Card, price; "x" and "123" give nothing
CLASS_TOKEN_RE = re.compile(r"[A-Z]?[a-z]{2,}|[A-Z]{2,}(?![a-z])")
# URL_WORD_RE: the words of a URL path. "/blog/my-post_2" -> blog, my, post ; "/123/" gives nothing
URL_WORD_RE = re.compile(r"[a-z]{2,}")
# URL_DATE_RE: a date in a URL path. matches: "/2024/05/", "/2024-05-17-", "/20240517/" ; does not match: "/1024/", "/products/2024"
URL_DATE_RE = re.compile(r"/(?:19|20)\d\d(?:[/-](?:0?[1-9]|1[0-2])(?:[/-]|$)|(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])/)")
# LD_TYPE_RE: the @type values in a JSON-LD block, single or listed.
# matches: '"@type": "NewsArticle"', '"@type":["Product","Thing"]' ; does not match: '"type": "x"'
LD_TYPE_RE = re.compile(r'"@type"\s*:\s*(\[[^\]]*\]|"[^"]*")')
# QUOTED_RE: one quoted string. '"Product"' -> Product ; 'Product' does not match
QUOTED_RE = re.compile(r'"([^"]*)"')
# YEAR_RE: a year of this or the last century standing alone, the cheap mark of a dated item
# (a literal prefix keeps the scan fast). matches: "2024", "(1999)" ; does not match: "20245", "12024", "2100"
YEAR_RE = re.compile(r"(?<!\d)(?:20[0-3]\d|19\d\d)(?!\d)")
# Counted in the lower-cased visible text with str.count (case-insensitive regex alternations
# cost ~50x more on a long page).
CURRENCY_MARKS = ("$", "€", "£", "¥", "₹", "usd", "eur")
CART_PHRASES = ("add to cart", "add to bag", "add to basket", "buy now", "in stock", "out of stock", "checkout", "free shipping", "quantity")
FORUM_PHRASES = ("reply", "replies", "posted by", "joined", "quote", "thread", "answered", "upvote", "views", "members")
DOC_PHRASES = ("documentation", "parameters", "returns", "example", "syntax", "version", "install", "see also")
SERVICE_PHRASES = ("contact us", "get started", "book", "free consultation", "our services", "pricing", "request a", "schedule")

NUMERIC_FEATURES = (
    *(f"n_{tag}" for tag in COUNTED_TAGS),
    "text_chars", "link_text_share", "p_text_share", "n_long_p", "max_p_chars", "mean_p_chars",
    "heading_links", "heading_link_share", "max_class_repeat", "card_groups", "n_prices", "n_cart", "n_years",
    "years_per_link", "n_forum_words", "n_doc_words", "n_service_words", "n_jsonld", "has_canonical", "has_rel_next",
    "url_depth", "url_digits", "url_date", "url_query", "url_last_chars", "url_last_hyphens", "url_slash_end", "url_root",
)


URL_FEATURES = frozenset(n for n in NUMERIC_FEATURES if n.startswith("url_"))


def _url_features(url: str | None, out: dict[str, float]) -> None:
    """The URL path's features; none for a page without a known URL (not the same as a site's
    root page: the model reads absent URL features as its training mean, see ``PagetypeModel.vector``)."""
    if not url:
        return
    parts = urlsplit(url)
    path = parts.path or "/"
    segments = [s for s in path.split("/") if s]
    last = segments[-1] if segments else ""
    out["url_depth"] = float(len(segments))
    out["url_digits"] = float(sum(any(c.isdigit() for c in s) for s in segments))
    out["url_date"] = float(bool(URL_DATE_RE.search(path)))
    out["url_query"] = float(bool(parts.query))
    out["url_last_chars"] = math.log1p(len(last))
    out["url_last_hyphens"] = math.log1p(last.count("-") + last.count("_"))
    out["url_slash_end"] = float(path.endswith("/"))
    out["url_root"] = float(not segments)
    for word in set(URL_WORD_RE.findall(path.lower())):
        out["url:" + word] = 1.0


def _ld_types(text: str) -> set[str]:
    found = set()
    for m in LD_TYPE_RE.finditer(text):
        for name in QUOTED_RE.findall(m.group(1)):
            found.add(name.rsplit("/", 1)[-1].strip().lower())
    return found


def page_url(tree: HtmlElement, url: str | None) -> str | None:
    """The URL read for the page's path: the given one, else the page's canonical or og:url link."""
    if url:
        return url
    values = CANONICAL_XPATH(tree)
    return str(values[0]) if values else None


def _declared(tree: HtmlElement) -> tuple[set[str], int]:
    """The types and meta names a page declares (``ld:``, ``og:``, ``meta:``) and its JSON-LD block count."""
    names = {"ld:" + t.rsplit("/", 1)[-1].lower() for value in ITEMTYPE_XPATH(tree) for t in value.split()}
    blocks = JSONLD_XPATH(tree)
    for block in blocks:
        names.update("ld:" + t for t in _ld_types(block))
    for meta in META_XPATH(tree):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if key and len(key) <= 40:
            names.add("meta:" + key)
            if key == "og:type":
                names.add("og:" + (meta.get("content") or "").strip().lower()[:30])
    return names, len(blocks)


def _class_features(tree: HtmlElement, out: dict[str, float]) -> None:
    """``cls:<token>`` per class/id word (log1p of the elements carrying it) and the repeated class values."""
    values = Counter(CLASS_ID_XPATH(tree))
    tokens: Counter[str] = Counter()
    for value, n in values.items():
        for token in {t.lower() for t in CLASS_TOKEN_RE.findall(value) if len(t) <= MAX_TOKEN_CHARS}:
            tokens[token] += n
    out["max_class_repeat"] = math.log1p(max(values.values(), default=0))
    out["card_groups"] = math.log1p(sum(n >= MIN_CARD_REPEAT for n in values.values()))
    for token, n in tokens.items():
        out["cls:" + token] = math.log1p(n)


def _count(text: str, phrases: Sequence[str]) -> float:
    return math.log1p(sum(text.count(p) for p in phrases))


def tag_counts(tree: HtmlElement) -> dict[str, int]:
    """How many elements of each of ``COUNTED_TAGS`` the whole document holds (``count(//tag)``)."""
    found = Counter(el.tag for el in tree.getroottree().getroot().iter(*COUNTED_TAGS))
    return {tag: found[tag] for tag in COUNTED_TAGS}


def page_features(tree: HtmlElement, url: str | None = None) -> dict[str, float]:
    """The named signals of one parsed page (see the module docstring); reads, never changes, ``tree``."""
    out: dict[str, float] = {f"n_{tag}": math.log1p(n) for tag, n in tag_counts(tree).items()}
    pieces = VISIBLE_TEXT_XPATH(tree)
    text_chars = sum(len(t.strip()) for t in pieces)
    link_chars = sum(len(t.strip()) for t in LINK_TEXT_XPATH(tree))
    p_lengths = [len(p.text_content().strip()) for p in PARAGRAPH_XPATH(tree)]
    p_chars = sum(p_lengths)
    text = " ".join(pieces)[:MAX_TEXT_CHARS].lower()
    n_links = math.expm1(out["n_a"])
    heading_links = HEADING_LINKS_XPATH(tree)
    n_years = len(YEAR_RE.findall(text))
    declared, n_jsonld = _declared(tree)
    out.update(
        {
            "text_chars": math.log1p(text_chars),
            "link_text_share": min(link_chars / text_chars, 1.0) if text_chars else 0.0,
            "p_text_share": min(p_chars / text_chars, 1.0) if text_chars else 0.0,
            "n_long_p": math.log1p(sum(n >= LONG_PARAGRAPH_CHARS for n in p_lengths)),
            "max_p_chars": math.log1p(max(p_lengths, default=0)),
            "mean_p_chars": math.log1p(p_chars / len(p_lengths)) if p_lengths else 0.0,
            "heading_links": math.log1p(heading_links),
            "heading_link_share": heading_links / n_links if n_links else 0.0,
            "n_prices": _count(text, CURRENCY_MARKS),
            "n_cart": _count(text, CART_PHRASES),
            "n_years": math.log1p(n_years),
            "years_per_link": min(n_years / n_links, 1.0) if n_links else 0.0,
            "n_forum_words": _count(text, FORUM_PHRASES),
            "n_doc_words": _count(text, DOC_PHRASES),
            "n_service_words": _count(text, SERVICE_PHRASES),
            "n_jsonld": math.log1p(n_jsonld),
            "has_canonical": float(bool(CANONICAL_XPATH(tree))),
            "has_rel_next": float(REL_NEXT_XPATH(tree)),
        }
    )
    _class_features(tree, out)
    _url_features(page_url(tree, url), out)
    for name in declared:
        out[name] = 1.0
    return out


class PagetypeModel(NamedTuple):
    """Multinomial logistic regression over standardised named features: one weight row per class."""

    classes: tuple[str, ...]
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[tuple[float, ...], ...]  # per class, per feature
    bias: tuple[float, ...]  # per class

    def vector(self, features: Mapping[str, float]) -> np.ndarray:
        """Features in model order: an absent token counts 0; absent URL features (no URL known) are
        neutral, the training mean."""
        return np.asarray(
            [features.get(name, mean if name in URL_FEATURES else 0.0) for name, mean in zip(self.features, self.mean)], dtype=float
        )

    def probabilities_matrix(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per row of ``x`` (columns in ``features`` order)."""
        arrays = _model_arrays(self)
        # an elementwise product, not a matrix product: BLAS's first call reserves tens of MB of
        # address space per thread, over the extraction guard's memory budget (flows/guard.py)
        z = (((x - arrays[0]) / arrays[1])[:, None, :] * arrays[2][None, :, :]).sum(axis=2) + arrays[3]
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def probabilities(self, features: Mapping[str, float]) -> dict[str, float]:
        row = self.probabilities_matrix(self.vector(features)[None, :])[0]
        return {name: float(p) for name, p in zip(self.classes, row)}


@functools.lru_cache(maxsize=8)
def _model_arrays(model: PagetypeModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The model's numbers as read-only arrays (an immutable model's cached view)."""
    arrays = (
        np.asarray(model.mean, dtype=float),
        np.asarray(model.scale, dtype=float),
        np.asarray(model.weights, dtype=float),
        np.asarray(model.bias, dtype=float),
    )
    for arr in arrays:
        arr.setflags(write=False)
    return arrays


def model_from_dict(data: dict) -> PagetypeModel:
    classes = tuple(data["classes"])
    if ARTICLE not in classes:
        raise ValueError("page type model has no article class; refit it")
    features = tuple(data["features"])
    weights = tuple(tuple(float(v) for v in row) for row in data["weights"])
    if len(weights) != len(classes) or any(len(row) != len(features) for row in weights):
        raise ValueError("page type model: weights do not match classes x features; refit it")
    return PagetypeModel(
        classes,
        features,
        tuple(float(v) for v in data["mean"]),
        tuple(float(v) or 1.0 for v in data["scale"]),
        weights,
        tuple(float(v) for v in data["bias"]),
    )


def model_to_dict(model: PagetypeModel) -> dict:
    return {
        "classes": list(model.classes),
        "features": list(model.features),
        "mean": [round(v, 6) for v in model.mean],
        "scale": [round(v, 6) for v in model.scale],
        "weights": [[round(v, 6) for v in row] for row in model.weights],
        "bias": [round(v, 6) for v in model.bias],
    }


@functools.cache
def default_model() -> PagetypeModel | None:
    """The shipped weights (read once; immutable), or None if not shipped."""
    data = read_json(MODEL_PATH)
    return None if data is None else model_from_dict(data["model"])


class PageScores(NamedTuple):
    """A page's type probabilities (``PAGE_TYPES`` names -> probability)."""

    probabilities: tuple[tuple[str, float], ...]

    def article_probability(self) -> float:
        return dict(self.probabilities).get(ARTICLE, 1.0)


def score_page(tree: HtmlElement, url: str | None = None, model: PagetypeModel | None = None) -> PageScores | None:
    """The page's type probabilities under ``model`` (default: the shipped one); None without a model."""
    model = model or default_model()
    if model is None:
        return None
    probs = model.probabilities(page_features(tree, url))
    return PageScores(tuple(probs.items()))


def page_type(scores: PageScores | None, cfg: PagetypeConfig) -> str | None:
    """``article`` when P(article) >= ``cfg.min_article_probability``, else the most probable other
    type; None when the page was not scored (a text page, no model, the step off)."""
    if scores is None or not cfg.enabled:
        return None
    if scores.article_probability() >= cfg.min_article_probability:
        return ARTICLE
    others = [(p, name) for name, p in scores.probabilities if name != ARTICLE]
    return max(others)[1] if others else ARTICLE


def check_page_type(kind: str | None, cfg: PagetypeConfig) -> str | None:
    """``not_article`` for a page typed as anything but an article when ``cfg.reject_non_articles``."""
    return NOT_ARTICLE if cfg.enabled and cfg.reject_non_articles and kind not in (None, ARTICLE) else None


def feature_matrix(rows: Sequence[Mapping[str, float]], names: Sequence[str]) -> np.ndarray:
    """Rows of named features as a matrix in ``names`` order (absent features are 0)."""
    return np.asarray([[row.get(n, 0.0) for n in names] for row in rows], dtype=float)
