"""Site furniture: the shingles dedup ignores because they belong to a site's template, not a story.

A shingle seen on at least ``cfg.min_site_repeat_docs`` documents of one site (footers, menus,
copyright lines), or on more than ``cfg.max_shingle_doc_frac`` of a large batch, is dropped before
documents are compared. Syndicated copies live on *different* sites, so their shared story text
survives. Needs the whole batch; :func:`furniture_mask` is called once per batch by
``batch.prepare_batch``.
"""

from __future__ import annotations

import numpy as np

from cleaners.config import DedupConfig
from cleaners.dedup.minhash import map_blocks

_MEMBER_BLOCK = 2_000_000  # values looked up per binary-search block in member


def furniture_mask(g: np.ndarray, doc_of: np.ndarray, site: np.ndarray, n_docs: int, cfg: DedupConfig) -> np.ndarray:
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
        furniture = np.unique((frequent(key, cfg.min_site_repeat_docs, in_place=True) & np.uint64(0xFFFFFFFF)).astype(g.dtype))
        del key
        bad |= member(g, furniture)
    if n_docs >= cfg.min_docs_for_doc_frac:
        # more than max_shingle_doc_frac of the documents: > frac * n, i.e. >= floor(frac * n) + 1
        common = frequent(g, int(np.floor(cfg.max_shingle_doc_frac * n_docs)) + 1)
        bad |= member(g, common)
    return bad


def frequent(values: np.ndarray, min_count: int, in_place: bool = False) -> np.ndarray:
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


def member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_set)`` for a sorted distinct ``sorted_set``: a binary search, no sort of ``values``."""
    found = np.zeros(len(values), dtype=bool)
    if len(sorted_set) == 0:
        return found

    def block(lo: int) -> None:  # blocks bound the int64 positions, and run on every core
        part = values[lo : lo + _MEMBER_BLOCK]
        at = np.minimum(np.searchsorted(sorted_set, part), len(sorted_set) - 1)
        found[lo : lo + _MEMBER_BLOCK] = sorted_set[at] == part

    for _ in map_blocks(block, range(0, len(values), _MEMBER_BLOCK)):
        pass
    return found


def keep_rows(bad: np.ndarray, doc_of: np.ndarray, n_docs: int) -> np.ndarray:
    """The (doc, shingle) rows compared: those not ``bad``, and all of a document's rows when every
    one of them is bad (a page that is all boilerplate keeps its shingles)."""
    kept_docs = np.zeros(n_docs, dtype=bool)
    kept_docs[doc_of[~bad]] = True
    return ~bad | ~kept_docs[doc_of]
