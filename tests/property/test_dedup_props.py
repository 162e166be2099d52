"""Hypothesis properties of cleaners.dedup: total, row-preserving, one canonical, order-independent."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners.config import DedupConfig
from cleaners.dedup import assign_clusters, fingerprint, normalize_for_fingerprint

CFG = DedupConfig()
# a small vocabulary so that random documents overlap, repeat and nearly repeat
WORD = st.sampled_from(["shr", "net", "vs", "12", "10", "cts", "profit", "loss", "the", "said", "bank", "rate", "oil"])
DOC = st.lists(WORD, min_size=0, max_size=40).map(" ".join)
TEXT = st.one_of(DOC, st.text(max_size=200))
SITE = st.sampled_from([None, "a.com", "b.com"])


@st.composite
def frames(draw: st.DrawFn) -> pl.DataFrame:
    texts = draw(st.lists(TEXT, min_size=1, max_size=25))
    # reuse some texts (exact and case variants) so clusters form
    copies = draw(st.lists(st.integers(0, len(texts) - 1), max_size=10))
    texts = texts + [texts[i].upper() if i % 2 else texts[i] for i in copies]
    sites = [draw(SITE) for _ in texts]
    edits = [draw(st.integers(0, 3)) for _ in texts]
    return pl.DataFrame(
        {"doc_id": [f"d{i:03d}" for i in range(len(texts))], "text": texts, "site": sites, "n_edits": edits}
    )


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_fingerprint_total_and_deterministic(text: str) -> None:
    fp = fingerprint(text, CFG)
    assert fp == fingerprint(text, CFG)
    assert len(fp.signature) == CFG.num_perm
    assert normalize_for_fingerprint(normalize_for_fingerprint(text)) == normalize_for_fingerprint(text)


@settings(max_examples=60, deadline=None)
@given(frames())
def test_rows_preserved_one_canonical_per_cluster(df: pl.DataFrame) -> None:
    out = assign_clusters(df, CFG)
    assert out.height == df.height
    assert out.select(df.columns).equals(df)  # output == input rows, in input order, plus columns
    per_cluster = out.group_by("cluster_id").agg(pl.col("is_canonical").sum().alias("n"))
    assert (per_cluster["n"] == 1).all()
    assert out["similarity"].is_between(0.0, 1.0).all()
    assert (out.filter("is_canonical")["similarity"] == 1.0).all()
    # exact duplicates (same normalised text) always share a cluster
    norm = out.with_columns(norm=pl.col("text").map_elements(normalize_for_fingerprint, return_dtype=pl.String))
    assert (norm.group_by("norm").agg(pl.col("cluster_id").n_unique())["cluster_id"] == 1).all()


@settings(max_examples=40, deadline=None)
@given(frames(), st.randoms(use_true_random=False))
def test_order_independent(df: pl.DataFrame, rnd) -> None:
    order = list(range(df.height))
    rnd.shuffle(order)
    first = assign_clusters(df, CFG).sort("doc_id")
    again = assign_clusters(df[order], CFG).sort("doc_id")
    assert again.equals(first)


@settings(max_examples=80, deadline=None)
@given(TEXT, st.lists(TEXT, max_size=4))
def test_consensus_total_and_idempotent(canonical: str, copies: list[str]) -> None:
    from cleaners.dedup import repair_from_copies

    text, edits = repair_from_copies(canonical, copies, CFG)
    assert (text == canonical) == (not edits)
    assert repair_from_copies(text, copies, CFG)[0] == text
