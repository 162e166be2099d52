"""Where the clean tasks run: a choice of Prefect task runner.

``--runner`` (CLI), ``run.runner`` (config) or ``NEWSCLEAN_RUNNER`` (environment, read when a
flow module is imported: the way to choose for deployments) take one of::

    threads               a thread pool in the flow's process (the default)
    processes             Prefect's ProcessPoolTaskRunner (spawned worker processes)
    dask                  prefect-dask on a new dask.distributed LocalCluster (worker processes)
    dask=ADDRESS          prefect-dask attached to a running cluster, e.g. dask=tcp://10.0.0.5:8786

``run.max_workers`` sets the pool size (threads, processes, LocalCluster workers; 0, the default:
one per core, ``pool_size``). The local
engine (flows/engine.py: no Prefect API) runs the same kinds on ``concurrent.futures``
executors of the same size instead: a thread pool, a spawned process pool, a Dask client's
executor.

Only ``clean_unit`` tasks are submitted to the runner; the cross-document dedup and the Delta
commit (``dedup_commit_chunk``, one chunk at a time) stay in the flow's process (``newsclean dedup
--runner dask`` distributes the dedup of one Parquet file: flows/dask_dedup.py). Worker processes talk to
the Prefect API themselves: they need ``PREFECT_API_URL`` of a real server (``newsclean
server start``) or they each start a temporary one. The CLI always exports the URL it uses
(see flows/server.py), worker processes inherit it, and task runs sent to a Dask worker carry
the flow's settings (its API URL among them). A cluster on other machines needs a URL they can
reach, so not the loopback address of a temporary server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cleaners.config import split_runner

RUNNER_ENV = "NEWSCLEAN_RUNNER"
DEFAULT_WORKERS = 0  # run.max_workers' default: one per core


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. a container's cpuset)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def pool_size(max_workers: int) -> int:
    """The pool size ``run.max_workers`` asks for: itself, or one per core when 0."""
    return int(max_workers) if max_workers > 0 else available_cores()


class RunnerError(ValueError):
    """A runner spec that is not threads, processes, dask or dask=ADDRESS."""


@dataclass(frozen=True)
class RunnerSpec:
    kind: str  # one of cleaners.config.RUNNER_KINDS
    address: str | None = None  # dask only: scheduler address of an existing cluster

    def __str__(self) -> str:
        return f"{self.kind}={self.address}" if self.address else self.kind


def parse_runner(spec: str | None) -> RunnerSpec:
    """``"threads"``, ``"processes"``, ``"dask"`` or ``"dask=ADDRESS"`` -> RunnerSpec (None -> threads)."""
    try:
        kind, address = split_runner(spec or "threads")  # the grammar run.runner is checked against too
    except ValueError as exc:
        raise RunnerError(str(exc)) from exc
    return RunnerSpec(kind, address)


def make_task_runner(spec: RunnerSpec | str | None, max_workers: int = DEFAULT_WORKERS):
    """The Prefect task runner for ``spec`` with ``max_workers`` threads/processes/Dask workers."""
    spec = spec if isinstance(spec, RunnerSpec) else parse_runner(spec)
    workers = pool_size(max_workers)
    if spec.kind == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if spec.kind == "processes":
        from prefect.task_runners import ProcessPoolTaskRunner

        from flows.liveness import flag_interrupts_in_worker

        return ProcessPoolTaskRunner(max_workers=workers, initializer=flag_interrupts_in_worker)
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:  # pragma: no cover - prefect-dask is a dependency
        raise RunnerError("the dask runner needs prefect-dask (pip install prefect-dask)") from exc
    if spec.address:
        return DaskTaskRunner(address=spec.address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        # one thread per worker process: the clean tasks are CPU-bound Python
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None},
    )


def default_task_runner(max_workers: int = DEFAULT_WORKERS):
    """The runner named by ``NEWSCLEAN_RUNNER`` (threads when unset): the flows' decorator default."""
    return make_task_runner(os.environ.get(RUNNER_ENV) or "threads", max_workers)
