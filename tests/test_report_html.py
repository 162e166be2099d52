"""The HTML report: aggregations on tiny hand-made tables, totals on synthetic tables, a page
that fetches nothing, escaping, "no data" panels, and the `newsclean report` command.

No Prefect here; the real-browser check is tests/browser/test_report_browser.py.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from lxml import html as lxml_html
from typer.testing import CliRunner

from cleaners import schema as S
from flows.cli import app
from flows.storage import Storage
from reports import model, queries
from reports import page as html_page
from reports.summary import summary_table
from reports.svg import nice_step

from browser.synthetic import synthetic_frames, write_synthetic_tables


def _articles(rows: list[dict]) -> pl.DataFrame:
    return S.conform(pl.DataFrame(rows, schema_overrides={S.EDITS: S.EDITS_TYPE}, infer_schema_length=None), S.ARTICLES_SCHEMA)


def _edit(kind: str, count: int) -> dict:
    return {"kind": kind, "detail": "x", "count": count}


TINY = [
    {S.DOC_ID: "a", S.URL: "https://www.Example.com/1", S.SITE: None, S.PUBLISHED: dt.date(2024, 5, 1), S.N_WORDS: 50, S.N_COPIES: 1,
     S.EDITS: [_edit("boilerplate_nav", 3), _edit("whitespace", 2)]},
    {S.DOC_ID: "b", S.URL: "https://news.site.org/2", S.SITE: "site.org", S.PUBLISHED: dt.date(2024, 5, 4), S.N_WORDS: 250, S.N_COPIES: 3,
     S.EDITS: [_edit("boilerplate_nav", 1), _edit("boilerplate_comments", 10), _edit("semicolon_repair", 1)]},
    {S.DOC_ID: "c", S.URL: None, S.SITE: "site.org", S.PUBLISHED: dt.date(2024, 5, 4), S.N_WORDS: 900, S.N_COPIES: 25, S.EDITS: []},
    {S.DOC_ID: "d", S.URL: "/data/raw/d.txt", S.SITE: "", S.PUBLISHED: None, S.N_WORDS: 120, S.N_COPIES: None, S.EDITS: None},
]


@pytest.fixture(scope="module")
def tiny() -> pl.DataFrame:
    return _articles(TINY)


def test_articles_per_day_fills_gaps_and_counts_undated(tiny):
    s = queries.articles_per_day(tiny)
    assert [lbl[-10:] for lbl in s.labels] == ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"]
    assert s.values == (1, 0, 0, 2)
    assert s.ticks[0].endswith("2024") and not s.ticks[1].endswith("2024")
    assert "1 of 4 articles have no published date" in s.note


def test_articles_per_day_switches_to_weeks_then_months():
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=k) for k in (0, 200)]
    weekly = queries.articles_per_day(_articles([{S.DOC_ID: str(i), S.PUBLISHED: d} for i, d in enumerate(days)]))
    assert weekly.labels[0].startswith("week of") and sum(weekly.values) == 2 and len(weekly.values) == 29
    assert weekly.title == "Articles per week" and "<h2>Articles per week</h2>" in html_page._panel("articles_per_day", "x", "y", weekly)
    days = [dt.date(2020, 1, 15), dt.date(2023, 6, 1)]
    monthly = queries.articles_per_day(_articles([{S.DOC_ID: str(i), S.PUBLISHED: d} for i, d in enumerate(days)]))
    assert monthly.labels[0] == "2020-01" and monthly.labels[-1] == "2023-06" and sum(monthly.values) == 2
    assert monthly.title == "Articles per month"


@pytest.mark.parametrize(
    ("top_n", "labels", "values"),
    [
        pytest.param(5, ("site.org", "(unknown site)", "example.com"), (2, 1, 1), id="site-else-url-host-else-unknown"),
        pytest.param(1, ("site.org", "other (2 sites)"), (2, 2), id="top-n-then-other"),
    ],
)
def test_articles_per_site(tiny, top_n, labels, values):
    s = queries.articles_per_site(tiny, top_n)
    assert (s.labels, s.values) == (labels, values)


def test_cluster_sizes_buckets(tiny):
    s = queries.cluster_sizes(tiny)
    got = dict(zip(s.labels, s.values))
    assert got["1"] == 2 and got["3"] == 1 and got["20+"] == 1 and sum(s.values) == tiny.height
    assert "2 of 4 stories" in s.note


def test_edits_by_kind_explodes_and_sums(tiny):
    s = queries.edits_by_kind(tiny)
    assert s.labels == ("boilerplate_comments", "boilerplate_nav", "whitespace", "semicolon_repair")
    assert s.values == (10, 4, 2, 1)
    assert s.groups == ("boilerplate", "boilerplate", "characters", "repairs")
    assert queries.edits_by_kind(tiny, top_n=2).labels[-1] == "other (2 kinds)"


def test_boilerplate_lines_per_article(tiny):
    per_doc = dict(queries.boilerplate_lines_per_article(tiny).iter_rows())
    assert per_doc == {"a": 3, "b": 11, "c": 0, "d": 0}
    s = queries.boilerplate_lines(tiny)
    got = dict(zip(s.labels, s.values))
    assert got["0"] == 2 and got["3-4"] == 1 and got["10-19"] == 1 and sum(s.values) == 4


def test_rejects_by_reason_sorted_with_stage():
    rej = pl.DataFrame({S.REASON: ["too_short", "not_english", "too_short", None], S.STAGE: ["filter", "filter", "filter", "load"]})
    s = queries.rejects_by_reason(rej)
    assert s.labels[0] == "too_short" and set(s.labels) == {"too_short", "not_english", "(no reason)"}
    assert s.values[0] == 2 and sum(s.values) == 4 and s.groups[0] == "filter"


@pytest.mark.parametrize(
    ("max_value", "step"),
    [pytest.param(0, 1, id="empty"), pytest.param(3, 1, id="small"), pytest.param(17, 5, id="tens"), pytest.param(1680, 500, id="thousands")],
)
def test_nice_step(max_value, step):
    assert nice_step(max_value) == step


def _page(report: model.Report):
    return lxml_html.fromstring(html_page.render_html(report))


def test_empty_tables_give_no_data_panels(tmp_path):
    report = queries.build_report(queries.load_tables(Storage(tmp_path / "missing")), output="x")
    assert all(s.empty for s in report.plots.values())
    page = _page(report)
    assert page.xpath("//svg") == []
    assert sorted(el.get("data-plot") for el in page.xpath("//div[@class='nodata']")) == sorted([*model.PLOT_KEYS, "recent"])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    frames = write_synthetic_tables(root, n_articles=300, seed=3)
    return root, frames, queries.build_report(queries.load_tables(Storage(root)), output=str(root), top_sites=8, recent=12)


def test_plots_add_up_to_the_tables(synthetic):
    root, frames, report = synthetic
    a = Storage(root).read("articles")
    p = report.plots
    assert sum(p["articles_per_day"].values) == a[S.PUBLISHED].drop_nulls().len()
    assert sum(p["articles_per_site"].values) == a.height
    assert len(p["articles_per_site"].labels) == 9  # 8 named + other
    assert sum(p["rejects_by_reason"].values) == frames["rejected"].height
    assert sum(p["cluster_sizes"].values) == sum(p["boilerplate_lines"].values) == sum(p["words_per_article"].values) == a.height
    all_edits = sum(e["count"] for edits in a[S.EDITS].to_list() for e in edits)
    assert sum(p["edits_by_kind"].values) == all_edits
    assert len(report.recent) == 12
    tiles = {label: value for label, value, _ in report.headline}
    assert tiles["duplicate copies"] == f"{frames['duplicates'].height:,}" and tiles["articles"] == f"{a.height:,}"


def test_page_is_self_contained_and_escaped(synthetic):
    _, _, report = synthetic
    text = html_page.render_html(report)
    page = lxml_html.fromstring(text)
    # nothing is fetched: no external scripts, styles, images, frames, CSS urls or imports
    assert page.xpath("//*[@src]") == [] and page.xpath("//link") == []
    assert "url(" not in text and "@import" not in text
    assert [el.tag for el in page.xpath("//*[@href]")] == ["a"] * len(page.xpath("//*[@href]"))
    assert all(el.getparent().tag == "td" for el in page.xpath("//a"))
    # the one script is ours; a title carrying <script> arrived as text
    assert len(page.xpath("//script")) == 1
    assert any("<script>alert" in el.text_content() for el in page.xpath("//td[@class='title']"))


def test_every_plot_is_an_svg_with_one_mark_per_bar(synthetic):
    _, _, report = synthetic
    page = _page(report)
    svgs = {svg.get("data-plot"): svg for svg in page.xpath("//svg[@class='plot']")}
    assert set(svgs) == set(model.PLOT_KEYS)
    for key, svg in svgs.items():
        marks = svg.xpath(".//rect[@class='mark']")
        assert len(marks) == len(report.plots[key].values) == int(svg.get("data-bars")), key
        heights = [float(m.get("height")) for m in marks] if key not in ("articles_per_site", "rejects_by_reason", "edits_by_kind") else [
            float(m.get("width")) for m in marks
        ]
        # bar length follows the value: the largest value has the longest bar
        values = report.plots[key].values
        assert heights.index(max(heights)) == values.index(max(values)), key


def test_summary_table_rows():
    summary = {
        "run_id": "r", "output": "o", "pages_read": 9, "articles": 5, "duplicates": 2, "rejected": 2, "clusters_with_copies": 1,
        "inserted": {"articles": 5}, "rejected_by_reason": {"too_short": 1, "binary": 1}, "edits_by_kind": {"nbsp": 1, "whitespace": 7},
        "stats": {"chars.chars_delta": -40, "chars.total": 5}, "timings": {"clean": 1.23456, "dedup": 0.5, "write": 0.25}, "seconds": 2.0,
    }
    rows = {(r["section"], r["item"]): r["value"] for r in summary_table(summary)}
    assert rows[("count", "pages_read")] == 9 and rows[("count", "clusters_with_copies")] == 1
    assert rows[("rejected", "binary")] == 1 and rows[("edits", "whitespace")] == 7
    assert rows[("chars_delta", "chars")] == -40 and ("chars_delta", "chars.total") not in rows
    assert rows[("seconds", "clean")] == 1.235 and rows[("seconds", "total")] == 2.0
    edits = [r["item"] for r in summary_table(summary) if r["section"] == "edits"]
    assert edits == ["whitespace", "nbsp"]


runner = CliRunner()


def test_cli_report(tmp_path):
    Storage(tmp_path / "out").insert_new("articles", synthetic_frames(20, seed=1)["articles"])
    res = runner.invoke(app, ["report", "--output", str(tmp_path / "out"), "--to", str(tmp_path / "r" / "page.html")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r" / "page.html").read_text().startswith("<!doctype html>")
    res = runner.invoke(app, ["report", "--output", str(tmp_path / "out")])
    assert res.exit_code == 0 and (tmp_path / "out" / "report.html").exists()
    res = runner.invoke(app, ["report", "--output", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "does not exist" in res.output
