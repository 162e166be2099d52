"""`make bench`: stage throughput with same-run baselines; writes bench/results.json.

Figures are ratios against baselines measured in the same run (machines here are noisy):
- clean: newsclean's per-page cleaning (decode, chars, boilerplate, fixers, filters) on
  synthetic 10 KB text pages vs ftfy.fix_text alone on the same pages;
- write: the insert-only Delta merge vs a plain polars write_parquet of the same frame;
- dedup: bench/bench_dedup.py (docs/s and peak RSS at growing sizes).
Usage: python bench/run.py [--pages N] [--dedup-sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ftfy
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cleaners.config import PipelineConfig  # noqa: E402
from cleaners.document import RawPage, clean_pages  # noqa: E402
from flows.storage import Storage  # noqa: E402

BOILER = [
    "Navigation",
    "Home | News | Sport | Business | Opinion",
    "Join our Telegram channel for breaking news!",
    "Google Ads | Google Ads | Google Ads",
    "Follow Us",
    "Recent Posts",
]


def corpus_sentences() -> list[str]:
    """Clean English news sentences: gensim's Lee corpus when installed, else the seed pages."""
    try:
        import gensim

        lee = Path(gensim.__file__).parent / "test" / "test_data" / "lee_background.cor"
        text = lee.read_text(encoding="utf-8", errors="replace")
    except Exception:  # noqa: BLE001 - optional source
        text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "data" / "raw").glob("*.txt"))
    sents = [s.strip() + "." for s in text.replace("\n", " ").split(". ") if len(s.split()) > 6]
    return sents


def make_pages(n: int, size: int = 10_000, seed: int = 7) -> list[RawPage]:
    rng = random.Random(seed)
    sents = corpus_sentences()
    pages = []
    for i in range(n):
        lines = [rng.choice(sents)[:90].rstrip(".")]  # a headline
        lines += rng.sample(BOILER, 3)
        body = []
        while sum(len(x) for x in body) < size:
            body.append(" ".join(rng.choice(sents) for _ in range(rng.randint(2, 5))))
        text = "\n\n".join(lines + body + rng.sample(BOILER, 2))
        pages.append(RawPage(source=f"bench://page/{i}", data=text.encode(), name=f"{i}.txt", format="text"))
    return pages


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_clean(n: int) -> dict:
    pages = make_pages(n)
    cfg = PipelineConfig()
    t0 = time.perf_counter()
    for p in pages:
        ftfy.fix_text(p.data.decode())
    base = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(0, n, cfg.run.batch_size):
        clean_pages(pages[i : i + cfg.run.batch_size], cfg)
    ours = time.perf_counter() - t0
    return {
        "pages": n,
        "page_bytes": sum(len(p.data) for p in pages) // n,
        "newsclean_pages_per_s": n / ours,
        "ftfy_alone_pages_per_s": n / base,
        "time_ratio_vs_ftfy": ours / base,
    }


def bench_write(n: int) -> dict:
    cfg = PipelineConfig()
    frame, _ = clean_pages(make_pages(n), cfg)
    frame = frame.with_columns(pl.col("doc_id").alias("cluster_id"), pl.lit(1).alias("n_copies"))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        frame.write_parquet(Path(tmp) / "plain.parquet")
        base = time.perf_counter() - t0
        st = Storage(Path(tmp) / "out")
        t0 = time.perf_counter()
        st.insert_new("articles", frame)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        st.insert_new("articles", frame)  # a rerun: merge finds every key, inserts nothing
        rerun = time.perf_counter() - t0
    return {"rows": n, "plain_parquet_s": base, "delta_insert_s": first, "delta_rerun_merge_s": rerun, "time_ratio_vs_plain": first / base}


def bench_dedup(sizes: list[int]) -> dict:
    script = ROOT / "bench" / "bench_dedup.py"
    if not script.exists():
        return {"skipped": "bench/bench_dedup.py missing"}
    out = {}
    for n in sizes:
        res = subprocess.run([sys.executable, str(script), "--docs", str(n), "--json"], capture_output=True, text=True, cwd=ROOT)
        try:
            out[str(n)] = json.loads(res.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            out[str(n)] = {"error": (res.stderr or res.stdout)[-500:]}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--dedup-sizes", default="10000,100000")
    args = ap.parse_args(argv)
    results = {
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "clean": bench_clean(args.pages),
        "write": bench_write(min(args.pages, 2000)),
        "dedup": bench_dedup([int(x) for x in args.dedup_sizes.split(",") if x]),
        "peak_rss_mb": peak_rss_mb(),
    }
    path = ROOT / "bench" / "results.json"
    path.write_text(json.dumps(results, indent=2))
    c, w = results["clean"], results["write"]
    print(f"{'stage':<8} {'figure':<40} {'value':>12}")
    print(f"{'clean':<8} {'newsclean pages/s (10 KB text pages)':<40} {c['newsclean_pages_per_s']:>12.1f}")
    print(f"{'clean':<8} {'ftfy alone pages/s (same pages)':<40} {c['ftfy_alone_pages_per_s']:>12.1f}")
    print(f"{'clean':<8} {'time ratio newsclean / ftfy':<40} {c['time_ratio_vs_ftfy']:>12.2f}")
    print(f"{'write':<8} {'time ratio delta insert / plain parquet':<40} {w['time_ratio_vs_plain']:>12.2f}")
    for n, d in results["dedup"].items():
        print(f"{'dedup':<8} {n + ' docs':<40} {json.dumps(d)[:60]:>12}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
