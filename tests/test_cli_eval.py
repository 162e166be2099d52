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


def test_eval_text_command(tmp_path):
    (tmp_path / "p1.txt").write_text("Lighthouse to be restored\n\n" + STORY * 3 + "\n\nFollow us on Twitter\n")
    (tmp_path / "p1.gold.txt").write_text(STORY * 3)
    res = runner.invoke(app, ["eval", "text", "--pages", str(tmp_path)])
    assert res.exit_code == 0, res.output
    out = _json_out(res.output)
    assert out["pages"] == 1 and out["f1"] > 0.8


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
        ["eval", "text", "--pages", "{missing}"],
        ["eval", "extract", "--gold", "{missing}/ground-truth.json", "--pages", "{missing}"],
        ["eval", "dedup", "--input", "{missing}/dev.parquet"],
    ],
    ids=["text", "extract", "dedup"],
)
def test_eval_without_data_is_a_clear_error(tmp_path, args):
    missing = str(tmp_path / "nope")
    res = runner.invoke(app, [a.format(missing=missing) for a in args])
    assert res.exit_code == 2, res.output
    assert "evaluation data not found" in res.output and missing in res.output


def test_eval_text_on_a_folder_without_pages_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["eval", "text", "--pages", str(tmp_path)])
    assert res.exit_code == 2 and "gold.txt" in res.output


def test_eval_repairs_names_missing_data(tmp_path, monkeypatch):
    from evals import data

    monkeypatch.setattr(data, "SHARED", tmp_path / "no-shared")
    res = runner.invoke(app, ["eval", "repairs"])
    assert res.exit_code == 2, res.output
    assert "seeds" in res.output and "syndication" in res.output


def test_export_of_a_folder_without_tables_leaves_the_target_untouched(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "articles.parquet").write_bytes(b"a good snapshot")
    res = runner.invoke(app, ["export", "--output", str(tmp_path / "typo"), "--to", str(target)])
    assert res.exit_code == 2
    assert "no articles, duplicates, rejected table" in res.output
    assert sorted(p.name for p in target.iterdir()) == ["articles.parquet"]
    assert (target / "articles.parquet").read_bytes() == b"a good snapshot"
