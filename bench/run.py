"""`make bench`: stage throughput with same-run baselines; writes bench/results.json.

Figures are ratios against baselines measured in the same run (machines here are noisy):
- clean: newsclean's per-page cleaning (decode, chars, boilerplate, fixers, filters) on
  synthetic 10 KB text pages vs ftfy.fix_text alone on the same pages, steady state (after a
  warm-up batch), in one process and in a pool of ``--workers`` processes (issue 6: >= 250
  pages/s on 2 cores);
- write: the insert-only Delta merge vs a plain polars write_parquet of the same frame;
- dedup: bench/bench_dedup.py (docs/s and peak RSS at growing sizes).
- index: bench/bench_index.py (one 10,000-page chunk against indexes of growing history, with
  the dedup window and without; ratios against the smallest index of the same run).
- startup: bench/bench_startup.py (a one-off run on the seeds with no server: the local engine
  vs the Prefect temporary-server path, alternated in the same run; `import flows.cli` as floor).
- html_e2e: bench/bench_html_e2e.py (issue 16: `newsclean run` over the WCXB dev HTML pages vs
  trafilatura.extract over them in one process, wall and CPU, start-up included; per-page CPU
  ratio in one process).
Usage: python bench/run.py [--pages N] [--workers 2] [--dedup-sizes 10000,100000] [--index-sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import ftfy
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cleaners.config import PipelineConfig  # noqa: E402
from cleaners.document import RawPage, clean_pages  # noqa: E402
from evals import data  # noqa: E402
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


def _vary(sentence: str, vocab: list[str], rng: random.Random, share: float = 0.25) -> str:
    """The sentence with about ``share`` of its words swapped for random corpus words, so that
    unrelated generated pages share few word 3-grams, as unrelated news articles do."""
    words = sentence.split()
    return " ".join(rng.choice(vocab) if rng.random() < share else w for w in words)


def make_pages(n: int, size: int = 10_000, seed: int = 7) -> list[RawPage]:
    rng = random.Random(seed)
    sents = corpus_sentences()
    vocab = sorted({w for s in sents for w in s.split() if w.isalpha()})
    pages = []
    for i in range(n):
        lines = [rng.choice(sents)[:90].rstrip(".")]  # a headline
        lines += rng.sample(BOILER, 3)
        body = []
        while sum(len(x) for x in body) < size:
            body.append(" ".join(_vary(rng.choice(sents), vocab, rng) for _ in range(rng.randint(2, 5))))
        text = "\n\n".join(lines + body + rng.sample(BOILER, 2))
        pages.append(RawPage(source=f"bench://page/{i}", data=text.encode(), name=f"{i}.txt", format="text"))
    return pages


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


WARM_UP_PAGES = 20  # first calls load wordfreq lists, compile lazy regexes: not steady state


def _clean_batch(pages: list[RawPage]) -> tuple[int, float]:
    """Worker body: clean one batch with the default config; return its rows and CPU seconds."""
    t0 = time.process_time()
    frame, _ = clean_pages(pages, PipelineConfig())
    return frame.height, time.process_time() - t0


def _batches(pages: list[RawPage], size: int) -> list[list[RawPage]]:
    return [pages[i : i + size] for i in range(0, len(pages), size)]


def bench_clean(n: int) -> dict:
    """Single-process pages/s of clean_pages vs ftfy.fix_text alone (both after a warm-up)."""
    pages = make_pages(n)
    cfg = PipelineConfig()
    warm = make_pages(WARM_UP_PAGES, seed=1)
    for p in warm:
        ftfy.fix_text(p.data.decode())
    clean_pages(warm, cfg)
    t0 = time.perf_counter()
    for p in pages:
        ftfy.fix_text(p.data.decode())
    base = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    for batch in _batches(pages, cfg.run.batch_size):
        clean_pages(batch, cfg)
    ours, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "pages": n,
        "page_bytes": sum(len(p.data) for p in pages) // n,
        "newsclean_pages_per_s": n / ours,
        "newsclean_pages_per_cpu_s": n / cpu,  # robust to other load on the machine
        "ftfy_alone_pages_per_s": n / base,
        "time_ratio_vs_ftfy": ours / base,
    }


def bench_clean_parallel(n: int, workers: int) -> dict:
    """pages/s of clean_pages in a pool of ``workers`` spawned processes, batches sent as pickles.

    Batches are smaller than ``run.batch_size`` (at least 4 per worker) so that the workers
    finish together; the pool is warmed up first (imports, wordfreq), so this is steady state.
    On a shared machine the wall-clock figure depends on other load: the pages per CPU-second
    of the workers times ``workers`` is what the pool gives with that many idle cores.
    """
    pages = make_pages(n)
    size = max(1, min(PipelineConfig().run.batch_size, n // (4 * workers)))
    ctx = multiprocessing.get_context("spawn")  # polars and fork do not mix
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        list(pool.map(_clean_batch, [make_pages(WARM_UP_PAGES, seed=1)] * workers))
        t0 = time.perf_counter()
        done = list(pool.map(_clean_batch, _batches(pages, size)))
        wall = time.perf_counter() - t0
    rows, cpu = sum(r for r, _ in done), sum(c for _, c in done)
    assert rows == n, (rows, n)
    return {
        "pages": n,
        "workers": workers,
        "batch_pages": size,
        "newsclean_pages_per_s": n / wall,
        "worker_pages_per_cpu_s": n / cpu,
        "idle_cores_pages_per_s": workers * n / cpu,
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


def html_pages(n: int) -> list[RawPage]:
    """``n`` real news pages: the extract-dev set (../shared) repeated, each with its own source."""
    import gzip

    d = data.shared(data.EXTRACT_PAGES)
    files = sorted(d.glob("*.html.gz")) if d.is_dir() else []
    if not files:
        return []
    raw = [gzip.decompress(f.read_bytes()) for f in files]
    return [RawPage(source=f"bench://html/{i}", data=raw[i % len(raw)], name=f"{i}.html", format="html") for i in range(n)]


HTML_REPEATS = 3  # timed passes per system, interleaved; the fastest pass counts (least disturbed by other load)


def bench_html(n: int, repeats: int = HTML_REPEATS) -> dict:
    """Pipeline on HTML pages vs trafilatura on the same decoded pages (1 process, warm).

    Baselines: (a) ``trafilatura.extract(html)`` with its defaults (body text only) and
    (b) ``trafilatura.bare_extraction(html, with_metadata=True)`` (body and metadata, the job the
    pipeline does). Each system runs ``repeats`` interleaved passes over the ``n`` pages; process
    CPU time and wall time of the fastest pass give the ratios. ``guarded`` is the real flow
    path, ``flows.guard.GuardedCleaner`` (HTML pages cleaned one by one in a worker process):
    wall time only, the worker's CPU time is not this process's.
    """
    import logging

    import trafilatura

    from cleaners.decode import decode_bytes
    from cleaners.steps import Stats
    from flows.guard import GuardedCleaner

    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    pages = html_pages(n)
    if not pages:
        return {"skipped": f"{data.shared(data.EXTRACT_DEV)} is absent"}
    cfg = PipelineConfig()
    texts = [decode_bytes(p.data, cfg.load).text for p in pages]
    guard = GuardedCleaner(cfg)
    systems = {
        "trafilatura_extract": lambda: [trafilatura.extract(h) for h in texts],
        "trafilatura_with_metadata": lambda: [trafilatura.bare_extraction(h, with_metadata=True) for h in texts],
        "newsclean": lambda: [clean_pages(b, cfg) for b in _batches(pages, cfg.run.batch_size)],
        "newsclean_guarded": lambda: [guard.clean(b, Stats()) for b in _batches(pages, cfg.run.batch_size)],
    }
    warm = html_pages(5)
    trafilatura.extract(texts[0])
    clean_pages(warm, cfg)
    guard.clean(warm, Stats())
    wall: dict[str, float] = dict.fromkeys(systems, float("inf"))
    cpu: dict[str, float] = dict.fromkeys(systems, float("inf"))
    try:
        for _ in range(repeats):
            for name, run in systems.items():
                t0, c0 = time.perf_counter(), time.process_time()
                run()
                wall[name] = min(wall[name], time.perf_counter() - t0)
                cpu[name] = min(cpu[name], time.process_time() - c0)
    finally:
        guard.close()
    out: dict = {"pages": n, "repeats": repeats}
    for name in systems:
        out[f"{name}_pages_per_s"] = n / wall[name]
        out[f"{name}_ms_per_page_cpu"] = 1000 * cpu[name] / n
    for base in ("trafilatura_extract", "trafilatura_with_metadata"):
        out[f"time_ratio_vs_{base}"] = wall["newsclean"] / wall[base]
        out[f"cpu_ratio_vs_{base}"] = cpu["newsclean"] / cpu[base]
        out[f"guarded_time_ratio_vs_{base}"] = wall["newsclean_guarded"] / wall[base]
    return out


def bench_dedup(sizes: list[int]) -> dict:
    script = ROOT / "bench" / "bench_dedup.py"
    if not script.exists():
        return {"skipped": "bench/bench_dedup.py missing"}
    out = {}
    for n in sizes:
        res = subprocess.run([sys.executable, str(script), "--sizes", str(n)], capture_output=True, text=True, cwd=ROOT)
        try:
            out[str(n)] = json.loads(res.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            out[str(n)] = {"error": (res.stderr or res.stdout)[-500:]}
    return out


def bench_index(sizes: list[int], recent_only: list[int]) -> dict:
    """bench/bench_index.py's figures (indexes built once into bench/out/index/ and reused)."""
    if not sizes:
        return {"skipped": "no --index-sizes"}
    script = ROOT / "bench" / "bench_index.py"
    res = subprocess.run(
        [sys.executable, str(script), "--json", "--repeats", "2", "--sizes", *map(str, sizes), "--recent-only", *map(str, recent_only)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    try:
        return json.loads(res.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": (res.stderr or res.stdout)[-500:]}


def bench_startup(repeats: int) -> dict:
    """bench/bench_startup.py's figures: a one-off run on the seeds with no server, local engine
    vs the Prefect temporary-server path, alternated in the same run (ratio local / prefect)."""
    if repeats <= 0:
        return {"skipped": "--startup-repeats 0"}
    script = ROOT / "bench" / "bench_startup.py"
    res = subprocess.run([sys.executable, str(script), "--json", "--repeats", str(repeats)], capture_output=True, text=True, cwd=ROOT)
    try:
        return json.loads(res.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": (res.stderr or res.stdout)[-500:]}


def bench_html_e2e(limit: int) -> dict:
    """bench/bench_html_e2e.py's figures (``limit`` WCXB dev pages; 0 skips it)."""
    if limit <= 0:
        return {"skipped": "--html-e2e-pages 0"}
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_html_e2e import run as run_html_e2e

    return run_html_e2e(limit=limit)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2, help="processes for the parallel clean figure")
    ap.add_argument("--dedup-sizes", default="10000,100000")
    ap.add_argument("--index-sizes", default="100000,1000000", help="indexed pages for bench_index.py ('' skips it)")
    ap.add_argument("--index-recent-only", default="10000000", help="indexes written only for the days a window reads")
    ap.add_argument("--html-pages", type=int, default=455, help="extract-dev pages, repeated (91 distinct)")
    ap.add_argument("--html-repeats", type=int, default=HTML_REPEATS)
    ap.add_argument("--startup-repeats", type=int, default=3, help="runs of each engine for the start-up figure (0 skips it)")
    ap.add_argument("--html-e2e-pages", type=int, default=100_000, help="WCXB dev pages for bench_html_e2e.py (all: 1,033; 0 skips)")
    args = ap.parse_args(argv)
    clean = bench_clean(args.pages)
    parallel = bench_clean_parallel(args.pages, args.workers)
    parallel["speedup_vs_one_process"] = parallel["newsclean_pages_per_s"] / clean["newsclean_pages_per_s"]
    results = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0]},
        "clean": clean,
        "clean_parallel": parallel,
        "html": bench_html(args.html_pages, args.html_repeats),
        "write": bench_write(min(args.pages, 2000)),
        "dedup": bench_dedup([int(x) for x in args.dedup_sizes.split(",") if x]),
        "html_e2e": bench_html_e2e(args.html_e2e_pages),
        "index": bench_index([int(x) for x in args.index_sizes.split(",") if x], [int(x) for x in args.index_recent_only.split(",") if x]),
        "startup": bench_startup(args.startup_repeats),
        "peak_rss_mb": peak_rss_mb(),
    }
    path = ROOT / "bench" / "results.json"
    path.write_text(json.dumps(results, indent=2))
    c, w, cp = results["clean"], results["write"], results["clean_parallel"]
    print(f"{'stage':<8} {'figure':<40} {'value':>12}")
    print(f"{'clean':<8} {'newsclean pages/s (10 KB text pages)':<40} {c['newsclean_pages_per_s']:>12.1f}")
    label = f"newsclean pages/s, {cp['workers']} processes"
    print(f"{'clean':<8} {label:<40} {cp['newsclean_pages_per_s']:>12.1f}")
    print(f"{'clean':<8} {'speedup of the process pool':<40} {cp['speedup_vs_one_process']:>12.2f}")
    print(f"{'clean':<8} {'pages per CPU-second, 1 process':<40} {c['newsclean_pages_per_cpu_s']:>12.1f}")
    label = f"pages/s on {cp['workers']} idle cores (from CPU time)"
    print(f"{'clean':<8} {label:<40} {cp['idle_cores_pages_per_s']:>12.1f}")
    print(f"{'clean':<8} {'ftfy alone pages/s (same pages)':<40} {c['ftfy_alone_pages_per_s']:>12.1f}")
    print(f"{'clean':<8} {'time ratio newsclean / ftfy':<40} {c['time_ratio_vs_ftfy']:>12.2f}")
    h = results["html"]
    if "skipped" not in h:
        print(f"{'html':<8} {'newsclean pages/s (real news HTML)':<40} {h['newsclean_pages_per_s']:>12.1f}")
        print(f"{'html':<8} {'guarded (worker process) pages/s':<40} {h['newsclean_guarded_pages_per_s']:>12.1f}")
        print(f"{'html':<8} {'trafilatura.extract pages/s (defaults)':<40} {h['trafilatura_extract_pages_per_s']:>12.1f}")
        print(f"{'html':<8} {'trafilatura with metadata pages/s':<40} {h['trafilatura_with_metadata_pages_per_s']:>12.1f}")
        for base, label in (("trafilatura_extract", "extract"), ("trafilatura_with_metadata", "with metadata")):
            print(f"{'html':<8} {'CPU ratio vs trafilatura ' + label:<40} {h['cpu_ratio_vs_' + base]:>12.2f}")
            print(f"{'html':<8} {'time ratio vs trafilatura ' + label:<40} {h['time_ratio_vs_' + base]:>12.2f}")
            print(f"{'html':<8} {'guarded ratio vs trafilatura ' + label:<40} {h['guarded_time_ratio_vs_' + base]:>12.2f}")
    e = results["html_e2e"]
    if "wall_ratio" in e:
        label = f"run wall / trafilatura, {e['pages']} pages"
        print(f"{'html_e2e':<8} {label:<40} {e['wall_ratio']:>12.2f}")
        print(f"{'html_e2e':<8} {'run CPU / trafilatura CPU':<40} {e['cpu_ratio']:>12.2f}")
        print(f"{'html_e2e':<8} {'cores busy in the run (CPU / wall)':<40} {e['newsclean']['cores_busy']:>12.2f}")
    if "cpu_ratio" in e.get("per_page", {}).get("now", {}):
        print(f"{'html_e2e':<8} {'per-page CPU / trafilatura.extract':<40} {e['per_page']['now']['cpu_ratio']:>12.2f}")
    print(f"{'write':<8} {'time ratio delta insert / plain parquet':<40} {w['time_ratio_vs_plain']:>12.2f}")
    for n, d in results["dedup"].items():
        print(f"{'dedup':<8} {n + ' docs':<40} {json.dumps(d)[:60]:>12}")
    for n, by_window in results["index"].get("sizes", {}).items():
        for key, fig in by_window.items():
            label = f"chunk vs {n} indexed, {key.replace('_', '_days=')}"
            print(f"{'index':<8} {label:<40} {fig['median_seconds']:>10.2f} s  x{fig.get('ratio_vs_' + next(iter(results['index']['sizes'])), 1):.2f}  {fig['peak_rss_mb']:.0f} MB")
    st = results["startup"]
    if "local" in st:
        for key, label in (("local", "local engine"), ("prefect", "prefect, temporary server"), ("import_flows_cli", "python -c 'import flows.cli'")):
            print(f"{'startup':<8} {'seeds run, ' + label if key != 'import_flows_cli' else label:<40} {st[key]['median_wall_s']:>10.2f} s  CPU {st[key]['median_cpu_s']:.2f} s")
        print(f"{'startup':<8} {'wall ratio local / prefect (same run)':<40} {st['wall_ratio_local_vs_prefect']:>12.2f}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
