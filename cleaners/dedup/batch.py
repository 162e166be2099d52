"""Batch preparation: the state every batch stage shares (:class:`Batch`, built by :func:`prepare_batch`).

Rows with the same normalised content (exact copies) collapse onto one representative ("rep"):
the copy with the fewest repairs (``n_edits``), then the earliest ``published``, then the smallest
``doc_id``. Only reps are shingled and compared. Reps are numbered best quality first, the order
that makes the smallest number in a cluster its canonical: most content (furniture-free
shingles), fewest repairs, earliest published, then smallest doc_id.

``site``, ``published`` and ``n_edits`` are optional input columns; private copies (``_site``,
``_published``, ``_n_edits``) with nulls or 0 for absent ones are what the stages read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from cleaners.config import DedupConfig
from cleaners.dedup.furniture import furniture_mask, keep_rows
from cleaners.dedup.minhash import content_key, normalize_texts, shingle_sets

_REGROUP_BLOCK_DOCS = 2_000  # documents moved at a time in _regroup (bounds its int64 positions)


@dataclass(frozen=True)
class Batch:
    """Intermediate state of one batch: rows, distinct contents (reps) and their shingles."""

    rows: pl.DataFrame  # input rows + _row, _content_key, _rep (index of the row's content in reps)
    reps: pl.DataFrame  # one row per distinct content, numbered 0..n-1 best quality first
    shingles: np.ndarray  # content shingles of the reps, grouped by rep (ascending)
    shingle_doc: np.ndarray  # the rep of each shingle
    sizes: np.ndarray  # shingles per rep
    furniture: np.ndarray  # sorted distinct 32-bit hashes of the shingles dropped as boilerplate


def prepare_batch(df: pl.DataFrame, cfg: DedupConfig) -> Batch:
    """Normalise, collapse exact copies onto one rep, shingle the reps, drop site furniture, and
    number the reps best quality first (so the smallest number in a cluster is its canonical)."""
    rows = with_defaults(df).with_row_index("_row")
    norm = normalize_texts(rows["_text"])
    rows = rows.with_columns(pl.Series("_content_key", [content_key(t) for t in norm.to_list()], dtype=pl.String))
    first = first_copies(rows).select("_row", "_content_key", "doc_id", "_n_edits", "_published", "_site")
    g, gdoc = shingle_sets(norm, cfg, take=first["_row"])
    site_codes = first.select(
        pl.when(pl.col("_site").is_null())
        .then(-1 - pl.int_range(pl.len()))  # no site: a site of its own
        .otherwise(pl.col("_site").rank("dense").cast(pl.Int64))
    ).to_series().to_numpy()
    bad = furniture_mask(g, gdoc, site_codes, len(first), cfg)
    keep = keep_rows(bad, gdoc, len(first))
    furniture = np.unique(g[bad])
    g, gdoc = g[keep], gdoc[keep]
    sizes = np.bincount(gdoc, minlength=len(first))
    reps = quality_order(first.with_columns(n_content=pl.Series(sizes), _old=pl.int_range(pl.len())))
    old_of_new = reps["_old"].to_numpy()
    run = sizes[old_of_new]
    g = _regroup(g, sizes, old_of_new)
    reps = reps.with_row_index("_rep").drop("_old")
    # each row's rep, joined on the narrow key columns only (a join of the whole frame copies every text)
    rep_of = rows.select("_row", "_content_key").join(reps.select("_content_key", "_rep"), on="_content_key", how="left")
    rows = rows.with_columns(rep_of.sort("_row")["_rep"])
    return Batch(rows, reps, g, np.repeat(np.arange(len(reps), dtype=gdoc.dtype), run), run, furniture)


def first_copies(rows: pl.DataFrame) -> pl.DataFrame:
    """One representative row per distinct ``_content_key``: fewest repairs, earliest, smallest doc_id."""
    return rows.sort(["_n_edits", "_published", "doc_id"], nulls_last=True).unique(
        "_content_key", keep="first", maintain_order=True
    )


def with_defaults(df: pl.DataFrame) -> pl.DataFrame:
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


def quality_order(docs: pl.DataFrame) -> pl.DataFrame:
    """Rows sorted best copy first: most content, fewest repairs, earliest published, doc_id."""
    return docs.sort(
        ["n_content", "_n_edits", "_published", "doc_id"],
        descending=[True, False, False, False],
        nulls_last=True,
    )


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
