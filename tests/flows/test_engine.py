"""The local engine (flows/engine.py): the same tables as a Prefect flow run, Prefect's retry
rules, the engine choice, and no Prefect import on its path."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import typer

from flows import cli, engine
from flows.liveness import INTERRUPTED, retry_unless_interrupted

from shared_data import SHARED, need

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("articles", "duplicates", "rejected")
SYNDICATION = SHARED / "eval" / "syndication" / "dev.parquet"
EXTRACT_HTML = SHARED / "eval" / "extract-dev" / "html"


# --- the same tables ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, seeds_dir) -> Path:
    """A small realistic corpus: syndicated copies of a few stories (several sites each, so
    dedup clusters them and repairs canonicals), real HTML pages, the seeds, an exact gzipped
    copy, an empty page and a binary one (rejected)."""
    raw = tmp_path_factory.mktemp("engine-raw")
    dev = pl.read_parquet(need(SYNDICATION, "../shared/eval/syndication/dev.parquet"))
    sizes = dev.group_by("cluster_id").len().filter(pl.col("len").is_between(3, 6)).sort("cluster_id").head(6)
    stories = dev.filter(pl.col("cluster_id").is_in(sizes["cluster_id"].implode())).sort("doc_id")
    for row in stories.iter_rows(named=True):
        (raw / f"syn_{row['doc_id']}.txt").write_text(row["text"], encoding="utf-8")
    for page in sorted(need(EXTRACT_HTML, "../shared/eval/extract-dev/html").glob("*.html.gz"))[:6]:
        (raw / page.name.removesuffix(".gz")).write_bytes(gzip.decompress(page.read_bytes()))
    seeds = sorted(seeds_dir.glob("*.txt"))
    for p in seeds:
        shutil.copy(p, raw / p.name)
    (raw / "zz_copy.txt.gz").write_bytes(gzip.compress(seeds[0].read_bytes()))
    (raw / "zz_empty.txt").write_bytes(b"")
    (raw / "zz_binary.txt").write_bytes(b"\x00\x01\x02" * 50)
    return raw


def _tables(out: Path) -> dict[str, pl.DataFrame]:
    return {t: pl.read_delta(str(out / t)).drop("ingested_at").sort("doc_id") for t in TABLES}


# batch_size 4 and chunks of 10: several clean units and dedup chunks, copies across chunks
SMALL = {"run.batch_size": 4, "run.max_dedup_docs": 10}


@pytest.fixture(scope="module")
def prefect_tables(corpus, tmp_path_factory) -> dict[str, pl.DataFrame]:
    from flows.ingest import ingest_flow

    out = tmp_path_factory.mktemp("engine-prefect")
    summary = ingest_flow(inputs=[str(corpus)], output=str(out), overrides=SMALL)
    assert summary["duplicates"] > 0 and summary["rejected"] > 0  # the corpus exercises dedup and rejects
    return _tables(out)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_local_engine_writes_the_tables_of_a_prefect_run(kind, corpus, prefect_tables, tmp_path):
    from flows.ingest import ingest

    assert not engine.in_prefect_run()
    summary = ingest.run_local(kind, 2, inputs=[str(corpus)], output=str(tmp_path / "out"), overrides=SMALL)
    got = _tables(tmp_path / "out")
    for table in TABLES:
        assert got[table].equals(prefect_tables[table]), table
    assert summary["articles"] == prefect_tables["articles"].height
    # a second local run finds everything done and writes nothing
    again = ingest.run_local(kind, 2, inputs=[str(corpus)], output=str(tmp_path / "out"), overrides=SMALL)
    assert sum(again["inserted"].values()) == 0 and again["inputs_already_done"] == len(list(corpus.iterdir()))


@pytest.mark.slow
def test_local_backfill_matches_a_prefect_backfill(corpus, tmp_path):
    import datetime as dt

    from flows.backfill import backfill, backfill_flow
    from flows.ingest import ingest, ingest_flow

    since, until = dt.date(1980, 1, 1), dt.date(2030, 12, 31)
    ingest_flow(inputs=[str(corpus)], output=str(tmp_path / "p"), overrides=SMALL)
    backfill_flow(since=since, until=until, inputs=[str(corpus)], output=str(tmp_path / "p"), overrides=SMALL)
    ingest.run_local(inputs=[str(corpus)], output=str(tmp_path / "l"), overrides=SMALL)
    res = backfill.run_local(since=since, until=until, inputs=[str(corpus)], output=str(tmp_path / "l"), overrides=SMALL)
    assert res["since"] == since.isoformat()
    got, expected = _tables(tmp_path / "l"), _tables(tmp_path / "p")
    for table in TABLES:
        assert got[table].equals(expected[table]), table


# --- task runs: Prefect's retry rules ------------------------------------------------------

CALLS: list[str] = []


def _flaky(fail_times: int, exc: type[BaseException] = RuntimeError) -> str:
    CALLS.append("call")
    if len(CALLS) <= fail_times:
        raise exc("boom")
    return "ok"


def _spec(**options) -> engine.TaskSpec:
    return engine.TaskSpec(_flaky, {"name": "flaky", **options})


@pytest.fixture(autouse=False)
def calls():
    CALLS.clear()
    INTERRUPTED.clear()
    yield CALLS
    INTERRUPTED.clear()


def test_a_failed_task_is_retried_as_often_as_prefect_would(calls, capsys):
    assert engine.call_with_retries(_spec(retries=1, retry_delay_seconds=0), (1,), {}) == "ok"
    assert len(calls) == 2
    assert "retry 1/1" in capsys.readouterr().err
    calls.clear()
    with pytest.raises(RuntimeError):
        engine.call_with_retries(_spec(retries=1, retry_delay_seconds=0), (2,), {})
    assert len(calls) == 2
    assert "retries exhausted" in capsys.readouterr().err
    calls.clear()
    with pytest.raises(RuntimeError):
        engine.call_with_retries(_spec(), (1,), {})  # no retries configured
    assert len(calls) == 1


def test_no_retry_after_ctrl_c_nor_for_a_base_exception(calls):
    INTERRUPTED.set()
    with pytest.raises(RuntimeError):
        engine.call_with_retries(_spec(retries=3, retry_delay_seconds=0, retry_condition_fn=retry_unless_interrupted), (1,), {})
    assert len(calls) == 1
    INTERRUPTED.clear()
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        engine.call_with_retries(_spec(retries=3, retry_delay_seconds=0), (1, KeyboardInterrupt), {})
    assert len(calls) == 1


def test_the_flow_tasks_keep_their_prefect_options():
    from flows.commit import dedup_commit_chunk
    from flows.ingest import discover_urls
    from flows.staging import clean_unit

    assert (clean_unit.name, clean_unit.options["retries"], clean_unit.options["retry_condition_fn"]) == ("clean-unit", 1, retry_unless_interrupted)
    assert discover_urls.options["retries"] == 1 and "retries" not in dedup_commit_chunk.options
    task = clean_unit.prefect()  # the Prefect task built from the same function and options
    assert (task.name, task.retries, task.retry_delay_seconds, task.fn) == ("clean-unit", 1, 2, clean_unit.fn)


def test_submit_outside_any_flow_run_is_an_error():
    from flows.staging import clean_unit

    with pytest.raises(RuntimeError, match="outside a flow run"):
        clean_unit.submit(None, None, "")


# --- which engine --------------------------------------------------------------------------


def test_engine_choice_order(monkeypatch):
    monkeypatch.delenv(engine.ENGINE_ENV, raising=False)
    assert engine.first_choice(None, None, "auto") == "auto"
    assert engine.first_choice(None, "Local", "prefect") == "local"
    assert engine.first_choice("prefect", "local", "local") == "prefect"
    with pytest.raises(engine.EngineError, match="unknown engine 'bogus'"):
        engine.first_choice("bogus", None, "auto")


def test_cli_auto_is_local_without_an_api_and_prefect_with_one(monkeypatch):
    from cleaners.config import parse_config
    from flows.server import ApiChoice

    cfg = parse_config(None, {})
    monkeypatch.delenv(engine.ENGINE_ENV, raising=False)
    monkeypatch.setattr(cli, "_api_for_run", lambda start_temporary=True: ApiChoice(None, "prefect"))
    assert cli._engine_and_api(None, cfg)[0] == "local"
    assert cli._engine_and_api("prefect", cfg)[0] == "prefect"  # asked for: a temporary server
    monkeypatch.setattr(cli, "_api_for_run", lambda start_temporary=True: ApiChoice("http://127.0.0.1:1/api", "env"))
    assert cli._engine_and_api(None, cfg)[0] == "prefect"
    assert cli._engine_and_api("local", cfg)[0] == "local"
    monkeypatch.setenv(engine.ENGINE_ENV, "local")
    assert cli._engine_and_api(None, cfg)[0] == "local"
    assert cli._engine_and_api(None, parse_config(None, {"run.engine": "prefect"}))[0] == "local"  # the environment wins over the config
    monkeypatch.delenv(engine.ENGINE_ENV)
    assert cli._engine_and_api(None, parse_config(None, {"run.engine": "local"}))[0] == "local"
    with pytest.raises(typer.Exit) as exc:
        cli._engine_and_api("bogus", cfg)
    assert exc.value.exit_code == 2


def test_run_engine_setting_is_checked():
    from cleaners.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match="run.engine"):
        parse_config(None, {"run.engine": "celery"})


def _no_prefect_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL" and not k.startswith("PREFECT__") and k != engine.ENGINE_ENV}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PYTHONPATH=str(ROOT))
    return env


def test_the_local_path_imports_no_prefect(tmp_path):
    code = (
        "import sys\n"
        "import flows.cli, flows.ingest, flows.backfill, flows.staging, flows.commit\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect')))\n"
    )
    res = subprocess.run([sys.executable, "-c", "import json\n" + code], env=_no_prefect_env(tmp_path), capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == []


def test_deployment_entrypoints_are_prefect_flows(monkeypatch):
    from prefect import Flow
    from prefect.flows import load_flow_from_entrypoint

    # Prefect's loader puts the entrypoint's directory (flows/) on sys.path, where flows/http.py
    # would shadow the standard library's http in every process spawned later in the session
    monkeypatch.setattr(sys, "path", list(sys.path))

    for entrypoint, name in (("flows/ingest.py:ingest_flow", "newsclean-ingest"), ("flows/backfill.py:backfill_flow", "newsclean-backfill")):
        flow = load_flow_from_entrypoint(str(ROOT / entrypoint))
        assert isinstance(flow, Flow) and flow.name == name
        # `serve` and `deploy` name a flow's entrypoint file:function, and workers load it back
        assert flow.fn.__qualname__ == entrypoint.split(":")[1]
    import flows.ingest

    assert flows.ingest.ingest_flow is flows.ingest.ingest.prefect()  # built once
    with pytest.raises(AttributeError):
        flows.ingest.no_such_flow  # noqa: B018


def test_cli_run_without_a_server_uses_the_local_engine(tmp_path, seeds_dir):
    """No PREFECT_API_URL, no recorded server: `newsclean run` starts no server and imports no Prefect."""
    out = tmp_path / "out"
    code = (
        "import sys, json\n"
        "from flows.cli import app\n"
        f"try:\n    app(['run', '--input', {str(seeds_dir)!r}, '--output', {str(out)!r}, '--json', '--no-progress'])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('PREFECT-MODULES', sum(m.split('.')[0] == 'prefect' for m in sys.modules))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], env=_no_prefect_env(tmp_path), capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "engine: local (no Prefect API)" in res.stderr and "prefect api:" not in res.stderr
    assert "PREFECT-MODULES 0" in res.stdout
    assert sum(pl.read_delta(str(out / t)).height for t in TABLES) == len(list(seeds_dir.glob("*.txt")))
