"""One raw page -> one cleaned row (pure: bytes in, dict out).

The flow reads bytes (files, HTTP, WARC) into ``RawPage`` objects and calls ``clean_pages`` on
a batch. Expected failures raise ``PageError(stage, reason, detail)`` and become rows with a
``drop_reason``; the flow turns them into ``rejected`` rows ("tag, then decide").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import overload
from urllib.parse import urlsplit

import xxhash

from cleaners import boilerplate, chars, decode, extract, pagetype, residual, schema
from cleaners.config import CharsConfig, PipelineConfig
from cleaners.derived import text_columns
from cleaners.edits import Edit, merge_edits
from cleaners.errors import PageError
from cleaners.language import choose_language
from cleaners.steps import Stats, Step, apply_filters, apply_steps, build_filters, build_steps
from cleaners.words import count_words


@dataclass(frozen=True)
class RawPage:
    """Bytes of one input page and what is known about where it came from."""

    source: str  # input path or URL (WARC records: "file.warc.gz#<record-id>")
    data: bytes
    name: str = ""  # file name or URL path, used to sniff the format
    url: str | None = None
    site: str | None = None
    declared_charset: str | None = None  # from an HTTP header or WARC record
    format: str | None = None  # "html" | "text"; None = sniff
    # when the page was seen (UTC day): the WARC-Date of its record or the time it was fetched
    seen: dt.date | None = None
    modified: dt.date | None = None  # a file's mtime (UTC day): its seen date when no better one is known




HIDDEN_TAGS = ("script", "style", "noscript", "template")
# HIDDEN_BLOCK_RE: markup whose content a reader never sees, up to its first closing tag (what
# ``<(script|...)\b.*?</\1\s*>`` finds, but each run of text between "<" is taken in one step:
# 3x faster on script-heavy pages). "<script>x</script>" matches; "<p>x</p>" does not
HIDDEN_BLOCK_RE = re.compile(r"<(" + "|".join(HIDDEN_TAGS) + r")\b[^<]*+(?:<(?!/\1\s*>)[^<]*+)*+</\1\s*>", re.S | re.I)
# TAG_RE: one tag or comment. "<a href='x'>" matches; "a < b" does not
TAG_RE = re.compile(r"<[!/?a-zA-Z][^>]*>")


def visible_text(html: str) -> str:
    """Rough text a reader sees on the page (for the words-removed figure, not for extraction)."""
    return TAG_RE.sub(" ", HIDDEN_BLOCK_RE.sub(" ", html))


def make_doc_id(source: str) -> str:
    """Stable id of an input: 16 hex chars of xxh3-64 over its source path or URL."""
    return xxhash.xxh3_64_hexdigest(source.encode("utf-8", "surrogatepass"))


# USERINFO_RE: the "user:password@" of a URL, scheme-relative ones too (up to the last "@" before
# the path, query or fragment, as urlsplit and httpx read it), that starts the string or follows a
# blank, quote or bracket: a URL alone or one quoted in a message, not a URL inside another one's
# query string (that is data of the page's URL, and stripping it would fetch another page).
# "see http://u:p@host/a" matches "http://u:p@"; "https://host/@user/?to=http://u@x" does not match
USERINFO_RE = re.compile(r"(?:^|(?<=[\s\"'(<\[{,;>]))((?:[A-Za-z][A-Za-z0-9+.\-]*:)?//)[^/?#\r\n]*@")


@overload
def redact_url(text: str) -> str: ...
@overload
def redact_url(text: None) -> None: ...
def redact_url(text: str | None) -> str | None:
    """``text`` with the credentials of every URL in it removed: ``http://u:pw@host/p`` ->
    ``http://host/p``. The one place credentials are stripped: every URL the pipeline fetches,
    stores (``source``, ``url``, ``detail``, the validators file) or logs goes through it."""
    return USERINFO_RE.sub(r"\1", text) if text else text


def site_of(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.") or None


@dataclass(frozen=True)
class Decoded:
    page: RawPage
    text: str
    format: str


def decode_page(page: RawPage, cfg: PipelineConfig) -> Decoded:
    """gunzip (bounded), decode to str, sniff html/text; raise PageError(stage='decode')."""
    data = decode.maybe_gunzip(page.data, cfg.load.max_inflated_bytes)
    decoded = decode.decode_bytes(data, cfg.load, declared=page.declared_charset)
    fmt = page.format or decode.sniff_format(page.name.removesuffix(".gz"), decoded.text)
    limit = cfg.load.max_html_chars if fmt == "html" else cfg.load.max_text_chars
    if len(decoded.text) > limit:
        raise PageError("decode", f"too_large_{fmt}", f"{len(decoded.text)} characters > limit {limit}")
    return Decoded(page, decoded.text, fmt)


def _base_row(page: RawPage) -> dict:
    """The identity columns of a page's row; every row starts here, so no URL credentials reach
    the tables whichever reader made the page (the doc_id is that of the stored source)."""
    source = redact_url(page.source)
    return {
        schema.DOC_ID: make_doc_id(source),
        schema.SOURCE: source,
        schema.URL: redact_url(page.url),
        schema.SITE: page.site or site_of(page.url),
    }


def seen_date(page: RawPage, published: dt.date | None) -> dt.date | None:
    """The day a page was seen, in order of trust: its WARC-Date or fetch time, its ``published``
    date, its file's mtime (None: none known; the commit then takes its own date)."""
    return page.seen or published or page.modified


def rejected_row(page: RawPage, err: PageError) -> dict:
    row = _base_row(page)
    row.update({schema.STAGE: err.stage, schema.DROP_REASON: err.reason, schema.DETAIL: redact_url(err.detail)[:500]})
    return row


def text_page_chars(cfg: PipelineConfig) -> CharsConfig:
    """The chars config of the pass before boilerplate removal on text pages: leading indentation
    kept when ``cfg.boilerplate.keep_indent`` (the boilerplate classifier reads the nesting), as
    long as boilerplate removal runs to take it off again."""
    keep = cfg.boilerplate.keep_indent and cfg.boilerplate.enabled
    return dataclasses.replace(cfg.chars, keep_leading_indent=keep)


def clean_text_page_with_model(
    text: str,
    cfg: PipelineConfig,
    steps: Sequence[Step],
    stats: Stats,
    repeated: frozenset[str] = frozenset(),
    model: boilerplate.LineClassifier | None = None,
) -> boilerplate.TextPage:
    """Headline, stated date, cleaned body and edits of a plain-text page, with ``model`` as the
    boilerplate classifier (None: named rules only).

    Characters first, so the boilerplate rules see clean text; then boilerplate removal; then the
    other fixers of ``steps``. The indentation stays for boilerplate removal (nesting marks
    menus); the body it returns has none, and its whitespace is already what the chars step
    makes of it, so the chars step is not run again.
    """
    char_steps = [Step("chars", partial(chars.fix_characters_with_edits, cfg=text_page_chars(cfg)))]
    text, char_edits = apply_steps(text, char_steps, stats)
    parsed = boilerplate.parse_text_page_with_model(text, cfg.boilerplate, repeated, model)
    stats.add("boilerplate.total")
    body, fix_edits = apply_steps(parsed.body, [s for s in steps if s.name != "chars"], stats)
    return boilerplate.TextPage(parsed.title, parsed.published, body, char_edits + parsed.edits + fix_edits)


def clean_text_page(
    text: str, cfg: PipelineConfig, steps: Sequence[Step], stats: Stats, repeated: frozenset[str] = frozenset()
) -> boilerplate.TextPage:
    """``clean_text_page_with_model`` with the shipped classifier, or none when
    ``boilerplate.use_classifier`` is off: what ``clean_pages`` does to a text page."""
    model = boilerplate.default_model() if cfg.boilerplate.use_classifier else None
    return clean_text_page_with_model(text, cfg, steps, stats, repeated, model)


def clean_decoded(
    doc: Decoded,
    cfg: PipelineConfig,
    steps,
    checks,
    stats: Stats,
    repeated: frozenset[str] = frozenset(),
) -> dict:
    """Extract or strip boilerplate, run the fixers and filters; return a CLEANED_SCHEMA row."""
    page = doc.page
    row = _base_row(page)
    edits: list[Edit] = []
    title = author = language = page_kind = None
    published: dt.date | None = None
    detail = None
    if doc.format == "html":
        # raises ExtractError, a PageError
        ex = extract.extract_html(doc.text, cfg.extract, url=page.url, score_type=cfg.pagetype.enabled)
        body, title, author, published, language = ex.text, ex.title, ex.author, ex.published, ex.language
        page_kind = pagetype.page_type(ex.page_scores, cfg.pagetype)
        if page_kind is not None and ex.page_scores is not None:
            stats.add(f"pagetype.{page_kind}")
            detail = f"{page_kind} (P(article) = {ex.page_scores.article_probability():.3f})"
        row[schema.URL] = row[schema.URL] or redact_url(ex.url)  # a canonical link may carry credentials too
        row[schema.SITE] = row[schema.SITE] or ex.site or site_of(ex.url)
        # trafilatura output still carries residual boilerplate lines, captions, shortcodes
        body, bp_edits = residual.strip_residual_with_edits(body, cfg.boilerplate)
        stats.add("boilerplate.total")
        body, fix_edits = apply_steps(body, steps, stats)
        edits.extend(bp_edits + fix_edits)
    else:
        text_page = clean_text_page(doc.text, cfg, steps, stats, repeated)
        body, title, published = text_page.body, text_page.title, text_page.published
        edits.extend(text_page.edits)
    # the page type decides first (a listing is not an article however long its text), then the text filters
    reason = pagetype.check_page_type(page_kind, cfg.pagetype)
    if reason:
        stats.add(f"pagetype.dropped_{reason}")
    else:
        reason = apply_filters(body, checks, stats)
    edits = merge_edits(edits)
    for e in edits:
        stats.add(f"edits.{e.kind}", e.count)
    row.update(
        {
            schema.TITLE: title,
            schema.AUTHOR: author,
            schema.PUBLISHED: published,
            schema.SEEN: seen_date(page, published),
            schema.LANGUAGE: choose_language(body, language, cfg.language),
            schema.PAGE_TYPE: page_kind,
            schema.FORMAT: doc.format,
            schema.TEXT: body,
            **text_columns(body),
            schema.N_WORDS_RAW: count_words(visible_text(doc.text) if doc.format == "html" else doc.text),
            schema.EDITS: [e._asdict() for e in edits],
            schema.STAGE: "filter" if reason else None,
            schema.DROP_REASON: reason,
            schema.DETAIL: detail if reason == pagetype.NOT_ARTICLE else None,
        }
    )
    return row


def site_repeats(docs: Sequence[Decoded], cfg: PipelineConfig) -> dict[str, frozenset[str]]:
    """Lines repeated on many text pages of one site within a batch (site known only)."""
    by_site: dict[str, list[str]] = defaultdict(list)
    for d in docs:
        site = d.page.site or site_of(d.page.url)
        if site and d.format == "text":
            by_site[site].append(d.text)
    return {
        site: boilerplate.repeated_lines(texts, cfg.boilerplate.min_site_repeat_pages)
        for site, texts in by_site.items()
        if len(texts) >= cfg.boilerplate.min_site_repeat_pages
    }


def clean_rows(pages: Sequence[RawPage | LoadFailure], cfg: PipelineConfig, stats: Stats) -> list[dict]:
    """Clean a batch of raw pages into CLEANED_SCHEMA row dicts; every page gives exactly one row
    (rejected pages first), as ``clean_pages`` describes. ``rows_frame`` makes the frame.
    """
    steps, checks = build_steps(cfg), build_filters(cfg)
    rows: list[dict] = []
    decoded: list[Decoded] = []
    for item in pages:
        stats.add("pages.read")
        if isinstance(item, LoadFailure):
            rows.append(rejected_row(item.page, item.error))
            continue
        try:
            decoded.append(decode_page(item, cfg))
        except PageError as err:
            rows.append(rejected_row(item, err))
        except MemoryError:
            raise  # not the page's fault: the caller decides (the extraction guard: extract_memory, fresh worker)
        except Exception as exc:  # noqa: BLE001 - recorded, never silent
            rows.append(rejected_row(item, PageError("decode", "internal_error", f"{type(exc).__name__}: {exc}")))
    repeats = site_repeats(decoded, cfg)
    for doc in decoded:
        site = doc.page.site or site_of(doc.page.url)
        try:
            rows.append(clean_decoded(doc, cfg, steps, checks, stats, repeats.get(site or "", frozenset())))
        except PageError as err:
            rows.append(rejected_row(doc.page, err))
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded, never silent
            rows.append(rejected_row(doc.page, PageError("clean", "internal_error", f"{type(exc).__name__}: {exc}")))
    for row in rows:
        if row.get(schema.DROP_REASON):
            stats.add(f"pages.rejected_{row[schema.DROP_REASON]}")
    return rows


def rows_frame(rows: Sequence[dict]):
    """A CLEANED_SCHEMA frame of ``clean_rows`` rows. Every row is read for the columns (rejected
    rows have fewer keys and come first: inferring from the first 100 would drop ``text``)."""
    import polars as pl  # local: keeps the per-document helpers importable without polars

    if not rows:  # pl.DataFrame([], schema_overrides=...) has one row of nulls
        return schema.conform(pl.DataFrame(schema=schema.CLEANED_SCHEMA), schema.CLEANED_SCHEMA)
    df = pl.DataFrame(rows, schema_overrides=dict(schema.CLEANED_SCHEMA), strict=False, infer_schema_length=None)
    return schema.conform(df, schema.CLEANED_SCHEMA)


def clean_pages(pages: Sequence[RawPage | LoadFailure], cfg: PipelineConfig, stats: Stats | None = None):
    """Clean a batch of raw pages into a CLEANED_SCHEMA frame; every page gives exactly one row.

    ``pages`` may hold ``LoadFailure`` placeholders for inputs that failed to load (see
    ``load_failure``). An unexpected exception in one page is recorded on that page as
    ``internal_error`` with the exception type and message, and the batch goes on; a
    ``MemoryError`` is raised to the caller (the extraction guard turns it into ``extract_memory``
    and starts a fresh worker).
    Returns the frame and ``stats``.
    """
    stats = stats if stats is not None else Stats()
    return rows_frame(clean_rows(pages, cfg, stats)), stats


@dataclass(frozen=True)
class LoadFailure:
    """An input that could not even be read: carries a RawPage stub for its source."""

    page: RawPage
    error: PageError


def load_failure(source: str, error: PageError, url: str | None = None) -> LoadFailure:
    return LoadFailure(RawPage(source=source, data=b"", url=url), error)
