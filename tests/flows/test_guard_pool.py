"""The extraction workers' pool (flows/guard.py, issue 16): a run's units share warm workers."""

from __future__ import annotations

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
