"""End-to-end `newsclean run` on generated 10 KB text pages: pages/s and peak RSS as input grows.

    python bench/bench_e2e.py --sizes 10000,100000 [--runner processes] [--json]

Each size is written to a temporary folder (the pages of bench/run.py::make_pages, streamed to
disk), then one `newsclean run` subprocess cleans it into a fresh output; a wrapper reports the
largest peak RSS of the run and of every process it started (the flow, task workers, the guard).
Memory is flat when the peak RSS at the largest size is within 20% of the smallest. Throughput is
reported three ways: whole wall time (server and worker start-up included), the flow body alone
(``seconds`` of the run summary), and the steady state between the smallest and largest size
(extra pages over extra wall seconds, so fixed start-up costs cancel).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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


def run_size(n: int, runner: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"newsclean-e2e-{n}-"))
    try:
        raw, out = tmp / "raw", tmp / "out"
        raw.mkdir()
        nbytes = write_pages(raw, n)
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
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    results = [run_size(int(n), args.runner) for n in args.sizes.split(",") if n]
    ok = [r for r in results if "error" not in r]
    summary = {"runs": results}
    if len(ok) >= 2:
        small, large = ok[0], ok[-1]
        summary["peak_rss_growth"] = large["peak_rss_mb"] / small["peak_rss_mb"] - 1
        # steady state: the extra pages over the extra time, so fixed start-up costs cancel
        summary["marginal_pages_per_s"] = (large["pages"] - small["pages"]) / (large["seconds"] - small["seconds"])
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
        if "peak_rss_growth" in summary:
            print(f"peak RSS growth {ok[0]['pages']} -> {ok[-1]['pages']} pages: {100 * summary['peak_rss_growth']:.1f}%")
            print(f"steady state (extra pages / extra seconds): {summary['marginal_pages_per_s']:.0f} pages/s")
    return 0 if len(ok) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
