"""Columns derived from a document's final text: one function each, used wherever text changes.

A cleaned row gets them in ``document.clean_decoded``; a canonical whose text consensus repair
changes gets them again in ``dedup.consensus.repair_clusters``. Both call :func:`text_columns`, so the
exact-duplicate key and the word count can never disagree with the text they describe.
"""

from __future__ import annotations

import re

import xxhash

from cleaners import schema
from cleaners.words import count_words

# NORM_SPACE_RE: runs of white space (the definition make_content_hash folds, by str.split).
# "a \n b" -> one match between a and b; "ab" none
NORM_SPACE_RE = re.compile(r"\s+")


def make_content_hash(text: str) -> str:
    """xxh3-128 (32 hex chars) of the case- and space-normalised text: the exact-duplicate key.

    ``" ".join(s.split())`` is ``NORM_SPACE_RE.sub(" ", s).strip()``: ``str.split`` and ``\\s``
    share one definition of white space, and the join is one C pass.
    """
    norm = " ".join(text.casefold().split())
    return xxhash.xxh3_128_hexdigest(norm.encode("utf-8", "surrogatepass"))


def text_columns(text: str) -> dict[str, object]:
    """The columns that follow from ``text`` alone: ``content_hash`` and ``n_words``."""
    return {schema.CONTENT_HASH: make_content_hash(text), schema.N_WORDS: count_words(text)}
