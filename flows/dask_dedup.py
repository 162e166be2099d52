"""Cross-document dedup on a Dask cluster: the steps of ``cleaners.dedup.partitioned`` as tasks,
with hash exchanges between them. Same clusters, canonicals and similarities as the
single-process ``cleaners.dedup.assign_clusters`` on the same rows (``tests/flows/test_dask_dedup.py``).

An exchange is a hash shuffle done with tasks: every task of one step returns its output cut into
``n`` buckets, and task ``j`` of the next step takes bucket ``j`` of each (``getitem`` tasks, so a
bucket moves alone). Partitions:

- input partitions (``parts``): slices of the input, read by the workers themselves;
- home partitions (``n_home``): rows and reps by content key (exact copies meet there); a rep's
  shingles and signature stay at its home until the end;
- shingle partitions: the furniture counts, summed by shingle; the furniture set (a few thousand
  hashes) comes to the client and is broadcast;
- band-key partitions: (band key, rep) rows, paired within a key;
- candidate pairs go to the home of ``a``, which asks the home of each ``b`` for those reps'
  shingles (only the requested ones move) and verifies them there.

The verified edges (a few per duplicated rep; never the shingles) and the reps in them come to the
client, which links them (``partitioned.link_edges``: the single-process linking on these reps);
the canonical of each member comes back to its home and the results to the input partitions.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl
from distributed import Client, Future

from cleaners.config import DedupConfig
from cleaners.dedup import partitioned as pt

RESULT_SCHEMA = {"cluster_id": pl.String, "is_canonical": pl.Boolean, "similarity": pl.Float64}


def read_slice(path: str, offset: int, length: int, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """Rows ``offset .. offset + length`` of a Parquet file (a task: each worker reads its own)."""
    scan = pl.scan_parquet(path)
    return (scan if columns is None else scan.select(list(columns))).slice(offset, length).collect()


def slice_bounds(n_rows: int, n_parts: int) -> list[tuple[int, int]]:
    """(offset, length) of ``n_parts`` near-equal slices of ``n_rows`` rows."""
    bounds = np.linspace(0, n_rows, n_parts + 1).astype(int)
    return [(int(lo), int(hi - lo)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def dedup_on_cluster(
    client: Client,
    load_part: Callable[[int], Any],
    n_parts: int,
    cfg: DedupConfig,
    n_home: int | None = None,
    stats: dict[str, Any] | None = None,
    hold: list[Any] | None = None,
) -> list[Future]:
    """Futures of the :data:`RESULT_SCHEMA` columns of each input partition (rows in its order).

    ``load_part(i)``: input partition ``i`` as a future or a frame (``doc_id`` unique over all
    partitions, ``text``; ``site``, ``published``, ``n_edits``, ``seen`` when present). Each is loaded when
    its shingling task is submitted and released after it (texts are not kept). ``n_home``: home,
    shingle and band-key partitions (default: as many as input partitions). ``stats``, if given,
    receives what came to the client: reps, furniture shingles, edges, reps in edges, link seconds.
    """
    n = n_home or n_parts
    sub = client.submit
    shingled = [sub(_route_contents, sub(pt.shingle_partition, load_part(i), cfg, i), n) for i in range(n_parts)]
    merged = [sub(_merge_home, *_bucket(client, shingled, j)) for j in range(n)]
    rows = [sub(operator.getitem, m, 0) for m in merged]
    raw = [sub(operator.getitem, m, 1) for m in merged]
    del shingled, merged

    counts = np.array(client.gather([sub(_count_docs, r) for r in raw]), dtype=np.int64)
    n_reps = int(counts.sum())
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    with_doc = n_reps >= cfg.min_docs_for_doc_frac
    partial = [sub(_route_counts, r, with_doc, n) for r in raw]
    shares = [sub(_furniture_share, *_bucket(client, partial, j), n_reps=n_reps, cfg=cfg) for j in range(n)]
    furniture = np.unique(np.concatenate(client.gather(shares))).astype(np.uint32)
    del partial, shares
    [furn] = client.scatter([furniture], broadcast=True)
    reps = [sub(pt.fingerprint_reps, r, furn, int(offsets[j]), cfg) for j, r in enumerate(raw)]
    del raw

    bands = [sub(_route_bands, r, cfg, n) for r in reps]
    pairs = [sub(_pair_share, *_bucket(client, bands, j), offsets=offsets, n=n) for j in range(n)]
    del bands
    verified = _verify(client, reps, [_bucket(client, pairs, j) for j in range(n)], offsets, cfg, candidates=True)
    del pairs
    found = client.gather(verified)
    reps = [sub(_without_signatures, r) for r in reps]  # the rest measures pairs exactly: 4 * num_perm bytes a rep freed
    found = [(e, v) for e, v in found if e.height]  # a home without edges has no node rows either
    del verified
    t0 = time.perf_counter()
    if found:
        edges = pl.concat([e for e, _ in found], how="vertical_relaxed")
        nodes = pl.concat([v for _, v in found], how="vertical_relaxed")
        linked = pt.link_edges(nodes, edges, cfg)
    else:
        edges = nodes = pl.DataFrame()
        linked = pl.DataFrame(schema={"gid": pl.Int64, "canon_gid": pl.Int64, "canon_doc": pl.String})
    if stats is not None:
        stats.update(
            reps=n_reps,
            furniture=len(furniture),
            edges=edges.height,
            edge_reps=linked.height,
            edges_mb=round((edges.estimated_size() + nodes.estimated_size()) / 2**20, 1),
            link_s=round(time.perf_counter() - t0, 2),
        )
    del found, edges, nodes

    # similarity of every member to its canonical (pairs the LSH stage may never have measured)
    members = linked.filter(pl.col("gid") != pl.col("canon_gid"))
    a, b = members["canon_gid"].to_numpy(), members["gid"].to_numpy()
    home_a = pt.home_of(a, offsets)
    # data from the client is scattered (sent to a worker), not put in the task graph
    to_canon = [client.scatter([(a[home_a == j], b[home_a == j])]) for j in range(n)]
    measured = client.gather(_verify(client, reps, to_canon, offsets, cfg, candidates=False))
    sims = pl.concat([e for e, _ in measured], how="vertical_relaxed").select("b", sim=pl.max_horizontal("jaccard", "containment"))

    home_linked = pt.home_of(linked["gid"].to_numpy(), offsets)
    home_sim = pt.home_of(sims["b"].to_numpy(), offsets)
    scattered = [client.scatter([linked.filter(pl.Series(home_linked == j)), sims.filter(pl.Series(home_sim == j))]) for j in range(n)]
    results = [sub(_home_results, rows[j], reps[j], *scattered[j], n_parts) for j in range(n)]
    buckets = [_bucket(client, results, i) for i in range(n_parts)]
    if hold is not None:
        # a future the client drops while a task that needs it is still queued can be forgotten
        # under load ("lost dependencies"): the caller keeps these until it has the results
        hold.extend([rows, reps, to_canon, scattered, results, buckets])
    return [sub(_part_results, *bucket) for bucket in buckets]


def dedup_frame(client: Client, df: pl.DataFrame, cfg: DedupConfig, n_parts: int, stats: dict[str, Any] | None = None) -> pl.DataFrame:
    """``df`` plus the result columns, deduplicated on the cluster in ``n_parts`` partitions (for a
    frame that fits the client; :func:`dedup_parquet` has the workers read and write the rows)."""
    parts = client.scatter([df.slice(lo, k) for lo, k in slice_bounds(df.height, n_parts)])
    hold: list[Any] = []
    results = client.gather(dedup_on_cluster(client, parts.__getitem__, n_parts, cfg, stats=stats, hold=hold))
    del hold
    return df.drop(list(RESULT_SCHEMA), strict=False).hstack(pl.concat(results).get_columns())


def dedup_parquet(
    client: Client, src: str, parts_dir: str, cfg: DedupConfig, n_parts: int, rename: dict[str, str], stats: dict[str, Any] | None = None
) -> list[str]:
    """Dedup the Parquet at ``src`` on the cluster; the workers write every input row plus the
    result columns to ``parts_dir``/part-NNNNN.parquet (input columns renamed by ``rename``) and
    the paths are returned in input order. The client holds only futures and the edges."""
    n_rows = pl.scan_parquet(src).select(pl.len()).collect().item()
    names = pl.scan_parquet(src).collect_schema().names()
    columns = [c for c in ("doc_id", "text", "site", "published", "n_edits", "seen") if c in names]
    bounds = slice_bounds(n_rows, n_parts)
    hold: list[Any] = []
    results = dedup_on_cluster(client, lambda i: client.submit(read_slice, src, *bounds[i], columns), n_parts, cfg, stats=stats, hold=hold)
    paths = [f"{parts_dir}/part-{i:05d}.parquet" for i in range(n_parts)]
    written = [client.submit(_write_part, src, *bounds[i], r, rename, paths[i]) for i, r in enumerate(results)]
    del results
    done = client.gather(written)
    del hold
    return done


def _write_part(src: str, offset: int, length: int, results: pl.DataFrame, rename: dict[str, str], path: str) -> str:
    read_slice(src, offset, length).rename(rename).hstack(results.get_columns()).write_parquet(path)
    return path


def _bucket(client: Client, futures: Sequence[Future], j: int) -> list[Future]:
    """Bucket ``j`` of each future's list of buckets: the inputs of task ``j`` of an exchange."""
    return [client.submit(operator.getitem, f, j) for f in futures]


def _route_contents(shingled: tuple[pl.DataFrame, pt.Docs], n: int) -> list[tuple[pl.DataFrame, pt.Docs]]:
    rows, contents = shingled
    row_home = pt.content_buckets(rows["_content_key"], n)
    doc_home = contents.split(pt.content_buckets(contents.meta["_content_key"], n), n)
    return [(rows.filter(pl.Series(row_home == j)), doc_home[j]) for j in range(n)]


def _merge_home(*buckets: tuple[pl.DataFrame, pt.Docs]) -> tuple[pl.DataFrame, pt.Docs]:
    return pt.merge_contents([r for r, _ in buckets], [d for _, d in buckets])


def _count_docs(reps: pt.Docs) -> int:
    return len(reps.sizes)


def _route_counts(reps: pt.Docs, with_doc: bool, n: int) -> list[tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]]:
    by_site, by_doc = pt.furniture_rows(reps, with_doc, n)
    return list(zip(by_site, by_doc))


def _furniture_share(*partial: tuple, n_reps: int, cfg: DedupConfig) -> np.ndarray:
    return pt.furniture_shingles([s for s, _ in partial], [d for _, d in partial], n_reps, cfg)


def _route_bands(reps: pt.Docs, cfg: DedupConfig, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    keys, gids = pt.band_rows(reps, cfg)
    at = pt.key_buckets(keys, n)
    return [(keys[at == j], gids[at == j]) for j in range(n)]


def _pair_share(*bands: tuple[np.ndarray, np.ndarray], offsets: np.ndarray, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    a, b = pt.key_pairs([k for k, _ in bands], [g for _, g in bands])
    at = pt.home_of(a, offsets)
    return [(a[at == j], b[at == j]) for j in range(n)]


def _unique_pairs(*shares: tuple[np.ndarray, np.ndarray], offsets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """The distinct pairs sent to one home, and the reps it needs from each home (by ``b``)."""
    a = np.concatenate([s[0] for s in shares]).astype(np.int64)
    b = np.concatenate([s[1] for s in shares]).astype(np.int64)
    packed = np.unique((a.astype(np.uint64) << np.uint64(32)) | b.astype(np.uint64))
    a, b = (packed >> np.uint64(32)).astype(np.int64), (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
    at = pt.home_of(b, offsets)
    return a, b, [np.unique(b[at == j]) for j in range(n)]


def _verify(client: Client, reps: list[Future], shares: list[list[Any]], offsets: np.ndarray, cfg: DedupConfig, candidates: bool) -> list[Future]:
    """Per home ``j``: the pairs in ``shares[j]`` (their ``a`` at home ``j``) verified there, with
    the reps of ``b`` fetched from their homes."""
    n = len(reps)
    out = []
    for j in range(n):
        wanted = client.submit(_unique_pairs, *shares[j], offsets=offsets, n=n)
        requests = client.submit(operator.getitem, wanted, 2)
        taken = [client.submit(pt.take_docs, reps[k], client.submit(operator.getitem, requests, k)) for k in range(n) if k != j]
        out.append(client.submit(_verify_home, wanted, reps[j], *taken, cfg=cfg, candidates=candidates))
    return out


def _without_signatures(reps: pt.Docs) -> pt.Docs:
    return pt.Docs(reps.meta, reps.g, reps.sizes)


def _verify_home(wanted: tuple, local: pt.Docs, *taken: pt.Docs, cfg: DedupConfig, candidates: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    a, b, _ = wanted
    return pt.verify_pairs(a, b, [local, *taken], cfg, candidates)


def _home_results(rows: pl.DataFrame, reps: pt.Docs, linked: pl.DataFrame, sims: pl.DataFrame, n_parts: int) -> list[pl.DataFrame]:
    out = pt.row_results(rows, pt.rep_results(reps, linked, sims))
    at = out["_part"].to_numpy()
    return [out.filter(pl.Series(at == i)) for i in range(n_parts)]


def _part_results(*shares: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(shares).sort("_row").select(list(RESULT_SCHEMA))
