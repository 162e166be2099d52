"""Backfill replaces exactly its range of published dates; maintenance commands keep data."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.backfill import backfill_flow
from flows.cli import app
from flows.ingest import ingest_flow
from flows.storage import Storage

pytestmark = pytest.mark.flows

BODIES = {
    "a": (
        "The city council voted on Tuesday to approve a new budget for the coming year, after weeks of debate "
        "about spending on schools, roads and public transport. Council members said the plan would keep taxes "
        "steady while adding money for repairs to the old library and two swimming pools."
    ),
    "b": (
        "Fishermen in the northern harbour say the catch of herring has fallen for a third season in a row, and "
        "many boats now stay in port for most of the week. A marine biologist at the university blamed warmer "
        "water, while the fishing association asked the ministry for help with fuel costs."
    ),
    "c": (
        "A small museum of mechanical clocks reopened on Saturday after a two-year restoration of its building. "
        "Volunteers spent months cleaning more than three hundred clocks, some of them built in the eighteenth "
        "century, and the curator hopes that school groups will visit during the autumn."
    ),
}


def _page(key: str, title: str, date: str, extra: str = "") -> str:
    body = BODIES[key]
    return f"{title}\n\n{date}\n\n{body} {extra}\n"


SHORT_OK = {"filters.min_words": 20}


@pytest.fixture()
def dated(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(_page("a", "Council approves budget in early July", "July 1, 2022"))
    (raw / "b.txt").write_text(_page("b", "Herring catch falls again in the north", "July 15, 2022", "Bravo."))
    (raw / "c.txt").write_text(_page("c", "Clock museum reopens after restoration", "August 1, 2022"))
    return raw


def test_backfill_replaces_only_its_range(dated, tmp_path):
    out = tmp_path / "clean"
    ingest_flow(inputs=[str(dated)], output=str(out), overrides=SHORT_OK)
    st = Storage(out)
    before = st.read("articles").sort("published")
    assert before["published"].cast(pl.String).to_list() == ["2022-07-01", "2022-07-15", "2022-08-01"]
    # the July 15 and August 1 pages are corrected at their source; the backfill of July redoes
    # the July page only
    (dated / "b.txt").write_text(_page("b", "Herring catch falls again in the north", "July 15, 2022", "Bravo corrected."))
    (dated / "c.txt").write_text(_page("c", "Clock museum reopens after restoration", "August 1, 2022", "Charlie corrected."))
    res = backfill_flow(since=dt.date(2022, 7, 10), until=dt.date(2022, 7, 31), inputs=[str(dated)], output=str(out), overrides=SHORT_OK)
    assert res["articles"] == 1 and res["outside_range"] == 2
    after = st.read("articles").sort("published")
    assert after.height == 3
    texts = dict(zip(after["published"].cast(pl.String), after["text"]))
    assert "Bravo corrected." in texts["2022-07-15"] and "Charlie corrected." not in texts["2022-08-01"]
    # other dates untouched, row for row (ingested_at included)
    untouched = ["2022-07-01", "2022-08-01"]
    keep = pl.col("published").cast(pl.String).is_in(untouched)
    assert after.filter(keep).equals(before.filter(keep))
    # the backfill wrote no ledger rows: a normal run still sees c.txt changed and redoes it
    ingest_flow(inputs=[str(dated)], output=str(out), overrides=SHORT_OK)
    assert "Charlie corrected." in " ".join(st.read("articles")["text"].to_list())


def test_backfill_keeps_rows_of_inputs_it_was_not_given(dated, tmp_path):
    """Regression (issue 12): a backfill of one folder deleted every row of its range."""
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "d.txt").write_text(_page("a", "Budget vote reported by a second paper", "July 20, 2022", "Delta copy."))
    (copies / "e.txt").write_text(_page("c", "Clocks back on show for the public", "July 21, 2022", "Echo copy."))
    out = tmp_path / "clean"
    ingest_flow(inputs=[str(dated)], output=str(out), overrides=SHORT_OK)
    ingest_flow(inputs=[str(copies)], output=str(out), overrides=SHORT_OK)
    st = Storage(out)

    def rows() -> dict[str, str]:
        return {r["source"]: t for t in ("articles", "duplicates", "rejected") for r in st.read(t).iter_rows(named=True)}

    before = rows()
    assert len(before) == 5
    backfill_flow(since=dt.date(2022, 7, 1), until=dt.date(2022, 7, 31), inputs=[str(dated)], output=str(out), overrides=SHORT_OK)
    after = rows()
    # every input still holds exactly one row; the copies' clusters were decided again from all
    # their members (d.txt, the longer copy of a.txt, is now the canonical, as a fresh run has it)
    assert sorted(after) == sorted(before)
    counts = [sum(r["source"] == s for t in ("articles", "duplicates", "rejected") for r in st.read(t).iter_rows(named=True)) for s in after]
    assert counts == [1] * 5
    articles = st.read("articles")
    for dup in st.read("duplicates").iter_rows(named=True):
        assert dup["canonical_doc_id"] in articles["doc_id"].to_list()
        assert articles.filter(pl.col("doc_id") == dup["canonical_doc_id"])["cluster_id"].item() == dup["cluster_id"]
    # and a later run over the copies has nothing to redo
    summary = ingest_flow(inputs=[str(copies)], output=str(out), overrides=SHORT_OK)
    assert summary["inputs_already_done"] == 2 and summary["pages_read"] == 0


def test_backfill_cli_validates_dates(tmp_path):
    res = CliRunner().invoke(app, ["backfill", "--since", "2022-08-01", "--until", "2022-07-01", "--input", str(tmp_path)])
    assert res.exit_code == 2 and "after" in res.output
    res = CliRunner().invoke(app, ["backfill", "--since", "yesterday", "--until", "2022-07-01"])
    assert res.exit_code == 2


def test_compact_vacuum_export_keep_rows(dated, tmp_path):
    out = tmp_path / "clean"
    for name in ("a.txt", "b.txt", "c.txt"):  # three runs -> several small files
        ingest_flow(inputs=[str(dated / name)], output=str(out), overrides=SHORT_OK)
    st = Storage(out)
    rows = st.read("articles").sort("doc_id")
    runner = CliRunner()
    assert runner.invoke(app, ["compact", "--output", str(out)]).exit_code == 0
    assert runner.invoke(app, ["vacuum", "--output", str(out), "--retention-hours", "0"]).exit_code == 2
    res = runner.invoke(app, ["vacuum", "--output", str(out), "--retention-hours", "0", "--force-short"])
    assert res.exit_code == 0, res.output
    assert st.read("articles").sort("doc_id").equals(rows)
    res = runner.invoke(app, ["export", "--output", str(out), "--to", str(tmp_path / "export")])
    assert res.exit_code == 0, res.output
    exported = pl.read_parquet(tmp_path / "export" / "articles.parquet").sort("doc_id")
    assert exported.equals(rows)
