import os
import shutil
import time
from pathlib import Path

import polars as pl
import pytest

from cleaners import schema as S
from flows.storage import Storage

from lock_contender import contend


def _rows(ids):
    return pl.DataFrame({S.DOC_ID: ids, S.TEXT: [f"text {i}" for i in ids], S.SOURCE: [f"/in/{i}.txt" for i in ids]})


def test_insert_new_is_idempotent(tmp_path):
    st = Storage(tmp_path)
    assert not st.exists("articles")
    assert st.read("articles").schema == S.ARTICLES_SCHEMA
    r1 = st.insert_new("articles", _rows(["a", "b", "b"]))  # duplicate inside one batch too
    assert r1.rows_inserted == 2
    r2 = st.insert_new("articles", _rows(["b", "c"]))
    assert r2.rows_inserted == 1
    r3 = st.insert_new("articles", _rows(["a", "b", "c"]))
    assert r3.rows_inserted == 0
    df = st.read("articles")
    assert sorted(df[S.DOC_ID].to_list()) == ["a", "b", "c"]
    assert df.schema == S.ARTICLES_SCHEMA


def test_tables_readable_by_duckdb(tmp_path):
    import duckdb

    st = Storage(tmp_path)
    st.insert_new("rejected", pl.DataFrame({S.DOC_ID: ["x"], S.SOURCE: ["/in/x"], S.REASON: ["too_short"]}))
    files = list((tmp_path / "rejected").glob("*.parquet"))
    n = duckdb.sql(f"select count(*) from read_parquet('{files[0]}')").fetchall()[0][0]
    assert n == 1


def test_table_written_by_older_schema_gains_new_columns(tmp_path):
    """A table written before a column existed accepts rows of the current schema."""
    from deltalake import write_deltalake

    old = S.conform(_rows(["a"]), S.ARTICLES_SCHEMA).drop(S.N_WORDS_RAW)
    write_deltalake(str(tmp_path / "articles"), old.to_arrow(compat_level=pl.CompatLevel.oldest()), mode="append", partition_by=[S.PUBLISHED])
    st = Storage(tmp_path)
    new = _rows(["b"]).with_columns(pl.lit(42).alias(S.N_WORDS_RAW))
    assert st.insert_new("articles", new).rows_inserted == 1
    df = st.read("articles").sort(S.DOC_ID)
    assert df[S.N_WORDS_RAW].to_list() == [None, 42]


def test_insert_new_appends_in_slices_and_a_cut_off_insert_completes(tmp_path, monkeypatch):
    """Rows go in APPEND_SLICE_ROWS at a time; an insert that stopped after some slices (a killed
    run) is completed by inserting the same rows again, without duplicates."""
    from deltalake import DeltaTable

    from flows import storage as storage_mod

    monkeypatch.setattr(storage_mod, "APPEND_SLICE_ROWS", 2)
    st = Storage(tmp_path)
    st.ensure_tables()
    before = DeltaTable(str(tmp_path / "articles")).version()
    ids = [f"d{i}" for i in range(5)]
    assert st.insert_new("articles", _rows(ids[:3])).rows_inserted == 3  # as if cut off after 3 of 5
    assert DeltaTable(str(tmp_path / "articles")).version() == before + 2  # slices of 2 and 1
    assert st.insert_new("articles", _rows(ids)).rows_inserted == 2
    assert sorted(st.read("articles")[S.DOC_ID].to_list()) == ids


# --- the writer lock -------------------------------------------------------------------------


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _lock_record(pid: int, **extra) -> str:
    import json
    import socket

    return json.dumps({"pid": pid, "host": socket.gethostname(), "since": "2020-01-01T00:00:00+00:00", **extra})



@pytest.mark.slow
@pytest.mark.parametrize("retry", [False, True], ids=["once", "until_held"])
def test_lock_is_never_held_twice_when_many_take_over_a_stale_lock(tmp_path, retry):
    """24 processes start together on an output whose lock names a dead process: their holding
    times never overlap, every one either held the lock or was told it is taken, and the lock
    is gone afterwards. (Before: 2 holders at once, and a loser deleted the winner's lock.)"""
    import multiprocessing

    # fresh processes forked from a clean server: forking this test process, whose polars and
    # Prefect threads may hold locks, can leave a child dead on arrival late in a suite
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["lock_contender"])
    n, rounds = 24, 4
    for r in range(rounds):
        root = tmp_path / f"out{r}"
        (root / "_state").mkdir(parents=True)
        (root / "_state" / "lock").write_text(_lock_record(_dead_pid()))
        go, log = tmp_path / f"go{r}", tmp_path / f"log{r}"
        procs = [ctx.Process(target=contend, args=(str(root), str(go), str(log), 0.02, retry)) for _ in range(n)]
        for p in procs:
            p.start()
        time.sleep(0.3)  # all of them waiting on the signal
        go.write_text("")
        for p in procs:
            p.join(90)
        assert [p.exitcode for p in procs] == [0] * n
        lines = log.read_text().splitlines()
        assert len(lines) == n and not [ln for ln in lines if ln.startswith("error")], lines
        held = sorted((float(a), float(b)) for kind, a, b in (ln.split() for ln in lines if ln.startswith("held")))
        assert held, lines
        if retry:
            assert len(held) == n
        overlaps = [(x, y) for x, y in zip(held, held[1:]) if y[0] < x[1]]
        assert not overlaps, f"round {r}: {len(overlaps)} overlapping holders"
        assert not (root / "_state" / "lock").exists()
        assert sorted(p.name for p in (root / "_state").iterdir()) in (["lock.guard"], [])


@pytest.fixture
def sleeper():
    """A live process that is not us (the holder of a lock a test writes)."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait()


def _seed(root, text: str, age: float = 0.0):
    lock = root / "_state" / "lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(text)
    if age:
        os.utime(lock, (time.time() - age, time.time() - age))
    return lock


def test_lock_of_a_live_process_blocks_and_is_left_alone(tmp_path, sleeper):
    from flows.storage import LockedError

    lock = _seed(tmp_path, _lock_record(sleeper.pid))
    before = lock.read_text()
    with pytest.raises(LockedError, match=rf"locked by another newsclean run \(pid {sleeper.pid} on "):
        with Storage(tmp_path).lock():
            pass
    assert lock.read_text() == before
    assert sorted(p.name for p in lock.parent.iterdir()) == ["lock", "lock.guard"]  # no temporary file left


def test_empty_lock_file_blocks_only_while_it_may_still_be_written(tmp_path):
    """A crash between creating the lock file and writing it left it empty: every later run was
    refused forever. Now an empty or unreadable lock is stale once EMPTY_LOCK_GRACE_SECONDS old."""
    from flows.storage import LockedError
    from flows.writerlock import EMPTY_LOCK_GRACE_SECONDS

    lock = _seed(tmp_path, "")
    with pytest.raises(LockedError, match="empty or unreadable"):
        with Storage(tmp_path).lock():
            pass
    for text in ("", "{not json", '{"pid": "12", "host": 3}', "\xff\xfe"):
        _seed(tmp_path, text, age=EMPTY_LOCK_GRACE_SECONDS + 5)
        with Storage(tmp_path).lock():
            assert f'"pid": {os.getpid()}' in lock.read_text()
        assert not lock.exists()


def test_lock_of_a_reused_pid_or_an_earlier_boot_is_taken_over(tmp_path, sleeper):
    """The pid of a dead holder now belongs to another process (simulated: a live pid with
    another start time): that process is not the holder, so the lock is stale."""
    from flows.liveness import boot_id, process_start
    from flows.storage import LockedError

    start = process_start(sleeper.pid)
    if start is None:
        pytest.skip("no /proc: process start times cannot be read here")
    _seed(tmp_path, _lock_record(sleeper.pid, start=start, boot=boot_id()))
    with pytest.raises(LockedError):
        with Storage(tmp_path).lock():
            pass
    for record in (_lock_record(sleeper.pid, start=start + 1), _lock_record(sleeper.pid, start=start, boot="an-earlier-boot")):
        _seed(tmp_path, record)
        with Storage(tmp_path).lock():
            pass
        assert not (tmp_path / "_state" / "lock").exists()


def test_lock_of_another_host_is_never_taken_over(tmp_path):
    import json

    from flows.storage import LockedError

    _seed(tmp_path, json.dumps({"pid": _dead_pid(), "host": "some-other-host", "since": "then"}))
    with pytest.raises(LockedError, match="on some-other-host since then"):
        with Storage(tmp_path).lock():
            pass


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path, sleeper):
    """Someone deleted our lock during the run and another run took it: ending ours must not
    remove theirs (before: the release deleted whatever file was there)."""
    lock = tmp_path / "_state" / "lock"
    with Storage(tmp_path).lock():
        lock.unlink()
        lock.write_text(_lock_record(sleeper.pid))
    assert lock.read_text() == _lock_record(sleeper.pid)


def test_lock_made_by_a_writer_that_skips_the_guard_is_respected(tmp_path, sleeper, monkeypatch):
    """An older newsclean creates the lock without the guard, between our look and our link:
    the link fails rather than replacing it."""
    from flows import writerlock
    from flows.storage import LockedError

    real_look = writerlock._look
    lock = tmp_path / "_state" / "lock"

    def look_then_race(path):
        seen = real_look(path)
        if not lock.exists():
            lock.write_text(_lock_record(sleeper.pid))
        return seen

    monkeypatch.setattr(writerlock, "_look", look_then_race)
    with pytest.raises(LockedError, match=f"pid {sleeper.pid}"):
        with Storage(tmp_path).lock():
            pass
    assert lock.read_text() == _lock_record(sleeper.pid)


def test_holder_tells_a_live_lock_before_any_work(tmp_path, sleeper):
    from flows.writerlock import holder

    assert holder(tmp_path / "missing") is None
    _seed(tmp_path, _lock_record(_dead_pid()))
    assert holder(tmp_path) is None  # stale: a run would take it over
    _seed(tmp_path, _lock_record(sleeper.pid))
    assert f"pid {sleeper.pid}" in holder(tmp_path)


# --- failed writes -----------------------------------------------------------------------------


def test_failed_table_write_names_table_path_and_os_reason_and_the_commit_stays_pending(tmp_path):
    """deltalake's error buries the OS reason (or has none: "Generic LocalFileSystem error"); the
    error now says which table, where and why, and the interrupted commit is replayed later."""
    import datetime as dt

    from flows.storage import StorageWriteError

    st = Storage(tmp_path)
    st.ensure_tables()
    articles = S.conform(_rows(["a", "b"]).with_columns(pl.lit(dt.date(2024, 1, 1)).alias(S.PUBLISHED)), S.ARTICLES_SCHEMA)
    rejected = pl.DataFrame({S.DOC_ID: ["r"], S.SOURCE: ["/in/r"], S.REASON: ["too_short"]})
    ledger = pl.DataFrame({S.DOC_ID: ["u1"], S.INPUT: ["/in/unit-1"], S.KIND: ["file"], S.FINGERPRINT: [""], S.RETRY: [False]})
    pending = st.stage_commit({"rejected": rejected, "articles": articles, "inputs": ledger}, {})
    obstacle = tmp_path / "articles" / "published=2024-01-01"
    obstacle.write_text("not a folder")  # the partition folder cannot be created
    with pytest.raises(StorageWriteError) as err:
        st.apply_commit(pending)
    assert str(err.value) == f"cannot write table articles at {tmp_path / 'articles'}: Not a directory (errno 20)"
    assert (pending / "_READY").exists() and st.read("inputs").height == 0
    assert st.read("rejected").height == 1  # written before the failure
    obstacle.unlink()
    st.recover()
    assert sorted(st.read("articles")[S.DOC_ID].to_list()) == ["a", "b"]
    assert st.read("rejected").height == 1 and st.read("inputs").height == 1 and not pending.exists()


def test_write_error_without_an_os_reason_gets_one_from_the_folder(tmp_path):
    """A file where a table should be: deltalake says only that the location is invalid."""
    from flows.storage import StorageWriteError

    (tmp_path / "rejected").write_text("not a table")
    st = Storage(tmp_path)
    assert not st.exists("rejected")
    with pytest.raises(StorageWriteError, match=r"^cannot create table rejected at .*/rejected: Not a directory \(errno 20\)$"):
        st.ensure_tables()


def test_failed_state_write_is_a_storage_error(tmp_path):
    from flows.storage import StorageWriteError

    st = Storage(tmp_path)
    (tmp_path / "_state").mkdir()
    (tmp_path / "_state" / "pending").write_text("not a folder")
    with pytest.raises(StorageWriteError, match=r"^cannot stage a commit at .*/_state/pending/\S+: Not a directory \(errno 20\)$"):
        st.stage_commit({"rejected": pl.DataFrame({S.DOC_ID: ["r"], S.SOURCE: ["/in/r"], S.REASON: ["too_short"]})}, {})


def test_lock_that_cannot_be_written_is_a_storage_error(tmp_path):
    from flows.storage import StorageWriteError

    (tmp_path / "_state").write_text("not a folder")
    with pytest.raises(StorageWriteError, match=r"^cannot take the writer lock at .*/_state: File exists \(errno 17\)$"):
        with Storage(tmp_path).lock():
            pass


def test_lock_of_a_zombie_is_taken_over(tmp_path):
    """A holder that exited but was not reaped yet by its parent still has its pid: it is dead."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        stat = Path(f"/proc/{proc.pid}/stat")  # kept until the process is reaped
        if not stat.exists():
            pytest.skip("no /proc: a zombie cannot be told from a live process here")
        deadline = time.monotonic() + 10
        while stat.read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z" and time.monotonic() < deadline:
            time.sleep(0.02)
        _seed(tmp_path, _lock_record(proc.pid))
        with Storage(tmp_path).lock():
            pass
    finally:
        proc.wait()


def _index_rows(ids, days):
    import datetime as dt

    from cleaners.dedup import INDEX_SCHEMA

    n = len(ids)
    return pl.DataFrame(
        {
            S.DOC_ID: ids,
            S.CLUSTER_ID: [f"c{i}" for i in ids],
            S.IS_CANONICAL: [True] * n,
            "shingles": [[1, 2**32 - 1]] * n,
            "band_keys": [[i, 2**64 - 1] for i in range(n)],
            S.SEEN: [dt.date(2025, 1, 1) + dt.timedelta(days=d) if d is not None else None for d in days],
        }
    ).pipe(S.conform, INDEX_SCHEMA)


def test_index_is_partitioned_by_seen_and_a_window_reads_only_its_days(tmp_path):
    import datetime as dt

    from deltalake import DeltaTable

    from cleaners.dedup import in_window

    st = Storage(tmp_path)
    rows = _index_rows([f"d{i}" for i in range(40)], list(range(40)))
    assert st.insert_new("dedup_index", rows).rows_inserted == 40
    assert st.insert_new("dedup_index", rows).rows_inserted == 0  # a replayed commit: nothing twice
    assert DeltaTable(st.uri("dedup_index")).metadata().partition_columns == [S.SEEN]
    back = st.read("dedup_index").sort(S.DOC_ID)
    assert back.equals(rows.sort(S.DOC_ID))  # unsigned hashes round-trip
    window = st.scan("dedup_index").filter(in_window((dt.date(2025, 1, 5), dt.date(2025, 1, 7)))).collect()
    assert sorted(window[S.DOC_ID]) == ["d4", "d5", "d6"]
    # the filter prunes whole partitions: with a file of another day gone, the window still reads
    for f in (tmp_path / "dedup_index" / "seen=2025-01-20").glob("*.parquet"):
        f.unlink()
    assert st.scan("dedup_index").filter(in_window((dt.date(2025, 1, 5), dt.date(2025, 1, 7)))).collect().height == 3
    with pytest.raises(Exception):  # noqa: B017 (whichever error the reader gives for a missing file)
        st.scan("dedup_index").collect()


def test_older_index_is_repartitioned_with_seen_from_the_pages(tmp_path):
    import datetime as dt

    from deltalake import DeltaTable, write_deltalake

    from flows import storage as storage_module

    st = Storage(tmp_path)
    st.insert_new("articles", _rows(["a"]).with_columns(pl.lit(dt.date(2024, 5, 1)).alias(S.PUBLISHED)))
    st.insert_new("duplicates", pl.DataFrame({S.DOC_ID: ["b"], S.INGESTED_AT: [dt.datetime(2024, 6, 2, 3, tzinfo=dt.timezone.utc)]}))
    shutil.rmtree(st.uri("dedup_index"))
    old = _index_rows(["a", "b", "gone"], [None, None, None]).drop(S.SEEN)  # as written before `seen` existed
    write_deltalake(st.uri("dedup_index"), storage_module._arrow(storage_module._encode("dedup_index", old)))
    assert st.scan("dedup_index").collect()[S.SEEN].null_count() == 3  # readable before the upgrade
    st.ensure_tables()  # what a run's first write does
    assert DeltaTable(st.uri("dedup_index")).metadata().partition_columns == [S.SEEN]
    got = dict(st.read("dedup_index").select(S.DOC_ID, S.SEEN).iter_rows())
    assert got == {"a": dt.date(2024, 5, 1), "b": dt.date(2024, 6, 2), "gone": None}
    assert st.read("dedup_index")["band_keys"].to_list()[0][1] == 2**64 - 1
    assert not st.repartition_index()  # done once


def test_expire_index_deletes_pages_seen_before_the_day(tmp_path):
    import datetime as dt

    st = Storage(tmp_path)
    st.insert_new("dedup_index", _index_rows(["old", "edge", "new", "undated"], [0, 10, 20, None]))
    assert st.expire_index(dt.date(2025, 1, 11)) == 1
    assert sorted(st.read("dedup_index")[S.DOC_ID]) == ["edge", "new", "undated"]
    assert st.expire_index(dt.date(2025, 1, 11)) == 0
