"""Cost of one 10,000-page chunk's dedup against a fingerprint index of growing history.

    .venv/bin/python bench/bench_index.py                       # 100k and 1M indexed pages
    .venv/bin/python bench/bench_index.py --sizes 100000 1000000 10000000
    .venv/bin/python bench/bench_index.py --recent-only 10000000   # + 10M, only its last 36 days written

For each size, synthetic ``dedup_index`` rows (122 shingles and 64 band keys per page, the dev
set's median, seen on days spread evenly over 365 days) are written through the storage module
(its encoding and ``seen`` partitioning, in chronological appends as a live stream writes them)
into ``--cache`` (made once per size and reused). Among them sit the same 2,000 real earlier copies
of the chunk's stories (indexed by ``cluster_and_index``, seen in the chunk's last 10 days), so
every size does the same matching work and only the history around it grows. The chunk
(``bench_dedup.synthetic_corpus`` pages, seen on the last day, as a live stream's newest chunk)
then goes through ``flows.commit.cluster_run`` in a fresh process per size and setting: the
index lookup, clustering and consensus repair, not the write. Settings: ``dedup.window_days``
30 (the default), 7 and 0 (no window: the whole index, the unbounded baseline). Reported per run:
wall seconds and CPU seconds (the median of ``--repeats``; CPU time moves less on a shared
machine), copies that joined indexed clusters, and the process's peak RSS; the ratios use the
smallest size of the same run as the baseline; ``lookup_seconds`` is the lookup's own share
(the band-key cache's answer, flows/index_cache.py, with the last day's entry rebuilt as after a
live stream's previous chunk; then the candidate rows read from the table). The cache of every
day is built with the index (``cache_seconds``: the one-off cost an existing index pays). ``--recent-only`` sizes are written only
for their last 36 days (a chunk seen on the last day with a 30-day window reads 31 of them and
never opens the rest), which is how a 10M-page year is measured here without writing 10 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_dedup import synthetic_corpus  # noqa: E402
from deltalake import write_deltalake  # noqa: E402

from cleaners import schema as S  # noqa: E402
from cleaners.config import DedupConfig, PipelineConfig, with_overrides  # noqa: E402
from cleaners.dedup import INDEX_SCHEMA, cluster_and_index  # noqa: E402
from cleaners.dedup import cluster as cluster_module  # noqa: E402
from flows import index_cache  # noqa: E402
from flows import storage as storage_module  # noqa: E402
from flows.commit import cluster_run  # noqa: E402
from flows.storage import Storage  # noqa: E402

CHUNK_PAGES = 10_000
EARLIER_PAGES = 2_000  # real earlier copies of the chunk's stories, in every index
DAYS = 365
FIRST_DAY = dt.date(2025, 1, 1)
LAST_DAY = FIRST_DAY + dt.timedelta(days=DAYS - 1)  # the chunk's pages are seen this day
SHINGLES = 122  # content shingles per page (dev-set median; cleaners/dedup/index.py)
RECENT_DAYS = 36  # days of a --recent-only index that are written (a 30-day window reads 31 of them)
APPEND_ROWS = 250_000  # rows per synthetic append (chronological, so each touches a few days)


def corpus() -> tuple[pl.DataFrame, pl.DataFrame]:
    """(earlier pages, chunk pages): one synthetic corpus, its stories' copies split between them."""
    pages = synthetic_corpus(CHUNK_PAGES + EARLIER_PAGES, seed=3)
    rng = np.random.default_rng(3)
    earlier = np.zeros(pages.height, dtype=bool)
    earlier[rng.choice(pages.height, EARLIER_PAGES, replace=False)] = True
    return pages.filter(pl.Series(earlier)), pages.filter(~pl.Series(earlier))


def filler(n: int, start: int, rng: np.random.Generator) -> pl.DataFrame:
    """``n`` synthetic index rows numbered from ``start``, seen on days in the order of their number."""
    sizes = np.clip(rng.poisson(SHINGLES, n), 20, None)
    flat = rng.integers(0, 2**32, int(sizes.sum()), dtype=np.uint32)
    shingles = pl.Series(flat).cast(pl.UInt32)
    keys = rng.integers(0, 2**63, (n, DedupConfig().num_bands), dtype=np.uint64)
    numbers = np.arange(start, start + n)
    return pl.DataFrame(
        {
            "doc_id": [f"f{i:010d}" for i in numbers],
            "cluster_id": [f"c{i:015x}" for i in numbers // 3],
            "is_canonical": numbers % 3 == 0,
            "similarity": np.ones(n),
            "site": [f"site{i % 500}.example" for i in numbers],
            "n_shingles": sizes.astype(np.int32),
            "shingles": _lists(shingles, sizes),
            "band_keys": pl.Series(keys).cast(pl.List(pl.UInt64)),
            "seen": [FIRST_DAY + dt.timedelta(days=int(d)) for d in (numbers * DAYS) // TOTAL[0]],
        }
    ).cast(INDEX_SCHEMA)


def _lists(flat: pl.Series, sizes: np.ndarray) -> pl.Series:
    owner = np.repeat(np.arange(len(sizes)), sizes)
    return pl.DataFrame({"o": owner, "v": flat}).group_by("o", maintain_order=True).agg("v")["v"]


TOTAL = [0]  # rows of the index being built (the day of row i is i * DAYS // total)


def append(root: Path, rows: pl.DataFrame) -> None:
    """Append through the storage module's encoding and partitioning (no doc_id check: the rows are new)."""
    table = "dedup_index"
    write_deltalake(
        str(root / table),
        storage_module._arrow(storage_module._encode(table, rows)),
        mode="append",
        partition_by=storage_module.PARTITIONS[table],
    )


def build(root: Path, n: int, recent_days: int | None = None) -> None:
    """The index of ``n`` pages under ``root`` (its tables created empty first; 0: left empty).
    ``recent_days``: only the rows of the last that many days are written (the rest of the year
    lies outside any window of a chunk seen on the last day, so its partitions are never read)."""
    shutil.rmtree(root, ignore_errors=True)
    Storage(root).ensure_tables()
    if n == 0:
        (root / "_BUILT").write_text("0")
        return
    earlier, _ = corpus()
    rng = np.random.default_rng(n)
    earlier = earlier.with_columns(seen=pl.Series([LAST_DAY - dt.timedelta(days=int(d)) for d in rng.integers(1, 11, earlier.height)]))
    _, rows = cluster_and_index(earlier, DedupConfig())
    TOTAL[0] = n - rows.height
    append(root, rows)
    first = 0 if recent_days is None else -(-(DAYS - recent_days) * TOTAL[0] // DAYS)  # first row of that day
    for start in range(first, TOTAL[0], APPEND_ROWS):
        append(root, filler(min(APPEND_ROWS, TOTAL[0] - start), start, rng))
    # the band-key cache of every day, as a live stream's earlier chunks left it (its time is
    # reported as cache_seconds: the one-off cost an existing index pays on its first lookup)
    t0 = time.perf_counter()
    index_cache.lookup(Storage(root), np.zeros(0, dtype=np.uint64), None)
    (root / "_CACHE_SECONDS").write_text(f"{time.perf_counter() - t0:.1f}")
    (root / "_BUILT").write_text(str(n))


def run_one(root: Path, window_days: int) -> dict:
    """Time one chunk's ``cluster_run`` against the index under ``root`` (in this fresh process)."""
    _, chunk = corpus()
    # the last day was written since the stream's previous chunk: its cache entry is rebuilt in
    # the timed lookup, as in a live stream (the entries of older days stay valid)
    for stale in index_cache.cache_dir(Storage(root)).glob(f"{LAST_DAY.isoformat()}-*"):
        shutil.rmtree(stale)
    kept = S.conform(chunk.with_columns(seen=pl.lit(LAST_DAY), edits=pl.lit([], pl.List(S.EDIT_STRUCT))), S.CLEANED_SCHEMA)
    cfg = with_overrides(PipelineConfig(), {"dedup": {"window_days": window_days}})
    lookup = {"seconds": 0.0, "cpu_seconds": 0.0}
    query, cached = cluster_module.candidate_index_query, index_cache.lookup

    def timed(fn: Callable) -> Callable:
        def run(*args: Any, **kwargs: Any) -> Any:
            cpu, wall = _cpu(), time.perf_counter()
            out = fn(*args, **kwargs)
            if isinstance(out, pl.LazyFrame):  # collected here, so its time is the lookup's own
                out = out.collect(engine="streaming").lazy()
            lookup["seconds"] += time.perf_counter() - wall
            lookup["cpu_seconds"] += _cpu() - cpu
            return out

        return run

    # the lookup: the band-key cache's answer, then the candidate rows read from the table
    cluster_module.candidate_index_query = timed(query)
    index_cache.lookup = timed(cached)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    clustered, new_index, _ = cluster_run(kept, Storage(root), cfg)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    joined = clustered.filter(~pl.col(S.CLUSTER_ID).is_in(new_index.filter("is_canonical")["cluster_id"].implode()))
    return {
        "seconds": round(seconds, 2),
        "lookup_seconds": round(lookup["seconds"], 2),  # the key cache's answer and the candidate rows read
        "lookup_cpu_seconds": round(lookup["cpu_seconds"], 2),
        # CPU time of all the process's threads: what a loaded machine changes least
        "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        "joined_indexed_clusters": joined.height,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_mb": round(before.ru_maxrss / 1024, 1),
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--windows", type=int, nargs="+", default=[30, 7, 0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print only the figures, as one JSON line")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out" / "index")
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)  # child: build one size
    parser.add_argument("--time", type=int, help=argparse.SUPPRESS)  # child: time one size
    parser.add_argument("--window", type=int, default=30, help=argparse.SUPPRESS)
    parser.add_argument(
        "--recent-only",
        type=int,
        nargs="*",
        default=[],
        help=f"sizes written only for the last {RECENT_DAYS} days (timed with the window only; too large to write whole here)",
    )
    parser.add_argument("--recent", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build is not None:
        t0 = time.perf_counter()
        build(args.cache / _name(args.build, args.recent), args.build, RECENT_DAYS if args.recent else None)
        root = args.cache / _name(args.build, args.recent)
        print(json.dumps({"built_seconds": round(time.perf_counter() - t0, 1), "cache_seconds": float((root / "_CACHE_SECONDS").read_text())}))
        return {}
    if args.time is not None:
        print(json.dumps(run_one(args.cache / _name(args.time, args.recent), args.window)))
        return {}
    out: dict = {"chunk_pages": CHUNK_PAGES, "days": DAYS, "sizes": {}}
    for n in args.sizes:
        root = args.cache / str(n)
        if not (root / "_BUILT").exists():
            built = child("--build", str(n), "--cache", str(args.cache))
            out.setdefault("built_seconds", {})[str(n)] = built["built_seconds"]
            out.setdefault("cache_seconds", {})[str(n)] = built["cache_seconds"]
    for n in args.sizes:
        out["sizes"][str(n)] = {}
    for w in args.windows:
        for _ in range(args.repeats):  # sizes interleaved, so a noisy minute hits them alike
            for n in args.sizes:
                res = child("--time", str(n), "--window", str(w), "--cache", str(args.cache))
                out["sizes"][str(n)].setdefault(f"window_{w}", []).append(res)
                if not args.json:
                    print(n, f"window_days={w}", json.dumps(res), flush=True)
    base = str(args.sizes[0])
    for by_window in out["sizes"].values():
        for key, runs in list(by_window.items()):
            by_window[key] = summary(runs)
    for by_window in out["sizes"].values():
        for key, fig in by_window.items():
            fig.update(ratios(fig, out["sizes"][base][key], base))
    for n in args.recent_only:  # windowed runs only: the unwritten days are outside every window
        name = _name(n, True)
        if not ((args.cache / name) / "_BUILT").exists():
            built = child("--build", str(n), "--recent", "--cache", str(args.cache))
            out.setdefault("built_seconds", {})[name] = built["built_seconds"]
            out.setdefault("cache_seconds", {})[name] = built["cache_seconds"]
        out["sizes"][name] = {}
        for w in [w for w in args.windows if 0 < w <= RECENT_DAYS - 5]:
            runs = [child("--time", str(n), "--recent", "--window", str(w), "--cache", str(args.cache)) for _ in range(args.repeats)]
            fig = {**summary(runs), "written_days": RECENT_DAYS}
            if f"window_{w}" in out["sizes"][base]:
                fig.update(ratios(fig, out["sizes"][base][f"window_{w}"], base))
            out["sizes"][name][f"window_{w}"] = fig
            if not args.json:
                print(name, f"window_days={w}", json.dumps(fig), flush=True)
    print(json.dumps(out) if args.json else json.dumps(out, indent=1))
    return out


def summary(runs: list[dict]) -> dict:
    """The figures of one size and setting from its repeated runs (medians; the peak RSS of any)."""
    return {
        "median_seconds": statistics.median(r["seconds"] for r in runs),
        "median_cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
        "median_lookup_seconds": statistics.median(r["lookup_seconds"] for r in runs),
        "median_lookup_cpu_seconds": statistics.median(r["lookup_cpu_seconds"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "joined_indexed_clusters": runs[0]["joined_indexed_clusters"],
        "runs": [r["seconds"] for r in runs],
    }


def ratios(fig: dict, ref: dict, base: str) -> dict:
    """Wall, CPU and lookup-CPU ratios of ``fig`` against ``ref`` (the same setting on index size ``base``)."""
    return {
        f"ratio_vs_{base}": round(fig["median_seconds"] / ref["median_seconds"], 3),
        f"cpu_ratio_vs_{base}": round(fig["median_cpu_seconds"] / ref["median_cpu_seconds"], 3),
        f"lookup_cpu_ratio_vs_{base}": round(fig["median_lookup_cpu_seconds"] / max(ref["median_lookup_cpu_seconds"], 0.01), 3),
    }


def _name(n: int, recent: bool) -> str:
    return f"{n}-last{RECENT_DAYS}days" if recent else str(n)


if __name__ == "__main__":
    main()
