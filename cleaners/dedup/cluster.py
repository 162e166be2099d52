"""Clustering: the entry points :func:`assign_clusters` and :func:`cluster_and_index`, which run
the stages of the other modules on a batch, and the linking of verified edges into clusters.

Linking (:func:`link_clusters`): strong edges join documents transitively (connected components);
weak edges merge two groups only when they number ``cfg.min_links_per_member`` per member of the
smaller group, so one pasted paragraph cannot chain two stories. Reps are numbered best quality
first (``batch.prepare_batch``), so a cluster's smallest number is its canonical; ``cluster_id``
is a hash of the canonical's ``doc_id``, so the result does not depend on input order.
Within a batch, ``similarity`` is each member's verified overlap with the canonical itself
(``index.match_index`` measures a copy joining an indexed cluster).

Time window: candidate pairs of one batch whose pages were seen more than ``cfg.window_days``
apart are dropped before verification (``candidates.window_mask``), the rule the index side
applies to pairs with indexed pages, so a split of the same pages into runs links the same pairs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import xxhash

from cleaners.config import DedupConfig
from cleaners.dedup.batch import prepare_batch
from cleaners.dedup.candidates import accepted, candidate_pairs, prefilter, seen_span, verify, window_mask
from cleaners.dedup.index import INDEX_SCHEMA, SEEN, candidate_index_query, in_window, index_frame, match_index, window_bounds
from cleaners.dedup.minhash import band_matrix, minhash

# band keys of a batch (flat uint64) -> doc_id, cluster_id, seen of the index rows to load
KeyLookup = Callable[[np.ndarray], pl.DataFrame]

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
    df: pl.DataFrame, cfg: DedupConfig, index: pl.DataFrame | pl.LazyFrame | None = None, lookup: KeyLookup | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`assign_clusters` plus the :data:`INDEX_SCHEMA` rows of the new documents, shingled once.

    ``index`` may also be a lazy scan of the whole stored index: then only the rows of documents
    already indexed and the candidates sharing a band key with the new ones are loaded, and the
    documents are shingled once (no separate :func:`band_keys` pass). ``lookup`` (with such a
    scan) answers which of its rows to load from the batch's band keys (flat uint64), as
    ``found`` of :func:`candidate_index_query`: a flow passes its cache of the stored keys.

    The same result as ``assign_clusters(df, cfg, index)`` and ``index_rows(<its new rows>, cfg)``;
    rows of ``df`` already in ``index`` get no new index row.
    """
    return _assign(df, cfg, index, with_index_rows=True, lookup=lookup)


def _assign(
    df: pl.DataFrame, cfg: DedupConfig, index: pl.DataFrame | pl.LazyFrame | None, with_index_rows: bool, lookup: KeyLookup | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows already in ``index`` keep their stored assignment; the rest go through :func:`_assign_fresh`."""
    no_rows = pl.DataFrame(schema=INDEX_SCHEMA)
    df = df.drop(RESULT_COLUMNS, strict=False)  # an earlier assignment in the input is replaced
    if df.height == 0:
        return _empty_result(df), no_rows
    bounds = window_bounds(df[SEEN] if SEEN in df.columns else None, cfg)
    if bounds is not None and index is not None and SEEN in index.collect_schema().names():
        index = index.filter(in_window(bounds))  # on a scan: only the window's partitions are read
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
        return _assign_fresh(df, cfg, index, with_index_rows, lookup)
    ordered = df.with_row_index("_order")
    seen = ordered.filter(known).join(stored, on="doc_id", how="left")
    fresh = ordered.filter(~known)
    columns = [*df.columns, "cluster_id", "is_canonical", "similarity", "_order"]
    parts = [seen.select(columns)]
    rows = no_rows
    if fresh.height:
        out, rows = _assign_fresh(fresh.drop("_order"), cfg, index, with_index_rows, lookup)
        parts.append(out.with_columns(fresh["_order"]).select(columns))
    out = pl.concat(parts, how="vertical_relaxed").sort("_order")
    return out.select(*df.columns, "cluster_id", "is_canonical", "similarity"), rows


def _assign_fresh(
    df: pl.DataFrame, cfg: DedupConfig, index: pl.DataFrame | pl.LazyFrame | None, with_index_rows: bool, lookup: KeyLookup | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cluster documents none of which is in ``index``; the batch path of :func:`assign_clusters`."""
    batch = prepare_batch(df, cfg)
    n = len(batch.reps)
    sig = minhash(batch.shingles, batch.shingle_doc, n, cfg)
    keys = band_matrix(sig, cfg)
    rep_seen = _rep_seen(batch.rows, n)
    pairs = candidate_pairs(keys)
    if rep_seen is not None and cfg.window_days:  # the window of the index side, within the batch too
        span = seen_span(rep_seen["lo"], rep_seen["hi"])
        pairs = pairs.filter(pl.Series(window_mask(pairs["a"].to_numpy(), pairs["b"].to_numpy(), span, cfg.window_days)))
    pairs = prefilter(pairs, sig, batch.sizes, cfg)
    del sig
    edges = verify(pairs, batch.shingles, batch.shingle_doc, batch.sizes)
    del pairs
    canon = link_clusters(n, edges, cfg)
    del edges
    members = np.flatnonzero(canon != np.arange(n))
    to_canon = verify(
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
    if isinstance(index, pl.LazyFrame):
        known = lookup(keys.ravel()) if lookup is not None else None
        found = candidate_index_query(index, pl.DataFrame({"key": keys.ravel()}), known).collect(engine="streaming")
        index = found.sort("doc_id") if found.height else None  # the query's rows are unique by doc_id
    if index is not None and index.height:
        joined, joined_sim = match_index(
            batch.shingles, batch.shingle_doc, batch.sizes, keys, canon, index, batch.furniture, cfg, rep_seen
        )
        hit = joined.is_not_null().to_numpy()
        reps = reps.with_columns(
            _joined=joined,
            _rep_sim=pl.Series(np.where(hit, joined_sim, sim)),
        )
    # every row has a rep and reps are numbered 0..n-1: a gather, not a join that copies every text
    out = batch.rows.hstack(reps.drop("_rep")[batch.rows["_rep"]].get_columns())
    out = out.with_columns(
        cluster_id=pl.coalesce("_joined", stable_id(out["_canon_doc"])),
        is_canonical=(pl.col("doc_id") == pl.col("_canon_doc")) & pl.col("_joined").is_null(),
        similarity=pl.col("_rep_sim"),  # exact copies share their representative's similarity
    )
    rows = pl.DataFrame(schema=INDEX_SCHEMA)
    if with_index_rows:
        rows = index_frame(out, batch.shingles, batch.shingle_doc, keys)
    return out.select(*df.columns, "cluster_id", "is_canonical", "similarity"), rows


def _rep_seen(rows: pl.DataFrame, n: int) -> pl.DataFrame | None:
    """Each rep's earliest and latest ``seen`` day (columns ``lo``, ``hi``, rep order; exact copies
    may have been seen on different days), None when the batch has no ``seen`` column."""
    if SEEN not in rows.columns:
        return None
    spans = rows.group_by("_rep").agg(lo=pl.col(SEEN).cast(pl.Date).min(), hi=pl.col(SEEN).cast(pl.Date).max())
    return pl.DataFrame({"_rep": np.arange(n, dtype=np.uint32)}).join(spans, on="_rep", how="left").sort("_rep")


def _empty_result(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` (no rows) with the null result columns, so an empty batch has the usual schema."""
    return df.with_columns(
        cluster_id=pl.lit(None, dtype=pl.String),
        is_canonical=pl.lit(None, dtype=pl.Boolean),
        similarity=pl.lit(None, dtype=pl.Float64),
    )


def link_clusters(n: int, edges: pl.DataFrame, cfg: DedupConfig) -> np.ndarray:
    """Cluster docs 0..n-1 (numbered best quality first); returns the canonical doc of each.

    Strong edges (near-certain copies) join transitively. A weak edge alone never joins anything:
    two groups merge only when the weak edges between them number at least
    ``cfg.min_links_per_member`` per member of the smaller group, so a story pasted into one page
    of another story's cluster (one or two links) does not chain the two clusters. The smallest
    doc number in a cluster is its best copy: the canonical.
    """
    strong, weak = edge_kinds(edges, cfg)
    return link_kinds(n, edges["a"].to_numpy(), edges["b"].to_numpy(), strong, weak, cfg)


def edge_kinds(edges: pl.DataFrame, cfg: DedupConfig) -> tuple[np.ndarray, np.ndarray]:
    """Which verified edges are strong and which weak (``candidates.accept`` at each set of thresholds)."""
    strong = edges.select(accepted(cfg.min_jaccard, cfg.min_containment, cfg.min_size_ratio)).to_series().to_numpy()
    weak = edges.select(accepted(cfg.min_weak_jaccard, cfg.min_weak_containment, cfg.min_weak_size_ratio)).to_series().to_numpy()
    return strong, weak


def link_kinds(n: int, a: np.ndarray, b: np.ndarray, strong: np.ndarray, weak: np.ndarray, cfg: DedupConfig) -> np.ndarray:
    """:func:`link_clusters` of edges (a, b) already sorted into strong and weak (:func:`edge_kinds`)."""
    label = _components(n, a[strong], b[strong])
    wa, wb = a[weak], b[weak]
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


def stable_id(doc_ids: pl.Series) -> pl.Series:
    """The cluster_id of clusters with these canonicals: xxh3-64 hex of the doc_id."""
    return pl.Series([xxhash.xxh3_64_hexdigest(d.encode("utf-8")) for d in doc_ids.to_list()], dtype=pl.String)
