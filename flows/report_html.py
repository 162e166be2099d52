"""``newsclean report``: one self-contained HTML page of plots over the output tables.

Everything is inline (CSS, a few lines of JS, SVG drawn here in Python), so the page opens
from a ``file://`` URL with no network and can be mailed or attached as it is. The tables are
read only through ``Storage``, and only the columns the plots need (never ``text``).

Shape: ``load_tables(root)`` -> frames; ``build_report(frames)`` -> ``Report`` (pure polars
aggregations, one ``Series`` per plot); ``render_html(report)`` -> str (pure);
``write_report(root, dest)`` does all three and writes the file atomically.

Words removed per page are not stored per row; what is stored is the ``edits`` column, whose
``boilerplate_<rule>`` edits count the *lines* each rule removed. The page therefore plots
boilerplate lines removed per article, which is what the tables can honestly say.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cleaners import schema as S

# Every plot on the page, in page order: (key, title, one-line explanation for a reader).
PLOTS: tuple[tuple[str, str, str], ...] = (
    ("articles_per_day", "Articles per day", "Canonical articles by the date they were published."),
    ("articles_per_site", "Articles per site", "Which sites the canonical articles come from."),
    ("rejects_by_reason", "Rejected pages by reason", "Pages that did not become articles, and why."),
    ("cluster_sizes", "Story cluster sizes", "How many copies of each story were seen (1 = no copies)."),
    ("edits_by_kind", "Edits by kind", "What the cleaners changed, summed over all articles."),
    ("words_removed", "Words removed per page", "Words on the raw page (markup excluded) that are not in the clean article."),
    ("boilerplate_lines", "Boilerplate lines removed per article", "Lines of navigation, ads, captions... cut from each page."),
    ("words_per_article", "Words per article", "Length of the cleaned article text."),
)
PLOT_KEYS = tuple(key for key, _, _ in PLOTS)
WIDE_PLOTS = frozenset({"articles_per_day"})  # drawn across the whole page

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


@dataclass(frozen=True)
class Series:
    """One plot's data: bar labels and values, an optional colour group per bar, a footnote.

    ``ticks`` are shorter axis labels (the full ``labels`` show on hover) when given; ``title``
    replaces the panel's default title (e.g. "Articles per week" on a long date range).
    """

    labels: tuple[str, ...] = ()
    values: tuple[int, ...] = ()
    groups: tuple[str, ...] = ()
    note: str = ""
    ticks: tuple[str, ...] = ()
    title: str = ""

    @property
    def empty(self) -> bool:
        return not self.values or not any(self.values)


@dataclass(frozen=True)
class Report:
    output: str
    generated_at: dt.datetime
    headline: tuple[tuple[str, str, str], ...]  # (label, value, small print)
    plots: dict[str, Series]
    recent: tuple[dict, ...]
    columns: tuple[str, ...] = field(default=("published", "site", "title", "words", "copies", "edits", "boilerplate lines"))


# --- reading -------------------------------------------------------------------------------


def load_tables(root: str | Path) -> dict[str, pl.DataFrame]:
    """The columns the report needs from each table (empty frames for missing tables)."""
    from flows.storage import Storage

    storage = Storage(root)
    return {
        # tables written before a column existed lack it: it is read as nulls
        "articles": _select_present(storage.scan("articles"), ARTICLE_COLUMNS),
        "duplicates": storage.scan("duplicates").select(DUPLICATE_COLUMNS).collect(),
        "rejected": storage.scan("rejected").select(REJECTED_COLUMNS).collect(),
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


# --- SVG -----------------------------------------------------------------------------------

PALETTE = {
    "articles_per_day": "#3b6ea5",
    "articles_per_site": "#3b6ea5",
    "rejects_by_reason": "#c8553d",
    "cluster_sizes": "#7a5195",
    "edits_by_kind": "#2a9d8f",
    "words_removed": "#bc4749",
    "boilerplate_lines": "#e09f3e",
    "words_per_article": "#588157",
}
GROUP_COLOURS = {
    "boilerplate": "#e09f3e",
    "characters": "#2a9d8f",
    "repairs": "#7a5195",
    "other": "#9aa5b1",
}
FONT_PX = 12
CHAR_PX = 6.6  # average glyph width of the 12 px sans-serif, for label room
PLOT_WIDTH = 560  # drawn 1:1 in a half-width panel of the 1280 px page
WIDE_PLOT_WIDTH = 1180  # a full-width panel
MAX_SLOT_PX = 72  # column plus gap: a lone day should not become a wall
MAX_VALUE_LABELS = 16  # columns get their value printed on top up to this many


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _fmt(v: float) -> str:
    if v >= 10_000:
        return f"{v / 1000:,.0f}k"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def nice_step(max_value: float, ticks: int = 4) -> float:
    """A 1/2/5 x 10^k step giving about ``ticks`` gridlines up to ``max_value``."""
    if max_value <= 0:
        return 1.0
    raw = max_value / ticks
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return max(step, 1.0)


def _clip(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[: chars - 1] + "…"


def _svg_open(key: str, width: float, height: float, label: str, n: int) -> str:
    return (
        f'<svg class="plot" data-plot="{_e(key)}" data-bars="{n}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{_e(label)}">'
    )


def hbar_svg(key: str, series: Series, colour: str, title: str, max_label_chars: int = 30) -> str:
    """Horizontal bars, one per label, value printed after the bar (best for named categories)."""
    row_h, bar_h, top, bottom = 22, 15, 6, 6
    longest = max(len(_clip(lbl, max_label_chars)) for lbl in series.labels)
    left = min(12 + longest * CHAR_PX, PLOT_WIDTH * 0.45)
    value_room = 12 + len(_fmt(max(series.values))) * CHAR_PX
    scale = (PLOT_WIDTH - left - value_room) / max(max(series.values), 1)
    height = top + bottom + row_h * len(series.labels)
    parts = [_svg_open(key, PLOT_WIDTH, height, title, len(series.values))]
    parts.append(f'<line class="axis" x1="{left:.1f}" y1="{top}" x2="{left:.1f}" y2="{height - bottom}"/>')
    for i, (label, value) in enumerate(zip(series.labels, series.values)):
        y = top + i * row_h + (row_h - bar_h) / 2
        fill = GROUP_COLOURS.get(series.groups[i], colour) if series.groups else colour
        w = max(value * scale, 1.5 if value else 0)
        tip = f"{label}: {value:,}" + (f" ({series.groups[i]})" if series.groups else "")
        parts.append(
            f'<text class="label" x="{left - 6:.1f}" y="{y + bar_h - 3.5:.1f}" text-anchor="end">{_e(_clip(label, max_label_chars))}</text>'
            f'<rect class="mark" x="{left:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h}" fill="{fill}"><title>{_e(tip)}</title></rect>'
            f'<text class="value" x="{left + w + 5:.1f}" y="{y + bar_h - 3.5:.1f}">{_fmt(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def column_svg(
    key: str, series: Series, colour: str, title: str, width: int = PLOT_WIDTH, height: int = 230, max_x_labels: int = 8
) -> str:
    """Vertical columns over an ordered axis (days, histogram buckets), with y gridlines."""
    left, right, top, bottom = 44, 10, 16, 34
    n = len(series.values)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = nice_step(max(series.values))
    y_max = step * math.ceil(max(series.values) / step)
    slot = min(plot_w / n, MAX_SLOT_PX)
    x0 = left + (plot_w - slot * n) / 2  # centred when the columns do not fill the width
    gap = min(slot * 0.2, 6)
    ticks = series.ticks or series.labels
    parts = [_svg_open(key, width, height, title, n)]
    tick = 0.0
    while tick <= y_max + 1e-9:
        y = top + plot_h - tick / y_max * plot_h
        parts.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
        tick += step
    longest = max(len(t) for t in ticks) * CHAR_PX * 0.95 + 8  # 11 px tick font
    every = max(1, math.ceil(n / max_x_labels), math.ceil(longest / slot))
    for i, (label, value) in enumerate(zip(series.labels, series.values)):
        x = x0 + i * slot + gap / 2
        h = value / y_max * plot_h
        if value:
            h = max(h, 1.5)
        parts.append(
            f'<rect class="mark" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{max(slot - gap, 1):.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>{_e(label)}: {value:,}</title></rect>'
        )
        cx = x0 + i * slot + slot / 2
        if n <= MAX_VALUE_LABELS and value:
            parts.append(f'<text class="value" x="{cx:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle">{_fmt(value)}</text>')
        if i % every == 0:
            parts.append(f'<text class="tick" x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{_e(ticks[i])}</text>')
    parts.append(f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}"/>')
    parts.append("</svg>")
    return "".join(parts)


def plot_svg(key: str, series: Series, title: str) -> str:
    colour = PALETTE[key]
    if key in ("articles_per_site", "rejects_by_reason", "edits_by_kind"):
        return hbar_svg(key, series, colour, title)
    if key in WIDE_PLOTS:
        return column_svg(key, series, colour, title, width=WIDE_PLOT_WIDTH, max_x_labels=14)
    return column_svg(key, series, colour, title)


def _legend(series: Series) -> str:
    seen = set(series.groups)
    items = "".join(f'<span class="key"><i style="background:{c}"></i>{_e(g)}</span>' for g, c in GROUP_COLOURS.items() if g in seen)
    return f'<div class="legend">{items}</div>' if items else ""


# --- HTML ----------------------------------------------------------------------------------

CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2933;background:#f4f5f7}
header{padding:22px 32px 8px}
h1{margin:0;font-size:24px}
.sub{color:#616e7c;margin:4px 0 0}
main{padding:8px 32px 32px;max-width:1280px}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:12px 0 20px}
.tile{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.tile .n{font-size:26px;font-weight:650;line-height:1.15;overflow-wrap:anywhere}
.tile .n.small{font-size:17px;padding-top:6px}
.tile .l{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#52606d}
.tile .s{font-size:12px;color:#7b8794}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
.panel{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08);min-width:0}
.panel h2{font-size:16px;margin:0}
.panel .why{color:#616e7c;font-size:13px;margin:2px 0 8px}
.panel .note{color:#7b8794;font-size:12px;margin:6px 0 0}
.panel svg{display:block;width:100%;height:auto}
.nodata{display:flex;align-items:center;justify-content:center;height:140px;border:1px dashed #cbd2d9;border-radius:6px;color:#9aa5b1;font-size:15px}
svg text{font-size:12px;fill:#3e4c59;font-family:inherit}
svg .value{fill:#52606d}
svg .tick{fill:#7b8794;font-size:11px}
svg .grid{stroke:#e4e7eb;stroke-width:1}
svg .axis{stroke:#9aa5b1;stroke-width:1}
svg rect.mark:hover{opacity:.75}
.legend{font-size:12px;color:#52606d;margin-top:6px}
.legend .key{margin-right:14px;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.wide{grid-column:1/-1}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{color:#52606d;font-weight:600;background:#f9fafb}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.title{max-width:520px}
a{color:#2f5d8a;text-decoration:none}
a:hover{text-decoration:underline}
footer{color:#9aa5b1;font-size:12px;padding:0 32px 24px}
"""

# After load: count the drawn marks of every plot (non-empty boxes on screen, after transforms
# and CSS; getBBox would ignore both) and write the
# result on <body data-render="ok|fail" data-plots-drawn=N data-plots-total=M>, for the
# headless-browser check and for anyone reading the footer.
CHECK_JS = """
(function(){
  var svgs=document.querySelectorAll('svg.plot'),drawn=0;
  svgs.forEach(function(s){
    var n=0,r=s.getBoundingClientRect();
    if(r.width>0&&r.height>0)s.querySelectorAll('.mark').forEach(function(m){var b=m.getBoundingClientRect();if(b.width>0&&b.height>0)n++;});
    s.setAttribute('data-drawn',n);if(n>0)drawn++;
  });
  var b=document.body;b.setAttribute('data-plots-total',svgs.length);b.setAttribute('data-plots-drawn',drawn);
  b.setAttribute('data-render',drawn===svgs.length?'ok':'fail');
  var f=document.getElementById('render-status');if(f)f.textContent=drawn+' of '+svgs.length+' plots drawn';
})();
"""


def _panel(key: str, title: str, why: str, series: Series) -> str:
    title = series.title or title
    if series.empty:
        body = f'<div class="nodata" data-plot="{_e(key)}">no data</div>'
    else:
        body = plot_svg(key, series, title) + (_legend(series) if key == "edits_by_kind" else "")
    note = f'<p class="note">{_e(series.note)}</p>' if series.note else ""
    wide = " wide" if key in WIDE_PLOTS else ""
    return f'<section class="panel{wide}" id="{_e(key)}"><h2>{_e(title)}</h2><p class="why">{_e(why)}</p>{body}{note}</section>'


def _recent_table(report: Report) -> str:
    if not report.recent:
        return '<div class="nodata" data-plot="recent">no articles yet</div>'
    numeric = {"words", "copies", "edits", "boilerplate lines"}
    head = "".join(f'<th class="num">{_e(c)}</th>' if c in numeric else f"<th>{_e(c)}</th>" for c in report.columns)
    rows = []
    for r in report.recent:
        cells = []
        for c in report.columns:
            if c == "title":
                title = _e(r["title"])
                link = r["url"] if r["url"].startswith(("http://", "https://")) else ""
                cells.append(f'<td class="title"><a href="{_e(link)}" rel="noopener noreferrer">{title}</a></td>' if link else f'<td class="title">{title}</td>')
            elif c in numeric:
                cells.append(f'<td class="num">{r[c]:,}</td>')
            else:
                cells.append(f"<td>{_e(r[c])}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _recent_why(n: int) -> str:
    return f"The {n} most recently ingested articles." if n > 1 else "The most recently ingested articles."


def render_html(report: Report) -> str:
    """The whole page as one string: inline CSS, inline SVG, one inline script; no URLs fetched."""
    tiles = "".join(
        f'<div class="tile"><div class="l">{_e(label)}</div><div class="n{" small" if len(value) > 12 else ""}">{_e(value)}</div>'
        f'<div class="s">{_e(small)}</div></div>'
        for label, value, small in report.headline
    )
    panels = "".join(_panel(key, title, why, report.plots[key]) for key, title, why in PLOTS)
    recent = (
        f'<section class="panel wide" id="recent"><h2>Recent articles</h2>'
        f'<p class="why">{_e(_recent_why(len(report.recent)))}</p>{_recent_table(report)}</section>'
    )
    stamp = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>newsclean report: {_e(report.output)}</title><style>{CSS}</style></head>"
        f'<body data-render="pending"><header><h1>newsclean report</h1>'
        f'<p class="sub">Tables under <code>{_e(report.output)}</code>, generated {stamp}.</p></header>'
        f'<main><div class="tiles">{tiles}</div><div class="grid">{panels}{recent}</div></main>'
        f'<footer>newsclean report &middot; <span id="render-status">plots not checked (scripts off)</span></footer>'
        f"<script>{CHECK_JS}</script></body></html>\n"
    )


def write_report(root: str | Path, dest: str | Path, top_sites: int = 15, recent: int = 20) -> Path:
    """Read the tables under ``root`` and write the page to ``dest`` (atomically); return ``dest``."""
    report = build_report(load_tables(root), output=str(root), top_sites=top_sites, recent=recent)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.write_text(render_html(report), encoding="utf-8")
    tmp.replace(dest)
    return dest
