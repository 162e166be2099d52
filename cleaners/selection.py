"""Tag, then decide: split cleaned + clustered frames into the three output tables (pure)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from cleaners import schema as S

# LAYOUT_KIND_RE: edit kinds that tidy layout rather than repair damaged text (not damage).
# "boilerplate_nav" matches; "name_typo" does not
LAYOUT_KIND_RE = r"^(?:boilerplate|whitespace|nbsp|link_artifact|shortcode|zero_width|soft_hyphen)"


def n_repairs_expr() -> pl.Expr:
    """Number of repairs a document needed (fewer = less damaged copy), as column ``n_edits``."""
    kind = pl.element().struct.field("kind")
    count = pl.element().struct.field("count")
    per_edit = pl.when(kind.str.contains(LAYOUT_KIND_RE)).then(0).otherwise(count)
    return pl.col(S.EDITS).list.eval(per_edit).list.sum().fill_null(0).cast(pl.Int32).alias("n_edits")


def split_kept(cleaned: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(kept, dropped) by ``drop_reason``."""
    dropped = cleaned.filter(pl.col(S.DROP_REASON).is_not_null())
    kept = cleaned.filter(pl.col(S.DROP_REASON).is_null())
    return kept, dropped


def rejected_rows(dropped: pl.DataFrame, now: dt.datetime, version: str) -> pl.DataFrame:
    df = dropped.with_columns(
        pl.col(S.DROP_REASON).alias(S.REASON),
        pl.lit(now, dtype=S.TIMESTAMP).alias(S.INGESTED_AT),
        pl.lit(version).alias(S.PIPELINE_VERSION),
    )
    return S.conform(df, S.REJECTED_SCHEMA)


def output_rows(
    clustered: pl.DataFrame, now: dt.datetime, version: str, canonical_of: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(articles, duplicates) from a frame with cluster_id / is_canonical / similarity.

    ``canonical_of`` maps cluster_id -> canonical_doc_id, also for clusters whose canonical was
    written by an earlier run; by default it is taken from the canonical rows of ``clustered``.
    """
    stamped = clustered.with_columns(
        pl.lit(now, dtype=S.TIMESTAMP).alias(S.INGESTED_AT),
        pl.lit(version).alias(S.PIPELINE_VERSION),
        pl.len().over(S.CLUSTER_ID).cast(pl.Int32).alias(S.N_COPIES),
    )
    canon = (
        canonical_of
        if canonical_of is not None
        else stamped.filter(pl.col(S.IS_CANONICAL)).select(S.CLUSTER_ID, pl.col(S.DOC_ID).alias(S.CANONICAL_DOC_ID))
    )
    articles = S.conform(stamped.filter(pl.col(S.IS_CANONICAL)), S.ARTICLES_SCHEMA)
    dups = stamped.filter(~pl.col(S.IS_CANONICAL)).join(canon, on=S.CLUSTER_ID, how="left")
    return articles, S.conform(dups, S.DUPLICATES_SCHEMA)
