"""The persistent dedup index: what is stored per document, and matching new batches against it.

Each run appends :data:`INDEX_SCHEMA` rows (:func:`index_rows`, or ``cluster_and_index`` in one
pass) to a stored table (``dedup_index`` in flows/storage.py). A later batch loads only the rows
sharing an LSH band key with it (:func:`candidate_index_query`) and :func:`match_index` decides
which indexed cluster each new document joins, verified on the exact shingle sets as within a
batch. :func:`band_keys` gives a batch's keys as a plain frame for such lookups.

Time window: every row records the day its page was ``seen`` (WARC-Date, fetch time,
``published``, file mtime: the first known). Syndicated copies appear within days, so a page is
matched only against indexed pages seen at most ``cfg.window_days`` days before or after it
(:func:`window_bounds` bounds the lookup of a whole batch, :func:`match_index` each pair); the
stored table is partitioned by ``seen``, so a batch's lookup reads only the partitions of its
window and its cost follows the pages seen in the window, not the whole history. A copy seen
further away from every indexed copy starts a cluster of its own. Rows without a date (an index
written before the column existed) are always in the window. ``window_days = 0`` reads the
whole index.

Reading the window's band keys grows with the pages seen in it (54M keys in a 30-day window of a
10M-page year). A flow therefore passes ``cluster_and_index`` a ``lookup``: the answer of its cache
of the stored keys (flows/index_cache.py: per seen day, the keys sorted), given to
:func:`candidate_index_query` as ``found``, so the key lists are not scanned at all.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from cleaners.config import DedupConfig
from cleaners.dedup.batch import prepare_batch
from cleaners.dedup.candidates import accept, verify
from cleaners.dedup.minhash import band_matrix, minhash

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
        "seen": pl.Date(),  # the day the page was seen (the stored table's partition column)
    }
)
SEEN = "seen"


def window_bounds(seen: pl.Series | None, cfg: DedupConfig) -> tuple[dt.date, dt.date] | None:
    """The ``seen`` days a batch seen on ``seen`` (one date per row) is matched against:
    ``cfg.window_days`` before its earliest page to as many after its latest. None (the whole
    index) when the window is 0 or no row has a date; rows without one are matched within the
    window of the dated ones."""
    if cfg.window_days == 0 or seen is None:
        return None
    dated = seen.cast(pl.Date).drop_nulls()
    if dated.is_empty():
        return None
    days = dt.timedelta(days=cfg.window_days)
    first, last = dated.min(), dated.max()
    assert isinstance(first, dt.date) and isinstance(last, dt.date)
    return first - days, last + days


def in_window(bounds: tuple[dt.date, dt.date]) -> pl.Expr:
    """Rows of the index inside ``bounds`` (a predicate on the partition column, so a scan
    reads only those partitions), and the undated rows."""
    return pl.col(SEEN).is_between(*bounds) | pl.col(SEEN).is_null()


def index_rows(clustered_df: pl.DataFrame, cfg: DedupConfig) -> pl.DataFrame:
    """The :data:`INDEX_SCHEMA` rows to append to the persistent index for ``clustered_df``.

    ``clustered_df`` is an output of :func:`assign_clusters` (``doc_id``, ``text``, ``cluster_id``,
    ``is_canonical``, ``similarity``; ``site``/``published``/``n_edits`` as given there). Shingles
    are recomputed from the text with site furniture detected over this frame, as
    ``assign_clusters`` did; :func:`cluster_and_index` saves that second pass.
    """
    if clustered_df.height == 0:
        return pl.DataFrame(schema=INDEX_SCHEMA)
    batch = prepare_batch(clustered_df, cfg)
    n = len(batch.reps)
    keys = band_matrix(minhash(batch.shingles, batch.shingle_doc, n, cfg), cfg)
    return index_frame(batch.rows, batch.shingles, batch.shingle_doc, keys)


def band_keys(df: pl.DataFrame, cfg: DedupConfig) -> pl.DataFrame:
    """LSH band keys of every distinct content in ``df``: columns doc_id, band, key.

    A plain frame, so it can be stored (e.g. in a Delta table) and joined against later batches.
    Exact copies share keys with their representative and are listed under its doc_id.
    """
    batch = prepare_batch(df, cfg)
    sig = minhash(batch.shingles, batch.shingle_doc, len(batch.reps), cfg)
    keys = band_matrix(sig, cfg)
    n, nb = keys.shape
    return pl.DataFrame(
        {
            "doc_id": batch.reps["doc_id"].gather(np.repeat(np.arange(n), nb)),
            "band": np.tile(np.arange(nb, dtype=np.int32), n),
            "key": keys.ravel(),
        }
    )


def candidate_index_query(index: pl.LazyFrame, new_keys: pl.DataFrame, found: pl.DataFrame | None = None) -> pl.LazyFrame:
    """Index rows worth loading for a new batch: those sharing a band key with it.

    ``index`` is a lazy scan of the stored index (``pl.scan_delta`` / ``pl.scan_parquet``) and
    ``new_keys`` the :func:`band_keys` frame of the new batch (only its ``key`` column is used; keys
    carry their band). The canonical row of every matched cluster is added, so a new copy's
    ``similarity`` is measured against the canonical itself.

    The doc_ids are found on the cheap columns first (band keys matched inside each list, no
    explode; then the canonicals by cluster), streamed, so this part's memory does not grow with
    the index; the rows themselves, shingle lists included, are then read in one pass by a
    doc_id predicate (faster and smaller than exploding the key lists and scanning twice), from
    only the ``seen`` partitions that hold them. Pass a scan already limited to the batch's
    window (:func:`in_window`; ``cluster_and_index`` does) to read only the window's partitions.

    ``found`` (``doc_id``, ``cluster_id``, ``seen``): the rows to load, already known (the hits
    and their clusters' canonicals, as a band-key cache of the stored index answers them; see
    flows/index_cache.py): the scans of the key lists are skipped and only the rows are read;
    with every :data:`INDEX_SCHEMA` column, those rows are the answer (the cache read them).
    """
    if found is not None and set(INDEX_SCHEMA).issubset(found.columns):  # the rows themselves
        return found.select(list(INDEX_SCHEMA)).lazy()
    dated = SEEN in index.collect_schema().names()
    columns = ["doc_id", "cluster_id", SEEN] if dated else ["doc_id", "cluster_id"]
    if found is not None:
        both = found.select(columns)
    else:
        keys = new_keys["key"].unique().cast(pl.UInt64).implode()
        hits = (
            index.filter(pl.col("band_keys").list.eval(pl.element().is_in(keys)).list.any())
            .select(columns)
            .collect(engine="streaming")
        )
        clusters = hits["cluster_id"].unique().implode()
        canon = index.filter(pl.col("is_canonical") & pl.col("cluster_id").is_in(clusters)).select(columns).collect(engine="streaming")
        both = pl.concat([hits, canon])
    wanted = pl.col("doc_id").is_in(both["doc_id"].unique().implode())
    if dated:  # only the partitions (seen days) that hold them are read again
        days = both[SEEN].unique()
        on_day = pl.col(SEEN).is_in(days.drop_nulls().implode())
        wanted = wanted & ((on_day | pl.col(SEEN).is_null()) if days.null_count() else on_day)
    return index.filter(wanted).unique("doc_id", keep="first")


def match_index(
    x: np.ndarray,
    xdoc: np.ndarray,
    xsizes: np.ndarray,
    keys: np.ndarray,
    canon: np.ndarray,
    index: pl.DataFrame,
    furniture: np.ndarray,
    cfg: DedupConfig,
    rep_seen: pl.DataFrame | None = None,
) -> tuple[pl.Series, np.ndarray]:
    """The indexed cluster each new rep joins (null: none) and its similarity to that cluster.

    A rep with a strong verified edge to indexed documents joins the cluster of its best one
    (highest overlap, then smallest cluster_id). The rest of its batch group follows the cluster
    most of the group's linked members chose; a group with no strong link joins a cluster when
    its weak links number ``cfg.min_links_per_member`` per member of the smaller side (as batch
    groups merge). Shingles that are boilerplate in the new batch are dropped from the indexed
    documents too, so both sides are compared without this batch's site furniture. Similarity is
    the overlap with the cluster's canonical when that is loaded, else with the best-matching
    indexed member.

    ``rep_seen`` (columns ``lo``, ``hi``: the earliest and latest ``seen`` day of each rep's rows,
    null when unknown) limits the pairs to indexed documents seen within ``cfg.window_days`` of
    them (see the module docstring); None, an undated side or a window of 0 does not limit them.
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
    if rep_seen is not None and cfg.window_days and SEEN in index.columns:
        pairs = _pairs_in_window(pairs, rep_seen, index[SEEN], cfg.window_days)
    none = pl.Series("_joined", [None] * n, dtype=pl.String)
    if pairs.height == 0:
        return none, np.ones(n)
    edges = verify(pairs, x, xdoc, xsizes, right=(idx_x, idx_doc, idx_sizes))
    cluster_of = index["cluster_id"]
    edges = edges.with_columns(
        cluster=cluster_of.gather(edges["b"].to_numpy()),
        sim=pl.max_horizontal("jaccard", "containment"),
        group=pl.Series(canon[edges["a"].to_numpy()]),
    )
    strong = accept(edges, cfg.min_jaccard, cfg.min_containment, cfg.min_size_ratio)
    best = strong.sort(["a", "sim", "cluster"], descending=[False, True, False]).unique("a", keep="first")
    by_group = (
        best.group_by("group", "cluster")
        .agg(pl.len().alias("links"), pl.col("sim").max().alias("best"))
        .sort(["group", "links", "best", "cluster"], descending=[False, True, True, False])
        .unique("group", keep="first")
        .select("group", "cluster")
    )
    weak = accept(edges, cfg.min_weak_jaccard, cfg.min_weak_containment, cfg.min_weak_size_ratio)
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
        measured = verify(to_canon, x, xdoc, xsizes, right=(idx_x, idx_doc, idx_sizes)).select(
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


def _pairs_in_window(pairs: pl.DataFrame, rep_seen: pl.DataFrame, idx_seen: pl.Series, window_days: int) -> pl.DataFrame:
    """The pairs (new rep ``a``, indexed row ``b``) seen at most ``window_days`` apart (either
    side undated: kept)."""
    days = pl.duration(days=window_days)
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    return (
        pairs.with_columns(
            s=idx_seen.cast(pl.Date).gather(b),
            lo=rep_seen["lo"].cast(pl.Date).gather(a),
            hi=rep_seen["hi"].cast(pl.Date).gather(a),
        )
        .filter(pl.col("s").is_null() | pl.col("lo").is_null() | pl.col("s").is_between(pl.col("lo") - days, pl.col("hi") + days))
        .select("a", "b")
    )


def index_frame(out: pl.DataFrame, x: np.ndarray, xdoc: np.ndarray, keys: np.ndarray) -> pl.DataFrame:
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
    seen = pl.col(SEEN).cast(pl.Date) if SEEN in out.columns else pl.lit(None, pl.Date).alias(SEEN)
    return (
        out.select("doc_id", "cluster_id", "is_canonical", "similarity", pl.col("_site").alias("site"), seen, "_rep")
        .join(per_rep, on="_rep", how="left")
        .drop("_rep")
        .select(list(INDEX_SCHEMA))
        .cast(INDEX_SCHEMA)
    )


def _list_column(values: np.ndarray, owner: np.ndarray, n: int, dtype: pl.DataType) -> pl.Series:
    """A list column of ``n`` rows from flat ``values`` grouped by ascending ``owner`` (rows may be empty)."""
    flat = pl.Series(values).cast(dtype)
    # grouped in polars, not a Python loop per row; the join gives rows without values a null, then []
    grouped = pl.DataFrame({"o": owner.astype(np.int64), "v": flat}).group_by("o", maintain_order=True).agg("v")
    full = pl.DataFrame({"o": np.arange(n, dtype=np.int64)}).join(grouped, on="o", how="left").sort("o")
    return full["v"].fill_null(pl.lit([], dtype=pl.List(dtype))).cast(pl.List(dtype))
