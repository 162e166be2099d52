"""Which Prefect API a command talks to, and a background server to reuse between runs.

Prefect needs an API for every flow run. Without ``PREFECT_API_URL`` it starts a temporary
server inside each process (several seconds before any work; README, benchmarks) and stops it at exit. The order
``api_for_run`` follows, cheapest first:

1. ``PREFECT_API_URL`` is set: use it (a ``prefect server start`` or Prefect Cloud).
2. ``newsclean server start`` left a server whose URL is recorded in
   ``$PREFECT_HOME/newsclean-server.json`` and it answers ``/api/health``: export its URL.
3. Otherwise start a temporary server (the same uvicorn app Prefect starts for itself) as a
   subprocess right away, export its URL, and let the caller import the flow code and plan its
   inputs while the server boots; ``wait()`` before the flow starts, ``stop()`` at exit.

Exporting the URL before Prefect is imported matters: Prefect reads its settings once, and
worker processes (``--runner processes|dask``) inherit the variable instead of each starting
a temporary server of their own.

This module imports nothing from Prefect at load time (the CLI calls it first, to win time).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from flows.liveness import die_with_parent, pid_alive

SERVER_FILE = "newsclean-server.json"
SERVER_LOG = "newsclean-server.log"
HEALTH_TIMEOUT_SECONDS = 1.0
START_TIMEOUT_SECONDS = 120.0  # a cold server on a busy 2-core machine
QUIET_ENV = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


class ServerError(RuntimeError):
    """A Prefect server did not start or answer in time."""


def prefect_home() -> Path:
    """``PREFECT_HOME`` (as Prefect resolves it: default ``~/.prefect``)."""
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def health_ok(api_url: str, timeout: float = HEALTH_TIMEOUT_SECONDS) -> bool:
    """True when ``{api_url}/health`` answers 200 (``api_url`` ends in ``/api``)."""
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_healthy(api_url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Poll ``/health`` until it answers; ServerError after ``timeout`` s or if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if health_ok(api_url, timeout=min(HEALTH_TIMEOUT_SECONDS, max(deadline - time.monotonic(), 0.05))):
            return
        if proc is not None and proc.poll() is not None:
            raise ServerError(f"the Prefect server at {api_url} exited with code {proc.returncode}")
        time.sleep(0.1)
    raise ServerError(f"the Prefect server at {api_url} did not answer /api/health within {timeout:.0f} s")


def free_port(host: str = "127.0.0.1") -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


# --- the recorded background server (newsclean server start|stop|status) -------------------


def record_path(home: Path | None = None) -> Path:
    return (home or prefect_home()) / SERVER_FILE


def read_record(home: Path | None = None) -> dict | None:
    """The recorded server ``{"api_url", "pid", "log", "started_at"}``, or None."""
    try:
        data = json.loads(record_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("api_url"), str) else None


def recorded_api_url(home: Path | None = None) -> str | None:
    """The recorded server's API URL if it answers /api/health, else None."""
    rec = read_record(home)
    return rec["api_url"] if rec and health_ok(rec["api_url"]) else None



def start_background_server(
    host: str = "127.0.0.1", port: int | None = None, home: Path | None = None, timeout: float = START_TIMEOUT_SECONDS
) -> dict:
    """Start ``prefect server start`` detached (its own session), record its URL, wait for health.

    Returns the record. Reuses a recorded server that still answers instead of starting another.
    """
    home = home or prefect_home()
    current = read_record(home)
    if current and health_ok(current["api_url"]):
        return {**current, "reused": True}
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port(host)
    api_url = f"http://{host}:{port}/api"
    log_path = home / SERVER_LOG
    env = {**os.environ, **QUIET_ENV, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)  # the server itself must not point at another API
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # survives the terminal that started it; stopped as a group
        )
    record = {"api_url": api_url, "pid": proc.pid, "log": str(log_path), "started_at": time.time()}
    record_path(home).write_text(json.dumps(record), encoding="utf-8")
    try:
        wait_healthy(api_url, timeout, proc)
    except ServerError:
        stop_background_server(home)
        raise
    return {**record, "reused": False}


def stop_background_server(home: Path | None = None, timeout: float = 15.0) -> dict | None:
    """Stop the recorded server (SIGTERM to its process group, then SIGKILL); forget it."""
    home = home or prefect_home()
    rec = read_record(home)
    if rec is None:
        return None
    pid = int(rec.get("pid") or 0)
    if pid > 0 and pid_alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it when we are its parent (tests)
            time.sleep(0.1)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        record_path(home).unlink()
    return rec


def server_status(home: Path | None = None) -> dict:
    """``{"recorded": bool, "api_url", "pid", "healthy": bool, "env_api_url"}``."""
    rec = read_record(home) or {}
    return {
        "recorded": bool(rec),
        "api_url": rec.get("api_url"),
        "pid": rec.get("pid"),
        "healthy": bool(rec) and health_ok(rec["api_url"]),
        "env_api_url": os.environ.get("PREFECT_API_URL"),
    }


# --- the API of one command ----------------------------------------------------------------


@dataclass
class TemporaryServer:
    """Prefect's temporary API server, started as a subprocess by us (so it boots in parallel)."""

    api_url: str
    proc: subprocess.Popen

    @classmethod
    def start(cls) -> TemporaryServer:
        import importlib.util

        port = free_port()
        spec = importlib.util.find_spec("prefect")  # the package folder, without importing Prefect
        app_dir = str(Path(spec.origin).parent.parent)
        env = {**os.environ, **QUIET_ENV, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        env.pop("PREFECT_API_URL", None)
        # the command Prefect's own SubprocessASGIServer runs
        cmd = [sys.executable, "-m", "uvicorn", "--app-dir", app_dir, "--factory", "prefect.server.api.server:create_app"]
        cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"]
        # Its own session: Ctrl-C in a terminal signals the whole foreground process group, and
        # the server must outlive the CLI's interrupt long enough to record the flow run's final
        # state; the CLI stops it itself (atexit below). The parent-death signal still ends it
        # when the CLI is SIGKILLed (no exit hooks run then).
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, env=env, start_new_session=True, preexec_fn=die_with_parent)
        server = cls(f"http://127.0.0.1:{port}/api", proc)
        # registered before Prefect is imported, so it runs after Prefect's own exit hooks
        # (which flush logs and events to this server)
        atexit.register(server.stop)
        return server

    def wait(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        wait_healthy(self.api_url, timeout, self.proc)

    def stop(self, wait_seconds: float = 3.0) -> None:
        """SIGTERM (a server ends within a fraction of a second after a run, interrupted or not), then SIGKILL
        after ``wait_seconds``: a server that waits for an open connection must neither hold up
        the CLI nor outlive it in its own session."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=wait_seconds)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL now (a second Ctrl-C): a SIGTERMed server prints tracebacks of the writes it
        cancels; the database is SQLite, whose commits survive a killed writer."""
        if self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)


@dataclass
class ApiChoice:
    """The API a command uses: ``source`` is env, recorded, temporary, prefect or harness."""

    api_url: str | None
    source: str
    server: TemporaryServer | None = None

    def wait(self) -> None:
        if self.server is not None:
            self.server.wait()

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def abandon(self) -> None:
        """Kill the temporary server at once (the command is exiting without cleaning up)."""
        if self.server is not None:
            self.server.kill()
            self.server = None

    def __enter__(self) -> ApiChoice:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def api_for_run(start_temporary: bool = True, prefect_loaded: bool | None = None) -> ApiChoice:
    """Choose the API for a flow run (see the module doc) and export it as ``PREFECT_API_URL``.

    When Prefect is already imported (tests, a notebook; ``prefect_loaded`` overrides the
    check) the environment is left alone: its settings are fixed, and a harness or profile
    may have set the URL.
    """
    if prefect_loaded if prefect_loaded is not None else "prefect" in sys.modules:
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
        return ApiChoice(url, "harness" if url else "prefect")
    env_url = os.environ.get("PREFECT_API_URL")
    if env_url:
        return ApiChoice(env_url, "env")
    recorded = recorded_api_url()
    if recorded:
        os.environ["PREFECT_API_URL"] = recorded
        return ApiChoice(recorded, "recorded")
    if not start_temporary:
        return ApiChoice(None, "prefect")
    server = TemporaryServer.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    return ApiChoice(server.api_url, "temporary", server)


def api_for_serving() -> str | None:
    """A real server's API URL for ``serve``/deployments (env, or recorded and healthy), else None."""
    env_url = os.environ.get("PREFECT_API_URL")
    if env_url:
        return env_url
    recorded = recorded_api_url()
    if recorded:
        os.environ["PREFECT_API_URL"] = recorded
    return recorded
