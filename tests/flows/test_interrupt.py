"""Ctrl-C in a terminal: SIGINT to the whole foreground process group of a command.

Each command runs in a process group of its own (as a shell runs a job) and gets SIGINT with
``os.killpg``, exactly as a terminal sends it. ``newsclean run`` has no PREFECT_API_URL and a
PREFECT_HOME in tmp: by default it runs on the local engine (no server); with ``--engine
prefect`` it starts its own temporary API server, the way a first run did before the local
engine, and the flow run's final state is then read from that server's SQLite database.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.flows

ROOT = Path(__file__).resolve().parents[2]
NEWSCLEAN = [sys.executable, "-m", "flows.cli"]
N_PAGES = 8000  # 16 units of 500: several seconds of cleaning after the first unit starts
START_TIMEOUT = 150.0  # a temporary server and a cold import on a busy 2-core machine
WORDS = "the a of river council budget school storm market police vote union city court water plan minister report".split()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    rng = random.Random(12)
    for i in range(N_PAGES):
        title = f"Story {i}: " + " ".join(rng.choice(WORDS) for _ in range(6))
        paras = [" ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(6)]
        if i % 50:
            (raw / f"p{i:05d}.txt").write_text(title + "\n\n" + "\n\n".join(paras) + "\n")
        else:  # an HTML page in every unit: each clean task starts an extraction worker
            body = "".join(f"<p>{p}</p>" for p in paras)
            (raw / f"p{i:05d}.html").write_text(f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>")
    return raw


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """One PREFECT_HOME for the module: its database is created once, by the first server."""
    return tmp_path_factory.mktemp("prefect-home")


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL" and not k.startswith("PREFECT__")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", PYTHONPATH=str(ROOT))
    return env


class Job:
    """A command in a process group of its own, every descendant noted while it runs."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        with open(log, "wb") as fh:
            self.proc = subprocess.Popen([*NEWSCLEAN, *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        self.pgid = self.proc.pid
        self.seen: dict[int, tuple[psutil.Process, str]] = {}

    def note(self) -> None:
        try:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                # noted again on every poll: one caught between fork and exec shows its parent's command
                with contextlib.suppress(psutil.Error):
                    self.seen[child.pid] = (self.seen.get(child.pid, (child,))[0], " ".join(child.cmdline()))
        except psutil.Error:
            pass

    def wait_for(self, ready, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            self.note()
            assert self.proc.poll() is None, f"exited {self.proc.returncode} early:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"not ready after {timeout:.0f} s:\n{self.output()[-3000:]}"
            time.sleep(0.05)
        self.note()

    def ctrl_c(self) -> None:
        os.killpg(self.pgid, signal.SIGINT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def leftovers(self, grace: float = 5.0) -> list[str]:
        """Processes of the job still running ``grace`` s after it ended: its group and every descendant."""
        deadline = time.monotonic() + grace
        while True:
            alive = {p.pid: cmd for p, cmd in self.seen.values() if _running(p)}
            for p in psutil.process_iter():
                with contextlib.suppress(psutil.Error, ProcessLookupError):
                    if os.getpgid(p.pid) == self.pgid and _running(p):
                        alive[p.pid] = " ".join(p.cmdline())
            if not alive or time.monotonic() > deadline:
                return [cmd[:100] for cmd in alive.values()]
            time.sleep(0.1)

    def kill(self) -> None:
        """Cleanup on any outcome: the group, then every descendant noted (the server has its own session)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signal.SIGKILL)
        for p, _ in self.seen.values():
            with contextlib.suppress(psutil.Error):
                p.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _unit_started(out: Path):
    staging = out / "_state" / "staging"
    return lambda: staging.is_dir() and any(staging.iterdir())


def _run_args(raw: Path, out: Path, engine: str = "prefect") -> list[str]:
    return ["run", "--input", str(raw), "--output", str(out), "--no-progress", "--set", "run.batch_size=500", "--engine", engine]


def _flow_run_states(home: Path, out: Path) -> list[str]:
    """State types of the flow runs writing to ``out``, from the temporary server's database."""
    with contextlib.closing(sqlite3.connect(home / "prefect.db")) as db:
        rows = db.execute("SELECT state_type, parameters FROM flow_run").fetchall()
    return [state for state, params in rows if json.loads(params or "{}").get("output") == str(out)]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["prefect", "local"])
def test_ctrl_c_ends_run_and_its_temporary_server(engine, corpus, home, tmp_path):
    out = tmp_path / "clean"
    job = Job(_run_args(corpus, out, engine), _env(home), tmp_path / "run.log")
    try:
        job.wait_for(lambda: any("flows.guard" in cmd for _, cmd in job.seen.values()))  # a clean task is on its HTML page
        # the terminal's SIGINT must reach neither the server (it has to record the crash first)
        # nor an extraction worker (killed mid-page, it would make the page extract_crashed)
        helpers = {pid: cmd for pid, (_, cmd) in job.seen.items() if "uvicorn" in cmd or "flows.guard" in cmd}
        assert any("uvicorn" in cmd for cmd in helpers.values()) == (engine == "prefect"), job.seen
        assert any("flows.guard" in cmd for cmd in helpers.values()), job.seen
        assert [cmd for pid, cmd in helpers.items() if os.getpgid(pid) == job.pgid] == []
        t0 = time.monotonic()
        job.ctrl_c()
        rc = job.proc.wait(timeout=30)
        took = time.monotonic() - t0
        log = job.output()
        assert rc == 130, log[-3000:]
        assert took < 10, f"{took:.1f} s\n{log[-3000:]}"
        assert "interrupted:" in log and "Traceback" not in log, log[-3000:]
        assert job.leftovers() == []
        if engine == "prefect":  # the server was still up when Prefect recorded the end of the run
            assert _flow_run_states(home, out) in (["CRASHED"], ["CANCELLED"]), log[-3000:]
        # the run was cut short: not every unit was staged
        done = list((out / "_state" / "staging").glob("*/_SUCCESS"))
        assert len(done) < N_PAGES // 500
    finally:
        job.kill()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["prefect", "local"])
def test_second_ctrl_c_exits_at_once(engine, corpus, home, tmp_path):
    out = tmp_path / "clean"
    job = Job(_run_args(corpus, out, engine), _env(home), tmp_path / "run.log")
    try:
        job.wait_for(_unit_started(out))
        t0 = time.monotonic()
        job.ctrl_c()
        time.sleep(0.1)  # the first one's shutdown (crash report, log flush) takes longer than this
        job.ctrl_c()
        rc = job.proc.wait(timeout=30)
        took = time.monotonic() - t0
        log = job.output()
        assert rc == 130, log[-3000:]
        assert took < 5, f"{took:.1f} s\n{log[-3000:]}"
        assert "Traceback" not in log, log[-3000:]
        # the local engine may be done shutting down before the second one (then it is ignored)
        assert "interrupted again: exiting now" in log or engine == "local", log[-3000:]
        assert job.leftovers() == []
    finally:
        job.kill()


@pytest.mark.slow
def test_ctrl_c_stops_serve(tmp_path, seeds_dir):
    """Ctrl-C is how `newsclean serve` is stopped: a clean exit, and the background server it
    used (`newsclean server start`, its own session) is left running for the next command."""
    from flows.server import health_ok, read_record

    env = _env(tmp_path / "prefect-home")
    started = subprocess.run([*NEWSCLEAN, "server", "start"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=START_TIMEOUT)
    assert started.returncode == 0, started.stdout + started.stderr
    job = None
    try:
        job = Job(["serve", "--cron", "0 3 * * *", "--input", str(seeds_dir), "--output", str(tmp_path / "out")], env, tmp_path / "serve.log")
        job.wait_for(lambda: "being served" in job.output())
        t0 = time.monotonic()
        job.ctrl_c()
        rc = job.proc.wait(timeout=30)
        log = job.output()
        assert rc in (0, 130), log[-3000:]
        assert time.monotonic() - t0 < 10, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
        assert job.leftovers() == []
        assert health_ok(read_record(tmp_path / "prefect-home")["api_url"])
    finally:
        if job is not None:
            job.kill()
        subprocess.run([*NEWSCLEAN, "server", "stop"], cwd=ROOT, env=env, capture_output=True, timeout=60)


def test_ctrl_c_handler_raises_first_then_restores():
    from flows.liveness import CtrlC

    before = signal.getsignal(signal.SIGINT)
    calls: list[int] = []
    ctrl_c = CtrlC(last_words=lambda: calls.append(1))
    try:
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        assert ctrl_c.pressed and calls == []  # the second one would call last_words and exit 130
    finally:
        ctrl_c.restore()
    assert signal.getsignal(signal.SIGINT) is before


def test_unit_cut_short_by_ctrl_c_is_not_reused(tmp_path, seeds_dir, monkeypatch):
    """Ctrl-C during a unit's last page: the task stops before _SUCCESS, so the next run redoes
    the unit instead of committing what an interrupted fetch or extraction left."""
    from cleaners.config import parse_config
    from flows import staging
    from flows.liveness import INTERRUPTED, Interrupted
    from flows.sources import discover_files, plan_units
    from flows.storage import Storage

    cfg = parse_config(None, {})
    [unit] = plan_units(discover_files([seeds_dir]), cfg)
    every_page = staging.unit_pages

    def pages_then_ctrl_c(*args):
        yield from every_page(*args)
        INTERRUPTED.set()  # pressed while the last page was being cleaned

    monkeypatch.setattr(staging, "unit_pages", pages_then_ctrl_c)
    try:
        with pytest.raises(Interrupted):
            staging.clean_unit.fn(unit, cfg, str(tmp_path / "out"))
    finally:
        INTERRUPTED.clear()
        monkeypatch.undo()
    assert Storage(tmp_path / "out").staged_parts(staging.stage_key(unit, cfg)) is None
    assert staging.clean_unit.fn(unit, cfg, str(tmp_path / "out"))["rows"] == len(unit)  # not interrupted: staged
    assert Storage(tmp_path / "out").staged_parts(staging.stage_key(unit, cfg))
