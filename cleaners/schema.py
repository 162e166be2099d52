"""Column names and the polars schema of every table newsclean writes.

Every read and write goes through ``flows/storage.py``, which casts frames to these schemas.
Renaming a column or a drop reason is a schema change: bump ``PIPELINE_VERSION`` (cleaners/config.py),
which every row records, so readers can tell old rows from new.
"""

from __future__ import annotations

import polars as pl

# column names
DOC_ID = "doc_id"
SOURCE = "source"
URL = "url"
SITE = "site"
TITLE = "title"
AUTHOR = "author"
PUBLISHED = "published"
LANGUAGE = "language"
PAGE_TYPE = "page_type"
TEXT = "text"
N_WORDS = "n_words"
N_WORDS_RAW = "n_words_raw"
CONTENT_HASH = "content_hash"
CLUSTER_ID = "cluster_id"
N_COPIES = "n_copies"
IS_CANONICAL = "is_canonical"
SIMILARITY = "similarity"
EDITS = "edits"
INGESTED_AT = "ingested_at"
PIPELINE_VERSION = "pipeline_version"
FORMAT = "format"
DROP_REASON = "drop_reason"
REASON = "reason"
DETAIL = "detail"
STAGE = "stage"
CANONICAL_DOC_ID = "canonical_doc_id"
SEEN = "seen"

EDIT_STRUCT = pl.Struct({"kind": pl.String(), "detail": pl.String(), "count": pl.Int32()})
EDITS_TYPE = pl.List(EDIT_STRUCT)
TIMESTAMP = pl.Datetime("us", "UTC")

# The columns every cleaned document has, in table order (shared by the two schemas below).
_DOCUMENT_COLUMNS = {
    DOC_ID: pl.String(),
    SOURCE: pl.String(),
    URL: pl.String(),
    SITE: pl.String(),
    TITLE: pl.String(),
    AUTHOR: pl.String(),
    PUBLISHED: pl.Date(),
    LANGUAGE: pl.String(),
    PAGE_TYPE: pl.String(),  # article, listing, collection, product, service, forum, documentation (HTML pages; null for text)
    FORMAT: pl.String(),
    TEXT: pl.String(),
    N_WORDS: pl.Int32(),
    N_WORDS_RAW: pl.Int32(),  # words on the page before cleaning (markup and scripts excluded)
    CONTENT_HASH: pl.String(),
}

# A cleaned document before the dedup stage (output of a clean batch). drop_reason is null for
# documents that pass the filters ("tag, then decide").
CLEANED_SCHEMA = pl.Schema(
    {
        **_DOCUMENT_COLUMNS,
        EDITS: EDITS_TYPE,
        # the day the page was seen (WARC-Date, fetch time, published, file mtime: the first known),
        # which places it in the fingerprint index's time window (cleaners.dedup.index)
        SEEN: pl.Date(),
        STAGE: pl.String(),  # where a dropped document stopped (null when kept)
        DROP_REASON: pl.String(),
        DETAIL: pl.String(),
    }
)

# data/clean/articles: one row per canonical article.
ARTICLES_SCHEMA = pl.Schema(
    {
        **_DOCUMENT_COLUMNS,
        CLUSTER_ID: pl.String(),
        N_COPIES: pl.Int32(),
        EDITS: EDITS_TYPE,
        INGESTED_AT: TIMESTAMP,
        PIPELINE_VERSION: pl.String(),
    }
)

# data/clean/duplicates: every non-canonical copy, pointing at its cluster.
DUPLICATES_SCHEMA = pl.Schema(
    {
        DOC_ID: pl.String(),
        SOURCE: pl.String(),
        URL: pl.String(),
        SITE: pl.String(),
        TITLE: pl.String(),
        PUBLISHED: pl.Date(),
        CLUSTER_ID: pl.String(),
        CANONICAL_DOC_ID: pl.String(),
        SIMILARITY: pl.Float64(),
        CONTENT_HASH: pl.String(),
        INGESTED_AT: TIMESTAMP,
        PIPELINE_VERSION: pl.String(),
    }
)

# data/clean/rejected: the quarantine. Every input that did not become an article or duplicate.
REJECTED_SCHEMA = pl.Schema(
    {
        DOC_ID: pl.String(),
        SOURCE: pl.String(),
        URL: pl.String(),
        STAGE: pl.String(),  # load | decode | extract | clean | filter
        REASON: pl.String(),  # stable snake_case drop reason
        DETAIL: pl.String(),  # short human-readable detail
        INGESTED_AT: TIMESTAMP,
        PIPELINE_VERSION: pl.String(),
    }
)

# data/clean/inputs (internal): the ledger of committed inputs, one row per input (a file, a WARC
# file or a URL), written with the last commit of the run that processed it. A run reprocesses an
# input whose fingerprint or cleaning config differs from its row here, or whose row asks for a
# retry, and replaces the input's rows in the three tables.
INPUT = "input"
KIND = "kind"
FINGERPRINT = "fingerprint"
CONFIG_HASH = "config_hash"
RETRY = "retry"
SETTLE = "settle"
COMMITTED_AT = "committed_at"
INPUTS_SCHEMA = pl.Schema(
    {
        DOC_ID: pl.String(),  # xxh3-64 of `input` (the key, like every table's)
        INPUT: pl.String(),  # the input as the rows' `source` names it (a WARC's rows: `<input>#<record id>`)
        KIND: pl.String(),  # file | warc | url
        FINGERPRINT: pl.String(),  # "<size>:<mtime_ns>:<xxh3-128 of the bytes or ->"; "" for URLs
        CONFIG_HASH: pl.String(),  # the cleaning config the rows were made with
        RETRY: pl.Boolean(),  # a transient failure (unreadable, timeout, 5xx): try again next run
        SETTLE: pl.Boolean(),  # joined a story cluster an earlier run published: decide it again with all members
        COMMITTED_AT: TIMESTAMP,
    }
)


def empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def conform(df: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Select and cast ``df`` to ``schema``; missing columns become nulls; extra ones are dropped."""
    cols = []
    for name, dtype in schema.items():
        if name in df.columns:
            cols.append(pl.col(name).cast(dtype))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    return df.select(cols)
