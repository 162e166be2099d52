"""The report's plots as inline SVG: horizontal bars for named categories, columns for ordered axes.

Pure string building: a ``Series`` in, one ``<svg class="plot">`` out, each bar a ``.mark``
(the page's check counts them), its value in a ``<title>`` tooltip.
"""

from __future__ import annotations

import html
import math

from reports.model import WIDE_PLOTS, Series

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
CHAR_PX = 6.6  # average glyph width of the 12 px sans-serif, for label room
PLOT_WIDTH = 560  # drawn 1:1 in a half-width panel of the 1280 px page
WIDE_PLOT_WIDTH = 1180  # a full-width panel
MAX_SLOT_PX = 72  # column plus gap: a lone day should not become a wall
MAX_VALUE_LABELS = 16  # columns get their value printed on top up to this many


def escape(text: object) -> str:
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
        f'<svg class="plot" data-plot="{escape(key)}" data-bars="{n}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{escape(label)}">'
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
            f'<text class="label" x="{left - 6:.1f}" y="{y + bar_h - 3.5:.1f}" text-anchor="end">{escape(_clip(label, max_label_chars))}</text>'
            f'<rect class="mark" x="{left:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h}" fill="{fill}"><title>{escape(tip)}</title></rect>'
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
            f'fill="{colour}"><title>{escape(label)}: {value:,}</title></rect>'
        )
        cx = x0 + i * slot + slot / 2
        if n <= MAX_VALUE_LABELS and value:
            parts.append(f'<text class="value" x="{cx:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle">{_fmt(value)}</text>')
        if i % every == 0:
            parts.append(f'<text class="tick" x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{escape(ticks[i])}</text>')
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
