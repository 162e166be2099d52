"""The extraction workers' pool (flows/guard.py, issue 16): a run's units share warm workers."""

from __future__ import annotations

import pickle
import threading
import time

from cleaners import schema as S
from cleaners.config import parse_config
from cleaners.document import RawPage
from cleaners.steps import Stats
from flows.guard import GuardedCleaner, WorkerPool

PAGE = (
    b"<html lang='en'><head><title>Budget</title></head><body><article><h1>Budget</h1><p>"
    + b"The council approved the new budget after a long debate on Tuesday night. " * 6
    + b"</p></article></body></html>"
)


def _clean(cleaner: GuardedCleaner, source: str) -> str | None:
    frame = cleaner.clean([RawPage(source, PAGE, format="html")], Stats())
    return frame[S.TEXT][0]


def test_a_closed_cleaner_passes_its_worker_on() -> None:
    cfg, pool = parse_config(None, {}), WorkerPool()
    try:
        with GuardedCleaner(cfg, pool=pool) as first:
            text = _clean(first, "a")
            pid = first._proc.pid
        assert first.starts == 1 and len(pool) == 1  # kept warm, not ended
        with GuardedCleaner(cfg, pool=pool) as second:
            assert _clean(second, "b") == text
            assert second.starts == 0 and second._proc.pid == pid  # the same process, no start-up
        other = parse_config(None, {"extract.min_text_chars": 30})
        with GuardedCleaner(other, pool=pool) as third:  # another config: a worker of its own
            _clean(third, "c")
            assert third.starts == 1
        assert len(pool) == 2
        procs = [p for _, p in pool._idle]
    finally:
        pool.close_all()
    assert len(pool) == 0 and all(p.poll() is not None for p in procs)


def test_pool_keeps_at_most_max_workers_and_skips_dead_ones() -> None:
    cfg, pool = parse_config(None, {"run.max_workers": 1}), WorkerPool()
    try:
        cleaners = [GuardedCleaner(cfg, pool=pool) for _ in range(2)]
        for i, c in enumerate(cleaners):
            _clean(c, str(i))
        procs = [c._proc for c in cleaners]
        for c in cleaners:
            c.close()
        assert len(pool) == 1 and procs[0].poll() is not None  # the older one ended
        procs[1].kill()
        procs[1].wait()
        with GuardedCleaner(cfg, pool=pool) as fresh:  # a dead idle worker is not handed out
            _clean(fresh, "x")
            assert fresh.starts == 1
    finally:
        pool.close_all()


def test_without_a_pool_the_worker_ends_on_close() -> None:
    cfg = parse_config(None, {})
    with GuardedCleaner(cfg) as cleaner:
        _clean(cleaner, "a")
        proc = cleaner._proc
    assert proc.poll() is not None


def _article(i: int) -> bytes:
    return PAGE.replace(b"Budget", f"Budget {i}".encode()).replace(b"council", f"council of town {i}".encode())


def _warm_pool(cfg, pool: WorkerPool, n: int) -> None:
    """``n`` idle workers in ``pool`` (cleaners that each cleaned a page, then closed)."""
    cleaners = [GuardedCleaner(cfg, pool=pool) for _ in range(n)]
    for i, c in enumerate(cleaners):
        _clean(c, f"warm{i}")
    for c in cleaners:
        c.close()
    assert len(pool) == n


def test_idle_workers_help_a_batch_and_rows_keep_page_order() -> None:
    cfg, pool = parse_config(None, {}), WorkerPool()
    pages = [RawPage(f"p{i}", _article(i), format="html") for i in range(12)]
    with GuardedCleaner(cfg) as alone:  # the reference: one worker, no pool
        expected = alone.clean(pages, Stats())
    try:
        _warm_pool(cfg, pool, 2)
        with GuardedCleaner(cfg, pool=pool) as busy:
            got = busy.clean(pages, Stats())
            assert busy.starts == 0 and busy.helped > 0  # its own worker from the pool, the other helped
        assert got[S.SOURCE].to_list() == [p.source for p in pages]
        assert got.equals(expected)
        assert len(pool) == 2 and pool._lent[busy._key] == 0  # the helper went back
    finally:
        pool.close_all()


def test_a_cleaner_needing_a_worker_gets_a_lent_helper_back() -> None:
    cfg, pool = parse_config(None, {}), WorkerPool()
    pages = [RawPage(f"p{i}", _article(i), format="html") for i in range(300)]
    out: dict = {}
    try:
        _warm_pool(cfg, pool, 2)

        def long_batch() -> None:
            with GuardedCleaner(cfg, pool=pool) as busy:
                out["frame"] = busy.clean(pages, Stats())

        thread = threading.Thread(target=long_batch)
        thread.start()
        key = pickle.dumps(cfg, protocol=pickle.HIGHEST_PROTOCOL)
        deadline = time.monotonic() + 60
        while pool._lent[key] == 0 and time.monotonic() < deadline:  # the busy cleaner borrowed the idle one
            time.sleep(0.01)
        assert pool._lent[key] == 1
        with GuardedCleaner(cfg, pool=pool) as newcomer:
            _clean(newcomer, "new")
            assert newcomer.starts == 0  # the helper came back after its page: no new process
            still_running = thread.is_alive()
        thread.join(120)
        assert still_running  # (else the helper was given back only at the batch's end)
        frame = out["frame"]
        assert frame[S.SOURCE].to_list() == [p.source for p in pages] and frame[S.DROP_REASON].null_count() == len(pages)
    finally:
        pool.close_all()


def test_a_helper_over_the_time_limit_is_killed_and_its_page_rejected() -> None:
    cfg, pool = parse_config(None, {"guard.max_page_seconds": 4.0}), WorkerPool()
    slow = b"<html><body>" + b"<div><span>word</span> more</div>" * 100_000 + b"</body></html>"  # far past 4 s
    pages = [RawPage("ok0", _article(0), format="html"), RawPage("slow", slow, format="html")]
    pages += [RawPage(f"ok{i}", _article(i), format="html") for i in range(1, 6)]
    try:
        _warm_pool(cfg, pool, 2)
        own, helper = (proc for _, proc in pool._idle)  # taken first, borrowed next
        stats = Stats()
        with GuardedCleaner(cfg, pool=pool) as cleaner:
            frame = cleaner.clean(pages, stats)
            assert cleaner.starts == 0 and cleaner._proc is own  # the slow page went to the helper ...
        assert helper.poll() is not None  # ... which was killed
        reasons = dict(zip(frame[S.SOURCE].to_list(), frame[S.DROP_REASON].to_list()))
        assert frame[S.SOURCE].to_list() == [p.source for p in pages]
        assert reasons.pop("slow") == "extract_timeout" and set(reasons.values()) == {None}
        assert stats.counters["guard.extract_timeout"] == 1
        assert pool._lent[cleaner._key] == 0 and len(pool) == 1  # the killed helper is not handed out again
    finally:
        pool.close_all()
