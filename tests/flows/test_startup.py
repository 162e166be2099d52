"""Start-up: which Prefect API a run uses, the recorded background server, and one-off runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from flows import server

ROOT = Path(__file__).resolve().parents[2]
NEWSCLEAN = [sys.executable, "-m", "flows.cli"]


class _Health(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        ok = self.path == "/api/health"
        self.send_response(200 if ok else 404)
        self.end_headers()
        self.wfile.write(b"true" if ok else b"")

    def log_message(self, *args):
        pass


@pytest.fixture
def health_stub():
    """A loopback server answering /api/health like Prefect's; yields its API URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/api"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    monkeypatch.setenv("PREFECT_API_URL", "unset")  # so that teardown restores the original
    monkeypatch.delenv("PREFECT_API_URL")
    (tmp_path / "prefect-home").mkdir()
    return tmp_path / "prefect-home"


def _record(home: Path, api_url: str, pid: int = 0) -> None:
    (home / server.SERVER_FILE).write_text(json.dumps({"api_url": api_url, "pid": pid, "log": "", "started_at": 0}))


def test_health_ok(health_stub):
    assert server.health_ok(health_stub)
    assert not server.health_ok(f"http://127.0.0.1:{server.free_port()}/api", timeout=0.5)
    assert not server.health_ok("not a url")


def test_env_url_wins(home, health_stub, monkeypatch):
    _record(home, health_stub)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")
    choice = server.api_for_run(start_temporary=False, prefect_loaded=False)
    assert (choice.source, choice.api_url) == ("env", "http://127.0.0.1:1/api")


def test_recorded_server_is_reused_and_exported(home, health_stub):
    _record(home, health_stub)
    choice = server.api_for_run(start_temporary=False, prefect_loaded=False)
    assert (choice.source, choice.api_url) == ("recorded", health_stub)
    assert os.environ["PREFECT_API_URL"] == health_stub  # worker processes inherit it


@pytest.mark.parametrize("content", ["gone", "{not json", ""], ids=["dead-server", "corrupt", "empty"])
def test_unusable_record_falls_back(home, content):
    if content == "gone":
        _record(home, f"http://127.0.0.1:{server.free_port()}/api")
    else:
        (home / server.SERVER_FILE).write_text(content)
    choice = server.api_for_run(start_temporary=False, prefect_loaded=False)
    assert choice.source == "prefect" and choice.api_url is None
    assert "PREFECT_API_URL" not in os.environ


def test_loaded_prefect_keeps_its_settings(home, health_stub):
    _record(home, health_stub)
    choice = server.api_for_run(prefect_loaded=True)  # the session harness sets the URL
    assert choice.source == "harness" and choice.api_url and choice.api_url != health_stub


def test_stop_without_record(home):
    assert server.stop_background_server() is None
    assert server.server_status()["recorded"] is False


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL" and not k.startswith("PREFECT__")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", PYTHONPATH=str(ROOT))
    return env


def _newsclean(args: list[str], env: dict, timeout: float = 240) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.perf_counter()
    res = subprocess.run([*NEWSCLEAN, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return res, time.perf_counter() - t0


def _rows(out: Path) -> int:
    return sum(pl.read_delta(str(out / t)).height for t in ("articles", "duplicates", "rejected"))


@pytest.mark.slow
def test_one_off_runs_temporary_then_recorded_server(tmp_path, seeds_dir):
    """With no server, the default engine runs locally and `--engine prefect` boots a temporary
    server; after `server start` runs reuse it (the default engine then is Prefect); `stop` ends it."""
    home = tmp_path / "prefect-home"
    env = _env(home)
    raw = tmp_path / "raw"
    shutil.copytree(seeds_dir, raw, ignore=shutil.ignore_patterns("*.json"))
    n_inputs = len([p for p in raw.rglob("*") if p.is_file()])

    res, t_local = _newsclean(["run", "--input", str(raw), "--output", str(tmp_path / "o0"), "--json", "--no-progress"], env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "engine: local (no Prefect API)" in res.stderr and "prefect api:" not in res.stderr
    assert _rows(tmp_path / "o0") == n_inputs

    res, t_temp = _newsclean(["run", "--input", str(raw), "--output", str(tmp_path / "o1"), "--json", "--no-progress", "--engine", "prefect"], env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "(temporary)" in res.stderr
    assert _rows(tmp_path / "o1") == n_inputs

    try:
        res, _ = _newsclean(["server", "start"], env)
        assert res.returncode == 0, res.stdout + res.stderr
        rec = json.loads((home / server.SERVER_FILE).read_text())
        assert server.health_ok(rec["api_url"])
        res, _ = _newsclean(["server", "start"], env)  # idempotent: the same server
        assert "already running" in res.stdout and json.loads((home / server.SERVER_FILE).read_text())["pid"] == rec["pid"]

        res, t_reuse = _newsclean(["run", "--input", str(raw), "--output", str(tmp_path / "o2"), "--json", "--no-progress"], env)
        assert res.returncode == 0, res.stderr[-3000:]
        assert f"{rec['api_url']} (recorded)" in res.stderr
        assert "Starting temporary server" not in res.stderr
        assert _rows(tmp_path / "o2") == n_inputs
        print(f"one-off run: local engine {t_local:.1f} s, temporary server {t_temp:.1f} s, recorded server {t_reuse:.1f} s")
    finally:
        res, _ = _newsclean(["server", "stop"], env, timeout=60)
    assert res.returncode == 0 and "stopped" in res.stdout
    assert not server.health_ok(rec["api_url"], timeout=0.5)
    res, _ = _newsclean(["server", "status"], env, timeout=60)
    assert res.returncode == 1


def test_serve_without_server_explains(tmp_path):
    env = _env(tmp_path / "prefect-home")
    res, _ = _newsclean(["serve", "--cron", "0 * * * *", "--input", str(tmp_path)], env, timeout=120)
    assert res.returncode == 2
    assert "no Prefect server" in res.stderr and "newsclean server start" in res.stderr
