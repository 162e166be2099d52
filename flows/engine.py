"""Two ways of running one flow body: as a Prefect flow run, or by the local engine.

The flow bodies (flows/ingest.py, flows/backfill.py) and their tasks (``clean_unit``,
``discover_urls``, ``dedup_commit_chunk``) are plain functions declared here with their Prefect
options (``@engine.flow(...)``, ``@engine.task(...)``). Prefect's Flow and Task objects are
built from them on first use only, so this module, and the flow modules, import nothing from
Prefect at load time: importing Prefect costs ~2-3 s of CPU, more than half a one-page run.

* Prefect engine (a server or ``PREFECT_API_URL`` is there, or ``--engine prefect``): the CLI
  calls the Prefect flow (``FlowSpec.prefect()``; the modules export it as ``ingest_flow`` and
  ``backfill_flow`` for deployments and ``serve``). Inside the flow run, ``Task.submit`` and a
  direct call go through Prefect as before (task runs, retries, logs to the API).
* Local engine (``--engine local``, or ``auto`` with no API): ``FlowSpec.run_local`` calls the
  same body in this process with a ``concurrent.futures`` executor of the same kind and size as
  the Prefect task runner would have been (threads, spawned processes, or a Dask cluster's
  executor). ``submit`` sends the task's function there wrapped in the task's own retry
  settings (``retries``, ``retry_delay_seconds``, ``retry_condition_fn``; only ``Exception`` is
  retried, as Prefect does); logs go to stderr through the ``newsclean`` logger; no artifacts.

Which engine runs is decided by the CLI (flows/cli.py, ``resolve_engine`` below): ``--engine``,
else ``NEWSCLEAN_ENGINE``, else ``run.engine`` (config), each ``auto`` (the default), ``local``
or ``prefect``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import importlib
import logging
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

from flows.runners import pool_size

ENGINE_ENV = "NEWSCLEAN_ENGINE"
ENGINES = ("auto", "local", "prefect")
LOGGER_NAME = "newsclean"
LOG_FORMAT = "%(asctime)s.%(msecs)03d | %(levelname)-7s | %(name)s - %(message)s"  # Prefect's console layout


def in_prefect_run() -> bool:
    """True inside a Prefect flow or task run (never true unless Prefect is already imported)."""
    if "prefect.context" not in sys.modules:
        return False
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test's capture, a redirected CLI)."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _local_logger() -> logging.Logger:
    logger = logging.getLogger(LOGGER_NAME)
    if not logger.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def get_run_logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a Prefect run, else the ``newsclean`` logger (stderr)."""
    if in_prefect_run():
        from prefect import get_run_logger as prefect_logger

        return prefect_logger()
    return _local_logger()


# --- tasks ---------------------------------------------------------------------------------


class TaskSpec:
    """A task function and its Prefect options; ``prefect()`` builds (once) Prefect's Task."""

    def __init__(self, fn: Callable[..., Any], options: dict[str, Any]):
        self.fn = fn
        self.options = options
        self.ref = f"{fn.__module__}:{fn.__name__}"  # how a worker process finds it again
        self._prefect: Any = None
        functools.update_wrapper(self, fn)

    @property
    def name(self) -> str:
        return self.options.get("name") or self.fn.__name__

    def prefect(self) -> Any:
        if self._prefect is None:
            from prefect import task as prefect_task

            options = dict(self.options)
            if options.pop("no_cache", False):
                from prefect.cache_policies import NO_CACHE

                options["cache_policy"] = NO_CACHE
            self._prefect = prefect_task(**options)(self.fn)
        return self._prefect

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run now: a Prefect task run inside a Prefect flow run, else the function with retries."""
        if in_prefect_run():
            return self.prefect()(*args, **kwargs)
        return call_with_retries(self, args, kwargs)

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        """To the task runner (Prefect) or the local engine's executor; returns a future."""
        if in_prefect_run():
            return self.prefect().submit(*args, **kwargs)
        executor = _LOCAL.executor
        if executor is None:
            raise RuntimeError(f"{self.name}.submit outside a flow run: use FlowSpec.run_local or the Prefect flow")
        return executor.submit(run_task_ref, self.ref, args, kwargs)


def task(**options: Any) -> Callable[[Callable[..., Any]], TaskSpec]:
    """``@task(name=..., retries=..., ...)``: Prefect's task options; ``no_cache=True`` is NO_CACHE."""
    return lambda fn: TaskSpec(fn, options)


def call_with_retries(spec: TaskSpec, args: tuple, kwargs: dict) -> Any:
    """The local engine's task run: Prefect's retry rules (Exception only, ``retries`` more
    tries ``retry_delay_seconds`` apart while ``retry_condition_fn`` allows), logged to stderr."""
    retries = int(spec.options.get("retries") or 0)
    delay = float(spec.options.get("retry_delay_seconds") or 0)
    condition = spec.options.get("retry_condition_fn")
    logger = _local_logger()
    attempt = 0
    while True:
        try:
            return spec.fn(*args, **kwargs)
        except Exception as exc:
            if attempt >= retries or (condition is not None and not condition(spec, None, None)):
                logger.error("task %s failed: %s: %s%s", spec.name, type(exc).__name__, exc, " (retries exhausted)" if retries else "")
                raise
            attempt += 1
            logger.warning("task %s failed: %s: %s; retry %d/%d in %g s", spec.name, type(exc).__name__, exc, attempt, retries, delay)
            time.sleep(delay)


def run_task_ref(ref: str, args: tuple, kwargs: dict) -> Any:
    """What the local executor runs: the task named ``module:name`` (found again in a worker
    process by importing its module, which imports no Prefect), with its retries."""
    module, name = ref.split(":")
    spec = getattr(importlib.import_module(module), name)
    return call_with_retries(spec, args, kwargs)


def as_completed(futures: list) -> Iterator[Any]:
    """Futures in completion order, Prefect's or ``concurrent.futures``' alike."""
    if futures and not isinstance(futures[0], cf.Future):
        from prefect.futures import as_completed as prefect_as_completed

        yield from prefect_as_completed(futures)
        return
    yield from cf.as_completed(futures)


def cancel(future: Any) -> None:
    """Cancel a future that has not started (a Prefect future wraps a concurrent one)."""
    getattr(future, "wrapped_future", future).cancel()


# --- flows ---------------------------------------------------------------------------------


class _Local(threading.local):
    executor: cf.Executor | None = None


_LOCAL = _Local()


@contextlib.contextmanager
def local_executor(kind: str, max_workers: int, address: str | None = None) -> Iterator[cf.Executor]:
    """The local engine's executor for runner ``kind`` (flows/runners.py's kinds, same sizes)."""
    workers = pool_size(max_workers)
    if kind == "threads":
        with cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="newsclean-task") as pool:
            yield pool
        return
    if kind == "processes":
        import multiprocessing

        from flows.liveness import flag_interrupts_in_worker

        # spawned, as Prefect's ProcessPoolTaskRunner does (no forked polars thread pools)
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=flag_interrupts_in_worker) as pool:
            yield pool
        return
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if address:
            client = stack.enter_context(Client(address))
        else:
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        yield client.get_executor(pure=False)


class FlowSpec:
    """A flow body and its Prefect options: ``prefect()`` is Prefect's Flow (built once),
    ``run_local`` runs the body with the local engine."""

    def __init__(self, fn: Callable[..., Any], options: dict[str, Any]):
        self.fn = fn
        self.options = options
        self._prefect: Any = None
        functools.update_wrapper(self, fn)

    def prefect(self) -> Any:
        """Prefect's Flow of the body, built once. Its function is the body under the name the
        module exports the flow as (``export_as``): Prefect names a served or deployed flow's
        entrypoint ``file:function``, and a worker loads that name back (the module's
        ``__getattr__`` gives the Flow), so it must not name the plain body."""
        if self._prefect is None:
            from prefect import flow as prefect_flow

            from flows.runners import default_task_runner

            options = dict(self.options)
            name = options.pop("export_as", self.fn.__name__)
            fn = types.FunctionType(self.fn.__code__, self.fn.__globals__, name, self.fn.__defaults__, self.fn.__closure__)
            fn.__kwdefaults__, fn.__annotations__, fn.__doc__ = self.fn.__kwdefaults__, self.fn.__annotations__, self.fn.__doc__
            fn.__module__, fn.__qualname__ = self.fn.__module__, name
            self._prefect = prefect_flow(task_runner=default_task_runner(), **options)(fn)
        return self._prefect

    def run_local(self, kind: str = "threads", max_workers: int = 0, address: str | None = None, **params: Any) -> Any:
        """Run the body in this process, its tasks on a local executor (see the module doc)."""
        if _LOCAL.executor is not None:
            raise RuntimeError("a local flow run is already going on in this thread")
        logger = _local_logger()
        logger.info("flow %s: local engine, %s runner x%d", self.options.get("name"), kind, pool_size(max_workers))
        t0 = time.perf_counter()
        with local_executor(kind, max_workers, address) as executor:
            _LOCAL.executor = executor
            try:
                result = self.fn(**params)
            except BaseException as exc:
                logger.error("flow %s: %s after %.1f s", self.options.get("name"), type(exc).__name__, time.perf_counter() - t0)
                raise
            finally:
                _LOCAL.executor = None
        logger.info("flow %s: finished in %.1f s", self.options.get("name"), time.perf_counter() - t0)
        return result


def flow(**options: Any) -> Callable[[Callable[..., Any]], FlowSpec]:
    """``@flow(name=..., export_as="x_flow", ...)``: Prefect's flow options, and the module
    attribute that gives the Prefect flow (the task runner is chosen when the Prefect flow is
    built: ``NEWSCLEAN_RUNNER``, see flows/runners.py)."""
    return lambda fn: FlowSpec(fn, options)


# --- which engine --------------------------------------------------------------------------


class EngineError(ValueError):
    """An engine name that is not auto, local or prefect."""


def check_engine(name: str | None) -> str:
    name = (name or "auto").strip().lower()
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r}: expected auto, local or prefect")
    return name


def first_choice(*choices: str | None) -> str:
    """The first engine named (CLI option, environment, config), checked; ``auto`` if none."""
    return check_engine(next((c for c in choices if c), None))
