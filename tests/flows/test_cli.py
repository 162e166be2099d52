"""The console script's contract: run, dedup, clear errors (downstream scripts depend on it)."""

from __future__ import annotations

import shutil

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app

pytestmark = pytest.mark.flows
runner = CliRunner()


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
    from flows.cli import _without_credentials

    assert _without_credentials(["http://reader:s3cret@h/feed", "http://h/other"]) == ["http://h/feed", "http://h/other"]
    assert "credentials removed from 1 URL(s)" in capsys.readouterr().err
    assert _without_credentials(["http://h/other"]) == ["http://h/other"]
    assert capsys.readouterr().err == ""
