"""The band-key cache of the dedup index: a chunk's candidate lookup at a cost flat in history.

A chunk's lookup asks which indexed pages of its window share an LSH band key with it. Answered
from the Delta table, that reads and decodes every band key of every page in the window (64 per
page): 0.9M pages in a 30-day window of a 10M-page year are 54M keys, a few seconds a chunk, and
the window holds more pages as the stream grows. The answer is a set lookup, so this module keeps,
per ``seen`` day of the index, the day's band keys sorted (with the row each came from, and the
rows' ``doc_id``, ``cluster_id`` and ``is_canonical``, and a bitmap of the keys' top bits) in
``_state/index_keys/`` and looks the chunk's keys up: the bitmap rules out most of them, the rest
are found by binary search in the day's sorted keys. The cost per day follows the chunk's keys
(and the log of the day's), and reading the cache is a plain load of arrays (no Parquet list
decoding).

The cache is derived data, never the source of truth: a day's file is named by a hash of the Delta
data files that make up that day's partition in the current table version, so any append, delete,
compaction or expiry of a day makes its entry stale, and the next lookup rebuilds it from the
table (a live stream rebuilds only the days it wrote since the last chunk; history days stay). An
index written by an older version needs no migration: its days are cached on first use. The rows
the lookup names are then read from the table itself (``dedup.candidate_index_query``), so a
stale or missing cache could cost time but never change a result.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl
import xxhash

from cleaners import dedup, schema
from flows import storage as storage_module
from flows.storage import Storage

TABLE = "dedup_index"
# a day's entry carries a bitmap of its keys' top bits, FILTER_BITS_PER_KEY bits a key or more (a
# power of two): a chunk's key is searched for in the day's sorted keys only when its bit is set,
# which about 1 in 16 keys not in the day find (a day of 1.7M keys, 27k pages of a 10M-page year:
# 4 MB)
FILTER_BITS_PER_KEY = 16
UNDATED = "undated"  # the partition of rows without a seen day (an index from before the column)


def cache_dir(storage: Storage) -> Path:
    return storage.state_dir / "index_keys"


def day_files(storage: Storage, bounds: tuple[dt.date, dt.date] | None) -> dict[str, list[str]]:
    """The current data files of each ``seen`` day of the index (ISO day or :data:`UNDATED`)
    within ``bounds`` (all days when None; undated rows are in every window)."""
    # an index from before it was partitioned by seen (not yet rewritten by ensure_tables): one undated day
    actions = storage.data_files(TABLE, schema.SEEN).rename({"part": "day"})
    if bounds is not None:
        actions = actions.filter(pl.col("day").is_between(*bounds) | pl.col("day").is_null())
    out: dict[str, list[str]] = defaultdict(list)
    for path, day in actions.iter_rows():
        out[UNDATED if day is None else day.isoformat()].append(path)
    return dict(out)


def _stamp(paths: list[str]) -> str:
    return xxhash.xxh3_64_hexdigest("\n".join(sorted(paths)).encode())


def _build(storage: Storage, paths: list[str]) -> dict[str, np.ndarray]:
    """One day's entry from its data files: its distinct keys sorted, the rows holding each
    (``rows[start[i]:start[i + 1]]`` hold ``keys[i]``), the bitmap of their top bits, the rows'
    ``doc_id`` and ``cluster_id``, and the canonical rows by a 64-bit hash of their cluster_id."""
    files = [str(Path(storage.uri(TABLE)) / p) for p in paths]  # as scan_files names them in ``_file``
    rows = storage.scan_files(TABLE, paths, include_file_paths="_file").select(schema.DOC_ID, schema.CLUSTER_ID, "is_canonical", "band_keys", "_file").collect()
    lens = rows["band_keys"].list.len().fill_null(0).to_numpy()
    flat = rows["band_keys"].explode().drop_nulls().to_numpy().astype(np.int64).view(np.uint64)  # stored signed
    row = np.repeat(np.arange(rows.height, dtype=np.uint32), lens)
    order = np.argsort(flat, kind="stable")
    flat, row = flat[order], row[order]
    first = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1]))) if len(flat) else np.zeros(0, dtype=np.int64)
    width = int(np.clip(np.ceil(np.log2(max(len(first), 1) * FILTER_BITS_PER_KEY)), 10, 30))
    bits = np.zeros(1 << (width - 3), dtype=np.uint8)
    h = (flat[first] >> np.uint64(64 - width)).astype(np.int64)
    np.bitwise_or.at(bits, h >> 3, (1 << (h & 7)).astype(np.uint8))
    canon = np.flatnonzero(rows["is_canonical"].fill_null(False).to_numpy())
    canon_hash = _hashes(rows[schema.CLUSTER_ID].gather(canon))
    by_hash = np.argsort(canon_hash, kind="stable")
    return {
        "filter": bits,
        "keys": np.concatenate((flat[first], np.full((-len(first)) % BLOCK, 2**64 - 1, dtype=np.uint64))),
        "fence": flat[first][::BLOCK],
        "start": np.append(first, len(flat)).astype(np.uint32),
        "rows": row,
        "doc_id": rows[schema.DOC_ID].to_numpy().astype("U"),
        "cluster_id": rows[schema.CLUSTER_ID].fill_null("").to_numpy().astype("U"),
        "files": np.array(sorted(paths), dtype="U"),
        "file": np.searchsorted(np.array(sorted(files)), rows["_file"].to_numpy()).astype(np.uint32),
        "canon_hash": canon_hash[by_hash],
        "canon_row": canon[by_hash].astype(np.int64),
    }


def _hashes(values: pl.Series) -> np.ndarray:
    """A stable 64-bit hash (xxh3) of each string (null: 0)."""
    return np.fromiter((0 if v is None else xxhash.xxh3_64_intdigest(v.encode()) for v in values.to_list()), dtype=np.uint64, count=len(values))


_SEARCHED = ("filter", "keys", "fence")
BLOCK = 32  # keys a day's fence entry stands for (256 bytes, compared at once)


def load_day(storage: Storage, day: str, paths: list[str]) -> dict[str, np.ndarray]:
    """The cached entry of ``day`` for these data files (a folder of ``.npy`` arrays), built (and
    stale entries of the day removed) when missing. Written under a temporary name and renamed:
    a reader never sees half of one."""
    folder = cache_dir(storage)
    target = folder / f"{day}-{_stamp(paths)}"
    if target.is_dir():  # the searched arrays read whole, the rest memory-mapped (only hit rows are read)
        return {f.stem: np.load(f, mmap_mode=None if f.stem in _SEARCHED else "r") for f in target.glob("*.npy")}
    entry = _build(storage, paths)
    tmp = folder / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, values in entry.items():
        np.save(tmp / f"{name}.npy", values)
    try:
        os.replace(tmp, target)
    except OSError:  # another process cached the same files first
        shutil.rmtree(tmp, ignore_errors=True)
    for old in folder.glob(f"{day}-*"):
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return entry


def lookup(
    storage: Storage, keys: np.ndarray, bounds: tuple[dt.date, dt.date] | None, forget: pl.Series | None = None, with_rows: bool = False
) -> pl.DataFrame:
    """``doc_id``, ``cluster_id`` and ``seen`` of the indexed rows within ``bounds`` sharing a band
    key with ``keys`` (uint64, any order), plus the canonical rows of their clusters within
    ``bounds``: the rows ``dedup.candidate_index_query`` loads. ``forget``: doc_ids left out (rows
    being replaced). ``with_rows``: those rows whole (``dedup.INDEX_SCHEMA``), read from only the
    data files that hold them."""
    wanted = _distinct(np.asarray(keys, dtype=np.uint64))
    gone = set() if forget is None else set(forget.to_list())
    days = day_files(storage, bounds)
    hits: list[pl.DataFrame] = []
    entries: dict[str, dict[str, np.ndarray]] = {}
    for day, paths in sorted(days.items()):
        e = load_day(storage, day, paths)
        width = int(np.log2(len(e["filter"]))) + 3
        slot = (wanted >> np.uint64(64 - width)).astype(np.int64)
        maybe = wanted[((e["filter"][slot >> 3] >> (slot & 7).astype(np.uint8)) & 1).astype(bool)]  # only these can be the day's
        at = _positions(e["keys"], len(e["start"]) - 1, e["fence"], maybe)  # of the keys the day holds
        lo, hi = e["start"][at].astype(np.int64), e["start"][at + 1].astype(np.int64)
        n = hi - lo
        pos = np.repeat(lo - np.concatenate(([0], np.cumsum(n)[:-1])), n) + np.arange(int(n.sum()))
        rows = _distinct(np.asarray(e["rows"][pos]))
        if len(rows):
            hits.append(_frame(e, rows, day))
        entries[day] = {k: e[k] for k in ("canon_hash", "canon_row", "doc_id", "cluster_id", "files", "file")}  # the searched arrays are let go
    empty = pl.DataFrame(schema={schema.DOC_ID: pl.String, schema.CLUSTER_ID: pl.String, schema.SEEN: pl.Date})
    unwanted = pl.Series(sorted(gone), dtype=pl.String).implode()
    found = (pl.concat(hits) if hits else empty).filter(~pl.col(schema.DOC_ID).is_in(unwanted))
    clusters = _distinct(_hashes(found[schema.CLUSTER_ID].unique()))
    canon = []
    for day, e in entries.items():  # the canonicals of the found clusters, by hash of cluster_id
        if not len(clusters) or not len(e["canon_hash"]):
            continue
        at = np.searchsorted(e["canon_hash"], clusters, side="left")
        n = np.searchsorted(e["canon_hash"], clusters, side="right") - at
        pos = np.repeat(at - np.concatenate(([0], np.cumsum(n)[:-1])), n) + np.arange(int(n.sum()))
        if len(pos):
            rows = np.asarray(e["canon_row"][pos])
            canon.append(_frame(e, rows, day).filter(pl.col(schema.CLUSTER_ID).is_in(found[schema.CLUSTER_ID].implode())))
    out = pl.concat([found, *canon]).filter(~pl.col(schema.DOC_ID).is_in(unwanted)).unique(schema.DOC_ID, keep="first")
    return out if not with_rows else _read_rows(storage, out, entries)


def _read_rows(storage: Storage, found: pl.DataFrame, entries: dict[str, dict[str, np.ndarray]]) -> pl.DataFrame:
    """The index rows of ``found`` (doc_id, cluster_id, seen), read from only the data files that
    hold them (each day's entry names the file of each row)."""
    parts = [storage_module.empty_index()]
    for (day,), ids in found.partition_by(schema.SEEN, as_dict=True, include_key=True).items():
        key = UNDATED if day is None else day.isoformat()
        e = entries[key]
        pos = np.flatnonzero(np.isin(np.asarray(e["doc_id"]), ids[schema.DOC_ID].to_numpy().astype("U")))
        files = [str(f) for f in np.asarray(e["files"])[_distinct(np.asarray(e["file"])[pos])]]
        rows = storage.scan_files(TABLE, files).filter(pl.col(schema.DOC_ID).is_in(ids[schema.DOC_ID].implode())).collect()
        parts.append(storage_module.decode_index(rows.with_columns(pl.lit(day, pl.Date).alias(schema.SEEN))))
    return pl.concat(parts, how="diagonal_relaxed").select(list(dedup.INDEX_SCHEMA)).unique(schema.DOC_ID, keep="first")


def _positions(keys: np.ndarray, n: int, fence: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Positions in ``keys`` (``n`` sorted distinct keys, padded to whole blocks) of those
    ``wanted`` keys it holds. ``fence`` is
    every BLOCK-th key: a binary search in it (small enough to stay in cache) finds each key's
    block, and one comparison with the block's BLOCK keys (adjacent in memory) its place; a plain
    binary search over the day's 14 MB of keys cost a cache miss a step."""
    if not n or not len(wanted):
        return np.zeros(0, dtype=np.int64)
    block = np.maximum(np.searchsorted(fence, wanted, side="right") - 1, 0)
    same = keys.reshape(-1, BLOCK)[block] == wanted[:, None]
    found = same.any(axis=1)
    at = block[found] * BLOCK + same[found].argmax(axis=1)
    return at[at < n]  # a wanted 2**64 - 1 may equal the padding


def _distinct(a: np.ndarray) -> np.ndarray:
    """The sorted distinct values of ``a`` (by sorting: numpy's hashing ``unique`` was slower here)."""
    a = np.sort(a)
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if len(a) else a


def _frame(entry: dict[str, np.ndarray], rows: np.ndarray, day: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            schema.DOC_ID: pl.Series(entry["doc_id"][rows], dtype=pl.String),
            schema.CLUSTER_ID: pl.Series(entry["cluster_id"][rows], dtype=pl.String),
            schema.SEEN: pl.Series([None if day == UNDATED else dt.date.fromisoformat(day)] * len(rows), dtype=pl.Date),
        }
    )


def expire(storage: Storage, before: dt.date) -> None:
    """Remove the entries of days before ``before`` (their partitions were expired)."""
    for f in cache_dir(storage).glob("*-*"):
        day = f.name.split("-", 3)
        try:
            if dt.date.fromisoformat("-".join(day[:3])) < before:
                shutil.rmtree(f, ignore_errors=True)
        except ValueError:
            continue
