"""A seeded synthetic set of output tables, bigger and more varied than the five seed pages.

``write_synthetic_tables(root)`` writes articles, duplicates and rejected through
``Storage.insert_new`` (the only writer), so the report and browser tests see real Delta tables.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import polars as pl

from cleaners import schema as S
from flows.storage import Storage

SITES = (
    "apnews.com", "reuters.com", "bbc.co.uk", "theguardian.com", "aljazeera.com", "npr.org", "dw.com",
    "france24.com", "cbc.ca", "abc.net.au", "straitstimes.com", "japantimes.co.jp", "lemonde.fr",
    "elpais.com", "spiegel.de", "timesofindia.com", "scmp.com", "irishtimes.com", "nzherald.co.nz",
    "thehindu.com", "kyivindependent.com", "a-very-long-regional-newspaper-domain-name.example.org",
)
EDIT_KINDS = (
    ("whitespace", 6), ("blank_lines", 2), ("nbsp", 2), ("zero_width", 1), ("mojibake", 1),
    ("boilerplate_nav", 3), ("boilerplate_comments", 8), ("boilerplate_caption", 2), ("boilerplate_follow", 1),
    ("boilerplate_related_tail", 4), ("boilerplate_ad_banner", 1), ("link_artifact", 1),
    ("semicolon_repair", 1), ("name_typo", 1), ("consensus_repair", 1),
)
REASONS = (
    ("too_short", "filter", 30), ("not_english", "filter", 12), ("extract_failed", "extract", 8),
    ("too_large_html", "load", 2), ("binary_content", "decode", 4), ("low_alpha_ratio", "filter", 6), ("too_deep", "extract", 1),
)
WORDS = ("minister", "talks", "storm", "election", "court", "rates", "strike", "summit", "flood", "vote", "market", "station")


def synthetic_frames(n_articles: int = 600, seed: int = 7) -> dict[str, pl.DataFrame]:
    rng = random.Random(seed)
    now = dt.datetime(2025, 3, 1, 12, tzinfo=dt.timezone.utc)
    start = dt.date(2024, 12, 1)
    site_weights = [1 / (i + 1) for i in range(len(SITES))]
    articles, duplicates = [], []
    for i in range(n_articles):
        day = start + dt.timedelta(days=min(89, int(rng.triangular(0, 90, 70))))
        published = None if rng.random() < 0.07 else day
        site = rng.choices(SITES, site_weights)[0]
        doc = f"a{i:07x}{rng.getrandbits(32):08x}"
        n_copies = 1 if rng.random() < 0.7 else min(40, int(rng.paretovariate(1.3)) + 1)
        edits = []
        for kind, scale in EDIT_KINDS:
            if rng.random() < 0.35:
                edits.append({"kind": kind, "detail": f"example of {kind}", "count": max(1, int(rng.expovariate(1 / scale)))})
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))).capitalize()
        if i % 97 == 0:
            title += " <script>alert('x')</script> & “quotes”"  # escaping must hold
        cluster = f"c{i:07x}"
        n_words = int(rng.lognormvariate(6.2, 0.7))
        articles.append(
            {
                S.DOC_ID: doc, S.SOURCE: f"https://{site}/{i}", S.URL: f"https://www.{site}/news/{i}", S.SITE: site if i % 5 else None,
                S.TITLE: title, S.PUBLISHED: published, S.N_WORDS: n_words, S.CLUSTER_ID: cluster,
                S.N_WORDS_RAW: n_words + int(rng.lognormvariate(5.5, 1.0)),
                S.N_COPIES: n_copies, S.EDITS: edits, S.INGESTED_AT: now - dt.timedelta(minutes=i), S.TEXT: "text", S.FORMAT: "html",
            }
        )
        for k in range(n_copies - 1):
            duplicates.append(
                {S.DOC_ID: f"{doc}-d{k}", S.URL: f"https://copy{k}.example.net/{i}", S.CLUSTER_ID: cluster, S.CANONICAL_DOC_ID: doc,
                 S.PUBLISHED: published, S.SIMILARITY: 0.9, S.INGESTED_AT: now}
            )
    rejected = []
    for reason, stage, weight in REASONS:
        for k in range(weight * 3):
            rejected.append({S.DOC_ID: f"r-{reason}-{k}", S.REASON: reason, S.STAGE: stage, S.INGESTED_AT: now, S.DETAIL: "synthetic"})
    return {
        "articles": pl.DataFrame(articles, schema_overrides={S.EDITS: S.EDITS_TYPE}, infer_schema_length=None),
        "duplicates": pl.DataFrame(duplicates, infer_schema_length=None),
        "rejected": pl.DataFrame(rejected),
    }


def write_synthetic_tables(root: str | Path, n_articles: int = 600, seed: int = 7) -> dict[str, pl.DataFrame]:
    """Write the synthetic frames under ``root``; return them (as given, before casting)."""
    storage = Storage(root)
    frames = synthetic_frames(n_articles, seed)
    for table in ("rejected", "duplicates", "articles"):
        storage.insert_new(table, frames[table])
    return frames
