"""What the HTML report shows: its plots in page order, and the plain data each is drawn from.

``reports.queries`` turns the tables into a ``Report`` (one ``Series`` per plot);
``reports.page`` renders it, drawing the plots with ``reports.svg``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

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
    """Everything the page shows, as plain data: headline tiles, one ``Series`` per plot key, recent articles."""

    output: str
    generated_at: dt.datetime
    headline: tuple[tuple[str, str, str], ...]  # (label, value, small print)
    plots: dict[str, Series]
    recent: tuple[dict, ...]
    columns: tuple[str, ...] = field(default=("published", "site", "title", "words", "copies", "edits", "boilerplate lines"))
