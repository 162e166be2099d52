"""Where the evaluation data lives: the one place that names its paths.

The labelled sets and seed pages are read-only, in ``shared/`` beside the repository (``SHARED``);
the hand labels ship in ``tests/golden/``; two clean-prose corpora come inside the gensim wheel
(its test data). Paths under ``SHARED`` are looked up when asked for (``shared(...)``), so a test
can point ``SHARED`` at a folder without them. Outputs derived from them and too large to commit
(the WCXB pages rendered to text, ``evals.render_text``) are regenerated into ``CACHE``, beside the
repository too.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CACHE = ROOT.parent / "cache"

# Under SHARED
SEED_PAGES = "seeds"  # the five seed pages, <nnn>_<name>.txt
TEXTMODE_DEV = "eval/textmode-dev"  # <id>.txt pages with <id>.gold.txt bodies
EXTRACT_DEV = "eval/extract-dev"  # the two below
GOLD_FILE, PAGES_DIR = "ground-truth.json", "html"  # in an extract set: {id: {articleBody, url}}; <id>.html(.gz)
EXTRACT_GOLD = f"{EXTRACT_DEV}/{GOLD_FILE}"
EXTRACT_PAGES = f"{EXTRACT_DEV}/{PAGES_DIR}"
WCXB_DEV = "eval/wcxb-dev"  # the two below; articles plus 40 pages of each other page type
WCXB_GOLD_FILE = "gold.jsonl.gz"  # one JSON a line: id, url, page_type, main_content, ...; pages in PAGES_DIR
SYNDICATION_DEV = "eval/syndication/dev.parquet"  # labelled syndicated copies: cluster_id, is_source

# Under CACHE
TEXTMODE_RENDERED = "textmode"  # <set>/: a dev set's articles rendered to text (evals.render_text)

# Hand labels in the repository
SEED_LABELS = ROOT / "tests" / "golden" / "punctuation" / "seed_002_labels.json"
NAME_AUDIT = ROOT / "tests" / "golden" / "entities" / "clean_news_audit.json"

# In gensim's test data: the Lee news corpus (one document a line) and a Wikipedia sample
LEE_FILES = ("lee_background.cor", "lee.cor")
ENWIKI_SAMPLE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def shared(relative: str) -> Path:
    """The path of ``relative`` (one of the names above) under ``SHARED`` as it is now."""
    return SHARED / relative


def cache(relative: str) -> Path:
    """The path of ``relative`` under ``CACHE`` as it is now (regenerated outputs, not committed)."""
    return CACHE / relative


def gensim_test_data() -> Path | None:
    """The test-data folder of the installed gensim wheel, or None without gensim."""
    try:
        import gensim
    except ImportError:
        return None
    path = Path(gensim.__file__).parent / "test" / "test_data"
    return path if path.is_dir() else None
