"""cleaners.dedup: normalisation, fingerprints, band keys, clustering and the persistent index."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import xxhash

from cleaners import dedup
from cleaners.config import DedupConfig
from cleaners.dedup import assign_clusters, band_keys, batch, candidates, cluster, fingerprint, furniture, minhash, normalize_for_fingerprint
from cleaners.metrics import cluster_scores

from shared_data import need

CFG = DedupConfig()

# ------------------------------------------------------------------ synthetic news stories

_SYLLABLES = ("ka", "lo", "mi", "ter", "san", "po", "ru", "ven", "dis", "an", "el", "or", "tri", "gu", "ne", "sol")


def _vocab(rng: random.Random, size: int = 3000) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def story(seed: int, n_sentences: int = 10) -> str:
    """A deterministic pseudo news story: sentences of pseudo-words, one paragraph each."""
    rng = random.Random(seed)
    vocab = _vocab(random.Random(0))
    sentences = []
    for _ in range(n_sentences):
        words = [rng.choice(vocab) for _ in range(rng.randint(12, 22))]
        sentences.append(" ".join(words).capitalize() + ".")
    return "\n\n".join(sentences)


def typo_copy(text: str, seed: int, rate: float = 0.03) -> str:
    """Swap two letters in about ``rate`` of the words."""
    rng = random.Random(seed)
    words = text.split(" ")
    for i, w in enumerate(words):
        if len(w) > 3 and rng.random() < rate:
            j = rng.randrange(len(w) - 1)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def abridged(text: str, keep: float) -> str:
    paragraphs = text.split("\n\n")
    return "\n\n".join(paragraphs[: max(1, int(len(paragraphs) * keep))])


def earnings(shr: int, prev: int, net: str, revs: str) -> str:
    return (
        f"CHICAGO, March 3 - Shr profit {shr} cts vs {prev} cts\n\nNet profit {net} vs {net[::-1]}\n\n"
        f"Revs {revs} mln vs {revs[::-1]} mln\n\nNine mths shr profit {shr + 7} cts vs {prev + 5} cts"
    )


def frame(texts: dict[str, str], **columns: dict[str, object]) -> pl.DataFrame:
    data = {"doc_id": list(texts), "text": list(texts.values())}
    for name, values in columns.items():
        data[name] = [values.get(d) for d in texts]
    return pl.DataFrame(data)


def groups(out: pl.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g) for g in out.group_by("cluster_id").agg("doc_id")["doc_id"].to_list()}


# ------------------------------------------------------------------ normalisation

NORMALIZE_CASES = [
    ("plain", "net profit rose", "net profit rose"),
    ("case_and_punct", "Net profit ROSE!", "net profit rose"),
    ("digit_groups", "Net 5,963,000 vs 1.07 dlrs", "net 5963000 vs 107 dlrs"),
    ("numbers_kept", "Shr 12 cts vs 10 cts", "shr 12 cts vs 10 cts"),
    ("dash_and_newlines", "NEW YORK, March 11 -\n\nStandard", "new york march 11 standard"),
    ("unicode_letters", "Müller’s café", "müller s café"),
    ("fullwidth_nfkc", "ＡＢＣ 123", "abc 123"),
    ("empty", "", ""),
    ("only_punct", " -- ... ", ""),
]


@pytest.mark.parametrize(("before", "after"), [c[1:] for c in NORMALIZE_CASES], ids=[c[0] for c in NORMALIZE_CASES])
def test_normalize_for_fingerprint(before: str, after: str) -> None:
    assert normalize_for_fingerprint(before) == after


# ------------------------------------------------------------------ fingerprint

FINGERPRINT_SAME = [
    ("case_punct_spacing", "Net profit rose 12 pct.", "NET PROFIT   rose, 12 pct"),
    ("digit_groups", "Net 5,963,000 dlrs", "net 5963000 dlrs"),
]
FINGERPRINT_DIFFERENT = [
    ("number_changed", "Shr 12 cts vs 10 cts", "Shr 13 cts vs 10 cts"),
    ("word_changed", "Net profit rose", "Net loss rose"),
]


@pytest.mark.parametrize(("a", "b"), [c[1:] for c in FINGERPRINT_SAME], ids=[c[0] for c in FINGERPRINT_SAME])
def test_fingerprint_same_content(a: str, b: str) -> None:
    assert fingerprint(a, CFG) == fingerprint(b, CFG)


@pytest.mark.parametrize(("a", "b"), [c[1:] for c in FINGERPRINT_DIFFERENT], ids=[c[0] for c in FINGERPRINT_DIFFERENT])
def test_fingerprint_different_content(a: str, b: str) -> None:
    fa, fb = fingerprint(a, CFG), fingerprint(b, CFG)
    assert fa.content_key != fb.content_key
    assert fa.signature != fb.signature


def test_fingerprint_shape_and_seed() -> None:
    text = story(1)
    fp = fingerprint(text, CFG)
    assert len(fp.signature) == CFG.num_perm
    assert fp.content_key == xxhash.xxh3_64_hexdigest(normalize_for_fingerprint(text).encode())
    assert fingerprint(text, dataclasses.replace(CFG, seed=2)).signature != fp.signature
    assert fingerprint(text, CFG) == fp  # deterministic


def test_minhash_estimates_jaccard() -> None:
    """Signature agreement tracks the exact shingle Jaccard (unbiased permutations)."""
    cfg = dataclasses.replace(CFG, num_perm=256)
    base = story(5, 20)
    errors = []
    for k in range(1, 8):
        other = abridged(base, k / 8) + "\n\n" + story(100 + k, 3)
        sa = minhash.shingle_sets(minhash._normalize(pl.Series([base])), cfg)[0]
        sb = minhash.shingle_sets(minhash._normalize(pl.Series([other])), cfg)[0]
        exact = len(np.intersect1d(sa, sb)) / len(np.union1d(sa, sb))
        fa, fb = fingerprint(base, cfg), fingerprint(other, cfg)
        estimate = np.mean(np.array(fa.signature) == np.array(fb.signature))
        errors.append(estimate - exact)
    assert max(abs(e) for e in errors) < 0.12
    assert abs(np.mean(errors)) < 0.05


def test_empty_and_short_texts() -> None:
    assert fingerprint("", CFG).n_shingles == 1
    assert fingerprint("two words", CFG).n_shingles == 1  # shorter than the shingle size
    assert fingerprint("one two three four", CFG).n_shingles == 2


# ------------------------------------------------------------------ clustering

BASE_A, BASE_B, BASE_C = story(11), story(22), story(33)

CLUSTER_CASES = [
    (
        "exact_copies",
        {"a1": BASE_A, "a2": BASE_A.upper(), "b1": BASE_B},
        [{"a1", "a2"}, {"b1"}],
    ),
    (
        "typo_copies",
        {"a1": BASE_A, "a2": typo_copy(BASE_A, 1), "a3": typo_copy(BASE_A, 2), "b1": BASE_B},
        [{"a1", "a2", "a3"}, {"b1"}],
    ),
    (
        "abridged_copy",
        {"a1": BASE_A, "a2": abridged(BASE_A, 0.6), "b1": BASE_B},
        [{"a1", "a2"}, {"b1"}],
    ),
    (
        "padded_copy",
        {"a1": BASE_A, "a2": "Local angle. " + BASE_A + "\n\nOur reporter adds one line.", "b1": BASE_B},
        [{"a1", "a2"}, {"b1"}],
    ),
    (
        "unrelated_stories",
        {"a1": BASE_A, "b1": BASE_B, "c1": BASE_C},
        [{"a1"}, {"b1"}, {"c1"}],
    ),
    (
        "templated_earnings_differ_by_numbers",
        {
            "e1": earnings(12, 10, "3,433,000", "37.1"),
            "e2": earnings(25, 19, "1,310,000", "12.4"),
            "e3": earnings(31, 44, "8,902,000", "55.7"),
        },
        [{"e1"}, {"e2"}, {"e3"}],
    ),
    (
        "pasted_story_does_not_chain",
        {
            "a1": BASE_A,
            "a2": typo_copy(BASE_A, 3),
            "a3": abridged(BASE_A, 0.8) + "\n\n" + abridged(BASE_B, 0.2),  # a copy of A with B's lede pasted in
            "b1": abridged(BASE_B, 0.2),
            "b2": typo_copy(abridged(BASE_B, 0.2), 4),
        },
        [{"a1", "a2", "a3"}, {"b1", "b2"}],
    ),
]


@pytest.mark.parametrize(("texts", "expected"), [c[1:] for c in CLUSTER_CASES], ids=[c[0] for c in CLUSTER_CASES])
def test_assign_clusters_groups(texts: dict[str, str], expected: list[set[str]]) -> None:
    out = assign_clusters(frame(texts), CFG)
    assert groups(out) == {frozenset(g) for g in expected}


def test_earlier_assignment_in_the_input_is_replaced() -> None:
    """Regression (issue 11): an input that already has cluster columns (an export, a labelled
    set) raised DuplicateError."""
    texts = {"a1": BASE_A, "a2": typo_copy(BASE_A, 1), "b1": BASE_B}
    fresh = assign_clusters(frame(texts), CFG)
    earlier = frame(texts).with_columns(
        cluster_id=pl.lit("label"), is_canonical=pl.lit(True), similarity=pl.lit(0.5)
    )
    again = assign_clusters(earlier, CFG)
    assert again.columns == fresh.columns
    assert again.equals(fresh)


def test_callers_content_hash_passes_through() -> None:
    """Regression (issue 11): dedup wrote its own 64-bit hash over the caller's content_hash."""
    texts = {"a1": BASE_A, "a2": typo_copy(BASE_A, 1), "b1": BASE_B}
    df = frame(texts).with_columns(content_hash=pl.Series(["h" * 32, "i" * 32, "j" * 32]))
    out = assign_clusters(df, CFG)
    assert out["content_hash"].to_list() == ["h" * 32, "i" * 32, "j" * 32]
    assert not any(c.startswith("_") for c in out.columns)


def test_output_columns_and_invariants() -> None:
    texts = {"a1": BASE_A, "a2": typo_copy(BASE_A, 1), "b1": BASE_B}
    df = frame(texts, site={"a1": "x.com", "a2": "y.com", "b1": "x.com"})
    out = assign_clusters(df, CFG)
    assert out.columns == [*df.columns, "cluster_id", "is_canonical", "similarity"]
    assert out["doc_id"].to_list() == df["doc_id"].to_list()  # every row, input order
    assert (out.group_by("cluster_id").agg(pl.col("is_canonical").sum())["is_canonical"] == 1).all()
    canon = out.filter("is_canonical")
    assert (canon["similarity"] == 1.0).all()
    assert out.filter(pl.col("doc_id") == "a2")["similarity"].item() < 1.0
    assert canon["cluster_id"].to_list() == [xxhash.xxh3_64_hexdigest(d.encode()) for d in canon["doc_id"]]


CANONICAL_CASES = [
    ("longest_copy_wins", {"short": abridged(BASE_A, 0.7), "full": BASE_A}, {}, "full"),
    (
        "fewer_repairs_win",
        {"fixed": BASE_A, "raw": BASE_A + " "},
        {"n_edits": {"fixed": 4, "raw": 0}},
        "raw",
    ),
    (
        "earliest_published_wins",
        {"late": BASE_A, "early": BASE_A.upper()},
        {"published": {"late": dt.date(2024, 5, 2), "early": dt.date(2024, 5, 1)}},
        "early",
    ),
    ("doc_id_breaks_ties", {"b": BASE_A, "a": BASE_A.lower()}, {}, "a"),
]


@pytest.mark.parametrize(
    ("texts", "columns", "winner"), [c[1:] for c in CANONICAL_CASES], ids=[c[0] for c in CANONICAL_CASES]
)
def test_canonical_by_quality(texts: dict[str, str], columns: dict, winner: str) -> None:
    out = assign_clusters(frame(texts, **columns), CFG)
    assert out.filter("is_canonical")["doc_id"].to_list() == [winner]


def test_order_independent() -> None:
    texts = {f"a{i}": typo_copy(BASE_A, i) for i in range(4)} | {f"b{i}": typo_copy(BASE_B, 10 + i) for i in range(3)}
    texts["c0"] = BASE_C
    df = frame(texts)
    first = assign_clusters(df, CFG).sort("doc_id")
    for seed in range(3):
        shuffled = df.sample(fraction=1.0, shuffle=True, seed=seed)
        again = assign_clusters(shuffled, CFG).sort("doc_id")
        assert again.equals(first)


def test_site_boilerplate_does_not_join_stories() -> None:
    footer = "\n\n" + story(99, 8)  # a long site footer shared by every page of one site
    texts = {f"p{i}": story(200 + i, 3) + footer for i in range(4)}
    df = frame(texts, site={d: "same.com" for d in texts})
    assert len(groups(assign_clusters(df, CFG))) == 4
    # without the site rule the footer dominates the short stories and joins them
    no_rule = dataclasses.replace(CFG, min_site_repeat_docs=10**6)
    assert len(groups(assign_clusters(df, no_rule))) < 4


def test_empty_frame() -> None:
    df = pl.DataFrame({"doc_id": [], "text": []}, schema={"doc_id": pl.String, "text": pl.String})
    out = assign_clusters(df, CFG)
    assert out.height == 0
    assert {"cluster_id", "is_canonical", "similarity"} <= set(out.columns)


def test_band_keys_frame() -> None:
    df = frame({"a1": BASE_A, "a2": BASE_A.upper(), "b1": BASE_B})
    keys = band_keys(df, CFG)
    assert keys.columns == ["doc_id", "band", "key"]
    assert keys.height == 2 * CFG.num_bands  # exact copies share their representative's keys
    a = keys.filter(pl.col("doc_id") == "a1")["key"].to_list()
    b = keys.filter(pl.col("doc_id") == "b1")["key"].to_list()
    assert len(set(a) & set(b)) == 0


def test_components_match_union_find() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(1, 60))
        m = int(rng.integers(0, 80))
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
        parent = list(range(n))

        def find(x: int, parent: list[int] = parent) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for x, y in zip(a.tolist(), b.tolist()):
            rx, ry = find(x), find(y)
            parent[max(rx, ry)] = min(rx, ry)
        expected = [find(x) for x in range(n)]
        assert cluster._components(n, a, b).tolist() == expected


# ------------------------------------------------------------------ shared data


def test_seed_pages_stay_five_clusters(seeds_dir) -> None:
    files = sorted(seeds_dir.glob("*.txt"))[:5]
    df = pl.DataFrame({"doc_id": [f.name for f in files], "text": [f.read_text(encoding="utf-8") for f in files]})
    out = assign_clusters(df, CFG)
    assert out["cluster_id"].n_unique() == 5
    assert out["is_canonical"].all()


@pytest.mark.slow
def test_syndication_dev_floor(shared_dir) -> None:
    path = need(shared_dir / "eval" / "syndication" / "dev.parquet", "syndication dev set")
    df = pl.read_parquet(path)
    out = assign_clusters(df.select("doc_id", "text", "title", "site"), CFG)
    scores = cluster_scores(df["cluster_id"].to_list(), out["cluster_id"].to_list())
    assert scores.ari >= 0.95
    assert scores.pair_precision >= 0.95


GOLDEN_DEV = Path(__file__).resolve().parents[1] / "golden" / "dedup" / "syndication_dev.parquet"


@pytest.mark.slow
def test_syndication_dev_equals_stored_result(shared_dir) -> None:
    """The dev set clusters exactly as stored from the code before the throughput work (blocks on
    threads, cached word hashes, NFKC skipped where it changes nothing): same cluster_id,
    is_canonical and similarity on every row."""
    path = need(shared_dir / "eval" / "syndication" / "dev.parquet", "syndication dev set")
    df = pl.read_parquet(path).select("doc_id", "text", "title", "site")
    want = pl.read_parquet(GOLDEN_DEV)
    got = assign_clusters(df, CFG).select(want.columns)
    assert got.sort("doc_id").equals(want.sort("doc_id"))


def test_block_sizes_do_not_change_the_result(monkeypatch) -> None:
    """Tiny blocks (many of them, on the threads of map_blocks) give the result of one block each."""
    rng = random.Random(11)
    texts = [story(s % 40) + (" " + story(1000 + s, 2) if s % 3 else "") for s in range(120)]
    texts += ["", "Café «naïve» — it’s 5 km² …", "x"]
    rng.shuffle(texts)
    df = pl.DataFrame({"doc_id": [f"d{i:03d}" for i in range(len(texts))], "text": texts, "site": [f"s{i % 7}" for i in range(len(texts))]})
    want = assign_clusters(df, CFG)
    monkeypatch.setattr(minhash, "_SHINGLE_BLOCK_BYTES", 500)
    monkeypatch.setattr(minhash, "_NORMALIZE_BLOCK_ROWS", 7)
    monkeypatch.setattr(minhash, "_MINHASH_BLOCK_SHINGLES", 64)
    monkeypatch.setattr(furniture, "_MEMBER_BLOCK", 100)
    monkeypatch.setattr(candidates, "_MAX_QUERY_ROWS", 50)
    got = assign_clusters(df, CFG)
    assert got.equals(want)
    assert want["cluster_id"].n_unique() < len(texts) - 20  # the stories' copies cluster


def test_nfkc_change_class_is_the_stable_characters() -> None:
    """NFKC_CHANGE_RE leaves out exactly the Latin-1 and General Punctuation characters that NFKC
    keeps and that do not combine (so skipping NFKC on texts without the others changes nothing)."""
    import unicodedata

    pattern = re.compile(minhash.NFKC_CHANGE_RE)
    for cp in [*range(0x80, 0x100), *range(0x2000, 0x2070)]:
        c = chr(cp)
        listed = 0xA1 <= cp <= 0xFF or 0x2010 <= cp <= 0x2027 or 0x2030 <= cp <= 0x205E  # where the class draws from
        stable = listed and unicodedata.normalize("NFKC", c) == c and unicodedata.combining(c) == 0
        assert (pattern.search(c) is None) == stable, hex(cp)
    texts = pl.Series(["It’s “quoted” — café", "5 km² …", "e\u0301 ﬁ", None, "plain"])
    assert minhash.normalize_texts(texts).to_list() == minhash._normalize(texts).to_list()


# ------------------------------------------------------------------ persistent index (incremental runs)


def _run(df: pl.DataFrame, index: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One incremental run as the flow does it: query the index by band keys, cluster, index rows."""
    cand = None
    if index is not None:
        cand = dedup.candidate_index_query(index.lazy(), band_keys(df, CFG)).collect()
    return dedup.cluster_and_index(df, CFG, cand)


def test_index_schema_and_rows() -> None:
    df = frame({"a1": BASE_A, "a2": typo_copy(BASE_A, 1), "b1": BASE_B}, site={"a1": "x.com", "a2": "y.com", "b1": "x.com"})
    out, rows = dedup.cluster_and_index(df, CFG)
    assert rows.schema == dedup.INDEX_SCHEMA
    assert rows["doc_id"].to_list() == df["doc_id"].to_list()
    assert rows.select("doc_id", "cluster_id", "is_canonical", "similarity").equals(
        out.select("doc_id", "cluster_id", "is_canonical", "similarity")
    )
    assert (rows["band_keys"].list.len() == CFG.num_bands).all()
    assert (rows["n_shingles"] == rows["shingles"].list.len()).all()
    assert (rows["shingles"].list.eval(pl.element().diff().drop_nulls() > 0).list.all()).all()  # sorted, distinct
    assert index_rows_equal(dedup.index_rows(out, CFG), rows)


def index_rows_equal(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    return a.sort("doc_id").equals(b.sort("doc_id"))


INCREMENTAL_CASES = [
    ("typo_copy_joins", {"a2": typo_copy(BASE_A, 1)}, {"a2": "a1"}),
    ("exact_copy_joins", {"a2": BASE_A.upper()}, {"a2": "a1"}),
    ("abridged_copy_joins", {"a2": abridged(BASE_A, 0.6)}, {"a2": "a1"}),
    ("longer_copy_joins_but_is_not_canonical", {"a2": BASE_A + "\n\n" + story(77, 2)}, {"a2": "a1"}),
    ("unrelated_stays_alone", {"c1": BASE_C}, {"c1": "c1"}),
    ("new_cluster_and_join", {"a2": typo_copy(BASE_A, 2), "c1": BASE_C, "c2": typo_copy(BASE_C, 5)}, {"a2": "a1", "c1": "c1", "c2": "c1"}),
]


@pytest.mark.parametrize(("second", "owner"), [c[1:] for c in INCREMENTAL_CASES], ids=[c[0] for c in INCREMENTAL_CASES])
def test_incremental_run_joins_indexed_cluster(second: dict[str, str], owner: dict[str, str]) -> None:
    first_out, index = _run(frame({"a1": abridged(BASE_A, 0.9), "b1": BASE_B}), None)
    out, new_rows = _run(frame(second), index)
    ids = dict(zip(first_out["doc_id"], first_out["cluster_id"]))
    for doc, canonical in owner.items():
        row = out.filter(pl.col("doc_id") == doc)
        expected = ids.get(canonical, xxhash.xxh3_64_hexdigest(canonical.encode()))
        assert row["cluster_id"].item() == expected
        assert row["is_canonical"].item() == (doc == canonical)  # the indexed canonical stays canonical
        assert 0.0 < row["similarity"].item() <= 1.0
    assert sorted(new_rows["doc_id"]) == sorted(second)


def test_rerun_with_index_is_idempotent() -> None:
    _, index = _run(frame({"a1": BASE_A, "b1": BASE_B}), None)
    second = frame({"a2": typo_copy(BASE_A, 1), "c1": BASE_C, "c2": typo_copy(BASE_C, 4)})
    out, rows = _run(second, index)
    index = pl.concat([index, rows])
    again, again_rows = _run(second, index)
    assert again.equals(out)
    assert again_rows.height == 0  # nothing new to index
    mixed = pl.concat([second, frame({"a3": typo_copy(BASE_A, 9)})])
    third, _ = _run(mixed, index)
    assert third.head(second.height).equals(out)
    assert third["cluster_id"][-1] == out["cluster_id"][0]


def test_candidate_query_on_parquet_scan(tmp_path) -> None:
    texts = {f"s{i}": story(300 + i) for i in range(20)}
    _, index = _run(frame(texts), None)
    path = tmp_path / "index.parquet"
    index.write_parquet(path)
    new = frame({"n1": typo_copy(texts["s3"], 1), "n2": story(999)})
    cand = dedup.candidate_index_query(pl.scan_parquet(path), band_keys(new, CFG)).collect()
    assert cand["doc_id"].to_list() == ["s3"]
    out = assign_clusters(new, CFG, cand)
    assert out["cluster_id"][0] == index.filter(pl.col("doc_id") == "s3")["cluster_id"].item()


@pytest.mark.slow
def test_syndication_dev_two_runs(shared_dir) -> None:
    """Half the dev set in run 1, the other half plus run 1's index in run 2: combined ARI, idempotence."""
    path = need(shared_dir / "eval" / "syndication" / "dev.parquet", "syndication dev set")
    df = pl.read_parquet(path)
    inputs = df.select("doc_id", "text", "title", "site")
    half = df.height // 2
    out1, index = _run(inputs[:half], None)
    out2, rows = _run(inputs[half:], index)
    combined = pl.concat([out1, out2])
    scores = cluster_scores(df["cluster_id"].to_list(), combined["cluster_id"].to_list())
    assert scores.ari >= 0.95
    assert scores.pair_precision >= 0.95
    assert (combined.group_by("cluster_id").agg(pl.col("is_canonical").sum())["is_canonical"] == 1).all()
    again, _ = _run(inputs[half:], pl.concat([index, rows]))
    assert again.equals(out2)


def ngram_hashes_reference(word_h: np.ndarray, doc_of: np.ndarray, ends: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The plain per-position n-gram hashing that ``minhash._ngram_hashes`` computes faster."""
    m = len(word_h)
    pos = np.arange(m, dtype=np.int64)
    room = ends[doc_of] - pos  # words left in the document from here, >= 1
    g = word_h.copy()
    with np.errstate(over="ignore"):
        for j in range(1, n):
            nxt = np.zeros(m, dtype=np.uint64)
            if j < m:
                nxt[: m - j] = word_h[j:]
            g = np.where(room > j, (g * minhash._GOLDEN) ^ (nxt + np.uint64(j)), g)
        g = minhash._splitmix(g)
    lengths = np.diff(np.concatenate(([0], ends)))
    keep = room >= n
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    if len(short):
        keep[(ends - lengths)[short]] = True
    return g[keep], doc_of[keep]


def test_ngram_hashes_equal_the_per_position_reference() -> None:
    """Short documents (fewer words than the n-gram), empty ones and n = 1..5 included."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        lengths = rng.integers(0, 9, int(rng.integers(1, 30)))
        ends = np.cumsum(lengths)
        words = rng.integers(0, 2**63, int(ends[-1]), dtype=np.uint64)
        doc_of = np.repeat(np.arange(len(lengths)), lengths)
        for n in range(1, 6):
            got, want = minhash._ngram_hashes(words, doc_of, ends, n), ngram_hashes_reference(words, doc_of, ends, n)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_frequent_and_member_equal_numpy_set_operations() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        values = rng.integers(0, 20, int(rng.integers(0, 60))).astype(np.uint32)
        k = int(rng.integers(0, 8))
        uniq, counts = np.unique(values, return_counts=True)
        common = furniture.frequent(values, k)
        assert np.array_equal(common, uniq[counts >= k])
        assert np.array_equal(furniture.member(values, common), np.isin(values, common))
        copy = values.astype(np.uint64)
        assert np.array_equal(furniture.frequent(copy, k, in_place=True), uniq[counts >= k].astype(np.uint64))


def test_regroup_equals_the_one_shot_gather(monkeypatch) -> None:
    """Blocked regrouping moves the same runs as one gather over all positions (empty documents included)."""
    rng = np.random.default_rng(5)
    monkeypatch.setattr(batch, "_REGROUP_BLOCK_DOCS", 3)
    for _ in range(200):
        sizes = rng.integers(0, 6, int(rng.integers(1, 25)))
        g = rng.integers(0, 2**32, int(sizes.sum()), dtype=np.uint64).astype(np.uint32)
        old_of_new = rng.permutation(len(sizes))
        old_start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        run = sizes[old_of_new]
        order = np.repeat(old_start[old_of_new] - np.concatenate(([0], np.cumsum(run)[:-1])), run) + np.arange(run.sum())
        assert np.array_equal(batch._regroup(g, sizes, old_of_new), g[order])


def test_concat_consuming_equals_concatenate() -> None:
    rng = np.random.default_rng(6)
    for n_parts in (1, 2, 5):
        parts = [rng.integers(0, 100, int(rng.integers(0, 10))).astype(np.int32) for _ in range(n_parts)]
        want = np.concatenate(parts)
        got = minhash._concat_consuming(list(parts))
        assert np.array_equal(got, want) and got.dtype == want.dtype


def test_shingle_block_word_hashes_equal_a_python_reference() -> None:
    """The Enum-coded word hashing gives, per document, the distinct n-gram hashes of the plain
    per-document computation (repeated words, one-word, empty and short documents)."""
    cfg = DedupConfig()
    texts = ["a b c d a b c d", "word", "", "x y", "the cat sat on the mat the cat sat", "b a b a b a"]
    norm = minhash._normalize(pl.Series(texts))
    g, gdoc = minhash._shingle_block(norm, cfg, {})
    for i, text in enumerate(norm.to_list()):
        words = text.split(" ") if text else []
        if not words:
            want = np.array([minhash._EMPTY_SHINGLE], dtype=np.uint64)
        else:
            h = np.array([xxhash.xxh3_64_intdigest(w.encode("utf-8"), minhash._WORD_SEED) for w in words], dtype=np.uint64)
            want, _ = minhash._ngram_hashes(h, np.zeros(len(h), dtype=np.int64), np.array([len(h)]), cfg.shingle_words)
        want = np.unique(minhash._high32(want) if len(words) else want.astype(np.uint32))
        assert np.array_equal(g[gdoc == i], want.astype(np.uint32)), text


# ------------------------------------------------------------------ time window (dedup.window_days)

WCFG = DedupConfig(window_days=30)  # the window these tests exercise (the default, stated so here)
DAY = dt.date(2025, 3, 10)


def _days(**offsets: int) -> dict[str, dt.date]:
    return {doc: DAY + dt.timedelta(days=d) for doc, d in offsets.items()}


def _indexed_a1() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Story A indexed as seen on DAY (canonical a1), story B beside it."""
    return dedup.cluster_and_index(frame({"a1": BASE_A, "b1": BASE_B}, seen=_days(a1=0, b1=0)), WCFG)


@pytest.mark.parametrize(
    ("offset", "joins"),
    [(3, True), (30, True), (-30, True), (31, False), (-31, False), (200, False)],
    ids=["3_days_later", "window_edge_after", "window_edge_before", "one_day_past", "one_day_before", "months_later"],
)
def test_copy_joins_only_within_the_window(offset: int, joins: bool) -> None:
    first, index = _indexed_a1()
    new = frame({"a2": typo_copy(BASE_A, 1)}, seen=_days(a2=offset))
    for idx in (index, index.lazy()):  # loaded rows and a scan of the stored index alike
        out, rows = dedup.cluster_and_index(new, WCFG, idx)
        joined = out["cluster_id"].item() == first.filter(pl.col("doc_id") == "a1")["cluster_id"].item()
        assert joined == joins
        assert out["is_canonical"].item() == (not joins)  # outside the window: a cluster of its own
        assert rows["seen"].to_list() == [DAY + dt.timedelta(days=offset)]


def test_window_zero_matches_all_history_and_undated_rows_always_match() -> None:
    first, index = _indexed_a1()
    a1_cluster = first["cluster_id"][0]
    new = frame({"a2": typo_copy(BASE_A, 1)}, seen=_days(a2=400))
    everything = dataclasses.replace(WCFG, window_days=0)
    assert dedup.cluster_and_index(new, everything, index.lazy())[0]["cluster_id"].item() == a1_cluster
    undated_index = index.with_columns(seen=pl.lit(None, pl.Date))  # an index written before `seen` existed
    assert dedup.cluster_and_index(new, WCFG, undated_index.lazy())[0]["cluster_id"].item() == a1_cluster
    undated_batch = frame({"a2": typo_copy(BASE_A, 1)})  # no seen column: no window
    assert dedup.cluster_and_index(undated_batch, WCFG, index.lazy())[0]["cluster_id"].item() == a1_cluster


def test_window_is_per_page_within_a_batch_spanning_months() -> None:
    """A backfill batch covering months reads the window around its whole range, but each page
    joins only indexed copies seen within the window of its own day."""
    first, index = _indexed_a1()
    new = frame(
        {"a2": typo_copy(BASE_A, 1), "c1": BASE_C, "b2": typo_copy(BASE_B, 2)},
        seen=_days(a2=-120, c1=-60, b2=-5),  # a2 is far from a1; b2 near b1
    )
    assert dedup.window_bounds(new["seen"], WCFG) == (DAY - dt.timedelta(days=150), DAY + dt.timedelta(days=25))
    out, _ = dedup.cluster_and_index(new, WCFG, index.lazy())
    cluster = dict(zip(out["doc_id"], out["cluster_id"]))
    old = dict(zip(first["doc_id"], first["cluster_id"]))
    assert cluster["b2"] == old["b1"]
    assert cluster["a2"] != old["a1"]


def test_backfill_before_the_index_and_the_live_stream_after_it() -> None:
    """Order does not matter: pages indexed later than a backfilled copy still match it."""
    _, index = dedup.cluster_and_index(frame({"a1": BASE_A}, seen=_days(a1=20)), WCFG)
    out, rows = dedup.cluster_and_index(frame({"a0": typo_copy(BASE_A, 3)}, seen=_days(a0=0)), WCFG, index.lazy())
    assert out["cluster_id"].item() == index["cluster_id"].item() and not out["is_canonical"].item()
    index = pl.concat([index, rows])
    live, _ = dedup.cluster_and_index(frame({"a3": typo_copy(BASE_A, 4)}, seen=_days(a3=45)), WCFG, index.lazy())
    assert live["cluster_id"].item() == index["cluster_id"][0]  # a1 (seen day 20) is 25 days away


@pytest.mark.parametrize(("offset", "joins"), [(30, True), (-30, True), (31, False), (-200, False)])
def test_window_applies_within_a_batch_as_across_runs(offset: int, joins: bool) -> None:
    """Two copies in one batch link only within the window, as they do when the second comes in a
    later run: the split of pages into runs does not change the clusters."""
    pages = frame({"a1": BASE_A, "a2": typo_copy(BASE_A, 1), "b1": BASE_B}, seen=_days(a1=0, a2=offset, b1=0))
    one_run = groups(dedup.assign_clusters(pages, WCFG))
    assert (frozenset({"a1", "a2"}) in one_run) == joins
    first, index = dedup.cluster_and_index(pages.filter(pl.col("doc_id") != "a2"), WCFG)
    later, _ = dedup.cluster_and_index(pages.filter(pl.col("doc_id") == "a2"), WCFG, index.lazy())
    assert groups(pl.concat([first, later])) == one_run
    # no window, or an undated side: linked whatever the days
    assert frozenset({"a1", "a2"}) in groups(dedup.assign_clusters(pages, dataclasses.replace(WCFG, window_days=0)))
    undated = pages.with_columns(seen=pl.when(pl.col("doc_id") == "a2").then(None).otherwise(pl.col("seen")))
    assert frozenset({"a1", "a2"}) in groups(dedup.assign_clusters(undated, WCFG))


def test_window_days_defaults_to_30() -> None:
    assert DedupConfig().window_days == 30


def test_window_days_is_range_checked() -> None:
    from cleaners.config import ConfigError, PipelineConfig, with_overrides

    assert with_overrides(PipelineConfig(), {"dedup.window_days": 0}).dedup.window_days == 0
    for bad in (-1, 1.5, True, 100_000):
        with pytest.raises(ConfigError, match="window_days"):
            with_overrides(PipelineConfig(), {"dedup.window_days": bad})


def test_word_codes_number_the_distinct_words(monkeypatch) -> None:
    """Each word's code names its own word, by the hash join and by the exact fallback (taken
    when two words share a hash: forced here by a hash that maps every word to one value)."""
    flat = pl.Series(["b", "a", "b", "c", "a", "dd", "b"])
    vocab, codes = minhash._word_codes(flat)
    assert sorted(vocab.to_list()) == ["a", "b", "c", "dd"]
    assert vocab.gather(codes).to_list() == flat.to_list()
    monkeypatch.setattr(pl.Series, "hash", lambda self, seed=0: pl.Series([7] * len(self), dtype=pl.UInt64))
    vocab, codes = minhash._word_codes(flat)
    assert sorted(vocab.to_list()) == ["a", "b", "c", "dd"]
    assert vocab.gather(codes).to_list() == flat.to_list()
    assert len(minhash._word_codes(pl.Series([], dtype=pl.String))[1]) == 0


def test_verify_counts_the_common_shingles(monkeypatch) -> None:
    """verify's intersections equal Python set intersections, within a batch and against another
    set of documents, in one block and in many."""
    rng = np.random.default_rng(3)
    left = [np.unique(rng.integers(0, 60, int(rng.integers(1, 30)))).astype(np.uint32) for _ in range(25)]
    right = [np.unique(rng.integers(0, 60, int(rng.integers(1, 30)))).astype(np.uint32) for _ in range(9)]

    def flat(sets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sizes = np.array([len(s) for s in sets])
        return np.concatenate(sets), np.repeat(np.arange(len(sets)), sizes), sizes

    pairs = pl.DataFrame({"a": rng.integers(0, 25, 200), "b": rng.integers(0, 9, 200)})
    for max_rows in (10**6, 40):
        monkeypatch.setattr(candidates, "_MAX_QUERY_ROWS", max_rows)
        got = candidates.verify(pairs, *flat(left), right=flat(right))["inter"].to_list()
        assert got == [len(set(left[a].tolist()) & set(right[b].tolist())) for a, b in pairs.iter_rows()]
        inner = pl.DataFrame({"a": rng.integers(0, 25, 50), "b": rng.integers(0, 25, 50)})
        got = candidates.verify(inner, *flat(left))["inter"].to_list()
        assert got == [len(set(left[a].tolist()) & set(left[b].tolist())) for a, b in inner.iter_rows()]
