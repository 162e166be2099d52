"""Per-document fingerprints: normalisation, word n-gram shingles, MinHash signatures, LSH band keys.

Everything here looks at one document at a time (vectorised over many): nothing depends on the
rest of the batch, so a stored signature or band key stays comparable with later batches as long
as ``DedupConfig`` (``shingle_words``, ``num_perm``, ``num_bands``, ``seed``) is unchanged.

- :func:`normalize_expr`: NFKC, case-fold, digit groups joined, other non-letters -> one space.
- :func:`shingle_sets`: the distinct 32-bit hashes of each document's word n-grams.
- :func:`minhash`: ``num_perm`` seeded permutations -> an (n_docs x num_perm) uint32 signature.
- :func:`band_matrix`: the signature cut into ``num_bands`` bands, each mixed into one uint64 key.
- :func:`fingerprint`: all of the above for one text (no site-furniture removal: that needs a batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import polars as pl
import xxhash

from cleaners.config import DedupConfig

# DIGIT_GROUP_RE: a thousands/decimal separator between digits. "5,963,000" matches "5,9"; "a, b" does not
DIGIT_GROUP_RE = r"(\d)[,.](\d)"
# NON_WORD_RE: a run of characters that are neither letters nor digits. " - " matches; "abc1" does not
NON_WORD_RE = r"[^\p{L}\p{N}]+"
# NON_ASCII_RE: any character outside ASCII. "café" matches; "cafe" does not
NON_ASCII_RE = r"[^\x00-\x7F]"
# NFKC_CHANGE_RE: a character that may make NFKC change a string: anything but ASCII and the
# Latin-1 / General Punctuation characters that NFKC keeps and that never compose with a
# neighbour (quick-check Yes, combining class 0; tests/cleaners/test_dedup.py re-derives the list).
# "It’s 5 “quoted” — café" does not match; "5 km²", "a…", "e\u0301" match
NFKC_CHANGE_RE = (
    r"[^\x00-\x7F\xA1-\xA7\xA9\xAB-\xAE\xB0\xB1\xB6\xB7\xBB\xBF-\xFF\u2010\u2012-\u2016\u2018-\u2023"
    r"\u2027\u2030-\u2032\u2035\u2038-\u203B\u203D\u203F-\u2046\u204A-\u2056\u2058-\u205E]"
)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_WORD_SEED = 0x5EED  # word hashes are fixed so stored signatures stay comparable; cfg.seed picks permutations
_SHINGLE_BLOCK_BYTES = 4_000_000  # normalised text shingled at a time (bounds the per-word temporaries: ~40 MB)
_NORMALIZE_BLOCK_ROWS = 20_000  # texts normalised at a time (blocks run on the threads of map_blocks)
_MINHASH_BLOCK_SHINGLES = 1 << 16  # shingles per MinHash block: the block and its permuted copy stay in cache
_EMPTY_SHINGLE = np.uint64(0)  # the one shingle of an empty document


@dataclass(frozen=True)
class Fingerprint:
    """What dedup stores per document: exact-content hash plus MinHash signature."""

    content_key: str  # xxh3-64 hex of the fingerprint-normalised text (not the articles' content_hash)
    signature: tuple[int, ...]  # cfg.num_perm uint32 MinHash values
    n_shingles: int


def normalize_for_fingerprint(text: str) -> str:
    """Case-folded, punctuation-free, whitespace-collapsed text; digits kept."""
    return _normalize(pl.Series([text], dtype=pl.String)).item()


def fingerprint(text: str, cfg: DedupConfig) -> Fingerprint:
    """Content hash of the normalised text plus a MinHash signature of its word n-gram set.

    Pure and batch-free (no boilerplate filtering, which needs the whole batch; see
    :func:`assign_clusters`).
    """
    norm = _normalize(pl.Series([text], dtype=pl.String))
    sh, doc_of = shingle_sets(norm, cfg)
    sig = minhash(sh, doc_of, 1, cfg)[0]  # sh: distinct 32-bit shingle hashes
    return Fingerprint(content_key(norm[0]), tuple(int(v) for v in sig), int(len(sh)))


def _normalize(texts: pl.Series) -> pl.Series:
    return pl.select(normalize_expr(pl.lit(texts, dtype=pl.String)).alias("t")).to_series()


T = TypeVar("T")
R = TypeVar("R")


def map_blocks(fn: Callable[[T], R], blocks: Iterable[T]) -> Iterator[R]:
    """``map(fn, blocks)`` on polars' thread pool size of threads, results in order. The blocks'
    work is numpy and polars calls, which release the GIL, so the threads use every core."""
    workers = pl.thread_pool_size()
    if workers < 2:
        return map(fn, blocks)
    with ThreadPoolExecutor(workers) as pool:
        return iter(list(pool.map(fn, blocks)))


def normalize_texts(texts: pl.Series) -> pl.Series:
    """:func:`normalize_expr` of a string column, in blocks on every core; NFKC runs only on the
    texts holding a character it may change (:data:`NFKC_CHANGE_RE`), the same result."""

    def block(start: int) -> pl.Series:
        part = texts.slice(start, _NORMALIZE_BLOCK_ROWS).cast(pl.String).fill_null("").alias("t").to_frame()
        odd = part.select(pl.col("t").str.contains(NFKC_CHANGE_RE)).to_series()
        if odd.any():
            where = odd.arg_true()
            part = part.with_columns(part["t"].scatter(where, part["t"].gather(where).str.normalize("NFKC")))
        return part.select(_fold(pl.col("t"))).to_series()

    parts = list(map_blocks(block, range(0, max(len(texts), 1), _NORMALIZE_BLOCK_ROWS)))
    return pl.concat(parts, rechunk=True).alias(texts.name) if len(parts) > 1 else parts[0].alias(texts.name)


def normalize_expr(col: pl.Expr) -> pl.Expr:
    """The fingerprint normalisation of a string column (null -> "")."""
    col = col.fill_null("")
    # NFKC leaves pure ASCII unchanged: only strings with other characters pay for it
    return _fold(pl.when(col.str.contains(NON_ASCII_RE)).then(col.str.normalize("NFKC")).otherwise(col))


def _fold(col: pl.Expr) -> pl.Expr:
    """The normalisation after NFKC: case-fold, digit groups joined, other non-letters -> one space."""
    return (
        col.str.to_lowercase()
        .str.replace_all(DIGIT_GROUP_RE, "${1}${2}")
        .str.replace_all(DIGIT_GROUP_RE, "${1}${2}")  # second pass for "1,2,3" style overlaps
        .str.replace_all(NON_WORD_RE, " ")
        .str.strip_chars()
    )


def content_key(normalized: str) -> str:
    """The exact-duplicate key of a normalised text: xxh3-64 hex."""
    return xxhash.xxh3_64_hexdigest(normalized.encode("utf-8"))


def shingle_sets(norm: pl.Series, cfg: DedupConfig, take: pl.Series | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The flat distinct 32-bit shingle hashes of each normalised text (see :func:`normalize_expr`), with its index.

    ``take`` (row numbers) shingles those texts of ``norm``, in that order, without copying them
    all first. Sorted by document, then hash; an empty document has the single shingle 0; document
    numbers are int32. Shingled in blocks of about ``_SHINGLE_BLOCK_BYTES`` of text (the per-word
    temporaries stay bounded), on every core (:func:`map_blocks`); each distinct word is hashed once.
    """
    n = len(norm) if take is None else len(take)
    size = norm.str.len_bytes() if take is None else norm.gather(take).str.len_bytes()
    ends = np.cumsum(size.fill_null(0).to_numpy().astype(np.int64) + 1)
    # block k holds the documents whose text ends in its byte range (at least one document each)
    cuts = np.unique(np.searchsorted(ends, np.arange(_SHINGLE_BLOCK_BYTES, int(ends[-1]) if n else 0, _SHINGLE_BLOCK_BYTES), side="right"))
    bounds = list(zip([0, *cuts.tolist()], [*cuts.tolist(), n], strict=True)) if n else [(0, 0)]
    bounds = [(lo, hi) for lo, hi in bounds if hi > lo] or [(0, 0)]
    word_cache: dict[str, int] = {}

    def block(lo_hi: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = lo_hi
        texts = norm.slice(lo, hi - lo) if take is None else norm.gather(take.slice(lo, hi - lo))
        x, d = _shingle_block(texts, cfg, word_cache)
        return x, d.astype(np.int32) + np.int32(lo)

    xs, docs = [], []
    for x, d in map_blocks(block, bounds):
        xs.append(x)
        docs.append(d)
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


def _shingle_block(norm: pl.Series, cfg: DedupConfig, word_cache: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shingle_sets` of one block of documents (numbered from 0 within the block)."""
    words = norm.str.split(" ")
    lengths = words.list.len().to_numpy().astype(np.int64)
    flat = words.explode()
    del words
    empty = lengths == 1
    if empty.any():  # "".split(" ") is [""]: an empty document
        empty &= (norm.str.len_bytes() == 0).to_numpy()
        lengths = np.where(empty, 0, lengths)
        flat = flat.filter(flat.str.len_bytes() > 0)
    vocab, codes = _word_codes(flat)
    del flat
    word_h = _word_hashes(vocab.to_list(), word_cache)[codes]
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


def _word_codes(flat: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """The distinct words of ``flat`` and each word's number among them.

    Words are grouped by polars' 64-bit hash (a hash join, several times faster than a string
    ``unique`` plus an ``Enum`` cast); every word is then compared with its group's first word, and
    should two words share a hash, the exact Enum cast is used instead.
    """
    hashed = flat.hash(_WORD_SEED)
    first = hashed.arg_unique()
    vocab = flat.gather(first)
    numbered = pl.DataFrame({"h": hashed.gather(first)}).with_row_index("c")
    codes = hashed.to_frame("h").join(numbered, on="h", how="left", maintain_order="left")["c"].to_numpy()
    if len(flat) and not (vocab.gather(codes) == flat).all():  # a hash shared by two words
        vocab = flat.unique()
        # each word's number in the vocabulary by an Enum cast, then its hash by a numpy gather:
        # far smaller temporaries than mapping words to hashes with replace_strict, and faster
        codes = flat.cast(pl.Enum(vocab)).to_physical().to_numpy()
    return vocab, codes


def _word_hashes(words: list[str], cache: dict[str, int]) -> np.ndarray:
    """The fixed-seed (``_WORD_SEED``) 64-bit hash of each word; ``cache`` keeps those already
    hashed (blocks on other threads may add the same word twice: the same value)."""
    missing = [w for w in words if w not in cache]
    cache.update(zip(missing, [xxhash.xxh3_64_intdigest(w.encode("utf-8"), _WORD_SEED) for w in missing], strict=True))
    return np.fromiter(map(cache.__getitem__, words), dtype=np.uint64, count=len(words))


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


def _splitmix(x: np.ndarray) -> np.ndarray:
    """64-bit finaliser (splitmix64): spreads bits of an already hashed uint64 array."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


def _high32(g: np.ndarray) -> np.ndarray:
    """The high half of 64-bit shingle hashes (the best mixed bits): what sets and MinHash use."""
    return (g >> np.uint64(32)).astype(np.uint32)


def _permutations(cfg: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """Seeded affine permutations of uint32: pi_k(x) = a_k * x + b_k mod 2**32 (a_k odd).

    Weak on structured keys, unbiased on the already mixed shingle hashes (measured: estimated
    Jaccard error matches the binomial sd). uint32 keeps the per-permutation pass cheap.
    """
    rng = np.random.default_rng(cfg.seed)
    a = rng.integers(1, 2**32, size=cfg.num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = rng.integers(0, 2**32, size=cfg.num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


def minhash(shingles: np.ndarray, doc_of: np.ndarray, n_docs: int, cfg: DedupConfig) -> np.ndarray:
    """MinHash signatures (n_docs x num_perm, uint32) of the shingle sets given flat.

    ``shingles`` must be grouped by ``doc_of`` (ascending). A document with no shingle gets the
    all-max signature. Blocks of whole documents (~``_MINHASH_BLOCK_SHINGLES`` shingles, so each
    permutation pass stays in cache) run on every core (:func:`map_blocks`).
    """
    a, b = _permutations(cfg)
    sig = np.full((n_docs, cfg.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    if len(shingles) == 0:
        return sig
    x = shingles if shingles.dtype == np.uint32 else _high32(shingles)
    starts = np.concatenate(([0], np.flatnonzero(doc_of[1:] != doc_of[:-1]) + 1))
    present = doc_of[starts]
    cuts = np.unique(np.searchsorted(starts, np.arange(0, len(x), _MINHASH_BLOCK_SHINGLES)))
    ends = [*cuts[1:].tolist(), len(starts)]

    def block(lo_hi: tuple[int, int]) -> None:
        lo, hi = lo_hi
        first = int(starts[lo])
        xb = x[first : int(starts[hi]) if hi < len(starts) else len(x)]
        at = starts[lo:hi] - first
        h = np.empty_like(xb)
        out = np.empty((hi - lo, cfg.num_perm), dtype=np.uint32)
        with np.errstate(over="ignore"):
            for k in range(cfg.num_perm):  # one pass per permutation: 2-D reduceat is much slower
                np.multiply(xb, a[k], out=h)
                h += b[k]
                out[:, k] = np.minimum.reduceat(h, at)
        sig[present[lo:hi]] = out

    for _ in map_blocks(block, zip(cuts.tolist(), ends, strict=True)):
        pass
    return sig


def band_matrix(sig: np.ndarray, cfg: DedupConfig) -> np.ndarray:
    """(n_docs x num_bands) uint64 keys: a mix of each band's rows of the signature."""
    rows = cfg.num_perm // cfg.num_bands
    # seeded with the band number, so a key names its band too (one key column suffices in the index)
    keys = np.broadcast_to(np.arange(cfg.num_bands, dtype=np.uint64), (sig.shape[0], cfg.num_bands)).copy()
    with np.errstate(over="ignore"):
        for r in range(rows):
            col = sig[:, r : rows * cfg.num_bands : rows].astype(np.uint64)
            keys = _splitmix(keys * _GOLDEN + col + np.uint64(r))
    return keys
