"""The report's numbers: the columns it needs read from the tables, and one ``Series`` per plot.

``load_tables(tables)`` reads only the columns the plots need (never ``text``) through a
``TableReader`` (``flows.storage.Storage``, the one module that touches the tables);
``build_report(frames)`` aggregates them with polars into a ``Report`` of plain tuples (pure:
frames in, data out).

Words removed per page are not stored per row; what is stored is the ``edits`` column, whose
``boilerplate_<rule>`` edits count the *lines* each rule removed. The page therefore plots
boilerplate lines removed per article, which is what the tables can honestly say.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Protocol

import polars as pl

from cleaners import schema as S
from reports.model import Report, Series

BOILERPLATE_PREFIX = "boilerplate_"
# URL_HOST_RE: the host of an absolute URL (polars runs it, group 1).
# "https://user@www.Example.com:8080/a?b" -> "www.Example.com"; "/work/data/raw/001.txt" -> no match
URL_HOST_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?([^/:?#]+)")
UNKNOWN_SITE = "(unknown site)"
# Histogram buckets as (label, lowest value); each bucket runs up to the next one's lowest value.
CLUSTER_BUCKETS = (("1", 1), ("2", 2), ("3", 3), ("4", 4), ("5", 5), ("6-9", 6), ("10-19", 10), ("20+", 20))
BOILERPLATE_BUCKETS = (("0", 0), ("1", 1), ("2", 2), ("3-4", 3), ("5-9", 5), ("10-19", 10), ("20-49", 20), ("50+", 50))
WORD_BUCKETS = (
    ("<100", 0), ("100-199", 100), ("200-399", 200), ("400-799", 400), ("800-1.6k", 800), ("1.6k-3.2k", 1600), ("3.2k+", 3200),
)
# Days on the time axis before it switches to weeks, and weeks before months.
MAX_DAY_BUCKETS = 120
MAX_WEEK_BUCKETS = 104

ARTICLE_COLUMNS = [S.DOC_ID, S.SOURCE, S.URL, S.SITE, S.TITLE, S.PUBLISHED, S.N_WORDS, S.N_WORDS_RAW, S.N_COPIES, S.EDITS, S.INGESTED_AT]
WORDS_REMOVED_BUCKETS = (("0", 0), ("1-49", 1), ("50-199", 50), ("200-499", 200), ("500-999", 500), ("1k-2k", 1000), ("2k-5k", 2000), ("5k+", 5000))
REJECTED_COLUMNS = [S.REASON, S.STAGE, S.INGESTED_AT]
DUPLICATE_COLUMNS = [S.DOC_ID, S.INGESTED_AT]


# --- reading -------------------------------------------------------------------------------


class TableReader(Protocol):
    def scan(self, table: str) -> pl.LazyFrame:
        """The table as a lazy frame of its schema (empty when the table does not exist)."""


def load_tables(tables: TableReader) -> dict[str, pl.DataFrame]:
    """The columns the report needs from each table (empty frames for missing tables)."""
    return {
        # tables written before a column existed lack it: it is read as nulls
        "articles": _select_present(tables.scan("articles"), ARTICLE_COLUMNS),
        "duplicates": tables.scan("duplicates").select(DUPLICATE_COLUMNS).collect(),
        "rejected": tables.scan("rejected").select(REJECTED_COLUMNS).collect(),
    }


def _select_present(frame: pl.LazyFrame, columns: list[str]) -> pl.DataFrame:
    names = frame.collect_schema().names()
    return frame.select([pl.col(c) if c in names else pl.lit(None, dtype=S.ARTICLES_SCHEMA.get(c, pl.String)).alias(c) for c in columns]).collect()


# --- aggregations (pure) -------------------------------------------------------------------


def _bucketed(values: pl.Series, buckets: tuple[tuple[str, int], ...]) -> tuple[int, ...]:
    counts = []
    for i, (_, low) in enumerate(buckets):
        high = buckets[i + 1][1] if i + 1 < len(buckets) else None
        hit = values >= low if high is None else (values >= low) & (values < high)
        counts.append(int(hit.sum()))
    return tuple(counts)


def site_expr() -> pl.Expr:
    """The site column, else the host of the URL, else a fixed 'unknown' label."""
    host = pl.col(S.URL).str.extract(URL_HOST_RE.pattern, 1).str.to_lowercase()
    host = host.str.strip_prefix("www.")
    site = pl.when(pl.col(S.SITE).str.len_chars() > 0).then(pl.col(S.SITE)).otherwise(host)
    return site.fill_null(UNKNOWN_SITE).alias("_site")


def articles_per_day(articles: pl.DataFrame) -> Series:
    """Articles per published day over the whole range (zero days kept), coarser for long ranges."""
    dated = articles.get_column(S.PUBLISHED).drop_nulls()
    undated = articles.height - dated.len()
    note = f"{undated:,} of {articles.height:,} articles have no published date." if undated else ""
    if dated.is_empty():
        return Series(note=note)
    first, last = dated.min(), dated.max()
    span_days = (last - first).days + 1
    if span_days <= MAX_DAY_BUCKETS:
        every, fmt, tick = "1d", "%a %Y-%m-%d", "%b %-d"
    elif span_days <= MAX_WEEK_BUCKETS * 7:
        every, fmt, tick = "1w", "week of %Y-%m-%d", "%b %-d"
    else:
        every, fmt, tick = "1mo", "%Y-%m", "%Y-%m"
    frame = dated.to_frame().with_columns(pl.col(S.PUBLISHED).dt.truncate(every).alias("_bucket"))
    counts = frame.group_by("_bucket").len()
    axis = pl.date_range(counts["_bucket"].min(), counts["_bucket"].max(), every, eager=True).alias("_bucket").to_frame()
    full = axis.join(counts, on="_bucket", how="left").with_columns(pl.col("len").fill_null(0)).sort("_bucket")
    unit = {"1d": "day", "1w": "week", "1mo": "month"}[every]
    if unit != "day":
        note = (f"Counted per {unit} ({span_days:,} days). " + note).strip()
    days = list(full["_bucket"])
    ticks = [d.strftime(tick) + (f" {d.year}" if tick != "%Y-%m" and (i == 0 or d.year != days[i - 1].year) else "") for i, d in enumerate(days)]
    return Series(
        tuple(d.strftime(fmt) for d in days), tuple(int(v) for v in full["len"]), note=note, ticks=tuple(ticks), title=f"Articles per {unit}"
    )


def _top_with_other(counts: pl.DataFrame, label: str, value: str, top_n: int, noun: str) -> tuple[list[str], list[int], bool]:
    """The first ``top_n`` rows of a sorted count frame as bars, the rest summed into one
    "other (N <noun>)" bar; and whether that bar was added."""
    top, rest = counts.head(top_n), counts.slice(top_n)
    labels, values = list(top[label]), [int(v) for v in top[value]]
    if rest.height:
        labels.append(f"other ({rest.height:,} {noun})")
        values.append(int(rest[value].sum()))
    return labels, values, bool(rest.height)


def articles_per_site(articles: pl.DataFrame, top_n: int = 15) -> Series:
    if articles.is_empty():
        return Series()
    counts = articles.select(site_expr()).group_by("_site").len().sort(["len", "_site"], descending=[True, False])
    labels, values, _ = _top_with_other(counts, "_site", "len", top_n, "sites")
    note = f"{counts.height:,} sites in all." if counts.height > 1 else ""
    return Series(tuple(labels), tuple(values), note=note)


def rejects_by_reason(rejected: pl.DataFrame) -> Series:
    if rejected.is_empty():
        return Series(note="No page was rejected.")
    counts = (
        rejected.group_by(S.REASON)
        .agg(pl.len(), pl.col(S.STAGE).drop_nulls().mode().first().alias("_stage"))
        .sort(["len", S.REASON], descending=[True, False])
    )
    labels = tuple(str(r) if r is not None else "(no reason)" for r in counts[S.REASON])
    return Series(labels, tuple(int(v) for v in counts["len"]), groups=tuple(s or "unknown" for s in counts["_stage"]))


def cluster_sizes(articles: pl.DataFrame) -> Series:
    sizes = articles.get_column(S.N_COPIES).fill_null(1)
    if sizes.is_empty():
        return Series()
    multi = int((sizes > 1).sum())
    note = f"{multi:,} of {sizes.len():,} stories were seen more than once." if multi else "Every story was seen once."
    return Series(tuple(lbl for lbl, _ in CLUSTER_BUCKETS), _bucketed(sizes, CLUSTER_BUCKETS), note=note)


def edit_group(kind: str) -> str:
    """Colour group of an edit kind: boilerplate removal, repairs of words, or character fixes."""
    if kind.startswith(BOILERPLATE_PREFIX):
        return "boilerplate"
    if kind.endswith(("_repair", "_typo")):
        return "repairs"
    return "characters"


def _edits(articles: pl.DataFrame) -> pl.DataFrame:
    """One row per (article, edit) with kind and count; no rows for articles without edits."""
    return (
        articles.select(S.DOC_ID, S.EDITS)
        .explode(S.EDITS)
        .drop_nulls(S.EDITS)
        .select(S.DOC_ID, pl.col(S.EDITS).struct.field("kind").alias("kind"), pl.col(S.EDITS).struct.field("count").alias("count"))
    )


def edits_by_kind(articles: pl.DataFrame, top_n: int = 20) -> Series:
    edits = _edits(articles)
    if edits.is_empty():
        return Series()
    counts = (
        edits.group_by("kind")
        .agg(pl.col("count").sum().alias("n"), pl.col(S.DOC_ID).n_unique().alias("docs"))
        .sort(["n", "kind"], descending=[True, False])
    )
    labels, values, has_other = _top_with_other(counts, "kind", "n", top_n, "kinds")
    groups = [edit_group(k) for k in labels[:top_n]] + (["other"] if has_other else [])
    return Series(tuple(labels), tuple(values), groups=tuple(groups))


def boilerplate_lines_per_article(articles: pl.DataFrame) -> pl.DataFrame:
    """doc_id and the lines its ``boilerplate_*`` edits removed (0 for articles without any)."""
    lines = (
        _edits(articles)
        .filter(pl.col("kind").str.starts_with(BOILERPLATE_PREFIX))
        .group_by(S.DOC_ID)
        .agg(pl.col("count").sum().alias("_bp_lines"))
    )
    return articles.select(S.DOC_ID).join(lines, on=S.DOC_ID, how="left").with_columns(pl.col("_bp_lines").fill_null(0))


def boilerplate_lines(articles: pl.DataFrame) -> Series:
    if articles.is_empty():
        return Series()
    per_doc = boilerplate_lines_per_article(articles)["_bp_lines"]
    note = f"Median {per_doc.median():g} lines, {int(per_doc.sum()):,} in all."
    return Series(tuple(lbl for lbl, _ in BOILERPLATE_BUCKETS), _bucketed(per_doc, BOILERPLATE_BUCKETS), note=note)


def words_removed(articles: pl.DataFrame) -> Series:
    """Words on the raw page minus words in the clean article, per article (pages that say)."""
    if S.N_WORDS_RAW not in articles.columns:
        return Series()
    removed = (articles.get_column(S.N_WORDS_RAW) - articles.get_column(S.N_WORDS)).drop_nulls().clip(lower_bound=0)
    if removed.is_empty():
        return Series(note="These articles were written before raw word counts were recorded.")
    share = removed.sum() / max(int(articles.get_column(S.N_WORDS_RAW).drop_nulls().sum()), 1)
    note = f"Median {removed.median():,.0f} words per page; {100 * share:.0f}% of all raw words removed."
    return Series(tuple(lbl for lbl, _ in WORDS_REMOVED_BUCKETS), _bucketed(removed, WORDS_REMOVED_BUCKETS), note=note)


def words_per_article(articles: pl.DataFrame) -> Series:
    words = articles.get_column(S.N_WORDS).drop_nulls()
    if words.is_empty():
        return Series()
    note = f"Median {words.median():,.0f} words."
    return Series(tuple(lbl for lbl, _ in WORD_BUCKETS), _bucketed(words, WORD_BUCKETS), note=note)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def headline(frames: dict[str, pl.DataFrame]) -> tuple[tuple[str, str, str], ...]:
    a, d, r = frames["articles"], frames["duplicates"], frames["rejected"]
    pages = a.height + d.height + r.height
    dated = a.get_column(S.PUBLISHED).drop_nulls()
    span = f"{dated.min()} to {dated.max()}" if dated.len() else "no dates"
    words = a.get_column(S.N_WORDS).drop_nulls()
    clusters = int((a.get_column(S.N_COPIES).fill_null(1) > 1).sum())
    n_sites = a.select(site_expr()).n_unique() if a.height else 0
    stamps = pl.concat([f.get_column(S.INGESTED_AT) for f in (a, d, r)]).drop_nulls()
    last = stamps.max().strftime("%Y-%m-%d %H:%M UTC") if stamps.len() else "never"
    edits = int(_edits(a)["count"].sum()) if a.height else 0
    return (
        ("pages seen", f"{pages:,}", "articles + copies + rejected"),
        ("articles", f"{a.height:,}", f"{_pct(a.height, pages)} of pages"),
        ("duplicate copies", f"{d.height:,}", f"in {clusters:,} stories with copies"),
        ("rejected", f"{r.height:,}", f"{_pct(r.height, pages)} of pages"),
        ("sites", f"{n_sites:,}", "site column, else URL host"),
        ("words kept", f"{int(words.sum()):,}", f"median {words.median():,.0f} per article" if words.len() else "-"),
        ("edits", f"{edits:,}", "changes recorded by cleaners"),
        ("published", span, f"last ingest {last}"),
    )


def recent_articles(articles: pl.DataFrame, n: int = 20) -> tuple[dict, ...]:
    if articles.is_empty():
        return ()
    rows = (
        articles.join(boilerplate_lines_per_article(articles), on=S.DOC_ID, how="left")
        .with_columns(
            site_expr(),
            pl.col(S.EDITS).list.eval(pl.element().struct.field("count")).list.sum().fill_null(0).alias("_edits"),
        )
        .sort([S.INGESTED_AT, S.PUBLISHED, S.DOC_ID], descending=[True, True, False], nulls_last=True)
        .head(n)
    )
    out = []
    for row in rows.iter_rows(named=True):
        out.append(
            {
                "published": str(row[S.PUBLISHED]) if row[S.PUBLISHED] else "-",
                "site": row["_site"],
                "title": row[S.TITLE] or "(untitled)",
                "url": row[S.URL] or "",
                "words": row[S.N_WORDS] if row[S.N_WORDS] is not None else 0,
                "copies": row[S.N_COPIES] if row[S.N_COPIES] is not None else 1,
                "edits": int(row["_edits"]),
                "boilerplate lines": int(row["_bp_lines"]),
            }
        )
    return tuple(out)


def build_report(frames: dict[str, pl.DataFrame], output: str = "", top_sites: int = 15, recent: int = 20) -> Report:
    a = frames["articles"]
    plots = {
        "articles_per_day": articles_per_day(a),
        "articles_per_site": articles_per_site(a, top_sites),
        "rejects_by_reason": rejects_by_reason(frames["rejected"]),
        "cluster_sizes": cluster_sizes(a),
        "edits_by_kind": edits_by_kind(a),
        "words_removed": words_removed(a),
        "boilerplate_lines": boilerplate_lines(a),
        "words_per_article": words_per_article(a),
    }
    return Report(
        output=output,
        generated_at=dt.datetime.now(dt.timezone.utc),
        headline=headline(frames),
        plots=plots,
        recent=recent_articles(a, recent),
    )

