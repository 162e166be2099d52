"""The ``newsclean`` console script.

    newsclean run     [--input PATH]... [--output DIR] [--config FILE] [--set KEY=VALUE]... [--engine auto|local|prefect]
    newsclean dedup   --input IN.parquet --output OUT.parquet [--config FILE] [--runner dask[=ADDRESS]] [--partitions N]
    newsclean serve   --cron "0 * * * *" [--input PATH]... [--feed URL]... [--output DIR]
    newsclean server  start | stop | status
    newsclean eval    text | extract | dedup | repairs          (evals/cli.py)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from evals.cli import app as eval_app
from flows.cli_checks import (
    output_errors,
    parse_date,
    parse_overrides,
    refuse_if_locked,
    require_output_dir,
    require_paths,
    require_writable,
    without_credentials,
)

app = typer.Typer(add_completion=False, no_args_is_help=True, help="newsclean: clean news pages into Delta tables.")
app.add_typer(eval_app, name="eval")
server_app = typer.Typer(no_args_is_help=True, help="A background Prefect server that later runs reuse (URL kept under PREFECT_HOME).")
app.add_typer(server_app, name="server")

InputOpt = Annotated[list[Path] | None, typer.Option("--input", "-i", help="File or folder (walked recursively); repeatable.")]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Output directory for the Delta tables.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file (tables mirror cleaners/config.py).")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override one setting: SECTION.KEY=VALUE; repeatable.")]
RunnerOpt = Annotated[
    str | None,
    typer.Option("--runner", help="Where clean tasks run: threads | processes | dask | dask=ADDRESS (default: NEWSCLEAN_RUNNER, else run.runner)."),
]

EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="How the flow runs: auto (local when no Prefect API answers) | local (in this process, no server) | prefect (a Prefect flow run; a temporary server if none runs). Default: NEWSCLEAN_ENGINE, else run.engine (auto).",
    ),
]


def _prefect_env() -> None:
    # No network here: no analytics; keep Prefect's state in one reusable place.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def _api_for_run(start_temporary: bool = True):
    """Reuse a server (PREFECT_API_URL, or `newsclean server start`), else boot a temporary one now
    (with ``start_temporary``; else the choice has no URL).

    Called before Prefect is imported, so the temporary server starts while the flow code loads.
    """
    from flows.server import api_for_run, health_ok

    api = api_for_run(start_temporary=start_temporary)
    if api.api_url is None:
        return api
    if api.source == "env" and api.api_url.startswith(("http://127.", "http://localhost")) and not health_ok(api.api_url):
        typer.echo(f"warning: PREFECT_API_URL={api.api_url} does not answer /api/health (start the server or unset it)", err=True)
    if api.source in ("env", "recorded", "temporary"):
        typer.echo(f"prefect api: {api.api_url} ({api.source})", err=True)
    return api


def _engine_and_api(engine: str | None, cfg):
    """``("local", no API)`` or ``("prefect", the API its flow run uses)``: --engine, else
    NEWSCLEAN_ENGINE, else run.engine; ``auto`` is prefect when an API answers (PREFECT_API_URL,
    a recorded `newsclean server`, a test harness), else local (exit 2 for an unknown name)."""
    from flows.engine import ENGINE_ENV, EngineError, first_choice
    from flows.server import ApiChoice

    try:
        name = first_choice(engine if isinstance(engine, str) else None, os.environ.get(ENGINE_ENV), cfg.run.engine)
    except EngineError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if name != "local":
        api = _api_for_run(start_temporary=name == "prefect")
        if api.api_url is not None or name == "prefect":
            return "prefect", api
    typer.echo(f"engine: local{' (no Prefect API)' if name == 'auto' else ''}", err=True)
    return "local", ApiChoice(None, "local")


INTERRUPTED_HELP = "interrupted: the same command again finishes the run (fully staged units are reused); the flow run, if one started, is marked Crashed"


@contextlib.contextmanager
def _interruptible(api) -> Iterator[None]:
    """Ctrl-C during a flow run: exit 130 in seconds, the run recorded as Crashed in the API.

    A terminal's Ctrl-C signals its whole foreground process group; the temporary server is in
    a session of its own (flows/server.py), so it is still up when Prefect records the crash,
    and it is stopped at exit, after Prefect has flushed its logs to it. A second Ctrl-C during
    that shutdown exits at once (see ``CtrlC``).
    """
    from flows.liveness import EXIT_INTERRUPTED, CtrlC

    ctrl_c = CtrlC(last_words=api.abandon)
    try:
        yield
    except (KeyboardInterrupt, Exception) as exc:
        # after Ctrl-C, an error is its echo (a task pool broken by it, say): still an interrupt
        if not (isinstance(exc, KeyboardInterrupt) or ctrl_c.pressed):
            ctrl_c.restore()
            raise
        typer.echo(f"\n{INTERRUPTED_HELP}", err=True)
        if api.source == "local":
            # the local engine's shutdown is over (its executor joined): only the interpreter's
            # exit is left, where Python drops its handlers and a second Ctrl-C would end the
            # process by the signal (-2) instead of exit 130
            import signal

            signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise typer.Exit(EXIT_INTERRUPTED) from None  # the handler stays: a second Ctrl-C exits now
    ctrl_c.restore()


def _runner_spec(runner: str | None, cfg):
    """The runner spec: --runner, else NEWSCLEAN_RUNNER, else run.runner (exit 2 if unknown)."""
    from flows.runners import RUNNER_ENV, RunnerError, parse_runner

    try:
        return parse_runner(runner if isinstance(runner, str) else os.environ.get(RUNNER_ENV) or cfg.run.runner)
    except RunnerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _task_runner(spec, cfg):
    """The Prefect task runner for a parsed spec (imports Prefect: call it after ``_api_for_run``)."""
    from flows.runners import RunnerError, make_task_runner

    try:
        return make_task_runner(spec, cfg.run.max_workers)
    except RunnerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _config(config: Path | None, overrides: dict[str, Any]):
    """The checked config (file, then --set overrides); exit 2 with the one-line reason if it is bad.

    Only cleaners.config is imported (no Prefect), so commands check it before starting anything.
    """
    from cleaners.config import ConfigError, parse_config

    try:
        text = config.read_text(encoding="utf-8") if config else None
        return parse_config(text, overrides)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read config file {config}: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def run(
    input: InputOpt = None,
    output: OutputOpt = Path("data/clean"),
    config: ConfigOpt = None,
    set_: SetOpt = None,
    urls: Annotated[Path | None, typer.Option("--urls", help="File of URLs to fetch, one a line (# comments).")] = None,
    feed: Annotated[list[str] | None, typer.Option("--feed", help="RSS/Atom/JSON feed URL whose articles to fetch; repeatable.")] = None,
    sitemap: Annotated[list[str] | None, typer.Option("--sitemap", help="Sitemap (index, .gz) URL whose pages to fetch; repeatable.")] = None,
    allow_private_hosts: Annotated[bool, typer.Option(help="Let the fetcher reach loopback/private addresses (tests).")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on a terminal.")] = True,
    json_summary: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    runner: RunnerOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Clean raw pages (files and folders) into DIR/articles, DIR/duplicates, DIR/rejected."""
    _prefect_env()
    overrides = parse_overrides(set_ if isinstance(set_, list) else None)
    if allow_private_hosts:
        overrides["fetch.allow_private_hosts"] = True
    feeds = feed if isinstance(feed, list) else []
    sitemaps = sitemap if isinstance(sitemap, list) else []
    url_list: list[str] = []
    if isinstance(urls, Path):
        try:
            lines = urls.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            typer.echo(f"error: cannot read --urls file: {exc}", err=True)
            raise typer.Exit(2) from exc
        url_list = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    web = isinstance(urls, Path) or bool(feeds or sitemaps)
    inputs = require_paths(input or ([] if web else [Path("data/raw")]))
    cfg = _config(config, overrides)  # a bad config exits 2 before any server starts or any work is done
    spec = _runner_spec(runner, cfg)
    require_writable(output, "--output", folder=True)
    refuse_if_locked(output)
    engine_name, api = _engine_and_api(engine, cfg)  # before the imports below: a temporary server boots meanwhile
    task_runner = _task_runner(spec, cfg) if engine_name == "prefect" else None
    url_list, feeds, sitemaps = without_credentials(url_list), without_credentials(feeds), without_credentials(sitemaps)
    from flows.ingest import ingest
    from reports.summary import print_summary

    params = {
        "inputs": inputs,
        "output": str(output),
        "config_file": str(config) if config else None,
        "overrides": overrides,
        "show_progress": progress,
        "urls": url_list,
        "feeds": feeds,
        "sitemaps": sitemaps,
    }
    with output_errors(), _interruptible(api):
        api.wait()
        if task_runner is None:
            summary = ingest.run_local(spec.kind, cfg.run.max_workers, spec.address, **params)
        else:
            summary = ingest.prefect().with_options(task_runner=task_runner)(**params)
    if json_summary:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        print_summary(summary)


@app.command()
def backfill(
    since: Annotated[str, typer.Option(help="First published date to replace (YYYY-MM-DD).")],
    until: Annotated[str, typer.Option(help="Last published date to replace (YYYY-MM-DD, inclusive).")],
    input: InputOpt = None,
    output: OutputOpt = Path("data/clean"),
    config: ConfigOpt = None,
    set_: SetOpt = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on a terminal.")] = True,
    runner: RunnerOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Reprocess inputs and replace exactly the [since, until] range of published dates."""
    _prefect_env()
    d0, d1 = parse_date(since, "--since"), parse_date(until, "--until")
    if d0 > d1:
        typer.echo(f"error: --since {d0} is after --until {d1}", err=True)
        raise typer.Exit(2)
    overrides = parse_overrides(set_ if isinstance(set_, list) else None)
    inputs = require_paths(input or [Path("data/raw")])
    cfg = _config(config, overrides)
    spec = _runner_spec(runner, cfg)
    require_writable(output, "--output", folder=True)
    refuse_if_locked(output)
    engine_name, api = _engine_and_api(engine, cfg)
    task_runner = _task_runner(spec, cfg) if engine_name == "prefect" else None
    from flows.backfill import backfill

    params = {"since": d0, "until": d1, "inputs": inputs, "output": str(output), "config_file": str(config) if config else None, "overrides": overrides, "show_progress": progress}
    with output_errors(), _interruptible(api):
        api.wait()
        if task_runner is None:
            res = backfill.run_local(spec.kind, cfg.run.max_workers, spec.address, **params)
        else:
            res = backfill.prefect().with_options(task_runner=task_runner)(**params)
    typer.echo(json.dumps(res, indent=2, default=str))


NO_SERVER_HELP = """\
Schedules need a running Prefect server (a temporary one lives only as long as one run).
Start one and run this again:
  newsclean server start                 # background server; its URL is kept under PREFECT_HOME
or
  prefect server start &                 # then: export PREFECT_API_URL=http://127.0.0.1:4200/api
One-off runs (newsclean run) work without a server."""


@app.command()
def serve(
    cron: Annotated[str, typer.Option(help='Cron schedule, e.g. "0 * * * *" (hourly) or "30 2 * * *" (daily 02:30).')],
    input: InputOpt = None,
    output: OutputOpt = Path("data/clean"),
    config: ConfigOpt = None,
    set_: SetOpt = None,
    feed: Annotated[list[str] | None, typer.Option("--feed", help="RSS/Atom/JSON feed URL to ingest on each run; repeatable.")] = None,
    sitemap: Annotated[list[str] | None, typer.Option("--sitemap", help="Sitemap URL to ingest on each run; repeatable.")] = None,
    name: Annotated[str, typer.Option(help="Deployment name (shown in the UI as newsclean-ingest/NAME).")] = "newsclean-served",
    timezone: Annotated[str | None, typer.Option(help="Time zone of the cron schedule (default UTC).")] = None,
    runner: RunnerOpt = None,
) -> None:
    """Run the ingest flow on a cron schedule in this process (flow.serve; needs a Prefect server)."""
    _prefect_env()
    from flows.server import api_for_serving, health_ok

    overrides = parse_overrides(set_ if isinstance(set_, list) else None)
    cfg = _config(config, overrides)  # checked now, not on the first scheduled run
    spec = _runner_spec(runner, cfg)
    api_url = api_for_serving()
    if not api_url or not health_ok(api_url, timeout=3.0):
        where = f" (PREFECT_API_URL={api_url} does not answer)" if api_url else ""
        typer.echo(f"error: no Prefect server{where}.\n{NO_SERVER_HELP}", err=True)
        raise typer.Exit(2)
    task_runner = _task_runner(spec, cfg)
    feeds = without_credentials(feed if isinstance(feed, list) else [])
    sitemaps = without_credentials(sitemap if isinstance(sitemap, list) else [])
    inputs = [str(Path(p).resolve()) for p in require_paths(input or ([] if feeds or sitemaps else [Path("data/raw")]))]
    from prefect.schedules import Cron

    from flows.ingest import ingest_flow

    try:
        schedule = Cron(cron, timezone=timezone or "UTC")
    except ValueError as exc:
        typer.echo(f"error: bad --cron {cron!r}: {exc}", err=True)
        raise typer.Exit(2) from exc
    params = {
        "inputs": inputs,
        "output": str(output.resolve()),
        "config_file": str(config.resolve()) if config else None,
        "overrides": overrides,
        "feeds": feeds,
        "sitemaps": sitemaps,
    }
    typer.echo(f"serving newsclean-ingest/{name} on {cron!r} against {api_url} (Ctrl-C stops)", err=True)
    ingest_flow.with_options(task_runner=task_runner).serve(name=name, schedule=schedule, parameters=params)


@server_app.command("start")
def server_start(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: a free one).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for /api/health.")] = 120.0,
) -> None:
    """Start `prefect server start` in the background and record its URL under PREFECT_HOME."""
    _prefect_env()
    from flows.server import ServerError, prefect_home, start_background_server

    try:
        rec = start_background_server(host=host, port=port, timeout=timeout)
    except ServerError as exc:
        typer.echo(f"error: {exc} (log: {prefect_home() / 'newsclean-server.log'})", err=True)
        raise typer.Exit(1) from exc
    state = "already running" if rec["reused"] else "started"
    typer.echo(f"prefect server {state}: {rec['api_url']} (pid {rec['pid']}, log {rec['log']})")
    typer.echo(f"later newsclean runs with this PREFECT_HOME ({prefect_home()}) reuse it; other tools: export PREFECT_API_URL={rec['api_url']}")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the background server started by `newsclean server start`."""
    from flows.server import stop_background_server

    rec = stop_background_server()
    typer.echo(f"stopped {rec['api_url']} (pid {rec['pid']})" if rec else "no recorded server")


@server_app.command("status")
def server_status_cmd() -> None:
    """Show the recorded server and whether it answers (exit 1 when none answers)."""
    from flows.server import server_status

    st = server_status()
    typer.echo(json.dumps(st, indent=2))
    if not st["healthy"]:
        raise typer.Exit(1)


@app.command()
def compact(output: OutputOpt = Path("data/clean")) -> None:
    """Rewrite small files of every table into larger ones (a new version; readers undisturbed)."""
    require_output_dir(output)
    from flows.storage import Storage

    st = Storage(output)
    with output_errors(), st.lock():
        res = st.compact()
    for table, m in res.items():
        typer.echo(f"{table}: {m.get('numFilesRemoved', 0)} files -> {m.get('numFilesAdded', 0)}")


@app.command()
def vacuum(
    output: OutputOpt = Path("data/clean"),
    retention_hours: Annotated[int, typer.Option(help="Keep files needed by versions younger than this (>= 168 unless --force-short).")] = 168,
    force_short: Annotated[bool, typer.Option(help="Allow a retention under 7 days (breaks long readers/time travel).")] = False,
    dry_run: Annotated[bool, typer.Option(help="List what would be deleted.")] = False,
    index_retention_days: Annotated[
        int,
        typer.Option(
            min=0,
            help="First delete the dedup index rows of pages seen more than this many days ago (0: keep them all); "
            "later pages no longer match them, so keep at least dedup.window_days plus the oldest backfill you may run.",
        ),
    ] = 0,
) -> None:
    """Delete data files no longer referenced by recent table versions (and, with
    --index-retention-days, the fingerprints of pages seen longer ago)."""
    if retention_hours < 168 and not force_short:
        typer.echo("error: retention under 168 hours needs --force-short", err=True)
        raise typer.Exit(2)
    require_output_dir(output)
    from flows import index_cache
    from flows.storage import Storage

    st = Storage(output)
    with output_errors(), st.lock():
        if index_retention_days:
            before = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=index_retention_days)
            if dry_run:
                typer.echo(f"dedup_index: rows of pages seen before {before} would be deleted")
            else:
                typer.echo(f"dedup_index: {st.expire_index(before)} rows of pages seen before {before} deleted")
                index_cache.expire(st, before)  # their days' band-key cache entries go too
        res = st.vacuum(retention_hours, dry_run=dry_run)
    for table, files in res.items():
        typer.echo(f"{table}: {len(files)} files {'would be ' if dry_run else ''}deleted")


@app.command()
def export(
    output: OutputOpt = Path("data/clean"),
    to: Annotated[Path, typer.Option("--to", help="Folder for plain Parquet snapshots (<table>.parquet).")] = Path("data/export"),
) -> None:
    """Snapshot the tables as plain Parquet for readers that glob files instead of reading Delta."""
    require_writable(to, "--to", folder=True)
    from flows.storage import MissingTablesError, Storage

    try:
        with output_errors():
            written = Storage(output).export(to)
    except MissingTablesError as exc:
        typer.echo(f"error: {exc} (nothing exported; {to} untouched)", err=True)
        raise typer.Exit(2) from exc
    for table, path in written.items():
        typer.echo(f"{table}: {path}")


@app.command()
def report(
    output: OutputOpt = Path("data/clean"),
    to: Annotated[Path | None, typer.Option("--to", help="HTML file to write (default: DIR/report.html).")] = None,
    top_sites: Annotated[int, typer.Option(help="Sites shown by name in the per-site plot.")] = 15,
    recent: Annotated[int, typer.Option(help="Rows in the recent-articles table.")] = 20,
) -> None:
    """Write a self-contained HTML page (inline SVG plots, no network) about the tables under DIR."""
    from flows.report import write_report

    if not output.is_dir():
        typer.echo(f"error: output directory does not exist: {output}", err=True)
        raise typer.Exit(2)
    target = to if isinstance(to, Path) else output / "report.html"
    require_writable(target, "--to" if isinstance(to, Path) else "report file", folder=False)
    dest = write_report(output, target, top_sites=top_sites, recent=recent)
    typer.echo(f"wrote {dest}")


@app.command("dedup")
def dedup_cmd(
    input: Annotated[Path, typer.Option("--input", "-i", help="Parquet with doc_id and text (optional title, site, url, published).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Parquet: every input row + cluster_id, is_canonical, similarity.")],
    config: ConfigOpt = None,
    set_: SetOpt = None,
    runner: Annotated[
        str | None,
        typer.Option(
            "--runner",
            help="Where dedup runs: threads (one process, the default) | dask (a LocalCluster of run.max_workers worker processes) | dask=ADDRESS (a running cluster; its workers must see --input and the output folder).",
        ),
    ] = None,
    partitions: Annotated[int | None, typer.Option("--partitions", min=1, help="Dask: input partitions (default: 2 per worker, at least one per 200k rows).")] = None,
) -> None:
    """Cluster syndicated copies in a Parquet file (no Prefect server needed)."""
    import time

    import polars as pl

    from cleaners import dedup

    cfg = _config(config, parse_overrides(set_ if isinstance(set_, list) else None))
    spec = _runner_spec(runner if isinstance(runner, str) else "threads", cfg)
    if spec.kind == "processes":
        typer.echo("error: dedup runs in one process (threads) or on Dask (dask, dask=ADDRESS)", err=True)
        raise typer.Exit(2)
    if not input.exists():
        typer.echo(f"error: input file does not exist: {input}", err=True)
        raise typer.Exit(2)
    require_writable(output, "--output", folder=False)
    if spec.kind == "dask":
        _dedup_on_dask(input, output, cfg, spec, partitions if isinstance(partitions, int) else None)
        return
    df = pl.read_parquet(input)
    missing = {"doc_id", "text"} - set(df.columns)
    if missing:
        typer.echo(f"error: {input} lacks required column(s): {', '.join(sorted(missing))}", err=True)
        raise typer.Exit(2)
    # an earlier assignment (an export's, a labelled set's) is kept beside the new one as input_<name>
    earlier = {c: f"input_{c}" for c in dedup.RESULT_COLUMNS if c in df.columns}
    taken = sorted(set(earlier.values()) & set(df.columns))
    if taken:
        typer.echo(f"error: {input} has both {', '.join(earlier)} and {', '.join(taken)}: rename one", err=True)
        raise typer.Exit(2)
    df = df.rename(earlier)
    t0 = time.perf_counter()
    out = dedup.assign_clusters(df, cfg.dedup)
    dt_s = time.perf_counter() - t0
    output.parent.mkdir(parents=True, exist_ok=True)
    out.write_parquet(output)
    n_clusters = out["cluster_id"].n_unique()
    kept = f"; earlier {', '.join(earlier)} kept as {', '.join(earlier.values())}" if earlier else ""
    typer.echo(f"{df.height} rows -> {n_clusters} clusters ({df.height - n_clusters} copies) in {dt_s:.2f} s; wrote {output}{kept}")


def _dedup_on_dask(input: Path, output: Path, cfg, spec, partitions: int | None) -> None:
    """``newsclean dedup --runner dask``: flows/dask_dedup.py on a LocalCluster or a running cluster;
    the workers write part files beside ``output``, which are then streamed into it."""
    import math
    import shutil
    import time

    import polars as pl
    from distributed import Client, LocalCluster

    from cleaners import dedup
    from flows.dask_dedup import dedup_parquet
    from flows.runners import pool_size

    names = pl.scan_parquet(input).collect_schema().names()
    missing = {"doc_id", "text"} - set(names)
    if missing:
        typer.echo(f"error: {input} lacks required column(s): {', '.join(sorted(missing))}", err=True)
        raise typer.Exit(2)
    earlier = {c: f"input_{c}" for c in dedup.RESULT_COLUMNS if c in names}
    taken = sorted(set(earlier.values()) & set(names))
    if taken:
        typer.echo(f"error: {input} has both {', '.join(earlier)} and {', '.join(taken)}: rename one", err=True)
        raise typer.Exit(2)
    n_rows = pl.scan_parquet(input).select(pl.len()).collect().item()
    parts_dir = output.parent / f".{output.name}.parts"
    shutil.rmtree(parts_dir, ignore_errors=True)
    parts_dir.mkdir(parents=True)
    with contextlib.ExitStack() as stack:
        if spec.address:
            client = stack.enter_context(Client(spec.address))
        else:
            cluster = stack.enter_context(
                LocalCluster(n_workers=pool_size(cfg.run.max_workers), threads_per_worker=1, processes=True, dashboard_address=None)
            )
            client = stack.enter_context(Client(cluster))
        n_workers = max(len(client.scheduler_info()["workers"]), 1)
        n_parts = partitions or max(2 * n_workers, math.ceil(n_rows / 200_000))
        t0 = time.perf_counter()
        paths = dedup_parquet(client, str(input.resolve()), str(parts_dir.resolve()), cfg.dedup, n_parts, earlier)
        dt_s = time.perf_counter() - t0
    pl.scan_parquet(paths).sink_parquet(output)
    shutil.rmtree(parts_dir, ignore_errors=True)
    n_clusters = pl.scan_parquet(output).select(pl.col("cluster_id").n_unique()).collect().item()
    kept = f"; earlier {', '.join(earlier)} kept as {', '.join(earlier.values())}" if earlier else ""
    typer.echo(
        f"{n_rows} rows -> {n_clusters} clusters ({n_rows - n_clusters} copies) in {dt_s:.2f} s on {n_workers} Dask workers, {n_parts} partitions; wrote {output}{kept}"
    )


if __name__ == "__main__":
    app()
