"""Candidate pairs and their verification: which documents to compare, and how alike they are.

1. :func:`candidate_pairs`: documents sharing any LSH band key (``minhash.band_matrix``).
2. :func:`prefilter`: drops pairs whose MinHash estimates are far below every threshold.
3. :func:`verify`: the exact overlap of each remaining pair from the shingle sets (intersection,
   Jaccard, containment, size ratio), within a batch or against indexed documents.
4. :func:`accept`: the edges whose overlap passes a (strong or weak) set of thresholds: Jaccard of
   at least ``min_jaccard``, or the smaller document contained in the larger (``min_containment``)
   and not a tiny fragment of it (``min_size_ratio``; abridged copies pass, a two-sentence story
   pasted into another page does not).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cleaners.config import DedupConfig
from cleaners.dedup.minhash import map_blocks

_MAX_QUERY_ROWS = 4_000_000  # (pair, shingle) lookups per verification block (~100 MB of temporaries)
_PREFILTER_BLOCK_PAIRS = 200_000  # pairs compared per block (128 x uint32 each side: ~200 MB)


def candidate_pairs(keys: np.ndarray) -> pl.DataFrame:
    """Unique (a, b) doc index pairs, a < b, that share at least one band key.

    Keys carry their band, so one sort of the flat keys groups the buckets; bands are taken a few at
    a time and the pairs (packed ``a << 32 | b``) made unique per group, to bound the temporaries.
    """
    n, nb = keys.shape
    step = 8

    def group(b0: int) -> np.ndarray:  # groups of bands run on every core
        flat = keys[:, b0 : b0 + step].ravel()
        doc = np.repeat(np.arange(n, dtype=np.uint64), min(step, nb - b0))
        return shared_key_pairs(flat, doc)

    found = list(map_blocks(group, range(0, nb, step)))
    packed = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.uint64)
    a, b = unpack_pairs(packed)
    return pl.DataFrame({"a": a, "b": b})


def shared_key_pairs(flat: np.ndarray, doc: np.ndarray) -> np.ndarray:
    """The distinct pairs of documents (numbers below 2**32) that share a key, packed
    ``lo << 32 | hi`` (lo < hi) and sorted: ``flat[i]`` is a key of document ``doc[i]``."""
    order = np.argsort(flat, kind="stable")
    flat, doc = flat[order], doc[order].astype(np.uint64)
    del order
    same = flat[1:] == flat[:-1]
    if not same.any():
        return np.zeros(0, dtype=np.uint64)
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
    packed = np.unique(np.concatenate(chunk)) if chunk else np.zeros(0, dtype=np.uint64)
    # a document repeated in one bucket (same key in two of its bands cannot happen)
    return packed[(packed >> np.uint64(32)) != (packed & np.uint64(0xFFFFFFFF))]


def unpack_pairs(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) int64 arrays of pairs packed ``a << 32 | b`` by :func:`shared_key_pairs`."""
    return (packed >> np.uint64(32)).astype(np.int64), (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)


SeenSpan = tuple[np.ndarray, np.ndarray, np.ndarray]  # first and last seen day (days since 1970) per document, and dated


def window_mask(a: np.ndarray, b: np.ndarray, span: SeenSpan | None, window_days: int) -> np.ndarray:
    """Which pairs (a, b) of documents were seen at most ``window_days`` days apart: some day of
    a's ``span`` (the first and last day its exact copies were seen) lies within the window of
    some day of b's. A pair with an undated side, or any pair when ``span`` is None or the window
    0, is kept: the rule ``index.match_index`` applies to pairs with indexed documents, so a batch
    links the pairs that separate runs over its pages would link."""
    keep = np.ones(len(a), dtype=bool)
    if span is None or window_days == 0 or len(a) == 0:
        return keep
    lo, hi, dated = span
    both = dated[a] & dated[b]
    near = (lo[b] <= hi[a] + window_days) & (lo[a] <= hi[b] + window_days)
    return keep & (~both | near)


def seen_span(lo: pl.Series, hi: pl.Series) -> SeenSpan:
    """A :data:`SeenSpan` from Date series of each document's first and last seen day (null: undated)."""
    dated = lo.is_not_null().to_numpy() & hi.is_not_null().to_numpy()
    first = lo.cast(pl.Date).to_physical().fill_null(0).to_numpy().astype(np.int64)
    last = hi.cast(pl.Date).to_physical().fill_null(0).to_numpy().astype(np.int64)
    return first, last, dated


def prefilter(pairs: pl.DataFrame, sig: np.ndarray, sizes: np.ndarray, cfg: DedupConfig) -> pl.DataFrame:
    """Drop candidate pairs whose MinHash estimates of Jaccard and containment are both far below
    every acceptance threshold; the exact check (:func:`verify`) then sees only plausible pairs.

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


def verify(
    pairs: pl.DataFrame,
    g: np.ndarray,
    doc_of: np.ndarray,
    sizes: np.ndarray,
    right: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> pl.DataFrame:
    """Exact overlap of every candidate pair: intersection, jaccard, containment, size ratio.

    ``a`` indexes the documents of (``g``, ``doc_of``, ``sizes``); ``b`` those of ``right`` (the
    same documents when ``right`` is None). Shingles are distinct 32-bit hashes grouped by
    document (ascending, ``sizes`` each), sorted within it. The two sets of each pair are merged
    and their common shingles counted, in blocks of ``_MAX_QUERY_ROWS`` rows (a binary search of
    every shingle in a table of all of them misses the cache at nearly every step on large batches).
    """
    g_b, _, sizes_b = right if right is not None else (g, doc_of, sizes)
    starts_a = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    starts_b = np.concatenate(([0], np.cumsum(sizes_b)[:-1])).astype(np.int64)
    a = pairs["a"].to_numpy().astype(np.int64)
    b = pairs["b"].to_numpy().astype(np.int64)
    inter = np.zeros(len(a), dtype=np.int64)
    work = np.cumsum(sizes[a] + sizes_b[b]) if len(a) else np.zeros(0, dtype=np.int64)
    bounds = []
    lo = 0
    while lo < len(a):
        hi = int(np.searchsorted(work, (work[lo - 1] if lo else 0) + _MAX_QUERY_ROWS, side="right"))
        hi = max(hi, lo + 1)
        bounds.append((lo, hi))
        lo = hi

    def rows(docs: np.ndarray, g_of: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """``pair << 32 | shingle`` of every shingle of each pair's document ``docs``."""
        n_rows = counts[docs].astype(np.int64)
        pair_of = np.repeat(np.arange(len(docs), dtype=np.uint64), n_rows)
        first = np.cumsum(n_rows) - n_rows
        pos = np.repeat(starts[docs] - first, n_rows) + np.arange(int(n_rows.sum()))
        return (pair_of << np.uint64(32)) | g_of[pos].astype(np.uint64)

    def block(lo_hi: tuple[int, int]) -> None:  # blocks run on every core
        lo, hi = lo_hi
        # both sides' rows in one array: two sorted runs, which a stable sort merges in one pass;
        # a shingle in both sets is then two equal neighbours (a set holds each shingle once)
        both = np.concatenate((rows(a[lo:hi], g, starts_a, sizes), rows(b[lo:hi], g_b, starts_b, sizes_b)))
        both.sort(kind="stable")
        twice = both[1:][both[1:] == both[:-1]]
        inter[lo:hi] = np.bincount((twice >> np.uint64(32)).astype(np.int64), minlength=hi - lo)

    for _ in map_blocks(block, bounds):
        pass
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


def accept(edges: pl.DataFrame, min_jaccard: float, min_containment: float, min_size_ratio: float) -> pl.DataFrame:
    """Edges whose overlap passes: Jaccard, or containment of a not-too-small copy."""
    return edges.filter(accepted(min_jaccard, min_containment, min_size_ratio))


def accepted(min_jaccard: float, min_containment: float, min_size_ratio: float) -> pl.Expr:
    """True for an edge that :func:`accept` keeps."""
    by_jaccard = pl.col("jaccard") >= min_jaccard
    by_containment = (pl.col("containment") >= min_containment) & (pl.col("size_ratio") >= min_size_ratio)
    return by_jaccard | by_containment
