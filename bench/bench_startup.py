"""Start-up: wall and CPU time of a one-off `newsclean run` on the five seed pages with no server.

Runs ``newsclean run --input data/raw --output OUT --no-progress`` with no ``PREFECT_API_URL``
and no recorded server (its own PREFECT_HOME under bench/out/, kept between runs as the
Makefile's is), alternately with ``--engine local`` and ``--engine prefect`` (the temporary
server path, the only one before the local engine), after one warm-up run of each. Also times
``python -c 'import flows.cli'`` (the floor of any command) and ``python -c pass``.

Figures are medians over ``--repeats``; CPU seconds are the child's user+system time (the
temporary server's included: the CLI reaps it). The ratio local/prefect is of the same run.
Usage: python bench/bench_startup.py [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / "bench" / "out" / "startup-prefect-home"


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL" and not k.startswith("PREFECT__") and k != "NEWSCLEAN_ENGINE"}
    env.update(PREFECT_HOME=str(HOME), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child and its reaped children); raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {res.returncode}: {res.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_cmd(out: Path, engine: str) -> list[str]:
    shutil.rmtree(out, ignore_errors=True)
    return [sys.executable, "-m", "flows.cli", "run", "--input", "data/raw", "--output", str(out), "--no-progress", "--engine", engine]


def _summary(samples: list[tuple[float, float]]) -> dict:
    return {
        "median_wall_s": statistics.median(w for w, _ in samples),
        "median_cpu_s": statistics.median(c for _, c in samples),
        "wall_s": [round(w, 2) for w, _ in samples],
        "cpu_s": [round(c, 2) for _, c in samples],
    }


def bench(repeats: int) -> dict:
    HOME.mkdir(parents=True, exist_ok=True)
    samples: dict[str, list[tuple[float, float]]] = {"local": [], "prefect": [], "import_flows_cli": [], "python": []}
    with tempfile.TemporaryDirectory(prefix="newsclean-startup-") as tmp:
        out = Path(tmp) / "out"
        for engine in ("local", "prefect"):  # warm-up: caches, the Prefect database
            timed(run_cmd(out, engine))
        for _ in range(repeats):  # alternated, so that load changes hit both alike
            for engine in ("local", "prefect"):
                samples[engine].append(timed(run_cmd(out, engine)))
            samples["import_flows_cli"].append(timed([sys.executable, "-c", "import flows.cli"]))
            samples["python"].append(timed([sys.executable, "-c", "pass"]))
    result = {k: _summary(v) for k, v in samples.items()}
    result["repeats"] = repeats
    result["load_avg_1m"] = os.getloadavg()[0]
    result["wall_ratio_local_vs_prefect"] = result["local"]["median_wall_s"] / result["prefect"]["median_wall_s"]
    result["cpu_ratio_local_vs_prefect"] = result["local"]["median_cpu_s"] / result["prefect"]["median_cpu_s"]
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = ap.parse_args(argv)
    result = bench(args.repeats)
    if args.json:
        print(json.dumps(result))
        return 0
    for key in ("local", "prefect", "import_flows_cli", "python"):
        r = result[key]
        print(f"{key:<18} wall {r['median_wall_s']:6.2f} s  CPU {r['median_cpu_s']:6.2f} s  (walls {r['wall_s']})")
    print(f"local / prefect: wall x{result['wall_ratio_local_vs_prefect']:.2f}, CPU x{result['cpu_ratio_local_vs_prefect']:.2f} (load {result['load_avg_1m']:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
