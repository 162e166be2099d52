"""Task-runner choice: the spec parser, and the same tables from threads, processes and a Dask cluster."""

from __future__ import annotations

import shutil

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.runners import RunnerError, RunnerSpec, make_task_runner, parse_runner

TABLES = ("articles", "duplicates", "rejected")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, RunnerSpec("threads")),
        ("threads", RunnerSpec("threads")),
        (" Processes ", RunnerSpec("processes")),
        ("dask", RunnerSpec("dask")),
        ("dask=tcp://127.0.0.1:8786", RunnerSpec("dask", "tcp://127.0.0.1:8786")),
    ],
    ids=["default", "threads", "processes-case-space", "dask-local", "dask-address"],
)
def test_parse_runner(spec, expected):
    assert parse_runner(spec) == expected
    assert parse_runner(str(expected)) == expected  # str() round-trips


@pytest.mark.parametrize("spec", ["thread", "dask=", "processes=tcp://x:1", "ray"], ids=["typo", "empty-address", "address-on-processes", "unknown"])
def test_parse_runner_rejects(spec):
    with pytest.raises(RunnerError):
        parse_runner(spec)


def test_make_task_runner_kinds():
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    assert isinstance(make_task_runner("threads", 3), ThreadPoolTaskRunner)
    assert isinstance(make_task_runner("processes", 2), ProcessPoolTaskRunner)
    local = make_task_runner("dask", 2)
    assert isinstance(local, DaskTaskRunner) and local.cluster_kwargs["n_workers"] == 2
    attached = make_task_runner("dask=tcp://127.0.0.1:8786")
    assert isinstance(attached, DaskTaskRunner) and attached.address == "tcp://127.0.0.1:8786"


@pytest.mark.flows
def test_cli_rejects_unknown_runner(tmp_path, seeds_dir):
    from flows.cli import app

    res = CliRunner().invoke(app, ["run", "--input", str(seeds_dir), "--output", str(tmp_path / "o"), "--runner", "bogus"])
    assert res.exit_code == 2 and "unknown runner" in res.output


def _inputs(tmp_path, seeds_dir):
    """The seeds, an exact copy of one (a duplicate) and an unreadable file (a reject)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    seeds = sorted(seeds_dir.glob("*.txt"))
    for p in seeds:
        shutil.copy(p, raw / p.name)
    shutil.copy(seeds[0], raw / "zz_copy.txt")
    (raw / "zz_bad.txt").write_bytes(b"\x00\x01\x02")
    return raw


def _tables(out) -> dict[str, pl.DataFrame]:
    frames = {}
    for table in TABLES:
        df = pl.read_delta(str(out / table)).drop("ingested_at")
        frames[table] = df.sort("doc_id")
    return frames


def _run(flow_runner, raw, out):
    from flows.ingest import ingest_flow

    # batch_size=2: four clean units, so both workers get work
    return ingest_flow.with_options(task_runner=flow_runner)(inputs=[str(raw)], output=str(out), overrides={"run.batch_size": 2})


@pytest.mark.slow
@pytest.mark.flows
@pytest.mark.parametrize("kind", ["dask-local-cluster", "processes"])
def test_same_tables_as_threads(tmp_path, seeds_dir, kind):
    raw = _inputs(tmp_path, seeds_dir)
    _run(make_task_runner("threads", 2), raw, tmp_path / "threads")
    expected = _tables(tmp_path / "threads")
    assert sum(df.height for df in expected.values()) == len(list(raw.iterdir()))
    if kind == "processes":
        _run(make_task_runner("processes", 2), raw, tmp_path / kind)
    else:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                assert len(client.scheduler_info()["workers"]) == 2
                _run(make_task_runner(f"dask={cluster.scheduler_address}"), raw, tmp_path / kind)
                # the clean tasks ran in the cluster's worker processes
                assert any(client.run(_ran_flow_code).values())
    got = _tables(tmp_path / kind)
    for table in TABLES:
        assert got[table].equals(expected[table]), table


def _ran_flow_code() -> bool:
    import sys

    return "flows.ingest" in sys.modules


def test_pool_size_is_one_per_core_by_default(monkeypatch) -> None:
    from cleaners.config import parse_config
    from flows import runners

    monkeypatch.setattr(runners.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert parse_config(None, {}).run.max_workers == 0
    assert runners.pool_size(0) == 3 and runners.pool_size(5) == 5
