"""Dedup of a batch that is split into partitions: the steps of :func:`cluster.assign_clusters`
cut where an orchestrator (``flows/dask_dedup.py``) moves data between machines. Plain frames and
arrays in and out; the moving (hash exchanges by a key) is the orchestrator's.

Each step makes the same decisions as the single-process path, from the same functions:

1. :func:`shingle_partition` (per input partition): normalise, content key, the shingles of each
   distinct content. Rows and contents then go to the *home* partition of their content key.
2. :func:`merge_contents` (per home partition): exact copies meet; one representative ("rep") per
   content, chosen as in ``batch.prepare_batch`` (:func:`batch.first_copies`).
3. :func:`furniture_rows` -> (exchange by site, and by shingle) -> :func:`furniture_shingles`: site
   furniture and batch-wide boilerplate are counted over all reps (the counts
   ``furniture.furniture_mask`` makes in one process), and the set is broadcast back.
4. :func:`fingerprint_reps` (per home partition): furniture dropped (:func:`furniture.keep_rows`),
   MinHash, band keys. Reps get global numbers (``gid``: the partition's offset + position).
5. :func:`band_rows` -> (exchange by band key) -> :func:`key_pairs`: documents sharing a band key.
6. (exchange by the home of ``a``, requests to the home of ``b``) :func:`take_docs`,
   :func:`verify_pairs`: the time window (``candidates.window_mask`` on each rep's seen days),
   MinHash prefilter and exact verification, ``candidates.prefilter`` and
   ``candidates.verify`` on the two documents' own shingles.
7. :func:`link_edges` (once, on the collected edges, which are small beside the documents): reps
   in edges numbered in ``batch.quality_order``, then ``cluster.link_kinds`` (``link_clusters``
   on edges already sorted into strong and weak); the canonical of every clustered rep. Reps in
   no edge are singletons and need no step.
8. :func:`verify_pairs` again for (canonical, member) pairs: ``similarity``.
9. :func:`rep_results` (per home partition) -> (exchange by input partition) -> :func:`row_results`.

Exact for any partitioning: a pair's verified overlap depends only on its two shingle sets, the
furniture set on global counts, and the canonical on the quality order, which numbering only the
reps in edges preserves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import xxhash

from cleaners.config import DedupConfig
from cleaners.dedup.batch import first_copies, quality_order, with_defaults
from cleaners.dedup.candidates import prefilter, seen_span, shared_key_pairs, unpack_pairs, verify, window_mask
from cleaners.dedup.cluster import edge_kinds, link_kinds, stable_id
from cleaners.dedup.furniture import frequent, keep_rows, member
from cleaners.dedup.minhash import band_matrix, content_key, minhash, normalize_expr, shingle_sets

# the columns of a row that travel to its content's home partition (no text)
ROW_COLUMNS = ("doc_id", "_content_key", "_site", "_published", "_n_edits", "_seen", "_part", "_row")
REP_COLUMNS = ("_content_key", "doc_id", "_site", "_published", "_n_edits")
NODE_COLUMNS = ("gid", "doc_id", "n_content", "_n_edits", "_published")  # what link_edges orders reps by


@dataclass(frozen=True)
class Docs:
    """Documents and their shingle sets, flat: document k holds ``g[start[k] : start[k] + sizes[k]]``
    (sorted 32-bit hashes). ``sig`` (MinHash rows) once :func:`fingerprint_reps` has run."""

    meta: pl.DataFrame
    g: np.ndarray
    sizes: np.ndarray
    sig: np.ndarray | None = None

    def take(self, idx: np.ndarray) -> Docs:
        """Documents ``idx`` (positions), in that order."""
        idx = np.asarray(idx, dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(self.sizes)[:-1])).astype(np.int64)
        run = self.sizes[idx].astype(np.int64)
        first = np.cumsum(run) - run
        pos = np.repeat(starts[idx] - first, run) + np.arange(int(run.sum()))
        sig = None if self.sig is None else self.sig[idx]
        return Docs(self.meta[idx], self.g[pos], run, sig)

    def split(self, bucket: np.ndarray, n: int) -> list[Docs]:
        """The documents of each bucket ``0..n-1`` (``bucket`` per document)."""
        return [self.take(np.flatnonzero(bucket == j)) for j in range(n)]

    @staticmethod
    def concat(parts: list[Docs]) -> Docs:
        sigs = [p.sig for p in parts if p.sig is not None]
        sig = np.concatenate(sigs) if sigs and len(sigs) == len(parts) else None
        return Docs(
            pl.concat([p.meta for p in parts], how="vertical_relaxed"),
            np.concatenate([p.g for p in parts]).astype(np.uint32),
            np.concatenate([p.sizes for p in parts]).astype(np.int64),
            sig,
        )

    @property
    def doc_of(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.sizes), dtype=np.int64), self.sizes)


def content_buckets(keys: pl.Series, n: int) -> np.ndarray:
    """The home partition (``0..n-1``) of each content key (xxh3 hex, see ``minhash.content_key``)."""
    return (keys.str.to_integer(base=16, dtype=pl.UInt64).to_numpy() % np.uint64(n)).astype(np.int64)


def shingle_partition(df: pl.DataFrame, cfg: DedupConfig, part: int) -> tuple[pl.DataFrame, Docs]:
    """Step 1 on one input partition: its rows (:data:`ROW_COLUMNS`, ``_part`` = ``part`` and
    ``_row`` the position in it) and its distinct contents with their shingles (meta: ``_content_key``).

    The shingles of a content depend on its normalised text only, so any copy's are every copy's.
    """
    seen = pl.col("seen").cast(pl.Date) if "seen" in df.columns else pl.lit(None, pl.Date)
    rows = with_defaults(df).with_row_index("_row").with_columns(_part=pl.lit(part, dtype=pl.Int64), _seen=seen)
    norm = rows.select(normalize_expr(pl.col("_text"))).to_series()
    rows = rows.with_columns(pl.Series("_content_key", [content_key(t) for t in norm.to_list()], dtype=pl.String))
    first = rows.select("_row", "_content_key").unique("_content_key", keep="first", maintain_order=True)
    g, gdoc = shingle_sets(norm, cfg, take=first["_row"])
    sizes = np.bincount(gdoc, minlength=first.height).astype(np.int64)
    return rows.select(ROW_COLUMNS), Docs(first.select("_content_key"), g, sizes)


def merge_contents(rows: list[pl.DataFrame], contents: list[Docs]) -> tuple[pl.DataFrame, Docs]:
    """Step 2 on one home partition: all rows of its contents, and one rep per content
    (meta :data:`REP_COLUMNS`; the copy ``batch.prepare_batch`` picks, plus ``_lo``/``_hi``: the
    first and last day its copies were seen) with its shingles."""
    all_rows = pl.concat(rows, how="vertical_relaxed")
    docs = Docs.concat(contents)
    once = docs.meta.with_row_index("_at").unique("_content_key", keep="first").sort("_content_key")
    spans = all_rows.group_by("_content_key").agg(_lo=pl.col("_seen").min(), _hi=pl.col("_seen").max())
    reps = first_copies(all_rows).select(REP_COLUMNS).sort("_content_key").join(spans, on="_content_key", how="left")
    at = reps.join(once.select("_content_key", "_at"), on="_content_key", how="left")["_at"].to_numpy()
    shingled = docs.take(at)
    return all_rows, Docs(reps, shingled.g, shingled.sizes)


def site_hashes(sites: pl.Series) -> np.ndarray:
    """A 64-bit number per site name (xxh3; 0 for no site): what furniture counting groups by."""
    return np.fromiter((0 if s is None else xxhash.xxh3_64_intdigest(s.encode("utf-8")) for s in sites.to_list()), dtype=np.uint64, count=len(sites))


SiteRows = tuple[np.ndarray, np.ndarray, np.ndarray]  # site hash and shingle count per document, shingles flat


def furniture_rows(reps: Docs, with_doc_counts: bool, n: int) -> tuple[list[SiteRows], list[tuple[np.ndarray, np.ndarray]]]:
    """Step 3 on one home partition, cut into ``n`` buckets: the shingles of its reps that have a
    site, by site (a site's pages then meet in one bucket), and (``with_doc_counts``) the documents
    per shingle, by shingle. Shingles are distinct per document, so rows count documents."""
    site = site_hashes(reps.meta["_site"])
    doc_at = np.where(site != 0, (site % np.uint64(n)).astype(np.int64), -1)
    row_at = doc_at[reps.doc_of]
    by_site = [(site[doc_at == j], reps.sizes[doc_at == j], reps.g[row_at == j]) for j in range(n)]
    del row_at
    if with_doc_counts:
        values, counts = np.unique(reps.g, return_counts=True)
    else:  # the share rule does not apply to a batch this small
        values, counts = reps.g[:0], np.zeros(0, dtype=np.int64)
    at = (values % n).astype(np.int64)  # shingles are well-mixed hashes
    by_doc = [(values[at == j], counts[at == j]) for j in range(n)]
    return by_site, by_doc


def furniture_shingles(by_site: list[SiteRows], by_doc: list[tuple[np.ndarray, np.ndarray]], n_reps: int, cfg: DedupConfig) -> np.ndarray:
    """Step 3 on one bucket, its share of the furniture set (sorted uint32): shingles on at least
    ``cfg.min_site_repeat_docs`` reps of one site (every page of a site is in the site's bucket),
    or (when there are at least ``cfg.min_docs_for_doc_frac`` reps in all) on more than
    ``cfg.max_shingle_doc_frac`` of them: the two rules of ``furniture.furniture_mask``."""
    found = [np.zeros(0, dtype=np.uint32)]
    if by_site:
        _, code = np.unique(np.concatenate([s for s, _, _ in by_site]), return_inverse=True)
        sizes = np.concatenate([k for _, k, _ in by_site]).astype(np.int64)
        # (site, shingle) keys, as furniture_mask makes them
        key = np.repeat(code.astype(np.uint64).ravel(), sizes) << np.uint64(32)
        key |= np.concatenate([g for _, _, g in by_site]).astype(np.uint64)
        found.append((frequent(key, cfg.min_site_repeat_docs, in_place=True) & np.uint64(0xFFFFFFFF)).astype(np.uint32))
        del key
    if n_reps >= cfg.min_docs_for_doc_frac and by_doc:
        values = np.concatenate([v for v, _ in by_doc])
        counts = np.concatenate([c for _, c in by_doc])
        order = np.argsort(values, kind="stable")
        values, counts = values[order], counts[order]
        if len(values):
            starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
            total = np.add.reduceat(counts, starts)
            # more than max_shingle_doc_frac of the documents: > frac * n, i.e. >= floor(frac * n) + 1
            found.append(values[starts][total >= int(np.floor(cfg.max_shingle_doc_frac * n_reps)) + 1].astype(np.uint32))
    return np.unique(np.concatenate(found)).astype(np.uint32)


def fingerprint_reps(reps: Docs, furniture: np.ndarray, offset: int, cfg: DedupConfig) -> Docs:
    """Step 4 on one home partition: furniture dropped, ``n_content``, MinHash, global numbers
    ``gid`` = ``offset`` + position."""
    doc_of = reps.doc_of
    keep = keep_rows(member(reps.g, furniture), doc_of, len(reps.sizes))
    g, doc_of = reps.g[keep], doc_of[keep]
    sizes = np.bincount(doc_of, minlength=len(reps.sizes)).astype(np.int64)
    sig = minhash(g, doc_of, len(sizes), cfg)
    meta = reps.meta.with_columns(gid=pl.int_range(offset, offset + len(sizes), dtype=pl.Int64), n_content=pl.Series(sizes, dtype=pl.Int64))
    return Docs(meta, g, sizes, sig)


def band_rows(reps: Docs, cfg: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """Step 5: (band key, gid) of every band of every rep, flat."""
    assert reps.sig is not None
    keys = band_matrix(reps.sig, cfg)
    gid = reps.meta["gid"].to_numpy().astype(np.uint64)
    return keys.ravel(), np.repeat(gid, keys.shape[1])


def key_buckets(keys: np.ndarray, n: int) -> np.ndarray:
    """The partition (``0..n-1``) that pairs the documents of each band key (keys are well mixed)."""
    return (keys % np.uint64(n)).astype(np.int64)


def key_pairs(keys: list[np.ndarray], gids: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Step 5 on one band-key partition: distinct (a, b) gid pairs, a < b, sharing a key there.
    Each key lives in one partition, so the union over partitions is ``candidates.candidate_pairs``."""
    packed = shared_key_pairs(np.concatenate(keys), np.concatenate(gids))
    return unpack_pairs(packed)


def home_of(gid: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The home partition of each global rep number (``offsets``: first gid of each partition)."""
    return np.searchsorted(offsets, gid, side="right") - 1


def take_docs(reps: Docs, gids: np.ndarray) -> Docs:
    """Step 6 at the home of ``b``: the reps ``gids`` (of this partition), for a verifier elsewhere."""
    offset = int(reps.meta["gid"][0]) if reps.meta.height else 0
    return reps.take(np.asarray(gids, dtype=np.int64) - offset)


def verify_pairs(a: np.ndarray, b: np.ndarray, docs: list[Docs], cfg: DedupConfig, candidates: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Step 6 (and 8): the overlap of gid pairs (a, b) whose reps are all in ``docs``.

    ``candidates``: LSH candidates, so the MinHash prefilter runs first and only the edges that
    pass the strong or the weak thresholds are kept, as (a, b, strong, weak): all that linking
    reads. Else every pair is measured (``verify``'s columns: similarity to the canonical).
    Returns the edges (a, b as gids) and the :data:`NODE_COLUMNS` of the reps in them.
    """
    pool = Docs.concat(docs) if docs else None
    if pool is None or len(a) == 0:
        return _no_edges(), pl.DataFrame(schema={c: pl.Int64 for c in NODE_COLUMNS[:1]})
    pool_gid = pool.meta["gid"].to_numpy()
    order = np.argsort(pool_gid, kind="stable")
    local = {"a": order[np.searchsorted(pool_gid, a, sorter=order)], "b": order[np.searchsorted(pool_gid, b, sorter=order)]}
    pairs = pl.DataFrame(local)
    if candidates:
        assert pool.sig is not None
        if cfg.window_days and "_lo" in pool.meta.columns:  # pairs seen too far apart: as cluster._assign_fresh
            span = seen_span(pool.meta["_lo"], pool.meta["_hi"])
            pairs = pairs.filter(pl.Series(window_mask(local["a"], local["b"], span, cfg.window_days)))
        pairs = prefilter(pairs, pool.sig, pool.sizes, cfg)
    # verify's lookup table holds the documents in pairs only, not the whole home partition
    inpairs = np.unique(np.concatenate((pairs["a"].to_numpy(), pairs["b"].to_numpy())))
    pool, pool_gid = pool.take(inpairs), pool_gid[inpairs]
    pairs = pairs.select(a=pl.Series(np.searchsorted(inpairs, pairs["a"].to_numpy())), b=pl.Series(np.searchsorted(inpairs, pairs["b"].to_numpy())))
    edges = verify(pairs, pool.g, pool.doc_of, pool.sizes)
    if candidates:
        # all that linking reads: the two ends and the kind (the client holds every edge: 10 bytes each)
        strong, weak = edge_kinds(edges, cfg)
        edges = edges.select("a", "b").with_columns(strong=pl.Series(strong), weak=pl.Series(weak)).filter(pl.col("strong") | pl.col("weak"))
    used = np.unique(np.concatenate((edges["a"].to_numpy(), edges["b"].to_numpy())))
    nodes = pool.meta[used].select(NODE_COLUMNS)
    gid = pool_gid.astype(np.uint32)  # gids are below 2**32 (see key_pairs)
    edges = edges.with_columns(a=pl.Series(gid[edges["a"].to_numpy()]), b=pl.Series(gid[edges["b"].to_numpy()]))
    return edges, nodes


def _no_edges() -> pl.DataFrame:
    ints = {c: pl.Int64 for c in ("a", "b", "inter", "size_a", "size_b")}
    return pl.DataFrame(schema={**ints, "jaccard": pl.Float64, "containment": pl.Float64, "size_ratio": pl.Float64})


def link_edges(nodes: pl.DataFrame, edges: pl.DataFrame, cfg: DedupConfig) -> pl.DataFrame:
    """Step 7: ``gid`` -> ``canon_gid`` and ``canon_doc`` of every rep in ``edges``.

    The reps in edges are numbered in ``batch.quality_order`` (the order ``prepare_batch`` numbers
    all reps in, restricted to these: a rep in no edge is a cluster of its own, and leaving it out
    changes no component, no group size and no smallest member), then ``cluster.link_kinds``.
    """
    ordered = quality_order(nodes.unique("gid").with_columns(doc_id=pl.col("doc_id").cast(pl.String))).with_row_index("_k")
    k = ordered["_k"].to_numpy()
    gid = ordered["gid"].to_numpy()
    by_gid = np.argsort(gid)

    def number(col: str) -> np.ndarray:
        return k[by_gid[np.searchsorted(gid, edges[col].to_numpy(), sorter=by_gid)]]

    canon = link_kinds(len(k), number("a"), number("b"), edges["strong"].to_numpy(), edges["weak"].to_numpy(), cfg)
    return pl.DataFrame({"gid": gid, "canon_gid": gid[canon], "canon_doc": ordered["doc_id"].gather(canon)})


def rep_results(reps: Docs, linked: pl.DataFrame, similarity: pl.DataFrame) -> pl.DataFrame:
    """Step 9 on one home partition: ``_content_key`` -> ``_canon_doc`` and ``_rep_sim`` of each rep
    (``linked``: :func:`link_edges` rows of its reps; ``similarity``: gid ``b`` -> ``sim``)."""
    return (
        reps.meta.select("_content_key", "doc_id", "gid")
        .join(linked.select("gid", "canon_doc"), on="gid", how="left")
        .join(similarity.select(pl.col("b").cast(pl.Int64).alias("gid"), "sim"), on="gid", how="left")
        .select("_content_key", _canon_doc=pl.coalesce("canon_doc", "doc_id"), _rep_sim=pl.col("sim").fill_null(1.0))
    )


def row_results(rows: pl.DataFrame, reps: pl.DataFrame) -> pl.DataFrame:
    """Step 9: ``_part``, ``_row`` and the result columns of every row of one home partition."""
    out = rows.select("doc_id", "_content_key", "_part", "_row").join(reps, on="_content_key", how="left")
    return out.select(
        "_part",
        "_row",
        cluster_id=stable_id(out["_canon_doc"]),
        is_canonical=pl.col("doc_id") == pl.col("_canon_doc"),
        similarity=pl.col("_rep_sim"),
    )
