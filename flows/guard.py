"""The extraction guard: clean HTML pages in a persistent worker process with a per-page time limit.

One pathological page (30 MB of markup, 5,000 levels of nesting, a script-only page that sends
the parser or a regex into a long loop, or one that exhausts memory) must not stall or kill a
batch. ``GuardedCleaner(cfg)`` starts one worker (``python -m flows.guard``, a fresh interpreter:
safe next to threads, no re-import of the caller's main module) for a whole
clean task, sends it one HTML page at a time and waits at most ``guard.max_page_seconds``. On a
timeout the worker is killed and the page becomes a rejected row ``extract_timeout``; a worker
that dies gives ``extract_crashed``; a ``MemoryError`` under the worker's address-space budget
(``guard.max_worker_memory_mb`` above what it uses after start-up) gives ``extract_memory``. A
new worker is started only when the next page needs one.

Plain-text pages and load failures are cleaned in-process as one batch (they keep the batch-level
repeated-line rules); HTML pages do not use those, so cleaning them one by one changes nothing.

A worker costs seconds of CPU before its first page (imports, the language model, dateparser's
locales on the first page that needs them). ``GuardedCleaner(cfg, pool=IDLE_WORKERS)`` (the clean
task's) hands its healthy worker to the process's pool when it closes, and the next clean task of
the run with the same config takes it instead of starting one: a run starts one worker per task
runner thread, not one per unit. ``IDLE_WORKERS.close_all()`` ends them (the flow does, once its
units are cleaned; they also exit when this process does, on the end of their input).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from cleaners.config import PipelineConfig
from cleaners.document import LoadFailure, PageError, RawPage, clean_pages, clean_rows, rows_frame
from cleaners.steps import Stats
from flows.liveness import INTERRUPTED
from flows.runners import pool_size

STARTUP_SECONDS = 120.0  # importing the cleaners in a fresh interpreter, on a busy machine
WARM_UP_PAGE = b"<html><head><title>t</title></head><body><article><p>" + b"A warm-up sentence of text. " * 20 + b"</p></article></body></html>"
REPO_ROOT = Path(__file__).resolve().parents[1]


def _limit_memory(extra_mb: int) -> None:
    """Cap the address space at what the worker maps now plus ``extra_mb`` (Linux; else no cap)."""
    try:
        import resource

        with open("/proc/self/statm") as fh:
            vm_pages = int(fh.read().split()[0])
        limit = vm_pages * os.sysconf("SC_PAGE_SIZE") + extra_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError, ImportError):
        pass


def worker_main() -> None:
    """Worker loop over stdin/stdout pickles: a config, then pages; replies ("ok", rows, stats) or ("error", reason, detail).

    Rows go back as plain dicts (``clean_rows``): the parent makes one frame per batch, not one per page."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints from libraries go to stderr, never into the reply stream
    inp = sys.stdin.buffer
    cfg: PipelineConfig = pickle.load(inp)
    _limit_memory(cfg.guard.max_worker_memory_mb)
    clean_pages([RawPage("warm-up", WARM_UP_PAGE, format="html")], cfg, Stats())  # lazy imports, caches: not on a page's clock
    pickle.dump(("ready",), out)
    out.flush()
    memory_error = ("error", "extract_memory", f"over the worker's {cfg.guard.max_worker_memory_mb} MB budget")
    while True:
        # Running out of memory anywhere in a page's round trip (unpickling a large page, cleaning it,
        # pickling its rows, or a library thread reserving its malloc arena meanwhile) is the page's
        # extract_memory, not a crash: the parent knows which page it sent.
        try:
            page = pickle.load(inp)
            if page is None:
                return
            stats = Stats()
            reply = ("ok", clean_rows([page], cfg, stats), stats.as_dict())
            payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except EOFError:
            return
        except MemoryError:
            page = None  # let the page's bytes go before pickling the reply
            reply, payload = memory_error, pickle.dumps(memory_error, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(payload)
        out.flush()
        if reply[0] == "error":
            return  # the heap may be in a bad state: the parent starts a fresh worker


def _ask_exit(proc: subprocess.Popen) -> None:
    """Tell a worker its input has ended (it exits when it reads that)."""
    with contextlib.suppress(OSError, ValueError):
        pickle.dump(None, proc.stdin)
        proc.stdin.close()


def _reap(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Wait up to ``grace`` seconds for a worker told to exit, kill it if it has not, close its pipes."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stdout):
        with contextlib.suppress(OSError, ValueError):
            stream.close()


def _end_worker(proc: subprocess.Popen) -> None:
    """Ask a worker to exit (end of input), kill it if it does not, close its pipes."""
    _ask_exit(proc)
    _reap(proc)


class WorkerPool:
    """Warm extraction workers of this process, by the config they were started with: idle ones,
    and the count of idle ones lent to a busy cleaner as helpers (``borrow``) until it gives them
    back. A cleaner that needs its own worker while every one is lent out asks for one back
    (``take(..., wait=...)``) and the borrower returns a helper after its current page."""

    def __init__(self) -> None:
        self._idle: list[tuple[bytes, subprocess.Popen]] = []
        self._lent: Counter[bytes] = Counter()
        self._wanted: Counter[bytes] = Counter()
        self._cond = threading.Condition()

    def _pop_idle(self, key: bytes) -> subprocess.Popen | None:
        for i, (k, proc) in enumerate(self._idle):
            if k == key and proc.poll() is None:
                del self._idle[i]
                return proc
        return None

    def take(self, key: bytes, wait: float = 0.0) -> subprocess.Popen | None:
        """A live idle worker started with the config ``key`` (its pickle), or None. With ``wait``,
        when none is idle but some are lent out, wait up to that long for one to come back."""
        with self._cond:
            proc = self._pop_idle(key)
            if proc is None and wait > 0 and self._lent[key]:
                self._wanted[key] += 1
                try:
                    self._cond.wait_for(lambda: any(k == key for k, _ in self._idle) or not self._lent[key], timeout=wait)
                finally:
                    self._wanted[key] -= 1
                proc = self._pop_idle(key)
            return proc

    def borrow(self, key: bytes) -> subprocess.Popen | None:
        """An idle worker lent as a helper (``give_back`` or ``end_loan`` ends the loan); None when none
        is idle or a cleaner is waiting for one (``take``): helpers never keep a unit waiting."""
        with self._cond:
            if self._wanted[key]:
                return None
            proc = self._pop_idle(key)
            if proc is not None:
                self._lent[key] += 1
            return proc

    def wanted(self, key: bytes) -> bool:
        """A cleaner waits for a worker of ``key``: borrowers should give one back."""
        return bool(self._wanted[key])

    def give(self, key: bytes, proc: subprocess.Popen, max_idle: int) -> None:
        """Keep ``proc`` for the next cleaner (at most ``max_idle`` kept: the oldest others end)."""
        with self._cond:
            self._idle.append((key, proc))
            cut = max(len(self._idle) - max(max_idle, 0), 0)
            ended, self._idle = self._idle[:cut], self._idle[cut:]
            self._cond.notify_all()
        for _, old in ended:
            _end_worker(old)

    def give_back(self, key: bytes, proc: subprocess.Popen, max_idle: int) -> None:
        """End the loan of a live helper: idle again (``give``)."""
        with self._cond:
            self._lent[key] -= 1
        self.give(key, proc, max_idle)

    def end_loan(self, key: bytes) -> None:
        """End the loan of a helper that died, was killed or became its borrower's own worker."""
        with self._cond:
            self._lent[key] -= 1
            self._cond.notify_all()

    def close_all(self) -> None:
        """End every idle worker: all are told to exit before any is waited for, and after
        Ctrl-C (``INTERRUPTED``) they are killed at once instead."""
        with self._cond:
            idle, self._idle = self._idle, []
        stopping = INTERRUPTED.is_set()
        for _, proc in idle:
            _ask_exit(proc)
        for _, proc in idle:
            _reap(proc, grace=0.0 if stopping else 5.0)

    def __len__(self) -> int:
        return len(self._idle)


# The clean tasks' pool (flows.staging): one per process, as the task runner's threads share it.
IDLE_WORKERS = WorkerPool()


def _send(proc: subprocess.Popen, obj) -> None:
    pickle.dump(obj, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
    proc.stdin.flush()


def _read(proc: subprocess.Popen):
    """A worker's next reply (it is ready to be read); EOFError if the worker died."""
    return pickle.load(proc.stdout)


class GuardedCleaner:
    """``clean(pages, stats) -> frame`` like ``clean_pages``, with HTML pages guarded in a worker.
    With ``pool``, the worker comes from it when one is idle there and goes back to it on close;
    while a batch is cleaned, workers idle in the pool (another unit's task has ended and no unit
    is left for it) are borrowed as helpers and sent pages too, so the last unit of a run does
    not clean on one core while the others idle. Each page is cleaned alone in some worker and
    rows come back in page order: the rows do not depend on how many workers helped."""

    def __init__(self, cfg: PipelineConfig, pool: WorkerPool | None = None) -> None:
        self.cfg = cfg
        self.pool = pool
        self._key = pickle.dumps(cfg, protocol=pickle.HIGHEST_PROTOCOL) if pool is not None else b""
        self._proc: subprocess.Popen | None = None
        self.starts = 0  # workers this cleaner started (one taken from the pool is not counted)
        self.helped = 0  # pages cleaned by borrowed helpers

    def __enter__(self) -> GuardedCleaner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if self.pool is not None and proc.poll() is None and not INTERRUPTED.is_set():  # a stopping run keeps none
            self.pool.give(self._key, proc, self._max_idle)
        else:
            _end_worker(proc)

    @property
    def _max_idle(self) -> int:
        return pool_size(self.cfg.run.max_workers)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _reap(proc, grace=0.0)  # killed at once, pipes closed

    def _start(self) -> None:
        """This cleaner's own worker: an idle one of the pool (or one lent out, given back after
        its page), else a new process."""
        if self.pool is not None and (proc := self.pool.take(self._key, wait=self.cfg.guard.max_page_seconds + 1.0)) is not None:
            self._proc = proc
            return
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
        # The memory budget caps address space: each thread a library starts would otherwise reserve a
        # 64 MB malloc arena of it, so the budget would depend on thread timing rather than on the page.
        env.setdefault("MALLOC_ARENA_MAX", "2")
        # Its own process group: Ctrl-C in a terminal signals the foreground group, and a worker
        # killed by it mid-page would turn that page into an extract_crashed row. The task ends
        # the worker itself (it exits on EOF when the task's process dies).
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "flows.guard"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=str(REPO_ROOT), env=env, process_group=0
        )
        self.starts += 1
        try:
            _send(self._proc, self.cfg)
            ready, _, _ = select.select([self._proc.stdout], [], [], STARTUP_SECONDS)
            msg = _read(self._proc) if ready else None
        except (EOFError, OSError, pickle.UnpicklingError):
            msg = None
        if msg != ("ready",):
            self._kill()
            raise RuntimeError("the extraction worker did not start")

    def _failed(self, page: RawPage, reason: str, detail: str, stats: Stats) -> list[dict]:
        stats.add(f"guard.{reason}")
        return clean_rows([LoadFailure(page, PageError("extract", reason, detail))], self.cfg, stats)

    def _clean_local(self, pages: Sequence[RawPage | LoadFailure], stats: Stats) -> list[dict]:
        """Text pages and load failures, cleaned in this process; if the batch runs out of memory,
        page by page, and a page that still does is an ``extract_memory`` row (nothing is lost)."""
        attempt = Stats()
        try:
            rows = clean_rows(pages, self.cfg, attempt)
        except MemoryError:
            rows = []
            for page in pages:
                one = Stats()
                try:
                    rows.extend(clean_rows([page], self.cfg, one))
                except MemoryError:
                    one = Stats()
                    rows.extend(self._failed(page if isinstance(page, RawPage) else page.page, "extract_memory", "out of memory in the task process", one))
                stats.counters.update(one.counters)
            return rows
        stats.counters.update(attempt.counters)
        return rows

    def _clean_guarded(self, pages: Sequence[RawPage], stats: Stats) -> list[list[dict]]:
        """Each page's rows, cleaned in this cleaner's worker and any helpers it borrows.

        A page sent to a worker must reply within ``guard.max_page_seconds`` of being sent, else
        the worker is killed and the page is an ``extract_timeout`` row; a worker that dies gives
        ``extract_crashed``, an error reply its reason (the worker then exits). Own worker: started
        again when the next page needs one; helpers: not replaced. A helper goes back to the pool
        as soon as a cleaner waits for one (``WorkerPool.wanted``), the rest at the batch's end."""
        out: list[list[dict] | None] = [None] * len(pages)
        todo = list(range(len(pages)))[::-1]  # popped from the end: page order
        helpers: list[subprocess.Popen] = []
        busy: dict[subprocess.Popen, tuple[int, float]] = {}  # worker -> (page index, deadline)
        limit = self.cfg.guard.max_page_seconds

        def drop(proc: subprocess.Popen, helper: bool) -> None:
            """Kill a worker: this cleaner's own, or a helper (whose loan then ends)."""
            if helper:
                helpers.remove(proc)
                _reap(proc, grace=0.0)
                if self.pool is not None:
                    self.pool.end_loan(self._key)
            else:
                self._kill()

        def give_back(proc: subprocess.Popen) -> None:
            """A live helper back to the pool, idle."""
            helpers.remove(proc)
            if self.pool is not None:
                self.pool.give_back(self._key, proc, self._max_idle)

        try:
            while todo or busy:
                if todo and self._proc not in busy and (self._proc is None or self._proc.poll() is not None):
                    self._kill()
                    if free := [h for h in helpers if h not in busy and h.poll() is None]:  # a helper becomes the own worker
                        helpers.remove(free[0])
                        self._proc = free[0]
                        if self.pool is not None:
                            self.pool.end_loan(self._key)  # the loan ends: it goes back with this cleaner's close
                    elif not helpers:  # (helpers all busy: one of them takes over when it is free)
                        self._start()
                if self.pool is not None and len(todo) > 1 and not self.pool.wanted(self._key):
                    while len(helpers) + 1 < len(todo) and (extra := self.pool.borrow(self._key)) is not None:
                        helpers.append(extra)
                for proc in [self._proc, *helpers]:
                    if todo and proc is not None and proc not in busy:
                        i = todo.pop()
                        # a worker that ends while reading the page (out of memory unpickling it) breaks
                        # the pipe: its reply, if it sent one (extract_memory), or its end is read below
                        with contextlib.suppress(OSError):
                            _send(proc, pages[i])
                        busy[proc] = (i, time.monotonic() + limit)
                if not busy:
                    continue
                now = time.monotonic()
                ready, _, _ = select.select([p.stdout for p in busy], [], [], max(min(d for _, d in busy.values()) - now, 0.0))
                ready_set = set(ready)
                for proc, (i, deadline) in list(busy.items()):
                    helper = proc is not self._proc
                    if proc.stdout in ready_set:
                        del busy[proc]
                        try:
                            msg = _read(proc)
                        except (EOFError, OSError, pickle.UnpicklingError):
                            drop(proc, helper)
                            out[i] = self._failed(pages[i], "extract_crashed", "the extraction worker died", stats)
                            continue
                        if msg[0] == "error":
                            drop(proc, helper)
                            out[i] = self._failed(pages[i], msg[1], msg[2], stats)
                            continue
                        _, rows, counters = msg
                        stats.counters.update(Counter(counters))
                        out[i] = rows
                        if helper:
                            self.helped += 1
                            if self.pool is not None and self.pool.wanted(self._key):
                                give_back(proc)
                    elif time.monotonic() >= deadline:
                        del busy[proc]
                        drop(proc, helper)
                        out[i] = self._failed(pages[i], "extract_timeout", f"over {limit:g} s", stats)
        finally:
            for proc in list(helpers):  # back to the pool (a worker still busy after an exception is ended)
                if proc in busy or proc.poll() is not None or INTERRUPTED.is_set():
                    drop(proc, helper=True)
                else:
                    give_back(proc)
            if self._proc is not None and self._proc in busy:  # an exception mid-page: its reply would be read as the next page's
                self._kill()
        return [rows if rows is not None else [] for rows in out]

    def clean(self, pages: Sequence[RawPage | LoadFailure], stats: Stats) -> pl.DataFrame:
        """Clean a batch; every page gives exactly one row (as ``clean_pages``)."""
        if not self.cfg.guard.enabled:
            return clean_pages(pages, self.cfg, stats)[0]
        local = [p for p in pages if isinstance(p, LoadFailure) or p.format == "text"]
        guarded = [p for p in pages if not (isinstance(p, LoadFailure) or p.format == "text")]
        rows = self._clean_local(local, stats) if local else []
        for page_rows in self._clean_guarded(guarded, stats):
            rows.extend(page_rows)
        return rows_frame(rows)


if __name__ == "__main__":
    worker_main()
