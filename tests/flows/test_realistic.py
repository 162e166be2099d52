"""End to end on realistic corpora, the way users run it: ``newsclean run`` / ``export`` / ``dedup``.

The pages come from the labelled syndication set (../shared/eval/syndication/dev.parquet): real
syndicated copies of one story on several sites, each damaged independently. One copy per story
gets an extra one-letter typo (two inner letters of a long word swapped) in a word every other copy
spells right, so the copies disagree and consensus repair has something to fix. The corpora are
built and run once per module (one flow run for the text pages, one for the WARC).
"""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cleaners.derived import make_content_hash
from cleaners.metrics import cluster_scores
from cleaners.words import count_words
from flows.cli import app

from shared_data import SHARED, need

pytestmark = [pytest.mark.flows, pytest.mark.slow]
runner = CliRunner()

DEV = SHARED / "eval" / "syndication" / "dev.parquet"
TABLES = ("articles", "duplicates", "rejected")
HEX32 = re.compile(r"[0-9a-f]{32}")
# LONG_WORD_RE: a lower-case word of 8+ letters standing alone. "syndicated" matches; "Reuters" does not
LONG_WORD_RE = re.compile(r"(?<![\w'’-])[a-z]{8,}(?![\w'’-])")
TEXT_PAGES = 300  # about this many .txt pages
WARC_STORIES = 40


# ---------------------------------------------------------------------------------------------
# corpus helpers


def _dev() -> pl.DataFrame:
    return pl.read_parquet(need(DEV, "../shared/eval/syndication/dev.parquet"))


def _swap(word: str) -> str:
    """The word with its first pair of differing inner letters swapped ("increase" -> "icnrease")."""
    for i in range(1, len(word) - 2):
        if word[i] != word[i + 1]:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return ""


def _typo_target(texts: list[str], corpus_words: set[str]) -> tuple[str, str] | None:
    """A long lower-case word found exactly once in every text, and its typo (a non-word here)."""
    counts = [Counter(LONG_WORD_RE.findall(t)) for t in texts]
    common = sorted(w for w, n in counts[0].items() if n == 1 and all(c.get(w) == 1 for c in counts[1:]))
    for word in sorted(common, key=lambda w: (-len(w), w)):
        typo = _swap(word)
        if typo and typo not in corpus_words:
            return word, typo
    return None


def _inject(text: str, word: str, typo: str) -> str:
    out, n = re.subn(rf"(?<![\w'’-]){word}(?![\w'’-])", typo, text)
    assert n == 1, (word, n)
    return out


def _pick_stories(dev: pl.DataFrame, min_rows: int, max_rows: int, want_rows: int, copies: int = 0) -> pl.DataFrame:
    """Stories of min_rows..max_rows labelled rows, in cluster_id order, until about ``want_rows`` rows.

    Without ``copies``: every row of the cluster; with ``copies``: the source row and the
    ``copies - 1`` copies closest to it (jaccard5_to_source), one per site. The typo goes into the
    longest copy. Adds ``word``/``typo`` (see :func:`_typo_target`) and ``injected``; stories
    without a usable word are left out.
    """
    corpus_words = set(LONG_WORD_RE.findall("\n".join(dev["text"].to_list())))
    sizes = dev.group_by("cluster_id").len().filter(pl.col("len").is_between(min_rows, max_rows))
    rows = dev.filter(pl.col("cluster_id").is_in(sizes["cluster_id"].implode())).sort("cluster_id", "doc_id")
    picked: list[pl.DataFrame] = []
    n = 0
    for (_cid,), group in rows.group_by("cluster_id", maintain_order=True):
        if copies:
            group = group.sort("is_source", "jaccard5_to_source", "doc_id", descending=[True, True, False])
            group = group.unique("site", keep="first", maintain_order=True).head(copies)
            if group.height < copies or not group["is_source"][0]:
                continue
        # the longest copy, usually the canonical: the other copies outvote its typo
        chosen = group.sort(pl.col("text").str.len_chars(), "doc_id", descending=[True, False])["doc_id"][0]
        target = _typo_target(group["text"].to_list(), corpus_words)
        if target is None:
            continue
        word, typo = target
        group = group.with_columns(pl.lit(word).alias("word"), pl.lit(typo).alias("typo"), (pl.col("doc_id") == chosen).alias("injected"))
        group = group.with_columns(
            pl.struct("text", "injected", "word", "typo")
            .map_elements(lambda r: _inject(r["text"], r["word"], r["typo"]) if r["injected"] else r["text"], return_dtype=pl.String)
            .alias("text")
        )
        picked.append(group)
        n += group.height
        if n >= want_rows:
            break
    return pl.concat(picked)


def _run(inputs: list[Path], out: Path) -> dict:
    args = ["run", "--output", str(out), "--json", "--no-progress"]
    for p in inputs:
        args += ["--input", str(p)]
    res = runner.invoke(app, args)
    return {"exit_code": res.exit_code, "output": res.output, "exception": res.exception}


def _tables(out: Path) -> dict[str, pl.DataFrame]:
    return {t: pl.read_delta(str(out / t)) for t in TABLES}


def _repair_details(edits: list[dict] | None) -> list[str]:
    return [e["detail"] for e in edits or [] if e["kind"] == "consensus_repair"]


# ---------------------------------------------------------------------------------------------
# the text-page corpus (one run per module)


@pytest.fixture(scope="module")
def text_corpus(tmp_path_factory):
    stories = _pick_stories(_dev(), min_rows=4, max_rows=8, want_rows=TEXT_PAGES)
    root = tmp_path_factory.mktemp("realistic_text")
    raw = root / "raw"
    files = {}
    for r in stories.iter_rows(named=True):
        path = raw / r["site"] / f"{r['doc_id']}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{r['title']}\n\n{r['text']}\n", encoding="utf-8")
        files[str(path.resolve())] = r
    out = root / "out"
    res = _run([raw], out)
    return {"root": root, "raw": raw, "out": out, "stories": stories, "files": files, "res": res}


@pytest.fixture(scope="module")
def text_tables(text_corpus):
    res = text_corpus["res"]
    assert res["exit_code"] == 0, f"{res['output']}\n{res['exception']!r}"
    return _tables(text_corpus["out"])


def test_text_run_every_page_in_exactly_one_table(text_corpus, text_tables):
    files = set(text_corpus["files"])
    assert len(files) >= 250
    seen: Counter = Counter()
    for table, df in text_tables.items():
        assert df["source"].null_count() == 0, table
        assert df["source"].n_unique() == df.height, f"a source twice in {table}"
        seen.update(df["source"].to_list())
    assert set(seen) == files, (sorted(files - set(seen))[:5], sorted(set(seen) - files)[:5])
    assert all(n == 1 for n in seen.values()), [s for s, n in seen.items() if n > 1][:5]
    # the corpus is clean news text: most pages are kept, and copies were found
    assert text_tables["articles"].height + text_tables["duplicates"].height >= 0.8 * len(files)
    assert text_tables["duplicates"].height >= 0.3 * len(files)


def test_text_run_one_canonical_per_cluster(text_tables):
    arts, dups = text_tables["articles"], text_tables["duplicates"]
    assert arts["cluster_id"].null_count() == 0
    assert arts["cluster_id"].n_unique() == arts.height, "two articles share a cluster_id"
    canon = dict(zip(arts["cluster_id"].to_list(), arts["doc_id"].to_list()))
    bad = [
        (d["doc_id"], d["cluster_id"], d["canonical_doc_id"])
        for d in dups.iter_rows(named=True)
        if canon.get(d["cluster_id"]) != d["canonical_doc_id"]
    ]
    assert not bad, bad[:5]
    # n_copies counts the canonical and its duplicates
    n_dups = Counter(dups["cluster_id"].to_list())
    wrong = [(c, n) for c, n in zip(arts["cluster_id"], arts["n_copies"]) if n != 1 + n_dups.get(c, 0)]
    assert not wrong, wrong[:5]


def test_text_run_consensus_repairs_the_injected_typos(text_corpus, text_tables):
    arts = text_tables["articles"]
    files = text_corpus["files"]
    repaired = arts.filter(pl.col("edits").list.eval(pl.element().struct.field("kind") == "consensus_repair").list.any())
    assert repaired.height > 0, "no consensus_repair edit in any article"
    injected = [r for r in arts.iter_rows(named=True) if files[r["source"]]["injected"]]
    fixed = []
    for r in injected:
        story = files[r["source"]]
        detail = f'"{story["typo"]}" -> "{story["word"]}"'
        if detail in _repair_details(r["edits"]):
            fixed.append(r["doc_id"])
            assert not re.search(rf"\b{story['typo']}\b", r["text"]), (r["doc_id"], detail)
            assert re.search(rf"\b{story['word']}\b", r["text"]), (r["doc_id"], detail)
    # the longest copy is usually the canonical; where it is, its copies outvote the typo (unless
    # the typo sits at a spot the copies do not cover with two equal tokens on each side)
    assert len(injected) >= 0.5 * len({s["cluster_id"] for s in files.values()}), len(injected)
    assert len(fixed) >= 0.6 * len(injected), (len(fixed), len(injected))
    # the repaired articles' derived columns were re-derived from the repaired text
    for r in repaired.iter_rows(named=True):
        assert r["content_hash"] == make_content_hash(r["text"]) and r["n_words"] == count_words(r["text"]), r["doc_id"]


def test_text_run_derived_columns_follow_the_text(text_tables):
    arts = text_tables["articles"]
    for r in arts.iter_rows(named=True):
        assert HEX32.fullmatch(r["content_hash"] or ""), (r["doc_id"], r["content_hash"])
        assert r["content_hash"] == make_content_hash(r["text"]), r["doc_id"]
        assert r["n_words"] == count_words(r["text"]), r["doc_id"]
    dups = text_tables["duplicates"]
    assert all(HEX32.fullmatch(h or "") for h in dups["content_hash"].to_list())


def test_text_run_clusters_agree_with_labels(text_corpus, text_tables):
    files = text_corpus["files"]
    kept = pl.concat([text_tables["articles"].select("source", "cluster_id"), text_tables["duplicates"].select("source", "cluster_id")])
    truth = [files[s]["cluster_id"] for s in kept["source"].to_list()]
    pred = kept["cluster_id"].to_list()
    scores = cluster_scores(truth, pred)
    assert scores.pair_precision >= 0.9, scores
    assert scores.pair_recall >= 0.8, scores
    assert scores.ari >= 0.85, scores
    # rows of one labelled story end mostly in one output cluster
    majority = Counter()
    by_label: dict[str, Counter] = {}
    for t, p in zip(truth, pred):
        by_label.setdefault(t, Counter())[p] += 1
    for counts in by_label.values():
        majority[counts.most_common(1)[0][1] == sum(counts.values())] += 1
    assert majority[True] >= 0.8 * len(by_label), majority


# ---------------------------------------------------------------------------------------------
# export, then dedup of the export; dedup of the labelled set


def test_dedup_of_an_export_keeps_the_earlier_assignment(text_corpus, text_tables, tmp_path):
    exp = tmp_path / "export"
    res = runner.invoke(app, ["export", "--output", str(text_corpus["out"]), "--to", str(exp)])
    assert res.exit_code == 0, f"{res.output}\n{res.exception!r}"
    for t in TABLES:
        assert (exp / f"{t}.parquet").is_file(), t
    articles = pl.read_parquet(exp / "articles.parquet")
    assert articles.height == text_tables["articles"].height and "cluster_id" in articles.columns
    dst = tmp_path / "dedup.parquet"
    res = runner.invoke(app, ["dedup", "--input", str(exp / "articles.parquet"), "--output", str(dst)])
    assert res.exit_code == 0, f"{res.output}\n{res.exception!r}"
    assert "input_cluster_id" in res.output
    out = pl.read_parquet(dst)
    assert {"cluster_id", "is_canonical", "similarity", "input_cluster_id"} <= set(out.columns)
    assert out.height == articles.height
    before = dict(zip(articles["doc_id"].to_list(), articles["cluster_id"].to_list()))
    assert dict(zip(out["doc_id"].to_list(), out["input_cluster_id"].to_list())) == before
    assert out["cluster_id"].null_count() == 0 and out["is_canonical"].null_count() == 0
    per_cluster = out.group_by("cluster_id").agg(pl.col("is_canonical").sum())["is_canonical"].to_list()
    assert set(per_cluster) == {1}
    # the articles are one per cluster already: dedup again finds (almost) no more copies
    assert out["cluster_id"].n_unique() >= 0.95 * out.height


def test_dedup_of_the_labelled_set(tmp_path):
    src = _dev()  # skips without ../shared
    dst = tmp_path / "dev-dedup.parquet"
    res = runner.invoke(app, ["dedup", "--input", str(DEV), "--output", str(dst)])
    assert res.exit_code == 0, f"{res.output}\n{res.exception!r}"
    out = pl.read_parquet(dst)
    assert out.height == src.height
    assert {"cluster_id", "is_canonical", "similarity", "input_cluster_id"} <= set(out.columns)
    labels = dict(zip(src["doc_id"].to_list(), src["cluster_id"].to_list()))
    assert dict(zip(out["doc_id"].to_list(), out["input_cluster_id"].to_list())) == labels
    scores = cluster_scores(out["input_cluster_id"].to_list(), out["cluster_id"].to_list())
    assert scores.ari >= 0.95, scores
    assert scores.pair_precision >= 0.95, scores


# ---------------------------------------------------------------------------------------------
# a WARC of republished copies (one run per module)


def _article_html(title: str, text: str) -> bytes:
    paras = [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)
    page = (
        f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
        f"<body><article>\n{body}\n</article></body></html>"
    )
    return page.encode("utf-8")


def _url(site: str, doc_id: str) -> str:
    host = re.sub(r"[^a-z0-9.-]", "", site.lower()) or "news.example"
    return f"https://www.{host}/{doc_id.replace('_', '/')}/story.html"


@pytest.fixture(scope="module")
def warc_corpus(tmp_path_factory):
    stories = _pick_stories(_dev(), min_rows=3, max_rows=21, want_rows=3 * WARC_STORIES, copies=3)
    root = tmp_path_factory.mktemp("realistic_warc")
    path = root / "copies.warc.gz"
    urls = {}
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for r in stories.iter_rows(named=True):
            url = _url(r["site"], r["doc_id"])
            assert url not in urls
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            rec = writer.create_warc_record(url, "response", payload=io.BytesIO(_article_html(r["title"], r["text"])), http_headers=headers)
            writer.write_record(rec)
            urls[url] = r
    out = root / "out"
    res = _run([path], out)
    return {"path": path, "out": out, "stories": stories, "urls": urls, "res": res}


def test_warc_of_republished_copies(warc_corpus):
    res = warc_corpus["res"]
    assert res["exit_code"] == 0, f"{res['output']}\n{res['exception']!r}"
    tables = _tables(warc_corpus["out"])
    urls = warc_corpus["urls"]
    assert len(urls) == 3 * WARC_STORIES
    prefix = warc_corpus["path"].resolve().as_posix() + "#"
    seen_urls: Counter = Counter()
    seen_sources: Counter = Counter()
    for table, df in tables.items():
        assert all(s.startswith(prefix) for s in df["source"].to_list()), table
        seen_sources.update(df["source"].to_list())
        seen_urls.update(df["url"].to_list())
    assert set(seen_urls) == set(urls), (sorted(set(urls) - set(seen_urls))[:5], sorted(set(seen_urls) - set(urls))[:5])
    assert all(n == 1 for n in seen_urls.values()), [u for u, n in seen_urls.items() if n > 1][:5]
    assert len(seen_sources) == len(urls) and all(n == 1 for n in seen_sources.values())
    arts, dups = tables["articles"], tables["duplicates"]
    assert arts.height + dups.height >= 0.8 * len(urls)
    # clusters formed, and every copy points at an article of its cluster
    assert dups.height >= WARC_STORIES
    assert arts["cluster_id"].n_unique() == arts.height
    canon = dict(zip(arts["cluster_id"].to_list(), arts["doc_id"].to_list()))
    assert all(canon.get(c) == d for c, d in zip(dups["cluster_id"], dups["canonical_doc_id"]))
    for df in (arts, dups):
        assert all(HEX32.fullmatch(h or "") for h in df["content_hash"].to_list())
    for r in arts.iter_rows(named=True):
        assert r["content_hash"] == make_content_hash(r["text"]) and r["n_words"] == count_words(r["text"]), r["url"]
    # copies of one story end in one cluster
    kept = pl.concat([arts.select("url", "cluster_id"), dups.select("url", "cluster_id")])
    scores = cluster_scores([urls[u]["cluster_id"] for u in kept["url"].to_list()], kept["cluster_id"].to_list())
    assert scores.pair_precision >= 0.9 and scores.pair_recall >= 0.75, scores
    # the injected typos: where the typo copy is the canonical, the two others outvote it
    injected = [r for r in arts.iter_rows(named=True) if urls[r["url"]]["injected"]]
    fixed = []
    for r in injected:
        story = urls[r["url"]]
        if f'"{story["typo"]}" -> "{story["word"]}"' in _repair_details(r["edits"]):
            fixed.append(r["url"])
            assert not re.search(rf"\b{story['typo']}\b", r["text"]) and re.search(rf"\b{story['word']}\b", r["text"]), r["url"]
    assert len(fixed) >= 0.5 * len(injected) > 0, (len(fixed), len(injected))
