"""What is an article: the page type of an HTML page from its parsed tree (issue 14).

``page_features(tree, url)`` reads cheap signals from the already-parsed lxml tree, in one walk
over its elements, before trafilatura prunes it:
- declared types: JSON-LD ``@type`` values and microdata ``itemtype`` (``ld:newsarticle``,
  ``ld:product``), ``og:type`` (``og:article``) and the names of the page's meta tags
  (``meta:article:published_time``, ``meta:product:price:amount``);
- the URL's path: depth, digits, a date, a query, the last segment's length and hyphens, and its
  words (``url:tag``, ``url:products``, ``url:docs``);
- counts (log1p): links, list items, ``<article>``, forms, inputs, buttons, headings, tables,
  code blocks, ``<time>``; headings that are links (teaser headlines); prices and "add to cart";
  dates in the text; paragraph lengths; visible text and the share of it inside links;
- repeated siblings: the largest run of siblings sharing tag and class (cards of a listing) and
  how many such groups hold a link with a heading;
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
import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import numpy as np
from lxml.html import HtmlElement

from cleaners.config import PagetypeConfig

ARTICLE = "article"
# The page types of the WCXB labels, article first.
PAGE_TYPES = (ARTICLE, "listing", "collection", "product", "service", "forum", "documentation")
NOT_ARTICLE = "not_article"  # the drop reason of a page that is not an article
MODEL_RESOURCE = "pagetype.json"  # package data beside this module (pyproject: [tool.setuptools.package-data])
MODEL_PATH = Path(__file__).with_name(MODEL_RESOURCE)

HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "meta", "link"})
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
COUNTED_TAGS = (
    "a", "p", "li", "article", "section", "form", "input", "button", "select", "textarea", "h1", "h2", "h3", "h4",
    "table", "tr", "img", "nav", "aside", "time", "code", "pre", "dl", "iframe", "blockquote", "figure", "label",
)
MAX_TEXT_CHARS = 200_000  # the text searched for prices and dates (a long page's first part tells enough)
MAX_TOKEN_CHARS = 30  # longer class tokens are generated names, not words
MIN_CARD_REPEAT = 4  # siblings sharing tag and class this often are a repeated structure (cards, rows)
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
PRICE_TOKENS = ("$", "€", "£", "¥", "₹", "usd", "eur", "gbp")
# PRICE_RE: an amount of money. matches: "$19.99", "€ 1.299,00", "49,95 €", "USD 120" ; does not match: "19.99", "2024"
PRICE_RE = re.compile(
    r"(?:[$€£¥₹]|\b(?:USD|EUR|GBP)\b)\s?\d[\d.,]*|\b\d[\d.,]*\s?(?:[€£]|\b(?:USD|EUR|GBP)\b)", re.IGNORECASE
)
CART_PHRASES = ("add to cart", "add to bag", "add to basket", "buy now", "in stock", "out of stock", "checkout", "free shipping", "quantity")
# CART_RE matches: "Add to Cart", "BUY NOW" ; does not match: "cart wheel", "buying"
CART_RE = re.compile("|".join(re.escape(p) for p in CART_PHRASES), re.IGNORECASE)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# TEXT_DATE_RE: a written date. matches: "March 5, 2024", "5 Mar 2024", "2024-03-05", "03/05/2024" ; does not match: "2024", "May I"
TEXT_DATE_RE = re.compile(
    r"\b(?:(?:" + "|".join(MONTHS) + r")[a-z]*\.? \d{1,2},? (?:19|20)\d\d|\d{1,2} (?:" + "|".join(MONTHS)
    + r")[a-z]*\.? (?:19|20)\d\d|(?:19|20)\d\d-\d\d-\d\d|\d{1,2}/\d{1,2}/(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
FORUM_PHRASES = ("reply", "replies", "posted by", "joined", "quote", "thread", "answered", "upvote", "views")
# FORUM_RE matches: "Reply", "Joined: 2019", "Posted by" ; does not match: "replay", "joiner"
FORUM_RE = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in FORUM_PHRASES) + r")\b", re.IGNORECASE)

NUMERIC_FEATURES = (
    *(f"n_{tag}" for tag in COUNTED_TAGS),
    "n_elements", "text_chars", "link_text_share", "p_text_share", "n_long_p", "max_p_chars", "mean_p_chars",
    "heading_links", "max_sibling_repeat", "card_groups", "headline_cards", "n_prices", "n_cart", "n_dates",
    "n_forum_words", "n_jsonld", "has_canonical", "has_rel_next",
    "url_depth", "url_digits", "url_date", "url_query", "url_last_chars", "url_last_hyphens", "url_slash_end", "url_root",
)


def _tokens(value: str, cache: dict[str, list[str]]) -> list[str]:
    got = cache.get(value)
    if got is None:
        got = cache[value] = [t.lower() for t in CLASS_TOKEN_RE.findall(value) if len(t) <= MAX_TOKEN_CHARS]
    return got


def _url_features(url: str | None, out: dict[str, float]) -> None:
    parts = urlsplit(url or "")
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
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        values = tree.xpath(xpath)
        if values:
            return str(values[0])
    return None


def page_features(tree: HtmlElement, url: str | None = None) -> dict[str, float]:
    """The named signals of one parsed page (see the module docstring); reads, never changes, ``tree``."""
    tags: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    token_cache: dict[str, list[str]] = {}
    declared: set[str] = set()
    texts: list[str] = []
    text_chars = link_chars = p_chars = 0
    p_lengths: list[int] = []
    heading_links = max_repeat = card_groups = headline_cards = n_jsonld = 0
    has_canonical = has_next = False
    for el in tree.iter():
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        tags[tag] += 1
        cls, ident = el.get("class"), el.get("id")
        names = set()
        if cls:
            names.update(_tokens(cls, token_cache))
        if ident:
            names.update(_tokens(ident, token_cache))
        for name in names:
            classes[name] += 1
        itemtype = el.get("itemtype")
        if itemtype:
            declared.update("ld:" + t.rsplit("/", 1)[-1].lower() for t in itemtype.split())
        if tag == "script":
            if (el.get("type") or "").lower() == "application/ld+json" and el.text:
                n_jsonld += 1
                declared.update("ld:" + t for t in _ld_types(el.text))
            continue
        if tag == "meta":
            key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
            if key and len(key) <= 40:
                declared.add("meta:" + key)
                if key == "og:type":
                    declared.add("og:" + (el.get("content") or "").strip().lower()[:30])
            continue
        if tag == "link":
            rel = (el.get("rel") or "").lower()
            has_canonical = has_canonical or rel == "canonical"
            has_next = has_next or rel == "next"
            continue
        if tag in HIDDEN_TAGS:
            continue
        if el.text and tag not in HIDDEN_TAGS:
            t = el.text.strip()
            if t:
                texts.append(t)
                text_chars += len(t)
        if el.tail:
            t = el.tail.strip()
            if t:
                texts.append(t)
                text_chars += len(t)
        if tag == "a":
            link_chars += len(el.text_content().strip())
            has_next = has_next or (el.get("rel") or "").lower() == "next"
        elif tag == "p":
            n = len(el.text_content().strip())
            p_lengths.append(n)
            p_chars += n
        elif tag in HEADING_TAGS:
            if el.find(".//a") is not None or el.getparent() is not None and el.getparent().tag == "a":
                heading_links += 1
        if len(el) >= MIN_CARD_REPEAT:
            sig: Counter[tuple[str, str]] = Counter(
                (c.tag, c.get("class") or "") for c in el if isinstance(c.tag, str)
            )
            if sig:
                (ctag, ccls), repeat = sig.most_common(1)[0]
                max_repeat = max(max_repeat, repeat)
                if repeat >= MIN_CARD_REPEAT and (ccls or ctag in ("li", "article", "tr")):
                    card_groups += 1
                    first = next(c for c in el if c.tag == ctag and (c.get("class") or "") == ccls)
                    if first.find(".//a") is not None and any(first.iter(*HEADING_TAGS)):
                        headline_cards += repeat
    text = " ".join(texts)[:MAX_TEXT_CHARS]
    out: dict[str, float] = {f"n_{tag}": math.log1p(tags[tag]) for tag in COUNTED_TAGS}
    out.update(
        {
            "n_elements": math.log1p(sum(tags.values())),
            "text_chars": math.log1p(text_chars),
            "link_text_share": link_chars / text_chars if text_chars else 0.0,
            "p_text_share": min(p_chars / text_chars, 1.0) if text_chars else 0.0,
            "n_long_p": math.log1p(sum(n >= LONG_PARAGRAPH_CHARS for n in p_lengths)),
            "max_p_chars": math.log1p(max(p_lengths, default=0)),
            "mean_p_chars": math.log1p(sum(p_lengths) / len(p_lengths)) if p_lengths else 0.0,
            "heading_links": math.log1p(heading_links),
            "max_sibling_repeat": math.log1p(max_repeat),
            "card_groups": math.log1p(card_groups),
            "headline_cards": math.log1p(headline_cards),
            "n_prices": math.log1p(len(PRICE_RE.findall(text)) if any(t in text.lower() for t in PRICE_TOKENS) else 0),
            "n_cart": math.log1p(len(CART_RE.findall(text))),
            "n_dates": math.log1p(len(TEXT_DATE_RE.findall(text))),
            "n_forum_words": math.log1p(len(FORUM_RE.findall(text))),
            "n_jsonld": math.log1p(n_jsonld),
            "has_canonical": float(has_canonical),
            "has_rel_next": float(has_next),
        }
    )
    _url_features(page_url(tree, url), out)
    for name in declared:
        out[name] = 1.0
    for name, count in classes.items():
        out["cls:" + name] = math.log1p(count)
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
        return np.asarray([features.get(name, 0.0) for name in self.features], dtype=float)

    def probabilities_matrix(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per row of ``x`` (columns in ``features`` order)."""
        arrays = _model_arrays(self)
        z = ((x - arrays[0]) / arrays[1]) @ arrays[2].T + arrays[3]
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
    try:
        raw = MODEL_PATH.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return model_from_dict(json.loads(raw)["model"])


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
