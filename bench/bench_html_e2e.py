"""HTML pages end to end (issue 16): `newsclean run` vs `trafilatura.extract` in one process.

    python bench/bench_html_e2e.py [--pages DIR] [--limit N] [--json] [--old-src DIR] [--skip-run]

Over the same real pages (WCXB dev by default: ``../shared/eval/wcxb-dev/html/*.html.gz``):
- ``trafilatura``: one fresh Python process that imports trafilatura, reads and gunzips every page
  and calls ``trafilatura.extract`` on it (start-up included), the acceptance baseline;
- ``newsclean``: `newsclean run --input DIR` into a fresh output (start-up, the Prefect engine,
  cleaning, dedup and the Delta commits included), with the flow body's own time (``seconds`` of
  the run summary) and its clean/dedup/write timings.
Both report wall seconds and CPU seconds (this process's children: every process the command
started and waited for); CPU / wall over the cores tells how busy they were.
- ``per_page``: CPU per page in one process, ``trafilatura.extract`` vs newsclean's clean of one
  page (``clean_rows``), measured alternately in the same process (ratio of CPU seconds, robust
  to other load on the machine); ``--old-src`` also measures a checkout of older code the same
  way, in its own process, so a change's before/after ratios come from one bench run.
The machine's load average is recorded before and after: on a shared machine the wall figures
carry the other load, the CPU ratios much less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAGES = ROOT.parent / "shared" / "eval" / "wcxb-dev" / "html"
# `newsclean` of this checkout (the console script runs the installed package, which may be another
# checkout): the flows package as a module, with this checkout first on the path of it and its workers
NEWSCLEAN = [sys.executable, "-m", "flows"]

# The baseline process: trafilatura.extract over every page of argv[1] (the first argv[2] of them).
TRAFILATURA_SCRIPT = """
import gzip, logging, sys
from pathlib import Path
logging.disable(logging.CRITICAL)
import trafilatura
files = sorted(Path(sys.argv[1]).glob("*.html*"))[: int(sys.argv[2])]
for f in files:
    data = f.read_bytes()
    trafilatura.extract(gzip.decompress(data) if f.name.endswith(".gz") else data)
"""

# Per-page CPU in one process: clean_rows (the code on sys.path[0] = argv[1]) vs trafilatura.extract,
# alternating over the pages of argv[2] (the first argv[3]); one JSON line out.
PER_PAGE_SCRIPT = """
import gzip, json, logging, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
logging.disable(logging.CRITICAL)
import trafilatura
from cleaners.config import PipelineConfig
from cleaners.decode import decode_bytes
from cleaners.document import RawPage, clean_rows
from cleaners.steps import Stats
files = sorted(Path(sys.argv[2]).glob("*.html*"))[: int(sys.argv[3])]
cfg = PipelineConfig()
pages = [RawPage(source=str(f), data=gzip.decompress(f.read_bytes()) if f.name.endswith(".gz") else f.read_bytes(), name=f.name.removesuffix(".gz"), format="html") for f in files]
texts = [decode_bytes(p.data, cfg.load).text for p in pages]
clean_rows(pages[:5], cfg, Stats()); [trafilatura.extract(t) for t in texts[:5]]  # warm (imports, models)
ours = base = 0.0
for page, text in zip(pages, texts):
    c = time.process_time(); trafilatura.extract(text); base += time.process_time() - c
    c = time.process_time(); clean_rows([page], cfg, Stats()); ours += time.process_time() - c
print(json.dumps({"pages": len(pages), "trafilatura_cpu_s": base, "newsclean_cpu_s": ours, "cpu_ratio": ours / base}))
"""


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall and CPU seconds (children, waited for) of one command, and its result."""
    c0, t0 = children_cpu(), time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    return time.perf_counter() - t0, children_cpu() - c0, res


def input_folder(pages: Path, limit: int, tmp: Path) -> Path:
    """``pages`` itself when it holds at most ``limit`` pages, else a folder of links to the first ``limit``."""
    files = sorted(pages.glob("*.html*"))
    if len(files) <= limit:
        return pages
    folder = tmp / "pages"
    folder.mkdir()
    for f in files[:limit]:
        (folder / f.name).symlink_to(f)
    return folder


def bench_trafilatura(folder: Path, n: int) -> dict:
    wall, cpu, res = timed([sys.executable, "-c", TRAFILATURA_SCRIPT, str(folder), str(n)])
    if res.returncode:
        return {"error": res.stderr[-500:]}
    return {"wall_s": wall, "cpu_s": cpu}


def bench_newsclean(folder: Path, tmp: Path, runner: str | None) -> dict:
    out = tmp / "out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [*NEWSCLEAN, "run", "--input", str(folder), "--output", str(out), "--no-progress", "--json"]
    if runner:
        cmd += ["--runner", runner]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    wall, cpu, res = timed(cmd, env=env)
    if res.returncode:
        return {"error": (res.stderr or res.stdout)[-800:]}
    summary = json.loads(res.stdout[res.stdout.index("{") :])
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "cores_busy": cpu / wall,  # CPU seconds per wall second over the whole command
        "flow_body_s": summary.get("seconds"),
        "timings": summary.get("timings"),
        "pages_read": summary.get("pages_read"),
        "articles": summary.get("articles"),
        "rejected": summary.get("rejected"),
    }


def per_page(src: Path, folder: Path, n: int) -> dict:
    res = subprocess.run([sys.executable, "-c", PER_PAGE_SCRIPT, str(src), str(folder), str(n)], capture_output=True, text=True, cwd=src)
    if res.returncode:
        return {"error": res.stderr[-500:]}
    return json.loads(res.stdout.strip().splitlines()[-1])


def run(pages: Path = DEFAULT_PAGES, limit: int = 100_000, old_src: Path | None = None, per_page_limit: int = 300, skip_run: bool = False, runner: str | None = None) -> dict:
    files = sorted(pages.glob("*.html*"))
    if not files:
        return {"skipped": f"no pages in {pages}"}
    n = min(len(files), limit)
    out: dict = {"pages": n, "cpus": os.cpu_count(), "load_avg_1m_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        folder = input_folder(pages, n, tmp)
        if not skip_run:
            out["trafilatura"] = bench_trafilatura(folder, n)
            out["newsclean"] = bench_newsclean(folder, tmp, runner)
            t, r = out["trafilatura"], out["newsclean"]
            if "error" not in t and "error" not in r:
                out["wall_ratio"] = r["wall_s"] / t["wall_s"]  # the acceptance figure (<= 0.6)
                out["cpu_ratio"] = r["cpu_s"] / t["cpu_s"]
                if r.get("flow_body_s"):
                    out["flow_body_wall_ratio"] = r["flow_body_s"] / t["wall_s"]
        m = min(n, per_page_limit)
        out["per_page"] = {"now": per_page(ROOT, folder, m)}
        if old_src is not None:
            out["per_page"]["old"] = per_page(old_src, folder, m)
    out["load_avg_1m_after"] = os.getloadavg()[0]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=Path, default=DEFAULT_PAGES, help="folder of .html/.html.gz pages")
    ap.add_argument("--limit", type=int, default=100_000, help="first N pages (sorted by name)")
    ap.add_argument("--per-page-limit", type=int, default=300, help="pages for the per-page CPU ratio")
    ap.add_argument("--old-src", type=Path, help="a checkout of older code to measure per page too")
    ap.add_argument("--skip-run", action="store_true", help="only the per-page CPU ratios")
    ap.add_argument("--runner", help="newsclean run --runner")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = run(args.pages, args.limit, args.old_src, args.per_page_limit, args.skip_run, args.runner)
    if args.json:
        print(json.dumps(res))
        return 0
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
