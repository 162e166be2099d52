"""Smoke tests of the ingest flow on the seed pages and on bad inputs (no network)."""

from __future__ import annotations

import gzip
import shutil

import polars as pl
import pytest

from cleaners import schema as S
from flows.ingest import ingest_flow
from flows.storage import Storage

pytestmark = pytest.mark.flows

SEED_TITLES = {
    "000": "Russia Wants to Leave the International Space Station After 2024 and Make Its Own",
    "001": "Russia says it’s quitting the International Space Station after 2024",
    "002": "After 2024, Russia claims it will leave the International Space Station",
    "003": "Are Russia’s Threats to Withdraw From the International Space Station Actually Real This Time?",
    "004": "International Space Station: Russia will leave the ISS after 2024",
}

MESS = [
    "Google Ads",
    "[embedpost",
    "(opens in new tab)",
    "Telegram",
    "in reply to",
    "Recent Posts",
    "Follow Us",
    "Originally published as",
    "21-Oct-2025",
    "1024px",
    "Featured image credit",
    "Rogzonin",
    "participation; in",
    "Navigation",
]


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory, seeds_dir):
    raw = tmp_path_factory.mktemp("raw")
    for p in sorted(seeds_dir.glob("*.txt")):
        shutil.copy(p, raw / p.name)
    out = tmp_path_factory.mktemp("clean")
    summary = ingest_flow(inputs=[str(raw)], output=str(out))
    return raw, out, summary


def test_seeds_become_five_clean_articles(seeds_run):
    raw, out, summary = seeds_run
    articles = Storage(out).read("articles")
    assert articles.height == 5, summary
    assert summary["pages_read"] == 5 and summary["rejected"] == 0
    by_file = {r[S.SOURCE].rsplit("/", 1)[-1][:3]: r for r in articles.iter_rows(named=True)}
    for key, title in SEED_TITLES.items():
        row = by_file[key]
        assert row[S.TITLE] == title
        assert row[S.TEXT].count(title) == 0, f"title repeated in body of {key}"
        for junk in MESS:
            assert junk not in row[S.TEXT], (key, junk)
        assert row[S.SOURCE].endswith(".txt") and row[S.N_COPIES] == 1
    assert "Rogozin’s behavior toward international colleagues" in by_file["003"][S.TEXT]
    assert "“Good,” Putin replied in comments released by the Kremlin." in by_file["004"][S.TEXT]
    kinds = {e["kind"] for row in articles.iter_rows(named=True) for e in row[S.EDITS]}
    assert {"name_typo", "semicolon_repair", "link_artifact", "boilerplate_comments", "boilerplate_ad_banner"} <= kinds
    assert kinds & {"shortcode", "boilerplate_shortcode"}


def test_rerun_adds_no_rows(seeds_run):
    raw, out, _ = seeds_run
    before = {t: Storage(out).read(t).height for t in ("articles", "duplicates", "rejected")}
    summary = ingest_flow(inputs=[str(raw)], output=str(out))
    after = {t: Storage(out).read(t).height for t in ("articles", "duplicates", "rejected")}
    assert before == after
    assert sum(summary["inserted"].values()) == 0
    assert summary["inputs_already_done"] == 5 and summary["pages_read"] == 0


def test_bad_inputs_are_quarantined_with_reasons(tmp_path, seeds_dir):
    raw = tmp_path / "raw"
    raw.mkdir()
    seed = sorted(seeds_dir.glob("*.txt"))[1]
    (raw / "copy.txt.gz").write_bytes(gzip.compress(seed.read_bytes()))  # exact copy, gzipped
    shutil.copy(seed, raw / "orig.txt")
    (raw / "empty.txt").write_bytes(b"")
    (raw / "noise.html").write_bytes(bytes(range(256)) * 40)
    (raw / "short.txt").write_text("Just a headline\n\nAnd one line.\n")
    (raw / "truncated.txt.gz").write_bytes(gzip.compress(seed.read_bytes())[:200])
    (raw / "notes.json").write_text("{}")
    out = tmp_path / "clean"
    summary = ingest_flow(inputs=[str(raw)], output=str(out))
    st = Storage(out)
    rejected = st.read("rejected")
    reasons = dict(zip([s.rsplit("/", 1)[-1] for s in rejected[S.SOURCE]], rejected[S.REASON]))
    assert set(reasons) == {"empty.txt", "noise.html", "short.txt", "truncated.txt.gz", "notes.json"}, reasons
    assert reasons["short.txt"] == "too_short"
    assert reasons["notes.json"] == "unsupported_file_type"
    assert reasons["truncated.txt.gz"] == "truncated_gzip"
    assert all(rejected[S.DETAIL].is_not_null() | (rejected[S.REASON] == "too_short"))
    articles, dups = st.read("articles"), st.read("duplicates")
    assert articles.height == 1 and dups.height == 1
    assert dups[S.CLUSTER_ID][0] == articles[S.CLUSTER_ID][0]
    assert articles[S.N_COPIES][0] == 2
    # every input is accounted for exactly once
    assert articles.height + dups.height + rejected.height == summary["pages_read"] == 7


def test_copy_arriving_later_joins_existing_cluster(tmp_path, seeds_dir):
    """Run 1 writes the seeds; a republished copy in run 2 joins 004's cluster, which is then
    decided again from both copies, exactly as a fresh run over both folders decides it."""
    raw1, raw2 = tmp_path / "day1", tmp_path / "day2"
    raw1.mkdir()
    raw2.mkdir()
    seeds = sorted(seeds_dir.glob("*.txt"))
    for p in seeds:
        shutil.copy(p, raw1 / p.name)
    original = seeds[4].read_text(encoding="utf-8")
    lines = original.splitlines()
    body = "\n".join(lines[1:-1]).replace("Borisov said", "Borisov; said").replace("Kremlin", "Kremlni", 1)
    copy = "Home | World | Science\n\nRussia quits the ISS after 2024, says new space chief\n\n" + body + "\n\nShare this article\nFollow Us\n"
    (raw2 / "republished.txt").write_text(copy, encoding="utf-8")
    out = tmp_path / "clean"
    ingest_flow(inputs=[str(raw1)], output=str(out))
    st = Storage(out)
    orig = st.read("articles").filter(pl.col(S.SOURCE).str.ends_with(seeds[4].name))
    assert orig.height == 1
    summary = ingest_flow(inputs=[str(raw2)], output=str(out))
    # the copy joined a published cluster: a second pass decided it again from both copies
    assert summary["inputs_by_reason"] == {"new": 1, "settle_settle": 1, "settle_cluster": 1}
    assert summary["duplicates"] == 1 and summary["articles"] == 1
    dups = st.read("duplicates")
    assert dups.height == 1 and dups[S.SIMILARITY][0] > 0.5
    pair = {dups["canonical_doc_id"][0], dups[S.DOC_ID][0]}
    assert orig[S.DOC_ID][0] in pair
    fresh = tmp_path / "fresh"
    ingest_flow(inputs=[str(raw1), str(raw2)], output=str(fresh))
    fresh_dups = Storage(fresh).read("duplicates")
    assert fresh_dups.select(S.DOC_ID, "canonical_doc_id", S.CLUSTER_ID).equals(dups.select(S.DOC_ID, "canonical_doc_id", S.CLUSTER_ID))
    assert Storage(fresh).read("articles").sort(S.DOC_ID)[S.TEXT].equals(st.read("articles").sort(S.DOC_ID)[S.TEXT])
    index = st.read("dedup_index")
    assert index.height == st.read("articles").height + dups.height
    # a rerun of day 2 changes nothing
    again = ingest_flow(inputs=[str(raw2)], output=str(out))
    assert sum(again["inserted"].values()) == 0
