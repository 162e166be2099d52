"""Peak RSS per phase of the dedup-and-commit chunks, outside Prefect: where a run's memory goes.

    python bench/profile_chunks.py [--chunks 3] [--chunk-pages 10000] [--workers 2]

Generates and cleans ``chunks * chunk-pages`` 10 KB text pages (bench/run.py::make_pages, the
pages of bench_e2e.py), staged as Parquet parts of ``run.batch_size`` rows under
``bench/out/profile-chunks/`` (reused on the next call), then runs ``flows.commit.commit_chunk``
chunk by chunk into a fresh output, as a run's ``ChunkCommitter`` does. Each named phase (the
dedup stages, consensus repair, staging and the Delta inserts) reports the process's exact peak
RSS inside it: the kernel's high-water mark (VmHWM) is read and reset (``/proc/self/clear_refs``)
at every phase boundary, so short spikes are not missed as they are by sampling. RssFile (code
and other file-backed pages) and RssAnon are printed after every chunk. Linux only.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import shutil
import sys
import time
import types
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import flows  # noqa: E402,F401 - sets the allocator environment before polars loads

OUT = ROOT / "bench" / "out" / "profile-chunks"
# Each function is named by the module that defines it; wrap() replaces it in every module that
# imported it too, so calls from sibling modules are measured as well.
PHASES = {
    "cleaners.dedup.batch": ["prepare_batch", "_regroup"],
    "cleaners.dedup.minhash": ["shingle_sets", "minhash"],
    "cleaners.dedup.furniture": ["furniture_mask"],
    "cleaners.dedup.candidates": ["candidate_pairs", "verify"],
    "cleaners.dedup.cluster": ["link_clusters"],
    "cleaners.dedup.index": ["candidate_index_query", "match_index", "index_frame"],
    "cleaners.dedup.consensus": ["repair_clusters"],
    "flows.commit": ["cluster_run", "output_rows"],
}
STORAGE_PHASES = ["stage_commit", "insert_new"]


def _status(*keys: str) -> dict[str, int]:
    with open("/proc/self/status") as fh:
        return {line.split(":")[0]: int(line.split()[1]) // 1024 for line in fh if line.startswith(keys)}


class PhasePeaks:
    """Exact peak RSS (MB) per labelled phase, by reading and resetting VmHWM at each boundary."""

    def __init__(self) -> None:
        self.stack = ["start"]
        self.peaks: dict[str, int] = {}

    def boundary(self) -> None:
        label = self.stack[-1]
        self.peaks[label] = max(self.peaks.get(label, 0), _status("VmHWM")["VmHWM"])
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets the high-water mark to the current RSS

    def wrap(self, owner, name: str, prefix) -> None:
        fn = getattr(owner, name)

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            self.boundary()
            self.stack.append(f"{prefix()}:{name}")
            try:
                return fn(*args, **kwargs)
            finally:
                self.boundary()
                self.stack.pop()

        setattr(owner, name, timed)
        if isinstance(owner, types.ModuleType):
            for module in list(sys.modules.values()):
                if getattr(module, name, None) is fn:
                    setattr(module, name, timed)


def _stage_job(args: tuple[int, int, str]) -> int:
    start, count, folder = args
    from run import make_pages

    from cleaners.config import PipelineConfig
    from cleaners.document import clean_pages

    cfg = PipelineConfig()
    pages = [dataclasses.replace(p, source=f"bench://page/{start + i}") for i, p in enumerate(make_pages(count, seed=7 + start))]
    for b in range(0, count, cfg.run.batch_size):
        frame, _ = clean_pages(pages[b : b + cfg.run.batch_size], cfg)
        frame.write_parquet(Path(folder) / f"part-{start + b:08d}.parquet")
    return start


def stage(n: int, workers: int) -> list[str]:
    folder = OUT / f"staged-{n}"
    marker = OUT / f"staged-{n}.complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        step = 2000
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_stage_job, [(s, min(step, n - s), str(folder)) for s in range(0, n, step)]))
        marker.write_text("")
    return sorted(str(p) for p in folder.glob("part-*.parquet"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, default=3)
    ap.add_argument("--chunk-pages", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)

    import importlib

    import polars as pl

    from cleaners.config import PipelineConfig
    from flows import commit
    from flows.storage import Storage

    cfg = PipelineConfig()
    parts = stage(args.chunks * args.chunk_pages, args.workers)
    per_chunk = max(1, args.chunk_pages // cfg.run.batch_size)
    peaks = PhasePeaks()
    chunk = [0]
    for module, names in PHASES.items():
        mod = importlib.import_module(module)
        for name in names:
            peaks.wrap(mod, name, lambda: chunk[0])
    for name in STORAGE_PHASES:
        peaks.wrap(Storage, name, lambda: chunk[0])
    out = OUT / "tables"
    shutil.rmtree(out, ignore_errors=True)
    storage = Storage(out)
    storage.ensure_tables()  # as clean_and_commit does before the first chunk
    peaks.boundary()
    print("start", _status("RssAnon", "RssFile"))
    for c in range(args.chunks):
        chunk[0] = c + 1
        peaks.stack.append(f"{c + 1}:commit_chunk")
        t0 = time.perf_counter()
        result = commit.commit_chunk(parts[c * per_chunk : (c + 1) * per_chunk], pl.DataFrame(schema=commit.OLD_ROWS_SCHEMA), None, cfg, storage, commit.RunScope())
        peaks.boundary()
        peaks.stack.pop()
        commit.release_memory()
        print(f"chunk {c + 1}: {time.perf_counter() - t0:.1f} s (dedup {result['seconds_dedup']:.1f}, write {result['seconds_write']:.1f})", _status("RssAnon", "RssFile"))
    peaks.boundary()
    by_chunk: dict[str, int] = {}
    for label, mb in peaks.peaks.items():
        key = label.split(":")[0]
        by_chunk[key] = max(by_chunk.get(key, 0), mb)
    print("peak RSS per chunk (MB):", by_chunk)
    for label, mb in peaks.peaks.items():
        print(f"  {label:32s} {mb:6d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
