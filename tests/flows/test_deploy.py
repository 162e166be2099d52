"""The deployment path against a real local Prefect server started by the test.

`prefect server start` (own PREFECT_HOME in tmp) -> `prefect work-pool create` ->
`prefect deploy --all` (this repository's prefect.yaml) -> `prefect deployment run` -> a worker
with `--run-once` runs it; and `newsclean serve` picks up a run of its served deployment.
Every process is bounded by a timeout and killed (with its process group) at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from flows.server import free_port, health_ok, wait_healthy

pytestmark = [pytest.mark.slow, pytest.mark.flows]

ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]
UUID_RE = re.compile(r"UUID: ([0-9a-f-]{36})")
TABLES = ("articles", "duplicates", "rejected")


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A real `prefect server start` on a free loopback port; yields (api_url, env for clients)."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL" and not k.startswith("PREFECT__")}
    base.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", PYTHONPATH=str(ROOT))
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen(
        [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=base, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_healthy(api_url, 180, proc)
        yield api_url, {**base, "PREFECT_API_URL": api_url}
    finally:
        _kill(proc)
        log.close()


def _prefect(args: list[str], env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    res = subprocess.run([*PREFECT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"prefect {' '.join(args)}:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _flow_run(api_url: str, run_id: str) -> dict:
    import httpx

    return httpx.get(f"{api_url}/flow_runs/{run_id}", timeout=10).json()


def _wait_final(api_url: str, run_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _flow_run(api_url, run_id)
        if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        time.sleep(1)
    raise AssertionError(f"flow run {run_id} did not finish in {timeout:.0f} s: {run['state_type']}")


def _inputs(tmp_path: Path, seeds_dir: Path) -> tuple[Path, int]:
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in sorted(seeds_dir.glob("*.txt")):
        shutil.copy(p, raw / p.name)
    return raw, len(list(raw.iterdir()))


def _check_tables(out: Path, n_inputs: int) -> None:
    for table in TABLES:
        assert (out / table / "_delta_log").is_dir(), table
    # every input ends as exactly one row somewhere (article, copy or reject)
    assert sum(pl.read_delta(str(out / t)).height for t in TABLES) == n_inputs


def test_deploy_all_and_worker_run(prefect_server, tmp_path, seeds_dir):
    api_url, env = prefect_server
    yaml_before = (ROOT / "prefect.yaml").read_text()
    _prefect(["work-pool", "create", "newsclean", "--type", "process"], env)
    res = _prefect(["--no-prompt", "deploy", "--all"], env)
    for name in ("newsclean-ingest/ccnews-daily", "newsclean-ingest/feeds-hourly", "newsclean-backfill/backfill"):
        assert name in res.stdout
    assert (ROOT / "prefect.yaml").read_text() == yaml_before  # deploying does not rewrite the file

    raw, n_inputs = _inputs(tmp_path, seeds_dir)
    out = tmp_path / "out"
    res = _prefect(["deployment", "run", "newsclean-ingest/ccnews-daily", "--params", json.dumps({"inputs": [str(raw)], "output": str(out)})], env)
    run_id = UUID_RE.search(res.stdout).group(1)
    _prefect(["worker", "start", "--pool", "newsclean", "--run-once"], env, timeout=300)
    run = _wait_final(api_url, run_id, 60)
    assert run["state_type"] == "COMPLETED", run["state"]
    _check_tables(out, n_inputs)

    # the schedules arrived: daily CC-NEWS active, hourly feeds paused until feeds are set
    import httpx

    deps = httpx.post(f"{api_url}/deployments/filter", json={}, timeout=10).json()
    crons = {d["name"]: [(s["schedule"]["cron"], s["active"]) for s in d["schedules"]] for d in deps}
    assert crons["ccnews-daily"] == [("30 2 * * *", True)]
    assert crons["feeds-hourly"] == [("5 * * * *", False)]
    assert crons["backfill"] == []


def test_served_flow_runs_a_triggered_run(prefect_server, tmp_path, seeds_dir):
    api_url, env = prefect_server
    raw, n_inputs = _inputs(tmp_path, seeds_dir)
    out = tmp_path / "out"
    log = open(tmp_path / "serve.log", "wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", "--cron", "0 3 * * *", "--input", str(raw), "--output", str(out), "--name", "served-test"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        import httpx

        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            r = httpx.get(f"{api_url}/deployments/name/newsclean-ingest/served-test", timeout=10)
            if r.status_code == 200:
                break
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(1)
        else:
            raise AssertionError("newsclean serve did not register its deployment")
        assert [s["schedule"]["cron"] for s in r.json()["schedules"]] == ["0 3 * * *"]
        res = _prefect(["deployment", "run", "newsclean-ingest/served-test"], env)
        run_id = UUID_RE.search(res.stdout).group(1)
        run = _wait_final(api_url, run_id, 240)
        assert run["state_type"] == "COMPLETED", (tmp_path / "serve.log").read_text()[-3000:]
        _check_tables(out, n_inputs)
    finally:
        _kill(serve)
        log.close()
    assert health_ok(api_url)
