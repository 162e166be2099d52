"""The band-key cache of the dedup index (flows/index_cache.py): the same answer as scanning the
stored keys, rebuilt for a day whose files changed, and usable on an index written before it."""

from __future__ import annotations

import datetime as dt
import functools
import shutil

import numpy as np
import polars as pl
from deltalake import write_deltalake

from cleaners import dedup
from cleaners import schema as S
from cleaners.config import DedupConfig
from flows import index_cache
from flows import storage as storage_module
from flows.storage import Storage

DAY = dt.date(2025, 1, 1)


def _rows(ids: list[str], days: list[int | None], keys: list[list[int]], canonical: list[bool] | None = None, cluster: list[str] | None = None) -> pl.DataFrame:
    n = len(ids)
    return pl.DataFrame(
        {
            S.DOC_ID: ids,
            S.CLUSTER_ID: cluster or [f"c-{i}" for i in ids],
            S.IS_CANONICAL: canonical or [True] * n,
            "shingles": [[1, 2]] * n,
            "band_keys": keys,
            S.SEEN: [None if d is None else DAY + dt.timedelta(days=d) for d in days],
        }
    ).pipe(S.conform, dedup.INDEX_SCHEMA)


def _ids(found: pl.DataFrame) -> list[str]:
    return sorted(found[S.DOC_ID].to_list())


def test_lookup_finds_the_rows_sharing_a_key_and_their_canonicals_in_the_window(tmp_path):
    st = Storage(tmp_path)
    st.insert_new(
        "dedup_index",
        _rows(
            ["a", "b", "c", "d", "far"],
            [0, 1, 1, 3, 90],
            [[1, 2**64 - 1], [3, 4], [5, 6], [7, 8], [1, 9]],
            canonical=[False, True, True, True, True],
            cluster=["c-b", "c-b", "c-c", "c-d", "c-far"],
        ),
    )
    window = (DAY, DAY + dt.timedelta(days=30))
    got = index_cache.lookup(st, np.array([2**64 - 1, 6, 123], dtype=np.uint64), window)
    assert _ids(got) == ["a", "b", "c"]  # a and c by key, b as a's canonical; "far" is outside
    assert dict(zip(got[S.DOC_ID], got[S.SEEN])) == {"a": DAY, "b": DAY + dt.timedelta(days=1), "c": DAY + dt.timedelta(days=1)}
    assert _ids(index_cache.lookup(st, np.array([1], dtype=np.uint64), None)) == ["a", "b", "far"]  # no window: every day
    assert _ids(index_cache.lookup(st, np.array([2**64 - 1], dtype=np.uint64), window, forget=pl.Series(["a"]))) == []
    rows = index_cache.lookup(st, np.array([2**64 - 1, 6], dtype=np.uint64), window, with_rows=True).sort(S.DOC_ID)
    assert rows.equals(st.read("dedup_index").filter(pl.col(S.DOC_ID).is_in(["a", "b", "c"])).sort(S.DOC_ID))  # whole, decoded


def test_a_day_whose_files_changed_is_cached_again(tmp_path):
    st = Storage(tmp_path)
    st.insert_new("dedup_index", _rows(["a"], [0], [[1, 2]]))
    key = np.array([2], dtype=np.uint64)
    assert _ids(index_cache.lookup(st, key, None)) == ["a"]
    st.insert_new("dedup_index", _rows(["b"], [0], [[2, 3]]))  # same day, a new file
    assert _ids(index_cache.lookup(st, key, None)) == ["a", "b"]
    st.delete_ids("dedup_index", pl.Series(["a"]))
    assert _ids(index_cache.lookup(st, key, None)) == ["b"]
    assert len(list(index_cache.cache_dir(st).glob(f"{DAY.isoformat()}-*"))) == 1  # stale entries removed
    shutil.rmtree(index_cache.cache_dir(st))  # the cache is derived: gone, it is rebuilt
    assert _ids(index_cache.lookup(st, key, None)) == ["b"]


def test_an_index_written_before_the_cache_and_the_partitioning_is_looked_up(tmp_path):
    st = Storage(tmp_path)
    st.ensure_tables()
    shutil.rmtree(st.uri("dedup_index"))
    old = _rows(["a", "b"], [None, None], [[1, 2], [3, 4]]).drop(S.SEEN)
    write_deltalake(st.uri("dedup_index"), storage_module._arrow(storage_module._encode("dedup_index", old)))
    assert _ids(index_cache.lookup(st, np.array([4], dtype=np.uint64), (DAY, DAY))) == ["b"]  # undated: in every window


def test_cluster_run_with_the_cache_equals_the_scan_of_the_stored_keys(tmp_path):
    """The flow's lookup (the cache) loads the same candidate rows as the band-key scan."""
    st = Storage(tmp_path)
    cfg = DedupConfig()
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(400)]
    stories = [" ".join(rng.choice(words, 80)) for _ in range(30)]

    def batch(prefix: str, day: int, edit: int) -> pl.DataFrame:
        texts = [s.replace(s.split()[edit], "changed") for s in stories]
        return pl.DataFrame({"doc_id": [f"{prefix}{i}" for i in range(len(texts))], "text": texts, S.SEEN: [DAY + dt.timedelta(days=day)] * len(texts)})

    for k, day in enumerate((0, 5, 40)):
        _, rows = dedup.cluster_and_index(batch(f"r{k}-", day, k), cfg, st.scan("dedup_index"))
        st.insert_new("dedup_index", rows)
    new = batch("new-", 20, 7)
    bounds = dedup.window_bounds(new[S.SEEN], cfg)
    by_scan = dedup.cluster_and_index(new, cfg, st.scan("dedup_index"))[0]
    for with_rows in (False, True):  # the ids to read, or the rows read from the files holding them
        by_cache = dedup.cluster_and_index(new, cfg, st.scan("dedup_index"), functools.partial(index_cache.lookup, st, bounds=bounds, with_rows=with_rows))[0]
        assert by_cache.equals(by_scan)
    assert (~by_cache[S.IS_CANONICAL]).sum() >= 20  # pages (no copy within the batch) joined indexed clusters


def test_expired_days_lose_their_cache_entries(tmp_path):
    st = Storage(tmp_path)
    st.insert_new("dedup_index", _rows(["a", "b"], [0, 5], [[1], [2]]))
    index_cache.lookup(st, np.array([1], dtype=np.uint64), None)
    index_cache.expire(st, DAY + dt.timedelta(days=3))
    assert [p.name.split("-")[2] for p in index_cache.cache_dir(st).iterdir()] == ["06"]  # 2025-01-06 stays
