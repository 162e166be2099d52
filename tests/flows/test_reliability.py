"""Kill tests: a run SIGKILLed at each crash point, then rerun, equals an undisturbed run.

The runs are real `newsclean run` subprocesses, on both engines: ``local`` (the default with no
server: no PREFECT_API_URL, an empty PREFECT_HOME) and ``prefect`` (pointed at the session's
Prefect test server through PREFECT_API_URL, so each costs no server start-up).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from flows.failpoints import ENV, POINTS
from flows.storage import Storage

pytestmark = [pytest.mark.flows, pytest.mark.slow]

TABLES = ("articles", "duplicates", "rejected")
ENGINES = ("local", "prefect")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, seeds_dir) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    seeds = sorted(seeds_dir.glob("*.txt"))
    for p in seeds:
        shutil.copy(p, raw / p.name)
    (raw / "zz_copy.txt.gz").write_bytes(gzip.compress(seeds[0].read_bytes()))  # exact copy, in a later chunk
    (raw / "zz_empty.txt").write_bytes(b"")
    (raw / "zz_notes.json").write_text("{}")
    return raw


@pytest.fixture(scope="module")
def empty_prefect_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("prefect-home")  # no recorded server


def _env(failpoint: str | None = None, engine: str = "prefect", home: Path | None = None) -> dict:
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT__") and k not in ("NEWSCLEAN_ENGINE", ENV)}
    if engine == "prefect":
        env["PREFECT_API_URL"] = PREFECT_API_URL.value()
    else:  # no API anywhere: the CLI's default engine (auto) runs locally
        env.pop("PREFECT_API_URL", None)
        if home is not None:
            env["PREFECT_HOME"] = str(home)
    if failpoint:
        env[ENV] = failpoint
    return env


def _run(raw: Path, out: Path, failpoint: str | None = None, engine: str = "prefect", home: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "flows.cli", "run", "--input", str(raw), "--output", str(out), "--json", "--no-progress", "--set", "run.batch_size=3", "--set", "run.max_dedup_docs=4"]
    res = subprocess.run(cmd, env=_env(failpoint, engine, home), capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[2])
    assert ("engine: local (no Prefect API)" in res.stderr) == (engine == "local"), res.stderr[-2000:]
    return res


def _snapshot(out: Path) -> dict[str, list[dict]]:
    st = Storage(out)
    snap = {}
    for t in TABLES:
        df = st.read(t).drop("ingested_at").sort("doc_id")
        snap[t] = df.to_dicts()
    return snap


@pytest.fixture(scope="module")
def undisturbed(corpus, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("clean-ref")
    res = _run(corpus, out)
    assert res.returncode == 0, res.stderr[-3000:]
    snap = _snapshot(out)
    assert len(snap["articles"]) == 5 and len(snap["duplicates"]) == 1 and len(snap["rejected"]) == 2
    # 8 inputs in chunks of at most 4: the copy (last chunk) points at a canonical of an earlier one
    summary = json.loads(res.stdout[res.stdout.index("{") :])
    assert summary["stats"] and summary["inserted"]["articles"] == 5
    return snap


def test_both_engines_write_the_same_tables(corpus, undisturbed, tmp_path, empty_prefect_home):
    res = _run(corpus, tmp_path / "clean", engine="local", home=empty_prefect_home)
    assert res.returncode == 0, res.stderr[-3000:]
    assert _snapshot(tmp_path / "clean") == undisturbed


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("point", POINTS)
def test_kill_then_rerun_equals_undisturbed(point, engine, corpus, undisturbed, tmp_path, empty_prefect_home):
    out = tmp_path / "clean"
    killed = _run(corpus, out, failpoint=point, engine=engine, home=empty_prefect_home)
    assert killed.returncode == -signal.SIGKILL, (point, killed.returncode, killed.stderr[-2000:])
    # the tables exist from the start of the first run: readers can open them during it
    assert all(Storage(out).exists(t) for t in (*TABLES, "dedup_index")), point
    rerun = _run(corpus, out, engine=engine, home=empty_prefect_home)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert _snapshot(out) == undisturbed
    again = _run(corpus, out, engine=engine, home=empty_prefect_home)
    assert again.returncode == 0
    summary = json.loads(again.stdout[again.stdout.index("{") :])
    assert sum(summary["inserted"].values()) == 0
    assert _snapshot(out) == undisturbed
    assert not (out / "_state" / "pending").exists() or not any((out / "_state" / "pending").iterdir())


@pytest.mark.parametrize("engine", ENGINES)
def test_concurrent_run_fails_cleanly(engine, corpus, tmp_path, empty_prefect_home):
    out = tmp_path / "clean"
    (out / "_state").mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / "_state" / "lock").write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename, "since": "now"}))
        cmd = [sys.executable, "-m", "flows.cli", "run", "--input", str(corpus), "--output", str(out), "--no-progress"]
        res = subprocess.run(cmd, env=_env(None, engine, empty_prefect_home), capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[2])
        assert res.returncode == 3
        assert "locked by another newsclean run" in res.stderr
        assert not (out / "articles").exists()
    finally:
        holder.kill()
        holder.wait()
    res = _run(corpus, out, engine=engine, home=empty_prefect_home)  # the holder is dead now: its stale lock is taken over
    assert res.returncode == 0, res.stderr[-2000:]
    assert pl.read_delta(str(out / "articles")).height == 5


@pytest.mark.parametrize("engine", ENGINES)
def test_killed_run_leaves_no_processes_behind(engine, corpus, tmp_path, empty_prefect_home):
    """SIGKILL runs no exit hooks: the temporary API server (``--engine prefect`` with no server)
    and the process-pool workers must still end (the server by the kernel's parent-death signal,
    the workers by watching their parent). The local engine starts no server at all."""
    import time

    import psutil

    env = _env("after_first_unit_staged", "local", empty_prefect_home)  # no API: prefect starts its own temporary server
    cmd = [sys.executable, "-m", "flows.cli", "run", "--input", str(corpus), "--output", str(tmp_path / "clean"), "--no-progress", "--runner", "processes", "--set", "run.batch_size=3"]
    cmd += ["--engine", engine]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=Path(__file__).parents[2])
    seen: dict[int, tuple[psutil.Process, str]] = {}
    parent = psutil.Process(proc.pid)
    while proc.poll() is None:  # note every descendant (and its command) while the run lives
        try:
            for child in parent.children(recursive=True):
                # noted again on every poll: a child caught between fork and exec still shows
                # its parent's command line (the server once looked like a second CLI)
                seen[child.pid] = (seen.get(child.pid, (child,))[0], " ".join(child.cmdline()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    assert proc.wait(timeout=120) == -signal.SIGKILL
    commands = [cmd for _, cmd in seen.values()]
    assert any("uvicorn" in c for c in commands) == (engine == "prefect"), commands
    assert any("spawn_main" in c for c in commands), commands
    deadline = time.monotonic() + 20
    alive = [p for p, _ in seen.values() if p.is_running()]
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    left = [" ".join(p.cmdline())[:80] for p in alive]
    for p in alive:
        p.kill()
    assert not left, left
