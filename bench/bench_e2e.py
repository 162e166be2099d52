"""End-to-end `newsclean run` on generated 10 KB text pages: pages/s and peak RSS as input grows.

    python bench/bench_e2e.py --sizes 10000,100000 [--runner processes] [--repeats 3] [--json]

Each size's pages (bench/run.py::make_pages, streamed to disk) are generated once into
``bench/out/e2e-pages/<n>/`` and reused by later repeats and later invocations (generating 100k
pages takes longer than cleaning them). Each run is one `newsclean run` subprocess into a fresh
output; a wrapper reports the largest peak RSS of the run and of every process it started (the
flow, task workers, the guard). Sizes are run interleaved ``--repeats`` times, and the figures
per size are medians (with min and max), since one run's peak varies by tens of MB. Memory is
flat when the median peak RSS at the largest size is within 20% of the smallest. Throughput is
reported three ways: whole wall time (server and worker start-up included), the flow body alone
(``seconds`` of the run summary), and the steady state between the smallest and largest size
(extra pages over extra wall seconds, so fixed start-up costs cancel).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

WRAPPER = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:])\n"
    "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(r.returncode)\n"
)


def write_pages(folder: Path, n: int, chunk: int = 2000) -> int:
    from run import make_pages

    total = 0
    for start in range(0, n, chunk):
        pages = make_pages(min(chunk, n - start), seed=7 + start)
        sub = folder / f"{start // 10000:04d}"
        sub.mkdir(exist_ok=True)
        for i, page in enumerate(pages):
            (sub / f"p{start + i:07d}.txt").write_bytes(page.data)
            total += len(page.data)
    return total


PAGES_DIR = ROOT / "bench" / "out" / "e2e-pages"


def pages_folder(n: int) -> tuple[Path, int]:
    """The folder of ``n`` generated pages (made once, reused while its marker says complete) and their bytes."""
    folder = PAGES_DIR / str(n)
    marker = PAGES_DIR / f"{n}.complete"  # beside the folder: a file inside would be an input
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        marker.write_text(str(write_pages(folder, n)))
    return folder, int(marker.read_text())


def run_size(n: int, runner: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"newsclean-e2e-{n}-"))
    try:
        raw, nbytes = pages_folder(n)
        out = tmp / "out"
        cmd = [sys.executable, "-c", WRAPPER, sys.executable, "-m", "flows.cli", "run", "--input", str(raw), "--output", str(out), "--no-progress", "--json", "--runner", runner]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ))
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            return {"pages": n, "error": res.stderr[-2000:]}
        rss_mb = int(res.stderr.rsplit("MAXRSS_KB", 1)[1].split()[0]) / 1024
        summary = json.loads(res.stdout[res.stdout.index("{") :])
        flow_s = float(summary["seconds"])  # the flow body: after server start-up and imports
        return {
            "pages": n,
            "mean_page_bytes": nbytes // n,
            "runner": runner,
            "seconds": wall,
            "pages_per_s": n / wall,
            "flow_seconds": flow_s,
            "flow_pages_per_s": n / flow_s,
            "timings": summary.get("timings", {}),
            "peak_rss_mb": rss_mb,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--runner", default="processes")
    ap.add_argument("--repeats", type=int, default=1, help="runs per size, interleaved; figures are medians")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    sizes = [int(n) for n in args.sizes.split(",") if n]
    results = [run_size(n, args.runner) for _ in range(max(args.repeats, 1)) for n in sizes]
    ok = [r for r in results if "error" not in r]
    summary: dict = {"runs": results, "sizes": {}}
    for n in sizes:
        mine = [r for r in ok if r["pages"] == n]
        if mine:
            rss = [r["peak_rss_mb"] for r in mine]
            secs = [r["seconds"] for r in mine]
            summary["sizes"][str(n)] = {
                "runs": len(mine),
                "peak_rss_mb": statistics.median(rss),
                "peak_rss_mb_min": min(rss),
                "peak_rss_mb_max": max(rss),
                "seconds": statistics.median(secs),
                "pages_per_s": n / statistics.median(secs),
            }
    if len(summary["sizes"]) >= 2:
        small, large = summary["sizes"][str(sizes[0])], summary["sizes"][str(sizes[-1])]
        summary["peak_rss_growth"] = large["peak_rss_mb"] / small["peak_rss_mb"] - 1
        # steady state: the extra pages over the extra time, so fixed start-up costs cancel
        summary["marginal_pages_per_s"] = (sizes[-1] - sizes[0]) / (large["seconds"] - small["seconds"])
    results_file = ROOT / "bench" / "results.json"
    try:
        stored = json.loads(results_file.read_text()) if results_file.exists() else {}
    except json.JSONDecodeError:
        stored = {}
    stored["e2e"] = summary
    results_file.write_text(json.dumps(stored, indent=2))
    if args.json:
        print(json.dumps(summary))
    else:
        for r in results:
            print(json.dumps(r))
        for n, fig in summary["sizes"].items():
            print(
                f"{n} pages: median of {fig['runs']}: {fig['seconds']:.1f} s ({fig['pages_per_s']:.0f} pages/s), "
                f"peak RSS {fig['peak_rss_mb']:.0f} MB (min {fig['peak_rss_mb_min']:.0f}, max {fig['peak_rss_mb_max']:.0f})"
            )
        if "peak_rss_growth" in summary:
            print(f"peak RSS growth {sizes[0]} -> {sizes[-1]} pages (medians): {100 * summary['peak_rss_growth']:.1f}%")
            print(f"steady state (extra pages / extra seconds): {summary['marginal_pages_per_s']:.0f} pages/s")
    return 0 if len(ok) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
