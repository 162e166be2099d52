"""The report in a real browser: headless Chromium runs the page's check and takes a screenshot.

Skips cleanly where /usr/bin/chromium is absent (``make browser-check`` installs it).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from flows.report import write_report
from reports.model import PLOT_KEYS

from browser.chromium import check_plots, dump_dom, find_chromium, screenshot
from browser.synthetic import write_synthetic_tables

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (make browser-check installs it)"),
]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_every_plot_draws_in_chromium(tmp_path):
    write_synthetic_tables(tmp_path / "tables", n_articles=400, seed=11)
    page = write_report(tmp_path / "tables", tmp_path / "report.html")
    result = check_plots(dump_dom(page))
    assert result.render == "ok", result
    assert set(result.drawn_per_plot) == set(PLOT_KEYS) and result.no_data == ()
    assert all(n > 0 for n in result.drawn_per_plot.values()), result.drawn_per_plot
    assert result.ok
    png = screenshot(page, tmp_path / "report.png", 1280, 2400)
    assert _png_size(png) == (1280, 2400) and png.stat().st_size > 20_000  # a blank page compresses to a few kB


def test_empty_tables_render_no_data_panels(tmp_path):
    page = write_report(tmp_path / "nothing", tmp_path / "empty.html")
    result = check_plots(dump_dom(page))
    assert result.render == "ok" and result.plots_total == 0
    assert set(result.no_data) == {*PLOT_KEYS, "recent"}


def test_check_fails_when_a_plot_draws_nothing(tmp_path):
    # the check must be able to fail: a plot whose marks have no size is reported as not drawn
    write_synthetic_tables(tmp_path / "tables", n_articles=50, seed=2)
    page = write_report(tmp_path / "tables", tmp_path / "report.html")
    html = page.read_text()
    key = PLOT_KEYS[2]
    start = html.index(f'data-plot="{key}"')
    end = html.index("</svg>", start)
    broken = html[:start] + html[start:end].replace('class="mark"', 'class="mark" transform="scale(0)"') + html[end:]
    page.write_text(broken)
    result = check_plots(dump_dom(page))
    assert result.render == "fail" and result.drawn_per_plot[key] == 0 and not result.ok
