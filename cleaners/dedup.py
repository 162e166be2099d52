"""Exact and near-duplicate (syndicated copy) detection: frame -> frame, across documents.

Pipeline of :func:`assign_clusters` (all vectorised over the batch with polars + numpy):

1. **Normalise** for fingerprints: NFKC, case-fold, digit group separators joined ("5,963,000" ->
   "5963000"), every other run of non-letters/digits -> one space. Numbers are KEPT: they are what
   separates templated stories ("Shr 12 cts vs 10 cts" vs "Shr 15 cts vs 11 cts").
2. **Exact duplicates**: rows with the same normalised-content hash collapse onto one
   representative before the near-duplicate stage (similarity 1.0).
3. **Shingles**: word n-grams (``cfg.shingle_words``), hashed stably (xxhash of each word, a fixed
   64-bit mix per n-gram), as a set per document.
4. **Boilerplate shingles** are dropped before comparing documents: a shingle seen on at least
   ``cfg.min_site_repeat_docs`` documents of one site is site furniture (footers, menus,
   copyright lines), as is one on more than ``cfg.max_shingle_doc_frac`` of a large batch. Syndicated
   copies live on *different* sites, so their shared story text survives.
5. **MinHash** signatures (``cfg.num_perm`` seeded multiply-shift permutations from ``cfg.seed``)
   and **LSH banding** (``cfg.num_bands`` bands): documents sharing any band key are candidates.
6. **Verification** of every candidate pair with the exact shingle-set overlap: an edge is kept when
   the Jaccard similarity is at least ``cfg.min_jaccard``, or the smaller document is contained in
   the larger (``cfg.min_containment``) and is not a tiny fragment of it (``cfg.min_size_ratio``;
   abridged copies pass, a two-sentence story pasted into another page does not).
7. **Clustering without chaining** (star clustering): documents are visited best-quality first;
   an unassigned document opens a cluster and takes its unassigned verified neighbours. Every
   member is therefore verified against the canonical itself, never only through a chain.

Canonical = best quality: most content (boilerplate-free shingles), fewest repairs (``n_edits``),
earliest ``published``, then smallest ``doc_id``. ``cluster_id`` is a hash of the canonical's
``doc_id``, so the result does not depend on input order.

The per-document LSH keys are a plain frame (:func:`band_keys`) so a persistent index can be stored
(e.g. as a Delta table) and passed back in as ``index`` for later batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import xxhash

from cleaners.config import DedupConfig

# DIGIT_GROUP_RE: a thousands/decimal separator between digits. "5,963,000" matches "5,9"; "a, b" does not
DIGIT_GROUP_RE = r"(\d)[,.](\d)"
# NON_WORD_RE: a run of characters that are neither letters nor digits. " - " matches; "abc1" does not
NON_WORD_RE = r"[^\p{L}\p{N}]+"

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_WORD_SEED = 0x5EED  # word hashes are fixed so stored signatures stay comparable; cfg.seed picks permutations
_MAX_QUERY_ROWS = 4_000_000  # (pair, shingle) lookups per verification block (~100 MB of temporaries)
_SHINGLE_BLOCK_DOCS = 1_000  # documents shingled at a time (bounds the per-word temporaries: ~80 MB on 10 KB pages)
_MEMBER_BLOCK = 2_000_000  # values looked up per binary-search block in _member
_EMPTY_SHINGLE = np.uint64(0)  # the one shingle of an empty document


@dataclass(frozen=True)
class Fingerprint:
    """What dedup stores per document: exact-content hash plus MinHash signature."""

    content_key: str  # xxh3-64 hex of the fingerprint-normalised text (not the articles' content_hash)
    signature: tuple[int, ...]  # cfg.num_perm uint32 MinHash values
    n_shingles: int


# ---------------------------------------------------------------------------------------------
# normalisation and hashing


def normalize_for_fingerprint(text: str) -> str:
    """Case-folded, punctuation-free, whitespace-collapsed text; digits kept."""
    return _normalize(pl.Series([text], dtype=pl.String)).item()


# NON_ASCII_RE: any character outside ASCII. "café" matches; "cafe" does not
NON_ASCII_RE = r"[^\x00-\x7F]"


def _normalize_expr(col: pl.Expr) -> pl.Expr:
    col = col.fill_null("")
    return (
        # NFKC leaves pure ASCII unchanged: only strings with other characters pay for it
        pl.when(col.str.contains(NON_ASCII_RE))
        .then(col.str.normalize("NFKC"))
        .otherwise(col)
        .str.to_lowercase()
        .str.replace_all(DIGIT_GROUP_RE, "${1}${2}")
        .str.replace_all(DIGIT_GROUP_RE, "${1}${2}")  # second pass for "1,2,3" style overlaps
        .str.replace_all(NON_WORD_RE, " ")
        .str.strip_chars()
    )


def _content_key(normalized: str) -> str:
    return xxhash.xxh3_64_hexdigest(normalized.encode("utf-8"))


def _splitmix(x: np.ndarray) -> np.ndarray:
    """64-bit finaliser (splitmix64): spreads bits of an already hashed uint64 array."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


def _word_hashes(words: list[str]) -> np.ndarray:
    return np.fromiter(
        (xxhash.xxh3_64_intdigest(w.encode("utf-8"), _WORD_SEED) for w in words), dtype=np.uint64, count=len(words)
    )


def _ngram_hashes(word_h: np.ndarray, doc_of: np.ndarray, ends: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every word n-gram (flat), and the document of each.

    ``word_h`` is the flat word-hash array, ``doc_of`` the document index of each word and ``ends``
    the exclusive end offset of each document. A document shorter than ``n`` words gives one
    shingle of all its words.

    Every position is mixed with the ``n - 1`` words after it, across document ends too: the
    positions whose n-gram would cross one are dropped, and a short document's one shingle is
    mixed again from its own words only.
    """
    m = len(word_h)
    lengths = np.diff(np.concatenate(([0], ends)))
    starts = ends - lengths
    g = word_h.copy()
    nxt = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(1, n):
            nxt[: max(m - j, 0)] = word_h[j:]
            nxt[max(m - j, 0) :] = 0
            nxt += np.uint64(j)
            g *= _GOLDEN
            g ^= nxt
        del nxt
        keep = np.ones(m, dtype=bool)
        for k in range(1, n):  # the last n - 1 positions of each document start no full n-gram
            tail = ends - k
            keep[tail[tail >= starts]] = False
        short = np.flatnonzero((lengths > 0) & (lengths < n))
        if len(short):
            first = starts[short]
            h = word_h[first].copy()
            for j in range(1, n):
                more = lengths[short] > j
                h[more] = (h[more] * _GOLDEN) ^ (word_h[first[more] + j] + np.uint64(j))
            g[first] = h
            keep[first] = True
        g = _splitmix(g[keep])
    return g, doc_of[keep]


def _permutations(cfg: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """Seeded affine permutations of uint32: pi_k(x) = a_k * x + b_k mod 2**32 (a_k odd).

    Weak on structured keys, unbiased on the already mixed shingle hashes (measured: estimated
    Jaccard error matches the binomial sd). uint32 keeps the per-permutation pass cheap.
    """
    rng = np.random.default_rng(cfg.seed)
    a = rng.integers(1, 2**32, size=cfg.num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = rng.integers(0, 2**32, size=cfg.num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


def _minhash(shingles: np.ndarray, doc_of: np.ndarray, n_docs: int, cfg: DedupConfig) -> np.ndarray:
    """MinHash signatures (n_docs x num_perm, uint32) of the shingle sets given flat.

    ``shingles`` must be grouped by ``doc_of`` (ascending). A document with no shingle gets the
    all-max signature.
    """
    a, b = _permutations(cfg)
    sig = np.full((n_docs, cfg.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    if len(shingles) == 0:
        return sig
    x = shingles if shingles.dtype == np.uint32 else _high32(shingles)
    present, starts = np.unique(doc_of, return_index=True)
    h = np.empty_like(x)
    with np.errstate(over="ignore"):
        for k in range(cfg.num_perm):  # one pass per permutation: 2-D reduceat is much slower
            np.multiply(x, a[k], out=h)
            h += b[k]
            sig[present, k] = np.minimum.reduceat(h, starts)
    return sig


def _high32(g: np.ndarray) -> np.ndarray:
    """The high half of 64-bit shingle hashes (the best mixed bits): what sets and MinHash use."""
    return (g >> np.uint64(32)).astype(np.uint32)


def _normalize(texts: pl.Series) -> pl.Series:
    return pl.select(_normalize_expr(pl.lit(texts, dtype=pl.String)).alias("t")).to_series()


def _shingle_sets(norm: pl.Series, cfg: DedupConfig, take: pl.Series | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The flat distinct 32-bit shingle hashes of each normalised text (see :func:`_normalize`), with its index.

    ``take`` (row numbers) shingles those texts of ``norm``, in that order, without copying them
    all first. Sorted by document, then hash; an empty document has the single shingle 0; document
    numbers are int32. Shingled in blocks of ``_SHINGLE_BLOCK_DOCS`` documents so the per-word
    temporaries stay bounded.
    """
    n = len(norm) if take is None else len(take)
    xs, docs = [], []
    for start in range(0, max(1, n), _SHINGLE_BLOCK_DOCS):
        block = norm.slice(start, _SHINGLE_BLOCK_DOCS) if take is None else norm.gather(take.slice(start, _SHINGLE_BLOCK_DOCS))
        x, d = _shingle_block(block, cfg)
        xs.append(x)
        docs.append(d.astype(np.int32) + np.int32(start))
    return _concat_consuming(xs), _concat_consuming(docs)


def _concat_consuming(parts: list[np.ndarray]) -> np.ndarray:
    """``np.concatenate(parts)``, emptying ``parts`` as it copies: each part is freed once it is
    in the result, so the peak is the result plus one part, not twice the result."""
    if len(parts) == 1:
        return parts.pop()
    out = np.empty(sum(len(p) for p in parts), dtype=parts[0].dtype)
    at = 0
    parts.reverse()
    while parts:
        part = parts.pop()
        out[at : at + len(part)] = part
        at += len(part)
        del part
    return out


def _shingle_block(norm: pl.Series, cfg: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    words = norm.str.split(" ")
    lengths = words.list.len().to_numpy().astype(np.int64)
    flat = words.explode()
    del words
    empty = lengths == 1
    if empty.any():  # "".split(" ") is [""]: an empty document
        empty &= (norm.str.len_bytes() == 0).to_numpy()
        lengths = np.where(empty, 0, lengths)
        flat = flat.filter(flat.str.len_bytes() > 0)
    vocab = flat.unique()
    # each word's number in the vocabulary by an Enum cast, then its hash by a numpy gather:
    # a quarter of replace_strict's temporaries (~30 vs ~120 MB on 2,000 10 KB pages), and faster
    codes = flat.cast(pl.Enum(vocab)).to_physical().to_numpy()
    del flat
    word_h = _word_hashes(vocab.to_list())[codes]
    del codes
    ends = np.cumsum(lengths)
    doc_of = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    g, gdoc = _ngram_hashes(word_h, doc_of, ends, cfg.shingle_words)
    empty_docs = np.flatnonzero(lengths == 0)
    if len(empty_docs):
        g = np.concatenate((g, np.full(len(empty_docs), _EMPTY_SHINGLE)))
        gdoc = np.concatenate((gdoc, empty_docs))
    # unique (doc, shingle) pairs, sorted by doc then shingle: one uint64 sort of doc << 32 | hash
    key = np.sort((gdoc.astype(np.uint64) << np.uint64(32)) | _high32(g))
    del g, gdoc
    g, gdoc = (key & np.uint64(0xFFFFFFFF)).astype(np.uint32), (key >> np.uint64(32)).astype(np.int32)
    del key
    if len(g):
        keep = np.ones(len(g), dtype=bool)
        keep[1:] = (g[1:] != g[:-1]) | (gdoc[1:] != gdoc[:-1])
        g, gdoc = g[keep], gdoc[keep]
    return g, gdoc


def fingerprint(text: str, cfg: DedupConfig) -> Fingerprint:
    """Content hash of the normalised text plus a MinHash signature of its word n-gram set.

    Pure and batch-free (no boilerplate filtering, which needs the whole batch; see
    :func:`assign_clusters`).
    """
    norm = _normalize(pl.Series([text], dtype=pl.String))
    sh, doc_of = _shingle_sets(norm, cfg)
    sig = _minhash(sh, doc_of, 1, cfg)[0]  # sh: distinct 32-bit shingle hashes
    return Fingerprint(_content_key(norm[0]), tuple(int(v) for v in sig), int(len(sh)))


# ---------------------------------------------------------------------------------------------
# batch stages


def _quality_order(docs: pl.DataFrame) -> pl.DataFrame:
    """Rows sorted best copy first: most content, fewest repairs, earliest published, doc_id."""
    return docs.sort(
        ["n_content", "_n_edits", "_published", "doc_id"],
        descending=[True, False, False, False],
        nulls_last=True,
    )


def _frequent(values: np.ndarray, min_count: int, in_place: bool = False) -> np.ndarray:
    """The distinct values occurring at least ``min_count`` times, sorted.

    One sort; then a value occurs ``k`` times or more exactly when some sorted position holds
    the same value as the position ``k - 1`` further on (a bool per value, no run-length arrays).
    ``in_place`` sorts ``values`` itself (a temporary of the caller's) instead of a copy.
    """
    k = max(int(min_count), 1)
    if len(values) < k:
        return values[:0]
    if in_place:
        values.sort()
        ordered = values
    else:
        ordered = np.sort(values)
    return np.unique(ordered[: len(ordered) - k + 1][ordered[k - 1 :] == ordered[: len(ordered) - k + 1]])


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_set)`` for a sorted distinct ``sorted_set``: a binary search, no sort of ``values``."""
    found = np.zeros(len(values), dtype=bool)
    if len(sorted_set) == 0:
        return found
    for lo in range(0, len(values), _MEMBER_BLOCK):  # blocks bound the int64 positions
        part = values[lo : lo + _MEMBER_BLOCK]
        at = np.minimum(np.searchsorted(sorted_set, part), len(sorted_set) - 1)
        found[lo : lo + _MEMBER_BLOCK] = sorted_set[at] == part
    return found


def _boilerplate_mask(g: np.ndarray, doc_of: np.ndarray, site: np.ndarray, n_docs: int, cfg: DedupConfig) -> np.ndarray:
    """True for (doc, shingle) rows whose shingle is site furniture or batch-wide boilerplate.

    Rows are distinct per document, so a value's row count is its document count. Only pages of
    sites with at least ``min_site_repeat_docs`` pages in the batch can hold site furniture.
    """
    bad = np.zeros(len(g), dtype=bool)
    if len(g) == 0:
        return bad
    _, site_code, site_docs = np.unique(site, return_inverse=True, return_counts=True)
    busy = (site_docs >= cfg.min_site_repeat_docs)[site_code][doc_of]
    if busy.any():
        # (site, shingle) keys: a shingle on min_site_repeat_docs pages of one site
        key = (site_code[doc_of[busy]].astype(np.uint64) << np.uint64(32)) | g[busy].astype(np.uint64)
        # such a shingle is furniture on every page it appears on, whatever the site
        furniture = np.unique((_frequent(key, cfg.min_site_repeat_docs, in_place=True) & np.uint64(0xFFFFFFFF)).astype(g.dtype))
        del key
        bad |= _member(g, furniture)
    if n_docs >= cfg.min_docs_for_doc_frac:
        # more than max_shingle_doc_frac of the documents: > frac * n, i.e. >= floor(frac * n) + 1
        common = _frequent(g, int(np.floor(cfg.max_shingle_doc_frac * n_docs)) + 1)
        bad |= _member(g, common)
    return bad


def _band_matrix(sig: np.ndarray, cfg: DedupConfig) -> np.ndarray:
    """(n_docs x num_bands) uint64 keys: a mix of each band's rows of the signature."""
    rows = cfg.num_perm // cfg.num_bands
    # seeded with the band number, so a key names its band too (one key column suffices in the index)
    keys = np.broadcast_to(np.arange(cfg.num_bands, dtype=np.uint64), (sig.shape[0], cfg.num_bands)).copy()
    with np.errstate(over="ignore"):
        for r in range(rows):
            col = sig[:, r : rows * cfg.num_bands : rows].astype(np.uint64)
            keys = _splitmix(keys * _GOLDEN + col + np.uint64(r))
    return keys


def _candidate_pairs(keys: np.ndarray) -> pl.DataFrame:
    """Unique (a, b) doc index pairs, a < b, that share at least one band key.

    Keys carry their band, so one sort of the flat keys groups the buckets; bands are taken a few at
    a time and the pairs (packed ``a << 32 | b``) made unique per group, to bound the temporaries.
    """
    n, nb = keys.shape
    found: list[np.ndarray] = []
    step = 8
    for b0 in range(0, nb, step):
        flat = keys[:, b0 : b0 + step].ravel()
        doc = np.repeat(np.arange(n, dtype=np.uint64), min(step, nb - b0))
        order = np.argsort(flat, kind="stable")
        flat, doc = flat[order], doc[order]
        del order
        same = flat[1:] == flat[:-1]
        if not same.any():
            continue
        # run id of every element; elements in runs of length >= 2 only
        starts = np.concatenate(([True], ~same))
        run = np.cumsum(starts) - 1
        run_len = np.bincount(run)
        inrun = run_len[run] > 1
        doc, run = doc[inrun], run[inrun]
        chunk: list[np.ndarray] = []
        for k in range(1, int(run_len.max())):
            ok = run[k:] == run[:-k]
            if not ok.any():
                break
            x, y = doc[:-k][ok], doc[k:][ok]
            lo, hi = np.minimum(x, y), np.maximum(x, y)
            chunk.append((lo << np.uint64(32)) | hi)
        if chunk:
            found.append(np.unique(np.concatenate(chunk)))
    packed = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.uint64)
    a = (packed >> np.uint64(32)).astype(np.int64)
    b = (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
    keep = a != b  # a document repeated in one bucket (same key in two of its bands cannot happen)
    return pl.DataFrame({"a": a[keep], "b": b[keep]})


_PREFILTER_BLOCK_PAIRS = 200_000  # pairs compared per block (128 x uint32 each side: ~200 MB)


def _prefilter(pairs: pl.DataFrame, sig: np.ndarray, sizes: np.ndarray, cfg: DedupConfig) -> pl.DataFrame:
    """Drop candidate pairs whose MinHash estimates of Jaccard and containment are both far below
    every acceptance threshold; the exact check (:func:`_verify`) then sees only plausible pairs.

    Long unrelated documents share a few common phrases, and banding with two rows per band makes
    many of them candidates; their exact check dominated the cost on 10 KB pages.
    """
    if pairs.height == 0:
        return pairs
    a = pairs["a"].to_numpy().astype(np.int64)
    b = pairs["b"].to_numpy().astype(np.int64)
    keep = np.zeros(len(a), dtype=bool)
    sa, sb = sizes[a].astype(np.float64), sizes[b].astype(np.float64)
    for lo in range(0, len(a), _PREFILTER_BLOCK_PAIRS):
        hi = lo + _PREFILTER_BLOCK_PAIRS
        j = (sig[a[lo:hi]] == sig[b[lo:hi]]).mean(axis=1)
        inter = j * (sa[lo:hi] + sb[lo:hi]) / (1.0 + j)
        containment = inter / np.maximum(np.minimum(sa[lo:hi], sb[lo:hi]), 1.0)
        keep[lo:hi] = (j >= cfg.min_prefilter_jaccard) | (containment >= cfg.min_prefilter_containment)
    return pairs.filter(pl.Series(keep))


def _verify(
    pairs: pl.DataFrame,
    g: np.ndarray,
    doc_of: np.ndarray,
    sizes: np.ndarray,
    right: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> pl.DataFrame:
    """Exact overlap of every candidate pair: intersection, jaccard, containment, size ratio.

    ``a`` indexes the documents of (``g``, ``doc_of``, ``sizes``); ``b`` those of ``right`` (the
    same documents when ``right`` is None). Shingles are 32-bit hashes sorted by (document, hash).
    Each of a's shingles is looked up in b's by binary search over one sorted uint64 table of
    ``doc << 32 | hash``, in blocks of ``_MAX_QUERY_ROWS`` lookups.
    """
    g_b, doc_b, sizes_b = right if right is not None else (g, doc_of, sizes)
    table = (doc_b.astype(np.uint64) << np.uint64(32)) | g_b.astype(np.uint64)
    starts_a = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    a = pairs["a"].to_numpy().astype(np.int64)
    b = pairs["b"].to_numpy().astype(np.int64)
    inter = np.zeros(len(a), dtype=np.int64)
    work = np.cumsum(sizes[a]) if len(a) else np.zeros(0, dtype=np.int64)
    lo = 0
    while lo < len(a):
        hi = int(np.searchsorted(work, (work[lo - 1] if lo else 0) + _MAX_QUERY_ROWS, side="right"))
        hi = max(hi, lo + 1)
        n_rows = sizes[a[lo:hi]].astype(np.int64)
        pair_of = np.repeat(np.arange(hi - lo), n_rows)
        first = np.cumsum(n_rows) - n_rows
        pos = starts_a[a[lo:hi]][pair_of] + (np.arange(len(pair_of)) - first[pair_of])
        query = (b[lo:hi].astype(np.uint64)[pair_of] << np.uint64(32)) | g[pos].astype(np.uint64)
        found = np.searchsorted(table, query)
        hit = table[np.minimum(found, len(table) - 1)] == query
        inter[lo:hi] = np.bincount(pair_of, weights=hit, minlength=hi - lo).astype(np.int64)
        lo = hi
    out = pairs.select("a", "b").with_columns(
        inter=pl.Series(inter),
        size_a=pl.Series(sizes[a].astype(np.int64)),
        size_b=pl.Series(sizes_b[b].astype(np.int64)),
    )
    small = pl.min_horizontal("size_a", "size_b")
    large = pl.max_horizontal("size_a", "size_b")
    return out.with_columns(
        jaccard=pl.col("inter") / (pl.col("size_a") + pl.col("size_b") - pl.col("inter")),
        containment=pl.col("inter") / small,
        size_ratio=small / large,
    )


def _accept(edges: pl.DataFrame, min_jaccard: float, min_containment: float, min_size_ratio: float) -> pl.DataFrame:
    """Edges whose overlap passes: Jaccard, or containment of a not-too-small copy."""
    by_jaccard = pl.col("jaccard") >= min_jaccard
    by_containment = (pl.col("containment") >= min_containment) & (pl.col("size_ratio") >= min_size_ratio)
    return edges.filter(by_jaccard | by_containment)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of an undirected graph on 0..n-1, labelled by their smallest node."""
    label = np.arange(n, dtype=np.int64)
    if len(a) == 0:
        return label
    while True:
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, label[a], low)  # relabel whole trees, not just the endpoints
        np.minimum.at(new, label[b], low)
        new = np.minimum(new, new[label])
        while True:  # pointer jumping
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            return label
        label = new


def _link_clusters(n: int, edges: pl.DataFrame, cfg: DedupConfig) -> np.ndarray:
    """Cluster docs 0..n-1 (numbered best quality first); returns the canonical doc of each.

    Strong edges (near-certain copies) join transitively. A weak edge alone never joins anything:
    two groups merge only when the weak edges between them number at least
    ``cfg.min_links_per_member`` per member of the smaller group, so a story pasted into one page
    of another story's cluster (one or two links) does not chain the two clusters. The smallest
    doc number in a cluster is its best copy: the canonical.
    """
    strong = _accept(edges, cfg.min_jaccard, cfg.min_containment, cfg.min_size_ratio)
    label = _components(n, strong["a"].to_numpy(), strong["b"].to_numpy())
    weak = _accept(edges, cfg.min_weak_jaccard, cfg.min_weak_containment, cfg.min_weak_size_ratio)
    wa, wb = weak["a"].to_numpy(), weak["b"].to_numpy()
    for _ in range(cfg.max_merge_rounds):
        size = np.bincount(label, minlength=n)
        la, lb = label[wa], label[wb]
        between = la != lb
        if not between.any():
            break
        groups = (
            pl.DataFrame({"x": np.minimum(la, lb)[between], "y": np.maximum(la, lb)[between]})
            .group_by("x", "y")
            .agg(pl.len().alias("links"))
        )
        x, y = groups["x"].to_numpy(), groups["y"].to_numpy()
        ok = groups["links"].to_numpy() >= cfg.min_links_per_member * np.minimum(size[x], size[y])
        if not ok.any():
            break
        label = _components(n, x[ok], y[ok])[label]
    return label


def _stable_id(doc_ids: pl.Series) -> pl.Series:
    return pl.Series([xxhash.xxh3_64_hexdigest(d.encode("utf-8")) for d in doc_ids.to_list()], dtype=pl.String)


def _with_defaults(df: pl.DataFrame) -> pl.DataFrame:
    """Private copies of the optional quality columns (_site, _published, _n_edits), nulls if absent."""

    def column(name: str, dtype: pl.DataType | type[pl.DataType] | None, default: object) -> pl.Expr:
        if name not in df.columns:
            return pl.lit(default, dtype=dtype or pl.Date)
        col = pl.col(name)
        if dtype is not None:
            return col.cast(dtype)
        return col.cast(pl.Date) if df.schema[name] == pl.Null else col

    return df.with_columns(
        column("site", pl.String, None).alias("_site"),
        column("published", None, None).alias("_published"),
        column("n_edits", pl.Int64, 0).fill_null(0).alias("_n_edits"),
        pl.col("text").cast(pl.String).alias("_text"),
    )


@dataclass(frozen=True)
class _Batch:
    """Intermediate state of one batch: rows, distinct contents (reps) and their shingles."""

    rows: pl.DataFrame  # input rows + _row, _content_key, _rep (index of the row's content in reps)
    reps: pl.DataFrame  # one row per distinct content, numbered 0..n-1 best quality first
    shingles: np.ndarray  # content shingles of the reps, grouped by rep (ascending)
    shingle_doc: np.ndarray
    sizes: np.ndarray  # shingles per rep
    furniture: np.ndarray  # sorted distinct 32-bit hashes of the shingles dropped as boilerplate


def _prepare(df: pl.DataFrame, cfg: DedupConfig) -> _Batch:
    rows = _with_defaults(df).with_row_index("_row")
    norm = rows.select(_normalize_expr(pl.col("_text"))).to_series()
    rows = rows.with_columns(
        pl.Series(
            "_content_key", [xxhash.xxh3_64_hexdigest(t.encode("utf-8")) for t in norm.to_list()], dtype=pl.String
        ),
    )
    # one representative per distinct content: fewest repairs, earliest, smallest doc_id
    first = (
        rows.sort(["_n_edits", "_published", "doc_id"], nulls_last=True)
        .unique("_content_key", keep="first", maintain_order=True)
        .select("_row", "_content_key", "doc_id", "_n_edits", "_published", "_site")
    )
    g, gdoc = _shingle_sets(norm, cfg, take=first["_row"])
    site_codes = first.select(
        pl.when(pl.col("_site").is_null())
        .then(-1 - pl.int_range(pl.len()))  # no site: a site of its own
        .otherwise(pl.col("_site").rank("dense").cast(pl.Int64))
    ).to_series().to_numpy()
    bad = _boilerplate_mask(g, gdoc, site_codes, len(first), cfg)
    kept_docs = np.zeros(len(first), dtype=bool)
    kept_docs[gdoc[~bad]] = True
    keep = ~bad | ~kept_docs[gdoc]  # a doc that is all boilerplate keeps its shingles
    furniture = np.unique(g[bad])
    g, gdoc = g[keep], gdoc[keep]
    sizes = np.bincount(gdoc, minlength=len(first))
    reps = _quality_order(first.with_columns(n_content=pl.Series(sizes), _old=pl.int_range(pl.len())))
    old_of_new = reps["_old"].to_numpy()
    run = sizes[old_of_new]
    g = _regroup(g, sizes, old_of_new)
    reps = reps.with_row_index("_rep").drop("_old")
    # each row's rep, joined on the narrow key columns only (a join of the whole frame copies every text)
    rep_of = rows.select("_row", "_content_key").join(reps.select("_content_key", "_rep"), on="_content_key", how="left")
    rows = rows.with_columns(rep_of.sort("_row")["_rep"])
    return _Batch(rows, reps, g, np.repeat(np.arange(len(reps), dtype=gdoc.dtype), run), run, furniture)


_REGROUP_BLOCK_DOCS = 2_000  # documents moved at a time in _regroup (bounds its int64 positions)


def _regroup(g: np.ndarray, sizes: np.ndarray, old_of_new: np.ndarray) -> np.ndarray:
    """The shingles of ``g`` (grouped by document, ``sizes`` per document) regrouped so that new
    document ``k`` holds old document ``old_of_new[k]``'s: whole runs move, no sort. Positions are
    made a block of documents at a time, so the temporaries stay small beside ``g``."""
    old_start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    run = sizes[old_of_new]
    new_start = np.concatenate(([0], np.cumsum(run)))
    out = np.empty(int(new_start[-1]), dtype=g.dtype)
    for lo in range(0, len(run), _REGROUP_BLOCK_DOCS):
        hi = min(lo + _REGROUP_BLOCK_DOCS, len(run))
        r = run[lo:hi]
        offset = old_start[old_of_new[lo:hi]] - (new_start[lo:hi] - new_start[lo])
        out[new_start[lo] : new_start[hi]] = g[np.repeat(offset, r) + np.arange(new_start[hi] - new_start[lo])]
    return out


def band_keys(df: pl.DataFrame, cfg: DedupConfig) -> pl.DataFrame:
    """LSH band keys of every distinct content in ``df``: columns doc_id, band, key.

    A plain frame, so it can be stored (e.g. in a Delta table) and joined against later batches.
    Exact copies share keys with their representative and are listed under its doc_id.
    """
    batch = _prepare(df, cfg)
    sig = _minhash(batch.shingles, batch.shingle_doc, len(batch.reps), cfg)
    keys = _band_matrix(sig, cfg)
    n, nb = keys.shape
    return pl.DataFrame(
        {
            "doc_id": batch.reps["doc_id"].gather(np.repeat(np.arange(n), nb)),
            "band": np.tile(np.arange(nb, dtype=np.int32), n),
            "key": keys.ravel(),
        }
    )


# The columns assign_clusters adds; input columns of these names (an earlier run's) are replaced.
RESULT_COLUMNS = ("cluster_id", "is_canonical", "similarity")


def assign_clusters(df: pl.DataFrame, cfg: DedupConfig, index: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every row of ``df`` plus ``cluster_id``, ``is_canonical`` and ``similarity`` (:data:`RESULT_COLUMNS`,
    which replace input columns of the same names).

    ``df`` needs ``doc_id`` (unique) and ``text``; ``site``, ``published`` and ``n_edits`` are used when
    present. ``similarity`` is the verified overlap with the canonical copy (exact shingle-set
    Jaccard, or containment for an abridged copy; 1.0 for the canonical and exact copies).

    ``index`` (rows of :data:`INDEX_SCHEMA` from earlier runs, typically only the candidates that
    :func:`candidate_index_query` loads) makes the matching incremental: a row whose ``doc_id`` is
    already indexed keeps its stored assignment (reruns are idempotent), and a new document that
    verifies against an indexed one joins that document's ``cluster_id`` as a non-canonical copy
    (the indexed canonical is already published and stays).
    """
    return _assign(df, cfg, index, with_index_rows=False)[0]


def cluster_and_index(
    df: pl.DataFrame, cfg: DedupConfig, index: pl.DataFrame | pl.LazyFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`assign_clusters` plus the :data:`INDEX_SCHEMA` rows of the new documents, shingled once.

    ``index`` may also be a lazy scan of the whole stored index: then only the rows of documents
    already indexed and the candidates sharing a band key with the new ones are loaded, and the
    documents are shingled once (no separate :func:`band_keys` pass).

    The same result as ``assign_clusters(df, cfg, index)`` and ``index_rows(<its new rows>, cfg)``;
    rows of ``df`` already in ``index`` get no new index row.
    """
    return _assign(df, cfg, index, with_index_rows=True)


def _empty_result(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        cluster_id=pl.lit(None, dtype=pl.String),
        is_canonical=pl.lit(None, dtype=pl.Boolean),
        similarity=pl.lit(None, dtype=pl.Float64),
    )


def _assign(
    df: pl.DataFrame, cfg: DedupConfig, index: pl.DataFrame | pl.LazyFrame | None, with_index_rows: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    no_rows = pl.DataFrame(schema=INDEX_SCHEMA)
    df = df.drop(RESULT_COLUMNS, strict=False)  # an earlier assignment in the input is replaced
    if df.height == 0:
        return _empty_result(df), no_rows
    if isinstance(index, pl.LazyFrame):
        # a scan of the whole stored index: load the rows of documents already indexed now, and
        # the candidates of the new ones once their band keys are known (in _assign_fresh)
        stored = (
            index.filter(pl.col("doc_id").is_in(df["doc_id"].implode()))
            .select("doc_id", "cluster_id", "is_canonical", "similarity")
            .unique("doc_id", keep="first")
            .collect()
        )
    elif index is None or index.height == 0:
        return _assign_fresh(df, cfg, None, with_index_rows)
    else:
        index = index.unique("doc_id", keep="first").sort("doc_id")  # deterministic candidate numbering
        stored = index.select("doc_id", "cluster_id", "is_canonical", "similarity")
    known = df["doc_id"].is_in(stored["doc_id"].implode())
    if not known.any():
        return _assign_fresh(df, cfg, index, with_index_rows)
    ordered = df.with_row_index("_order")
    seen = ordered.filter(known).join(stored, on="doc_id", how="left")
    fresh = ordered.filter(~known)
    columns = [*df.columns, "cluster_id", "is_canonical", "similarity", "_order"]
    parts = [seen.select(columns)]
    rows = no_rows
    if fresh.height:
        out, rows = _assign_fresh(fresh.drop("_order"), cfg, index, with_index_rows)
        parts.append(out.with_columns(fresh["_order"]).select(columns))
    out = pl.concat(parts, how="vertical_relaxed").sort("_order")
    return out.select(*df.columns, "cluster_id", "is_canonical", "similarity"), rows


def _assign_fresh(
    df: pl.DataFrame, cfg: DedupConfig, index: pl.DataFrame | pl.LazyFrame | None, with_index_rows: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cluster documents none of which is in ``index``; the batch path of :func:`assign_clusters`."""
    batch = _prepare(df, cfg)
    n = len(batch.reps)
    sig = _minhash(batch.shingles, batch.shingle_doc, n, cfg)
    keys = _band_matrix(sig, cfg)
    pairs = _prefilter(_candidate_pairs(keys), sig, batch.sizes, cfg)
    del sig
    edges = _verify(pairs, batch.shingles, batch.shingle_doc, batch.sizes)
    del pairs
    canon = _link_clusters(n, edges, cfg)
    del edges
    members = np.flatnonzero(canon != np.arange(n))
    to_canon = _verify(
        pl.DataFrame({"a": canon[members], "b": members}), batch.shingles, batch.shingle_doc, batch.sizes
    )
    sim = np.ones(n, dtype=np.float64)
    sim[to_canon["b"].to_numpy()] = to_canon.select(pl.max_horizontal("jaccard", "containment")).to_series().to_numpy()
    rep_ids = batch.reps["doc_id"]
    reps = pl.DataFrame(
        {
            "_rep": np.arange(n, dtype=np.uint32),
            "_canon_doc": rep_ids.gather(canon),
            "_rep_sim": sim,
        }
    ).with_columns(_joined=pl.lit(None, dtype=pl.String))
    x, xdoc, xsizes = _rep_x32(batch)
    if isinstance(index, pl.LazyFrame):
        found = candidate_index_query(index, pl.DataFrame({"key": keys.ravel()})).collect(engine="streaming")
        index = found.sort("doc_id") if found.height else None  # the query's rows are unique by doc_id
    if index is not None and index.height:
        joined, joined_sim = _match_index(x, xdoc, xsizes, keys, canon, index, batch.furniture, cfg)
        hit = joined.is_not_null().to_numpy()
        reps = reps.with_columns(
            _joined=joined,
            _rep_sim=pl.Series(np.where(hit, joined_sim, sim)),
        )
    # every row has a rep and reps are numbered 0..n-1: a gather, not a join that copies every text
    out = batch.rows.hstack(reps.drop("_rep")[batch.rows["_rep"]].get_columns())
    out = out.with_columns(
        cluster_id=pl.coalesce("_joined", _stable_id(out["_canon_doc"])),
        is_canonical=(pl.col("doc_id") == pl.col("_canon_doc")) & pl.col("_joined").is_null(),
        similarity=pl.col("_rep_sim"),  # exact copies share their representative's similarity
    )
    rows = pl.DataFrame(schema=INDEX_SCHEMA)
    if with_index_rows:
        rows = _index_frame(out, x, xdoc, keys)
    return out.select(*df.columns, "cluster_id", "is_canonical", "similarity"), rows


# ---------------------------------------------------------------------------------------------
# persistent index: incremental matching across runs

# One row per indexed document. Exact shingle sets are stored (32-bit hashes: on the dev set 122
# content shingles per document, ~490 bytes, less than a 128 x uint32 signature), so a new document
# is verified against an indexed one exactly as within a batch (a false 32-bit match needs two
# distinct shingles to collide: ~n_a * n_b / 2**32, about 4e-6 per pair of 130-shingle documents);
# MinHash signatures are not stored, they follow from the shingles. ``band_keys`` are the
# ``num_bands`` LSH keys, each with its band number folded in, so a candidate lookup is a match on the
# key alone (see :func:`candidate_index_query`). ``shingles`` are the document's content shingles in
# the batch it was indexed with (site furniture of that batch removed).
INDEX_SCHEMA = pl.Schema(
    {
        "doc_id": pl.String(),
        "cluster_id": pl.String(),
        "is_canonical": pl.Boolean(),
        "similarity": pl.Float64(),
        "site": pl.String(),
        "n_shingles": pl.Int32(),
        "shingles": pl.List(pl.UInt32()),  # sorted distinct high 32 bits of the content shingle hashes
        "band_keys": pl.List(pl.UInt64()),  # cfg.num_bands keys, band k at position k
    }
)


def _rep_x32(batch: _Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct 32-bit shingle hashes of each rep (the MinHash input), their rep, and counts."""
    return batch.shingles, batch.shingle_doc, batch.sizes


def _list_column(values: np.ndarray, owner: np.ndarray, n: int, dtype: pl.DataType) -> pl.Series:
    """A list column of ``n`` rows from flat ``values`` grouped by ascending ``owner`` (rows may be empty)."""
    counts = np.bincount(owner, minlength=n).astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    flat = pl.Series(values).cast(dtype)
    # an Arrow-style list from offsets: one slice per row, built in polars without Python loops
    grouped = pl.DataFrame({"o": owner.astype(np.int64), "v": flat}).group_by("o", maintain_order=True).agg("v")
    full = pl.DataFrame({"o": np.arange(n, dtype=np.int64)}).join(grouped, on="o", how="left").sort("o")
    del offsets
    return full["v"].fill_null(pl.lit([], dtype=pl.List(dtype))).cast(pl.List(dtype))


def _index_frame(out: pl.DataFrame, x: np.ndarray, xdoc: np.ndarray, keys: np.ndarray) -> pl.DataFrame:
    """INDEX_SCHEMA rows of clustered batch rows (``out`` still carries ``_rep`` and ``_site``)."""
    n = keys.shape[0]
    per_rep = pl.DataFrame(
        {
            "_rep": np.arange(n, dtype=np.uint32),
            "n_shingles": np.bincount(xdoc, minlength=n).astype(np.int32),
            "shingles": _list_column(x, xdoc, n, pl.UInt32()),
            "band_keys": pl.Series(keys).cast(pl.List(pl.UInt64)),
        }
    )
    return (
        out.select("doc_id", "cluster_id", "is_canonical", "similarity", pl.col("_site").alias("site"), "_rep")
        .join(per_rep, on="_rep", how="left")
        .drop("_rep")
        .select(list(INDEX_SCHEMA))
        .cast(INDEX_SCHEMA)
    )


def index_rows(clustered_df: pl.DataFrame, cfg: DedupConfig) -> pl.DataFrame:
    """The :data:`INDEX_SCHEMA` rows to append to the persistent index for ``clustered_df``.

    ``clustered_df`` is an output of :func:`assign_clusters` (``doc_id``, ``text``, ``cluster_id``,
    ``is_canonical``, ``similarity``; ``site``/``published``/``n_edits`` as given there). Shingles
    are recomputed from the text with site furniture detected over this frame, as
    ``assign_clusters`` did; :func:`cluster_and_index` saves that second pass.
    """
    if clustered_df.height == 0:
        return pl.DataFrame(schema=INDEX_SCHEMA)
    batch = _prepare(clustered_df, cfg)
    n = len(batch.reps)
    keys = _band_matrix(_minhash(batch.shingles, batch.shingle_doc, n, cfg), cfg)
    x, xdoc, _ = _rep_x32(batch)
    return _index_frame(batch.rows, x, xdoc, keys)


def candidate_index_query(index: pl.LazyFrame, new_keys: pl.DataFrame) -> pl.LazyFrame:
    """Index rows worth loading for a new batch: those sharing a band key with it.

    ``index`` is a lazy scan of the stored index (``pl.scan_delta`` / ``pl.scan_parquet``) and
    ``new_keys`` the :func:`band_keys` frame of the new batch (only its ``key`` column is used; keys
    carry their band). The canonical row of every matched cluster is added, so a new copy's
    ``similarity`` is measured against the canonical itself.

    The doc_ids are found on the cheap columns first (band keys matched inside each list, no
    explode; then the canonicals by cluster), streamed, so this part's memory does not grow with
    the index; the rows themselves, shingle lists included, are then read in one pass by a
    doc_id predicate (measured on a 100k-document index of 10 KB pages: 2.2 s and +110 MB for
    the explode-and-two-scans query, 1.3 s and +80 MB this way).
    """
    keys = new_keys["key"].unique().cast(pl.UInt64).implode()
    hits = (
        index.filter(pl.col("band_keys").list.eval(pl.element().is_in(keys)).list.any())
        .select("doc_id", "cluster_id")
        .collect(engine="streaming")
    )
    clusters = hits["cluster_id"].unique().implode()
    canon = index.filter(pl.col("is_canonical") & pl.col("cluster_id").is_in(clusters)).select("doc_id").collect(engine="streaming")
    wanted = pl.concat([hits["doc_id"], canon["doc_id"]]).unique().implode()
    return index.filter(pl.col("doc_id").is_in(wanted)).unique("doc_id", keep="first")


def _match_index(
    x: np.ndarray,
    xdoc: np.ndarray,
    xsizes: np.ndarray,
    keys: np.ndarray,
    canon: np.ndarray,
    index: pl.DataFrame,
    furniture: np.ndarray,
    cfg: DedupConfig,
) -> tuple[pl.Series, np.ndarray]:
    """The indexed cluster each new rep joins (null: none) and its similarity to that cluster.

    A rep with a strong verified edge to indexed documents joins the cluster of its best one
    (highest overlap, then smallest cluster_id). The rest of its batch group follows the cluster
    most of the group's linked members chose; a group with no strong link joins a cluster when
    its weak links number ``cfg.min_links_per_member`` per member of the smaller side (as batch
    groups merge). Shingles that are boilerplate in the new batch are dropped from the indexed
    documents too, so both sides are compared without this batch's site furniture. Similarity is the overlap with the cluster's canonical when that is loaded, else
    with the best-matching indexed member.
    """
    n, nb = keys.shape
    m = index.height
    idx_x = index["shingles"].explode().drop_nulls().cast(pl.UInt32).to_numpy()
    idx_doc = np.repeat(np.arange(m, dtype=np.int64), index["shingles"].list.len().fill_null(0).to_numpy())
    clean = ~np.isin(idx_x, furniture)
    kept = np.bincount(idx_doc[clean], minlength=m) > 0
    clean |= ~kept[idx_doc]  # a document that would lose every shingle keeps them all
    idx_x, idx_doc = idx_x[clean], idx_doc[clean]
    idx_sizes = np.bincount(idx_doc, minlength=m).astype(np.int64)
    key_lens = index["band_keys"].list.len().fill_null(0).to_numpy().astype(np.int64)
    idx_keys = pl.DataFrame(
        {"b": np.repeat(np.arange(m, dtype=np.int64), key_lens), "key": index["band_keys"].explode().drop_nulls()}
    )
    new_keys = pl.DataFrame({"a": np.repeat(np.arange(n, dtype=np.int64), nb), "key": keys.ravel()})
    pairs = new_keys.join(idx_keys, on="key").select("a", "b").unique().sort("a", "b")
    none = pl.Series("_joined", [None] * n, dtype=pl.String)
    if pairs.height == 0:
        return none, np.ones(n)
    edges = _verify(pairs, x, xdoc, xsizes, right=(idx_x, idx_doc, idx_sizes))
    cluster_of = index["cluster_id"]
    edges = edges.with_columns(
        cluster=cluster_of.gather(edges["b"].to_numpy()),
        sim=pl.max_horizontal("jaccard", "containment"),
        group=pl.Series(canon[edges["a"].to_numpy()]),
    )
    strong = _accept(edges, cfg.min_jaccard, cfg.min_containment, cfg.min_size_ratio)
    best = strong.sort(["a", "sim", "cluster"], descending=[False, True, False]).unique("a", keep="first")
    by_group = (
        best.group_by("group", "cluster")
        .agg(pl.len().alias("links"), pl.col("sim").max().alias("best"))
        .sort(["group", "links", "best", "cluster"], descending=[False, True, True, False])
        .unique("group", keep="first")
        .select("group", "cluster")
    )
    weak = _accept(edges, cfg.min_weak_jaccard, cfg.min_weak_containment, cfg.min_weak_size_ratio)
    group_size = np.bincount(canon, minlength=n)
    loaded = index.group_by("cluster_id").len().rename({"cluster_id": "cluster", "len": "loaded"})
    weak_groups = (
        weak.group_by("group", "cluster")
        .agg(pl.len().alias("links"), pl.col("sim").max().alias("best"))
        .join(loaded, on="cluster", how="left")
        .join(pl.DataFrame({"group": np.arange(n, dtype=np.int64), "size": group_size}), on="group", how="left")
        .filter(pl.col("links") >= cfg.min_links_per_member * pl.min_horizontal("size", "loaded"))
        .sort(["group", "links", "best", "cluster"], descending=[False, True, True, False])
        .unique("group", keep="first")
        .select("group", pl.col("cluster").alias("weak_cluster"))
    )
    target = (
        pl.DataFrame({"a": np.arange(n, dtype=np.int64), "group": canon.astype(np.int64)})
        .join(best.select("a", pl.col("cluster").alias("own")), on="a", how="left")
        .join(by_group.rename({"cluster": "group_cluster"}), on="group", how="left")
        .join(weak_groups, on="group", how="left")
        .sort("a")
        .select(pl.coalesce("own", "group_cluster", "weak_cluster").alias("_joined"))
        .to_series()
    )
    # similarity to the joined cluster: its canonical when loaded, else the best edge into it
    sim = np.ones(n)
    joined = target.to_frame().with_row_index("a").filter(pl.col("_joined").is_not_null())
    if joined.height:
        canon_rows = index.with_row_index("b").filter("is_canonical").select(pl.col("b").cast(pl.Int64), pl.col("cluster_id").alias("_joined"))
        to_canon = joined.join(canon_rows, on="_joined", how="inner").select(pl.col("a").cast(pl.Int64), "b")
        measured = _verify(to_canon, x, xdoc, xsizes, right=(idx_x, idx_doc, idx_sizes)).select(
            "a", pl.max_horizontal("jaccard", "containment").alias("sim")
        )
        fallback = (
            edges.join(joined.select(pl.col("a").cast(pl.Int64), pl.col("_joined").alias("cluster")), on=["a", "cluster"])
            .group_by("a")
            .agg(pl.col("sim").max().alias("edge_sim"))
        )
        sims = (
            joined.select(pl.col("a").cast(pl.Int64))
            .join(measured, on="a", how="left")
            .join(fallback, on="a", how="left")
            .select("a", pl.coalesce("sim", "edge_sim", pl.lit(0.0)).alias("s"))
        )
        sim[sims["a"].to_numpy()] = sims["s"].to_numpy()
    return target, sim

