"""The console script's contract: run, dedup, clear errors (downstream scripts depend on it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app

pytestmark = pytest.mark.flows
runner = CliRunner()
RAW = str(Path(__file__).resolve().parents[2] / "data" / "raw")  # the seed pages


def test_run_writes_three_tables(tmp_path, seeds_dir):
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in sorted(seeds_dir.glob("*.txt"))[:2]:
        shutil.copy(p, raw / p.name)
    (raw / "bad.txt").write_bytes(b"\x00\x01\x02")
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", "--input", str(raw), "--output", str(out), "--json", "--no-progress"])
    assert res.exit_code == 0, res.output
    for table in ("articles", "duplicates", "rejected"):
        assert (out / table / "_delta_log").is_dir()
    arts = pl.read_delta(str(out / "articles"))
    rej = pl.read_delta(str(out / "rejected"))
    assert arts.height == 2 and rej.height == 1
    assert all(s.startswith(str(raw.resolve())) for s in arts["source"].to_list() + rej["source"].to_list())


def test_run_missing_input_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["run", "--input", str(tmp_path / "nope"), "--output", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "does not exist" in res.output


def test_bad_set_override_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["run", "--input", str(tmp_path), "--set", "filters.nosuch=1"])
    assert res.exit_code == 2 and "unknown config key" in res.output


def test_dedup_command(tmp_path):
    text = "The quick brown fox jumps over the lazy dog near the river bank today. " * 5
    df = pl.DataFrame({"doc_id": ["a", "b", "c"], "text": [text, text + " Extra line.", "Completely different story about markets and rates " * 6]})
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    df.write_parquet(src)
    res = runner.invoke(app, ["dedup", "--input", str(src), "--output", str(dst)])
    assert res.exit_code == 0, res.output
    out = pl.read_parquet(dst)
    assert out.height == 3 and {"cluster_id", "is_canonical", "similarity"} <= set(out.columns)
    cid = dict(zip(out["doc_id"], out["cluster_id"]))
    assert cid["a"] == cid["b"] != cid["c"]
    per_cluster = out.group_by("cluster_id").agg(pl.col("is_canonical").sum())["is_canonical"].to_list()
    assert sorted(per_cluster) == [1, 1]


def test_dedup_command_missing_column(tmp_path):
    src = tmp_path / "in.parquet"
    pl.DataFrame({"id": ["a"]}).write_parquet(src)
    res = runner.invoke(app, ["dedup", "--input", str(src), "--output", str(tmp_path / "o.parquet")])
    assert res.exit_code == 2 and "doc_id" in res.output


def test_urls_lose_their_credentials_before_the_flow_with_a_warning(capsys):
    """``run`` and ``serve`` strip user:password@ before the URLs become flow parameters
    (which Prefect stores and shows), and say so: the credentials will not be sent."""
    from flows.cli_checks import without_credentials

    assert without_credentials(["http://reader:s3cret@h/feed", "http://h/other"]) == ["http://h/feed", "http://h/other"]
    assert "credentials removed from 1 URL(s)" in capsys.readouterr().err
    assert without_credentials(["http://h/other"]) == ["http://h/other"]
    assert capsys.readouterr().err == ""


# --- clean exits: a held lock is exit 3, an unwritable target or a failed write exit 2, one line --


def _one_error_line(res) -> str:
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    return lines[0]


@pytest.fixture
def no_server(monkeypatch):
    """Fail the test if a command gets as far as starting (or finding) a Prefect server."""
    import flows.cli

    def refuse():
        raise AssertionError("a Prefect server was started before the error")

    monkeypatch.setattr(flows.cli, "_api_for_run", refuse)


@pytest.fixture
def live_lock(tmp_path):
    """An output whose lock names a live process (not this one)."""
    import json
    import socket
    import subprocess
    import sys

    out = tmp_path / "locked"
    (out / "_state").mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    lock = out / "_state" / "lock"
    lock.write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(), "since": "now"}))
    yield out
    holder.kill()
    holder.wait()
    assert json.loads(lock.read_text())["pid"] == holder.pid  # left alone


@pytest.mark.parametrize(
    "args",
    [
        ["compact"],
        ["vacuum"],
        ["run", "--input", RAW],
        ["backfill", "--since", "2024-01-01", "--until", "2024-01-31", "--input", RAW],
    ],
    ids=lambda a: a[0],
)
def test_commands_on_a_locked_output_exit_3_with_one_line(args, live_lock, no_server):
    """compact and vacuum ended in a traceback and exit 1; run and backfill started a Prefect
    server first. All now stop at once: exit 3, one line naming the holder."""
    res = runner.invoke(app, [*args, "--output", str(live_lock)])
    assert res.exit_code == 3, res.output
    assert "locked by another newsclean run" in _one_error_line(res)


def test_run_whose_lock_is_taken_after_the_early_look_exits_3(live_lock, monkeypatch):
    """The flow takes the lock itself; the CLI turns its LockedError into exit 3 too."""
    import flows.cli

    monkeypatch.setattr(flows.cli, "refuse_if_locked", lambda output: None)
    res = runner.invoke(app, ["run", "--input", RAW, "--output", str(live_lock), "--no-progress"])
    assert res.exit_code == 3, res.output
    assert res.stderr.strip().splitlines()[-1].startswith(f"error: output {live_lock} is locked by another newsclean run")


def _bad_targets(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    folder = tmp_path / "a_folder"
    folder.mkdir()
    return a_file, folder


# each command, how to call it with the target, and whether the target is a folder
TARGETS = {
    "run": (lambda t, ok: ["run", "--input", RAW, "--output", t], True),
    "backfill": (lambda t, ok: ["backfill", "--since", "2024-01-01", "--until", "2024-01-31", "--input", RAW, "--output", t], True),
    "compact": (lambda t, ok: ["compact", "--output", t], True),
    "vacuum": (lambda t, ok: ["vacuum", "--output", t], True),
    "export": (lambda t, ok: ["export", "--output", ok, "--to", t], True),
    "report": (lambda t, ok: ["report", "--output", ok, "--to", t], False),
    "dedup": (lambda t, ok: ["dedup", "--input", f"{ok}/in.parquet", "--output", t], False),
}


@pytest.mark.parametrize("how", ["wrong_kind", "under_a_file"])
@pytest.mark.parametrize("command", list(TARGETS))
def test_unwritable_target_exits_2_with_one_line_before_any_work(command, how, tmp_path, no_server):
    """An --output/--to that is a file (a folder, for a file target) or lies under a file: before,
    a traceback (exit 1) after the work, for run and backfill after a Prefect server started."""
    a_file, folder = _bad_targets(tmp_path)
    ok = tmp_path / "ok"
    ok.mkdir()
    pl.DataFrame({"doc_id": ["a"], "text": ["some text"]}).write_parquet(ok / "in.parquet")
    make, wants_folder = TARGETS[command]
    target = (a_file if wants_folder else folder) if how == "wrong_kind" else a_file / "sub" / "x"
    res = runner.invoke(app, make(str(target), str(ok)))
    assert res.exit_code == 2, res.output
    line = _one_error_line(res)
    assert str(target) in line
    assert ("is a file, not a folder" if wants_folder else "is a folder, not a file") in line if how == "wrong_kind" else f"{a_file} is a file" in line
    assert a_file.read_text() == "keep me" and not any(folder.iterdir())


def test_compact_of_a_missing_output_exits_2(tmp_path):
    res = runner.invoke(app, ["compact", "--output", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "does not exist" in _one_error_line(res)
    assert not (tmp_path / "nope").exists()


def test_run_whose_table_write_fails_exits_2_naming_table_path_and_reason(tmp_path):
    """A failed Delta write said only deltalake's words, in a traceback: now one last line with
    the table, its path and the OS reason, and exit 2."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "articles").write_text("not a table")
    res = runner.invoke(app, ["run", "--input", RAW, "--output", str(out), "--no-progress"])
    assert res.exit_code == 2, res.output
    last = res.stderr.strip().splitlines()[-1]
    assert last == f"error: cannot create table articles at {out / 'articles'}: Not a directory (errno 20)"


def test_compact_whose_lock_cannot_be_written_exits_2(tmp_path):
    (tmp_path / "_state").write_text("not a folder")
    res = runner.invoke(app, ["compact", "--output", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert _one_error_line(res) == f"error: cannot take the writer lock at {tmp_path / '_state'}: File exists (errno 17)"


def test_python_dash_m_flows_is_the_cli():
    """``python -m flows`` runs the CLI (it replaced ``python -m flows.ingest``, whose ``main``
    made flows.ingest and flows.cli import each other)."""
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "flows", "run", "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "--input" in res.stdout
