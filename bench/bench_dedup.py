"""Throughput and memory of the dedup stage on synthetic news corpora.

    .venv/bin/python bench/bench_dedup.py                 # 10k and 100k docs
    .venv/bin/python bench/bench_dedup.py --sizes 10000 100000 1000000

Each size runs in a fresh subprocess so the peak RSS is that run's own. The corpus imitates the
syndication dev set: ~1.1 KB articles of Zipf-distributed pseudo-words, half of them wire stories
republished 1-20 times on other sites with typos, truncation and inserted sentences, every page
wrapped in per-site header/footer boilerplate. Reports docs/s of ``assign_clusters`` (text
already in memory) and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cleaners.config import DedupConfig  # noqa: E402
from cleaners.dedup import assign_clusters  # noqa: E402

N_SITES = 50
VOCAB_SIZE = 50_000


def synthetic_corpus(n_docs: int, seed: int = 0) -> pl.DataFrame:
    """``n_docs`` pages: wire stories, their edited copies, and per-site boilerplate."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, size=rng.integers(2, 10))) for _ in range(VOCAB_SIZE)]
    ranks = np.arange(1, VOCAB_SIZE + 1)
    cdf = np.cumsum(1.0 / ranks)
    cdf /= cdf[-1]
    words = np.array(vocab)

    def draw(k: int) -> list[str]:  # Zipf-distributed words (rng.choice with p= re-sums p each call)
        return list(words[np.minimum(np.searchsorted(cdf, rng.random(k)), VOCAB_SIZE - 1)])

    headers = [" ".join(draw(8)) for _ in range(N_SITES)]
    footers = [" ".join(draw(30)) for _ in range(N_SITES)]

    def sentence() -> list[str]:
        return draw(int(rng.integers(10, 25)))

    texts: list[str] = []
    sites: list[str] = []
    while len(texts) < n_docs:
        story = [sentence() for _ in range(rng.integers(4, 12))]  # ~170 words, ~1.1 KB
        n_copies = int(rng.choice([0, 0, 1, 2, 3, 5, 10, 20]))
        for copy in range(n_copies + 1):
            site = int(rng.integers(N_SITES))
            sents = [list(s) for s in story]
            if copy:
                sents = sents[: max(1, int(len(sents) * rng.uniform(0.5, 1.0)))]
                for s in sents:
                    for i in range(len(s)):
                        if rng.random() < 0.02:
                            s[i] = s[i][::-1]
                if rng.random() < 0.5:
                    sents.insert(int(rng.integers(len(sents) + 1)), sentence())
            body = "\n\n".join(" ".join(s).capitalize() + "." for s in sents)
            texts.append(f"{headers[site]}\n\n{body}\n\n{footers[site]}")
            sites.append(f"site{site}.com")
            if len(texts) == n_docs:
                break
    return pl.DataFrame({"doc_id": [f"doc{i:08d}" for i in range(n_docs)], "text": texts, "site": sites})


def run_one(n_docs: int) -> dict:
    df = synthetic_corpus(n_docs)
    mean_bytes = df["text"].str.len_bytes().mean()
    start = time.perf_counter()
    out = assign_clusters(df, DedupConfig())
    seconds = time.perf_counter() - start
    return {
        "docs": n_docs,
        "mean_bytes": round(mean_bytes, 1),
        "seconds": round(seconds, 2),
        "docs_per_s": round(n_docs / seconds, 1),
        "clusters": out["cluster_id"].n_unique(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: run one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    for n in args.sizes:
        done = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        print(done.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
