"""Throughput and memory of the dedup stage on synthetic news corpora.

    .venv/bin/python bench/bench_dedup.py                 # 10k and 100k docs
    .venv/bin/python bench/bench_dedup.py --sizes 10000 100000 1000000
    .venv/bin/python bench/bench_dedup.py --corpus english --cache /tmp/dedup --sizes 100000 1000000
    .venv/bin/python bench/bench_dedup.py --dask 2 --sizes 100000 1000000   # flows/dask_dedup.py, 2 workers

Each size runs in a fresh subprocess so the peak RSS is that run's own. The corpus imitates the
syndication dev set: ~1.1 KB articles of Zipf-distributed pseudo-words, half of them wire stories
republished 1-20 times on other sites with typos, truncation and inserted sentences, every page
wrapped in per-site header/footer boilerplate. Reports docs/s of ``assign_clusters`` (text
already in memory) and the peak RSS of the process.

``--corpus english`` uses English instead: new text from a word-bigram chain over real news bodies
(gensim's Lee corpus and the WCXB gold articles), ~15% of the pages in syndication clusters, 2,000
sites; written once to ``--cache``. Each run also reports its CPU seconds (all threads), the
figure to compare when other processes load the machine.

``--dask N`` runs the distributed dedup instead (``flows.dask_dedup.dedup_parquet``, the path of
``newsclean dedup --runner dask``) on a LocalCluster of N worker processes (one thread each), on
the corpus written once to Parquet (``--cache``): wall time, each worker's peak RSS, the
client's, and the compute seconds per step (Dask's task stream). ``--check`` also runs the
single-process path on the same rows and reports whether every result column is equal.
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


LEE_CORPUS = "gensim/test/test_data/lee_background.cor"  # ~300 Australian news stories (gensim's test data)
WCXB_GOLD = ROOT.parent / "shared" / "eval" / "wcxb-dev" / "gold.jsonl.gz"  # gold article bodies
N_ENGLISH_SITES = 2_000
CLUSTERED_STORY_SHARE = 0.041  # stories that get copies: ~15% of the documents end up in clusters


def _english_tokens() -> list[str]:
    """Whitespace tokens of real English news text: the Lee corpus and the WCXB gold article bodies."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("gensim")
    texts = []
    if spec is not None and spec.origin is not None:
        lee = Path(spec.origin).parents[1] / LEE_CORPUS
        if lee.exists():
            texts.append(lee.read_text(encoding="latin-1"))
    if WCXB_GOLD.exists():
        with gzip.open(WCXB_GOLD, "rt", encoding="utf-8") as fh:
            texts += [d["main_content"] or "" for d in map(json.loads, fh) if d.get("page_type") == "article"]
    if not texts:
        raise SystemExit("--corpus english needs gensim's test data or ../shared/eval/wcxb-dev")
    return " ".join(texts).split()


def english_corpus(n_docs: int, seed: int = 0) -> pl.DataFrame:
    """``n_docs`` ~1.1 KB pages of English: new text from a word-bigram chain over real news bodies,
    ~15% of the pages in syndication clusters (copies truncated, with typos, inserted sentences),
    every page wrapped in its site's header and footer (2,000 sites)."""
    rng = np.random.default_rng(seed)
    tokens = _english_tokens()
    vocab, ids = np.unique(np.array(tokens, dtype=object), return_inverse=True)
    ids = ids.astype(np.int64)
    order = np.argsort(ids[:-1], kind="stable")  # each token's occurrences, to draw its successor
    count = np.bincount(ids[:-1], minlength=len(vocab))
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    ends_sentence = np.array([t.endswith((".", "?", "!")) for t in vocab])
    openers = ids[1:][ends_sentence[ids[:-1]]]

    def chains(n: int, length: int) -> np.ndarray:  # n token chains of ``length``, each from a sentence opener
        out = np.empty((n, length), dtype=np.int64)
        out[:, 0] = openers[rng.integers(len(openers), size=n)]
        for j in range(1, length):
            cur = out[:, j - 1]
            c = count[cur]
            pick = first[cur] + (rng.random(n) * np.maximum(c, 1)).astype(np.int64)
            nxt = ids[np.minimum(order[np.minimum(pick, len(order) - 1)] + 1, len(ids) - 1)]
            out[:, j] = np.where(c > 0, nxt, openers[rng.integers(len(openers), size=n)])
        return out

    def words(row: np.ndarray) -> list[str]:
        return list(vocab[row])

    headers = [" ".join(words(r)) for r in chains(N_ENGLISH_SITES, 8)]
    footers = [" ".join(words(r)) for r in chains(N_ENGLISH_SITES, 25)]
    n_stories = n_docs  # at most one story per page
    lengths = rng.integers(110, 190, size=n_stories)  # ~150 body words, ~0.9 KB
    bodies = chains(n_stories, int(lengths.max()))
    texts: list[str] = []
    sites: list[str] = []
    story = 0
    while len(texts) < n_docs:
        body = words(bodies[story, : lengths[story]])
        n_copies = int(rng.choice([1, 1, 1, 2, 2, 3, 5, 10])) if rng.random() < CLUSTERED_STORY_SHARE else 0
        story += 1
        for copy in range(n_copies + 1):
            site = int(rng.integers(N_ENGLISH_SITES))
            text = list(body)
            if copy:
                if rng.random() < 0.5:
                    text = text[: max(1, int(len(text) * rng.uniform(0.5, 1.0)))]
                for i in np.flatnonzero(rng.random(len(text)) < 0.02):
                    text[i] = text[i][::-1]
                if rng.random() < 0.5:
                    at = int(rng.integers(len(text) + 1))
                    text[at:at] = words(chains(1, 20)[0])
            texts.append(f"{headers[site]}\n\n{' '.join(text)}\n\n{footers[site]}")
            sites.append(f"site{site}.com")
            if len(texts) == n_docs:
                break
    return pl.DataFrame({"doc_id": [f"doc{i:08d}" for i in range(n_docs)], "text": texts, "site": sites})


def corpus(n_docs: int, kind: str, cache: Path | None) -> pl.DataFrame:
    """The ``kind`` corpus of ``n_docs`` pages, read from ``cache`` when written there before."""
    make = english_corpus if kind == "english" else synthetic_corpus
    if cache is None:
        return make(n_docs)
    path = cache / f"{kind}-{n_docs}.parquet"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        make(n_docs).write_parquet(path)
    return pl.read_parquet(path)


def run_one(n_docs: int, kind: str = "synthetic", cache: Path | None = None) -> dict:
    df = corpus(n_docs, kind, cache)
    mean_bytes = df["text"].str.len_bytes().mean()
    cpu0 = _cpu_seconds()
    start = time.perf_counter()
    out = assign_clusters(df, DedupConfig())
    seconds = time.perf_counter() - start
    return {
        "docs": n_docs,
        "corpus": kind,
        "mean_bytes": round(mean_bytes, 1),
        "in_clusters": round(float(out["cluster_id"].is_duplicated().mean()), 3),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(_cpu_seconds() - cpu0, 2),
        "docs_per_s": round(n_docs / seconds, 1),
        "clusters": out["cluster_id"].n_unique(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads) and its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_dask(n_docs: int, n_workers: int, cache: Path, check: bool, rows_per_part: int) -> dict:
    import shutil
    from collections import Counter

    from distributed import Client, LocalCluster, get_task_stream

    from flows.dask_dedup import dedup_parquet

    src = cache / f"synthetic-{n_docs}.parquet"
    if not src.exists():
        cache.mkdir(parents=True, exist_ok=True)
        synthetic_corpus(n_docs).write_parquet(src)
    parts_dir = cache / f"out-{n_docs}"
    shutil.rmtree(parts_dir, ignore_errors=True)
    parts_dir.mkdir(parents=True)
    n_parts = max(2 * n_workers, -(-n_docs // rows_per_part))
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        base = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        with get_task_stream(client) as stream:
            start = time.perf_counter()
            stats: dict = {}
            paths = dedup_parquet(client, str(src), str(parts_dir), DedupConfig(), n_parts, {}, stats)
            seconds = time.perf_counter() - start
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    steps: Counter[str] = Counter()
    for task in stream.data:
        key = task["key"] if isinstance(task["key"], str) else task["key"][0]
        steps[key.rsplit("-", 1)[0]] += sum(s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute")
    out = pl.read_parquet(paths)
    result = {
        "docs": n_docs,
        "workers": n_workers,
        "partitions": n_parts,
        "seconds": round(seconds, 2),
        "docs_per_s": round(n_docs / seconds, 1),
        "clusters": out["cluster_id"].n_unique(),
        "worker_peak_rss_mb": sorted(round(v, 1) for v in peaks.values()),
        "worker_start_rss_mb": sorted(round(v, 1) for v in base.values()),
        "client_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "compute_s": {k: round(v, 1) for k, v in steps.most_common(8)},
        "at_client": stats,
    }
    if check:
        want = assign_clusters(pl.read_parquet(src), DedupConfig())
        cols = ["doc_id", "cluster_id", "is_canonical", "similarity"]
        result["equal_to_single_process"] = out.select(cols).equals(want.select(cols))
    shutil.rmtree(parts_dir, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dask", type=int, metavar="WORKERS", help="distributed dedup on a LocalCluster of WORKERS processes")
    parser.add_argument("--rows-per-part", type=int, default=100_000, help="--dask: input rows per partition (at least 2 partitions per worker)")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out", help="--dask, --corpus english: where the corpus Parquet is written once")
    parser.add_argument("--check", action="store_true", help="--dask: compare with the single-process result")
    parser.add_argument(
        "--corpus",
        choices=["synthetic", "english"],
        default="synthetic",
        help="synthetic: Zipf pseudo-words, most pages syndicated; english: a bigram chain over real news bodies, ~15%% of pages in clusters (written once to --cache)",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: run one size
    args = parser.parse_args()
    if args.one:
        if args.dask:
            print(json.dumps(run_dask(args.one, args.dask, args.cache, args.check, args.rows_per_part)))
        else:
            print(json.dumps(run_one(args.one, args.corpus, args.cache if args.corpus == "english" else None)))
        return
    extra = ["--dask", str(args.dask), "--rows-per-part", str(args.rows_per_part)] if args.dask else []
    extra += ["--check"] if args.check else []
    extra += ["--corpus", args.corpus, "--cache", str(args.cache)]
    for n in args.sizes:
        done = subprocess.run([sys.executable, __file__, "--one", str(n), *extra], capture_output=True, text=True, check=True)
        print(done.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
