"""A bad config is exit 2 with one line naming the key, before any server starts or any work is done.

No Prefect harness here: the commands must fail before they would need one (the server hooks are
replaced by ones that fail the test if called).
"""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from flows import cli, server
from flows.cli import app

runner = CliRunner()


@pytest.fixture
def no_server(monkeypatch):
    """Fail the test if a command gets as far as choosing or starting a Prefect server."""

    def refuse(*args, **kwargs):
        raise AssertionError("a server was started or looked up before the config was checked")

    monkeypatch.setattr(cli, "_api_for_run", refuse)
    monkeypatch.setattr(server, "api_for_serving", refuse)


def _error_line(res) -> str:
    lines = [ln for ln in res.output.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, res.output
    return lines[0]


def test_dedup_bad_setting_is_exit_2(tmp_path):
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pl.DataFrame({"doc_id": ["a"], "text": ["some text here"]}).write_parquet(src)
    res = runner.invoke(app, ["dedup", "--input", str(src), "--output", str(dst), "--set", "dedup.num_bands=0"])
    assert res.exit_code == 2
    assert _error_line(res) == "error: dedup.num_bands = 0: must be an integer from 1 to 1024"
    assert not dst.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "run.batch_size=-5"], "run.batch_size = -5: must be an integer from 1 to 100000"),
        (["--set", "fetch.content_types=Text/HTML"], 'fetch.content_types = ["Text/HTML"]: must be a list of lower-case media types'),
        (["--set", "chars.normalize_unicode=NFX"], 'chars.normalize_unicode = "NFX": must be one of NFC, NFD, NFKC, NFKD or none'),
        (["--set", "run.runner=thread"], 'run.runner = "thread": must be threads, processes, dask or dask=ADDRESS'),
        (["--runner", "ray"], "unknown runner 'ray'"),
    ],
    ids=["negative_batch", "content_type", "normalize", "config_runner", "runner_option"],
)
def test_run_bad_setting_is_exit_2_before_any_server(tmp_path, no_server, args, message):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.txt").write_text("A page.\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", "--input", str(tmp_path / "raw"), "--output", str(out), "--no-progress", *args])
    assert res.exit_code == 2, res.output
    assert message in _error_line(res)
    assert not out.exists()  # no tables, no completion markers, no lock


def test_run_config_file_section_not_a_table(tmp_path, no_server):
    conf = tmp_path / "newsclean.toml"
    conf.write_text("run = 5\n", encoding="utf-8")
    res = runner.invoke(app, ["run", "--input", str(tmp_path), "--output", str(tmp_path / "out"), "--config", str(conf)])
    assert res.exit_code == 2
    assert _error_line(res) == "error: run = 5: must be a table [run] of settings"


def test_unreadable_config_file_is_exit_2(tmp_path, no_server):
    conf = tmp_path / "latin1.toml"
    conf.write_bytes(b"[fetch]\nuser_agent = 'caf\xe9'\n")
    res = runner.invoke(app, ["run", "--input", str(tmp_path), "--output", str(tmp_path / "out"), "--config", str(conf)])
    assert res.exit_code == 2
    assert _error_line(res).startswith(f"error: cannot read config file {conf}:")
    res = runner.invoke(app, ["run", "--input", str(tmp_path), "--output", str(tmp_path / "out"), "--config", str(tmp_path / "missing.toml")])
    assert res.exit_code == 2 and "cannot read config file" in _error_line(res)


def test_backfill_bad_setting_is_exit_2_before_any_server(tmp_path, no_server):
    args = ["backfill", "--since", "2022-07-01", "--until", "2022-07-31", "--input", str(tmp_path), "--output", str(tmp_path / "out")]
    res = runner.invoke(app, [*args, "--set", "filters.min_alpha_ratio=1.5"])
    assert res.exit_code == 2
    assert _error_line(res) == "error: filters.min_alpha_ratio = 1.5: must be a number from 0 to 1"
    assert not (tmp_path / "out").exists()


def test_serve_checks_the_config_before_looking_for_a_server(tmp_path, no_server):
    res = runner.invoke(app, ["serve", "--cron", "0 * * * *", "--input", str(tmp_path), "--set", "guard.max_page_seconds=0"])
    assert res.exit_code == 2
    assert _error_line(res) == "error: guard.max_page_seconds = 0.0: must be a number > 0"


def test_vacuum_index_retention_deletes_old_fingerprints_only(tmp_path):
    import datetime as dt

    from cleaners import schema as S
    from cleaners.dedup import INDEX_SCHEMA
    from flows.storage import Storage

    today = dt.datetime.now(dt.timezone.utc).date()
    st = Storage(tmp_path)
    ages = {"old": 100, "recent": 10}
    rows = pl.DataFrame({S.DOC_ID: list(ages), S.SEEN: [today - dt.timedelta(days=d) for d in ages.values()]})
    st.insert_new("dedup_index", S.conform(rows, INDEX_SCHEMA))
    st.insert_new("articles", pl.DataFrame({S.DOC_ID: ["old"], S.TEXT: ["kept"]}))
    res = runner.invoke(app, ["vacuum", "--output", str(tmp_path), "--index-retention-days", "30", "--dry-run"])
    assert res.exit_code == 0 and "would be deleted" in res.output
    assert st.read("dedup_index").height == 2
    res = runner.invoke(app, ["vacuum", "--output", str(tmp_path), "--index-retention-days", "30"])
    assert res.exit_code == 0, res.output
    assert "dedup_index: 1 rows" in res.output
    assert st.read("dedup_index")[S.DOC_ID].to_list() == ["recent"]
    assert st.read("articles")[S.DOC_ID].to_list() == ["old"]  # pages stay; only their fingerprints go
    res = runner.invoke(app, ["vacuum", "--output", str(tmp_path), "--index-retention-days", "-1"])
    assert res.exit_code == 2
