"""Exact and near-duplicate (syndicated copy) detection, frame -> frame across documents, and the
consensus repair of a cluster's canonical text.

Pipeline of :func:`assign_clusters` (all vectorised over the batch with polars + numpy), by module:

1. ``minhash``: **normalise** for fingerprints: NFKC, case-fold, digit group separators joined
   ("5,963,000" -> "5963000"), every other run of non-letters/digits -> one space. Numbers are
   KEPT: they are what separates templated stories ("Shr 12 cts vs 10 cts" vs "Shr 15 cts vs 11 cts").
2. ``batch``: **exact duplicates**: rows with the same normalised-content hash collapse onto one
   representative before the near-duplicate stage (similarity 1.0).
3. ``minhash``: **shingles**: word n-grams (``cfg.shingle_words``), hashed stably (xxhash of each
   word, a fixed 64-bit mix per n-gram), as a set per document.
4. ``furniture``: **site furniture** is dropped before comparing documents: a shingle seen on at
   least ``cfg.min_site_repeat_docs`` documents of one site (footers, menus, copyright lines), or
   on more than ``cfg.max_shingle_doc_frac`` of a large batch.
5. ``minhash``: **MinHash** signatures (``cfg.num_perm`` seeded multiply-shift permutations from
   ``cfg.seed``) and **LSH banding** (``cfg.num_bands`` bands).
6. ``candidates``: documents sharing any band key are candidates; a MinHash prefilter drops the
   hopeless ones, and the rest are **verified** on the exact shingle-set overlap (Jaccard, or
   containment of a not-too-small copy).
7. ``cluster``: **linking**: strong edges join transitively; weak edges merge two groups only in
   numbers (``cfg.min_links_per_member`` per member of the smaller), so one pasted paragraph does
   not chain two stories. Canonical = best quality: most content (furniture-free shingles), fewest
   repairs (``n_edits``), earliest ``published``, then smallest ``doc_id``; ``cluster_id`` is a
   hash of the canonical's ``doc_id``, so the result does not depend on input order.
8. ``index``: the **persistent index** (:data:`INDEX_SCHEMA`) that makes matching incremental
   across runs: a new document that verifies against an indexed one joins its cluster, when the
   two were seen at most ``cfg.window_days`` apart (the index is partitioned by seen day).

``consensus`` then repairs each canonical where its copies agree (:func:`repair_clusters`).

``partitioned`` holds the same steps cut where data moves between machines, for a batch split
into partitions (``flows/dask_dedup.py`` runs them on Dask; the result equals ``assign_clusters``).
"""

from cleaners.dedup.cluster import RESULT_COLUMNS, assign_clusters, cluster_and_index
from cleaners.dedup.consensus import repair_clusters, repair_from_copies
from cleaners.dedup.index import INDEX_SCHEMA, band_keys, candidate_index_query, in_window, index_rows, window_bounds
from cleaners.dedup.minhash import Fingerprint, fingerprint, normalize_for_fingerprint

__all__ = [
    "INDEX_SCHEMA",
    "RESULT_COLUMNS",
    "Fingerprint",
    "assign_clusters",
    "band_keys",
    "candidate_index_query",
    "cluster_and_index",
    "fingerprint",
    "in_window",
    "index_rows",
    "normalize_for_fingerprint",
    "repair_clusters",
    "repair_from_copies",
    "window_bounds",
]
