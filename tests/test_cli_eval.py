"""`newsclean eval ...` commands run on tiny labelled sets (wiring, not quality)."""

from __future__ import annotations

import gzip
import json

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()
STORY = (
    "The harbour authority said on Friday that the old lighthouse would be restored next year with money "
    "from the regional government, after engineers found cracks in the tower during a winter survey. "
)
OTHER = (
    "Farmers in the valley expect a smaller apple harvest this autumn because a late frost in April damaged "
    "many blossoms, the growers association said in its monthly report on Tuesday afternoon. "
)


def _json_out(output: str) -> dict:
    """The last pretty-printed JSON object in the output."""
    start = output.rindex("\n{\n") + 1 if "\n{\n" in output else output.index("{")
    return json.loads(output[start : output.rindex("}") + 1])


def test_eval_dedup_command(tmp_path):
    df = pl.DataFrame(
        {
            "doc_id": ["a", "b", "c"],
            "text": [STORY * 3, "Site header\n" + STORY * 3 + " Extra.", OTHER * 3],
            "cluster_id": ["s", "s", "o"],
        }
    )
    src = tmp_path / "labelled.parquet"
    df.write_parquet(src)
    res = runner.invoke(app, ["eval", "dedup", "--input", str(src)])
    assert res.exit_code == 0, res.output
    out = _json_out(res.output)
    assert out["ari"] == 1.0 and out["docs"] == 3


def test_eval_text_reports_both_sets_in_sample_and_held_out_by_site(tmp_path):
    from test_evals import text_set

    out_file = tmp_path / "out" / "text.json"
    args = ["eval", "text", "--aeb", str(text_set(tmp_path / "aeb")), "--wcxb", str(text_set(tmp_path / "wcxb")), "--out", str(out_file)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    out = _json_out(res.output)
    assert {"aeb", "wcxb", "metrics", "folds"} <= set(out) and out["classifier_refitted_per_fold"] is True
    for name in ("aeb", "wcxb"):
        report = out[name]
        assert report["pages"] == 6 and report["sites"] == 3
        for figures in (report["in_sample"], report["held_out_by_site"]):
            assert figures["word_f1"] > 0.8 and {"precision", "recall", "f1"} <= set(figures["ngram4"])
        assert len(report["held_out_by_site"]["fold_word_f1"]) == out["folds"]
        assert "pages_detail" not in report  # per-page rows go to --out only
    assert len(json.loads(out_file.read_text())["wcxb"]["pages_detail"]) == 6


def test_eval_text_of_the_rules_alone_fits_nothing(tmp_path):
    from test_evals import text_set

    config = tmp_path / "rules.toml"
    config.write_text("[boilerplate]\nuse_classifier = false\n")
    res = runner.invoke(app, ["eval", "text", "--set", "aeb", "--aeb", str(text_set(tmp_path / "aeb")), "--config", str(config)])
    assert res.exit_code == 0, res.output
    out = _json_out(res.output)
    assert set(out) == {"metrics", "folds", "classifier_refitted_per_fold", "aeb"}
    assert out["classifier_refitted_per_fold"] is False
    assert out["aeb"]["held_out_by_site"] == out["aeb"]["in_sample"]


def test_eval_extract_command(tmp_path):
    html = f"<html><head><title>Lighthouse</title></head><body><nav>Home News Sport</nav><article><h1>Lighthouse</h1><p>{STORY}</p><p>{OTHER}</p></article></body></html>"
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "x1.html.gz").write_bytes(gzip.compress(html.encode()))
    (tmp_path / "gt.json").write_text(json.dumps({"x1": {"articleBody": STORY + OTHER, "url": "https://example.org/a"}}))
    res = runner.invoke(app, ["eval", "extract", "--gold", str(tmp_path / "gt.json"), "--pages", str(tmp_path / "html")])
    assert res.exit_code == 0, res.output
    out = _json_out(res.output)
    assert out["newsclean"]["all"]["f1"] > 0.8


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "text", "--set", "aeb", "--aeb", "{missing}"],
        ["eval", "extract", "--gold", "{missing}/ground-truth.json", "--pages", "{missing}"],
        ["eval", "dedup", "--input", "{missing}/dev.parquet"],
        ["eval", "metadata", "--set", "wcxb", "--wcxb", "{missing}"],
    ],
    ids=["text", "extract", "dedup", "metadata"],
)
def test_eval_without_data_is_a_clear_error(tmp_path, args):
    missing = str(tmp_path / "nope")
    res = runner.invoke(app, [a.format(missing=missing) for a in args])
    assert res.exit_code == 2, res.output
    assert "evaluation data not found" in res.output and missing in res.output


def test_eval_text_on_a_folder_without_pages_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["eval", "text", "--set", "aeb", "--aeb", str(tmp_path)])
    assert res.exit_code == 2 and "gold.txt" in res.output


def test_eval_text_names_the_wcxb_set_it_would_render(tmp_path, monkeypatch):
    from evals import cli

    monkeypatch.setattr(cli, "WCXB", tmp_path / "no-wcxb")
    res = runner.invoke(app, ["eval", "text", "--set", "wcxb"])
    assert res.exit_code == 2 and "no-wcxb" in res.output and "gold.jsonl.gz" in res.output


def test_eval_repairs_names_missing_data(tmp_path, monkeypatch):
    from evals import data

    monkeypatch.setattr(data, "SHARED", tmp_path / "no-shared")
    res = runner.invoke(app, ["eval", "repairs"])
    assert res.exit_code == 2, res.output
    assert "seeds" in res.output and "syndication" in res.output and "wcxb_gold" in res.output


def test_export_of_a_folder_without_tables_leaves_the_target_untouched(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "articles.parquet").write_bytes(b"a good snapshot")
    res = runner.invoke(app, ["export", "--output", str(tmp_path / "typo"), "--to", str(target)])
    assert res.exit_code == 2
    assert "no articles, duplicates, rejected table" in res.output
    assert sorted(p.name for p in target.iterdir()) == ["articles.parquet"]
    assert (target / "articles.parquet").read_bytes() == b"a good snapshot"


def _wcxb_fixture(root, pages):
    """A WCXB-shaped set: gold.jsonl.gz (id, url, page_type, main_content, ...) and html/<id>.html.gz."""
    (root / "html").mkdir(parents=True)
    rows = []
    for page_id, url, page_type, html, gold in pages:
        (root / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(html.encode()))
        rows.append({"id": page_id, "url": url, "page_type": page_type, "title": "", "author": "", "publish_date": None,
                     "main_content": gold, "with": [], "without": []})
    (root / "gold.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))


def test_eval_extract_reports_word_f1_per_set_in_sample_and_by_site_fold(tmp_path):
    from evals import extract

    article = f"<html><head><title>Lighthouse</title></head><body><nav>Home News Sport</nav><article><h1>Lighthouse</h1><p>{STORY}</p><p>{OTHER}</p></article></body></html>"
    listing = "<html><body><ul>" + "".join(f"<li><a href='/n{i}'>Story number {i} headline</a></li>" for i in range(30)) + "</ul></body></html>"
    _wcxb_fixture(
        tmp_path / "wcxb",
        [
            ("0001", "https://news.example.org/a", "article", article, STORY + OTHER),
            ("0002", "https://www.example.co.uk/b", "article", article, STORY + OTHER),
            ("0003", "https://shop.example.com/list", "listing", listing, ""),
        ],
    )
    out_file = tmp_path / "out" / "figures.json"
    res = runner.invoke(app, ["eval", "extract", "--set", "wcxb", "--wcxb", str(tmp_path / "wcxb"), "--out", str(out_file)])
    assert res.exit_code == 0, res.output
    out = _json_out(res.output)
    assert set(out) == {"metric", "folds", "wcxb"} and out["metric"] == "word_f1"
    report = out["wcxb"]
    assert report["pages"] == 3 and report["articles"] == 2
    assert {"in_sample", "held_out_by_site", "seconds", "time_ratio_newsclean_over_trafilatura"} <= set(report)
    assert report["in_sample"]["pages"] == 2 and report["in_sample"]["sites"] == 2
    assert {"newsclean_f1", "trafilatura_f1", "diff", "diff_ci95"} <= set(report["in_sample"])
    assert len(report["held_out_by_site"]["folds"]) == extract.FOLDS
    assert sum(f["pages"] for f in report["held_out_by_site"]["folds"]) == 2
    assert report["non_articles_accepted_as_article"]["listing"]["pages"] == 1
    assert "pages_detail" not in report  # per-page rows go to --out only
    assert {row["site"] for row in json.loads(out_file.read_text())["wcxb"]["pages_detail"]} == {"example.org", "example.co.uk"}


def test_word_f1_of_a_perfect_extraction_is_one_and_the_folds_are_stable():
    from evals import extract

    assert extract.word_f1(STORY + OTHER, STORY + OTHER) == 1.0
    assert extract.word_f1("The Harbour, authority!", "the harbour authority") == 1.0  # \w+ words, lower case
    assert extract.word_f1("", "") == 1.0 and extract.word_f1("", STORY) == 0.0
    assert extract.word_f1("harbour harbour", "harbour") == 2 / 3  # a bag: repeats count
    assert extract.site_of("https://www.bbc.co.uk/news/x") == "bbc.co.uk"
    assert extract.site_fold("bbc.co.uk") == extract.site_fold("bbc.co.uk") in range(extract.FOLDS)
    pages = [{"site": "a", "newsclean": 1.0, "trafilatura": 0.5}, {"site": "b", "newsclean": 1.0, "trafilatura": 1.0}]
    cmp = extract._compare(pages)
    assert cmp["diff"] == 0.25 and cmp["diff_ci95"][0] <= 0.25 <= cmp["diff_ci95"][1]


def test_a_perfect_extraction_scores_one_in_the_set_report(tmp_path, monkeypatch):
    from evals import extract

    html = f"<html><body><article><p>{STORY}</p></article></body></html>"
    _wcxb_fixture(tmp_path, [("0001", "https://a.example.org/x", "article", html, STORY), ("0002", "https://b.example.net/y", "article", html, STORY)])
    monkeypatch.setattr(extract, "newsclean_page", lambda html, url, cfg: (STORY, True))
    report = extract.evaluate_sets({"wcxb": tmp_path})["wcxb"]
    assert report["in_sample"]["newsclean_f1"] == 1.0
    assert report["held_out_by_site"]["mean"]["newsclean_f1"] == 1.0
    assert report["in_sample"]["diff"] == pytest.approx(1.0 - report["in_sample"]["trafilatura_f1"])


def test_eval_metadata_scores_title_date_author_beside_trafilatura_in_sample_and_by_site_fold(tmp_path):
    root = tmp_path / "wcxb"
    (root / "html").mkdir(parents=True)
    head = (
        '<title>Lighthouse to be restored | Harbour News</title><meta property="og:site_name" content="Harbour News">'
        '<meta property="og:title" content="Lighthouse to be restored | Harbour News">'
    )
    body = f"<h1>Lighthouse to be restored</h1><p>By</p><p>Jane Doe</p><p>March 4, 2021</p><p>{STORY}</p><p>{OTHER}</p>"
    rows = []
    for page_id, url in (("0001", "https://harbour.example.org/a"), ("0002", "https://www.valley.example.com/b")):
        (root / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(f"<html><head>{head}</head><body>{body}</body></html>".encode()))
        rows.append({"id": page_id, "url": url, "page_type": "article", "title": "Lighthouse to be restored", "author": "Jane Doe",
                     "publish_date": "2021-03-04", "main_content": STORY + OTHER, "with": [], "without": []})
    (root / "gold.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    out_file = tmp_path / "figures.json"
    res = runner.invoke(app, ["eval", "metadata", "--set", "wcxb", "--wcxb", str(root), "--out", str(out_file)])
    assert res.exit_code == 0, res.output
    report = _json_out(res.output)["wcxb"]
    assert report["pages"] == 2 and report["sites"] == 2
    ours, theirs = report["in_sample"]["newsclean"], report["in_sample"]["trafilatura"]
    assert (ours["title"]["accuracy"], ours["date"]["accuracy"], ours["author"]["accuracy"]) == (1.0, 1.0, 1.0)
    assert theirs["title"]["accuracy"] == 0.0  # trafilatura takes og:title, site name and all
    assert len(report["held_out_by_site"]["newsclean_by_fold"]) == len(report["held_out_by_site"]["fitted"]) == 5
    assert report["held_out_by_site"]["newsclean"]["title"]["gold_pages"] == 2
    assert report["cpu_ratio_newsclean_over_trafilatura"] > 0
    assert "pages_detail" not in report and len(json.loads(out_file.read_text())["wcxb"]["pages_detail"]) == 2


def test_metadata_measures_normalize_quotes_dashes_case_and_names():
    from evals import metadata

    assert metadata.normalize_text("Yes—Right  Now: Beginner’s “Guide”") == metadata.normalize_text('yes-right now: beginner\'s "guide"')
    assert metadata.title_f1("Best espresso machines 2025", "best espresso machines") == 6 / 7
    assert metadata.author_names("By Danielle DeSiato, Donna Enzmann, and Natalie Nguyen") == {"danielle desiato", "donna enzmann", "natalie nguyen"}
    assert metadata.author_names("Dylan Bailey, MS, RD, FAND") == metadata.author_names("Dylan Bailey") == {"dylan bailey"}
    assert metadata.author_names("Jane Doe; John Roe") == metadata.author_names("John Roe & Jane Doe")
    assert metadata.same_day("2025-09-04", "2025-09-04") and not metadata.same_day("2025-09-05", "2025-09-04")
    assert metadata.same_day("2003-11-20", "2003-11") and not metadata.same_day(None, "2003-11")


def test_held_out_folds_are_extracted_with_the_settings_fitted_without_them(tmp_path, monkeypatch):
    """A page of site fold k is scored held out with fold k's judge settings from the fit file, in
    sample with the shipped ones."""
    import dataclasses

    from cleaners.config import PipelineConfig
    from evals import extract

    html = f"<html><body><article><p>{STORY}</p></article></body></html>"
    pages = [("0001", "https://a.example.org/x", "article", html, STORY), ("0002", "https://b.example.net/y", "article", html, STORY)]
    _wcxb_fixture(tmp_path / "wcxb", pages)
    org = extract.site_fold("example.org")
    assert org != extract.site_fold("example.net")
    shipped = {k: getattr(PipelineConfig().extract, k) for k in extract.JUDGE_SETTINGS}
    folds = {str(k): {"settings": {**shipped, "recall_trigger": 0.123} if k == org else shipped} for k in range(extract.FOLDS)}
    fit_file = tmp_path / "select_fit.json"
    fit_file.write_text(json.dumps({"settings": shipped, "held_out_folds": folds}))
    seen = []

    def page(html, url, cfg):
        seen.append((url, cfg.extract.recall_trigger))
        return (STORY if cfg.extract.recall_trigger != 0.123 else "", True)

    monkeypatch.setattr(extract, "newsclean_page", page)
    report = extract.evaluate_sets({"wcxb": tmp_path / "wcxb"}, fit_file=fit_file)["wcxb"]
    assert report["in_sample"]["newsclean_f1"] == 1.0
    assert report["held_out_by_site"]["all"]["newsclean_f1"] == 0.5  # example.org's page got fold settings
    assert report["held_out_by_site"]["folds"][org]["newsclean_f1"] == 0.0
    assert report["held_out_by_site"]["fitted"][org]["recall_trigger"] == 0.123
    assert ("https://a.example.org/x", 0.123) in seen and ("https://b.example.net/y", 0.123) not in seen
    cfg = extract.held_out_config(PipelineConfig(), org, fit_file)
    assert cfg.extract == dataclasses.replace(PipelineConfig().extract, recall_trigger=0.123)
