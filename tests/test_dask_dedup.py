"""Dedup on a two-worker Dask LocalCluster gives the single-process result, row for row."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners.config import DedupConfig
from cleaners.dedup import assign_clusters
from cleaners.metrics import cluster_scores
from flows.dask_dedup import RESULT_SCHEMA, dedup_frame

from shared_data import SHARED, need

COLUMNS = list(RESULT_SCHEMA)


class _Done:
    """A finished 'future' of :class:`SerialClient`."""

    def __init__(self, value: Any) -> None:
        self.value = value


class SerialClient:
    """The part of ``distributed.Client`` that ``dedup_on_cluster`` uses, run at once in this
    process: the same steps and exchanges, without a cluster (fast enough for hypothesis)."""

    @staticmethod
    def _resolve(x: Any) -> Any:
        if isinstance(x, _Done):
            return x.value
        if isinstance(x, (list, tuple)):
            return type(x)(SerialClient._resolve(v) for v in x)
        return x

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> _Done:
        return _Done(fn(*self._resolve(args), **{k: self._resolve(v) for k, v in kwargs.items()}))

    def gather(self, futures: Any) -> Any:
        return self._resolve(futures)

    def scatter(self, data: list, broadcast: bool = False) -> list[_Done]:
        return [_Done(d) for d in data]


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with Client(cluster) as c:
            assert len(c.scheduler_info()["workers"]) == 2
            yield c


def _assert_same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got["doc_id"].to_list() == want["doc_id"].to_list()
    # cluster_id is a hash of the canonical's doc_id: equal ids = same clusters and same canonicals
    assert got.select(COLUMNS).equals(want.select(COLUMNS))


def _pages() -> pl.DataFrame:
    """Exact copies with different repairs and dates, a near copy, a pasted paragraph, site
    furniture spread over several sites' pages, pages without a site."""
    story = "the central bank raised its main rate by half a point on thursday citing persistent inflation in services and wages"
    other = "heavy rain flooded the river valley overnight and forced the closure of two bridges and the main railway line south"
    third = "the club signed a young striker from the second division for an undisclosed fee after a long pursuit over the summer"
    footer = "subscribe to our newsletter for the latest headlines delivered every morning to your inbox"
    rows = [
        ("a1", f"{story} {footer}", "a.com", date(2024, 1, 3), 2),
        ("a2", f"{story} {footer}", "a.com", date(2024, 1, 2), 0),  # exact copy: fewer repairs wins
        ("a3", f"{other} {footer}", "a.com", None, 0),
        ("b1", f"{story}. {footer}", "b.com", date(2024, 1, 2), 0),  # same normalised content
        ("b2", f"{story} officials said {footer}", "b.com", None, 1),
        ("b3", f"{third} {footer}", "b.com", None, 0),
        ("c1", f"{other} the mayor said more rain was expected", None, None, 0),
        ("c2", f"{third} in other news {story[:60]}", None, date(2023, 12, 31), 0),
        ("c3", "", None, None, 0),
        ("c4", footer, "c.com", None, 0),
    ]
    return pl.DataFrame(rows, schema=["doc_id", "text", "site", "published", "n_edits"], orient="row")


@pytest.mark.parametrize("n_parts", [1, 3, 7], ids=lambda n: f"{n}_parts")
def test_small_batch_same_as_single_process(client, n_parts):
    df = _pages()
    cfg = dataclasses.replace(DedupConfig(), min_site_repeat_docs=2, min_docs_for_doc_frac=4, max_shingle_doc_frac=0.3)
    want = assign_clusters(df, cfg)
    assert want["cluster_id"].n_unique() < df.height  # the batch has copies to find
    _assert_same(dedup_frame(client, df, cfg, n_parts), want)


@pytest.mark.slow
def test_dev_set_same_as_single_process(client):
    """The acceptance check: the syndication dev set (12k pages, so the batch-share furniture rule
    applies too), split in 4 partitions over 2 workers."""
    dev = pl.read_parquet(need(SHARED / "eval" / "syndication" / "dev.parquet", "the syndication dev set"))
    df = dev.select("doc_id", "text", "title", "site")
    cfg = DedupConfig()
    want = assign_clusters(df, cfg)
    got = dedup_frame(client, df, cfg, 4)
    _assert_same(got, want)
    assert cluster_scores(want["cluster_id"].to_list(), got["cluster_id"].to_list()).ari == 1.0
    gold = dev["cluster_id"].to_list()
    assert cluster_scores(gold, got["cluster_id"].to_list()).ari == cluster_scores(gold, want["cluster_id"].to_list()).ari


def test_cli_dask_runner_writes_the_single_process_output(client, tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    src = tmp_path / "in.parquet"
    # an earlier assignment in the input is kept as input_cluster_id by both paths
    _pages().with_columns(cluster_id=pl.lit("old")).write_parquet(src)
    runner = CliRunner()
    single = runner.invoke(app, ["dedup", "--input", str(src), "--output", str(tmp_path / "single.parquet")])
    assert single.exit_code == 0, single.output
    address = client.scheduler.address
    res = runner.invoke(app, ["dedup", "-i", str(src), "-o", str(tmp_path / "dask.parquet"), "--runner", f"dask={address}", "--partitions", "3"])
    assert res.exit_code == 0, res.output
    assert "3 partitions" in res.output
    got, want = pl.read_parquet(tmp_path / "dask.parquet"), pl.read_parquet(tmp_path / "single.parquet")
    assert got.equals(want)
    assert not (tmp_path / ".dask.parquet.parts").exists()


# a small vocabulary so that random documents overlap, repeat and nearly repeat
WORD = st.sampled_from(["shr", "net", "vs", "12", "10", "cts", "profit", "loss", "the", "said", "bank", "rate", "oil"])

FOOTERS = {
    "a.com": "follow us on social media for more news and updates every single day",
    "b.com": "copyright all rights reserved reproduction without permission is prohibited",
    "c.com": "sign up for our newsletter and never miss a story from our reporters",
}


@st.composite
def batches(draw: st.DrawFn) -> pl.DataFrame:
    texts = draw(st.lists(st.lists(WORD, max_size=40).map(" ".join), min_size=1, max_size=30))
    copies = draw(st.lists(st.integers(0, len(texts) - 1), max_size=12))
    texts = texts + [texts[i].upper() if i % 2 else texts[i] for i in copies]
    n = len(texts)
    sites = [draw(st.sampled_from([None, "a.com", "b.com", "c.com"])) for _ in range(n)]
    # most pages carry their site's footer: furniture, when the site has enough pages
    texts = [f"{t} {FOOTERS[site]}" if site and draw(st.booleans()) else t for t, site in zip(texts, sites)]
    return pl.DataFrame(
        {
            "doc_id": [f"d{i:03d}" for i in range(n)],
            "text": texts,
            "site": sites,
            "published": [draw(st.sampled_from([None, date(2024, 1, 1), date(2024, 1, 2)])) for _ in range(n)],
            "n_edits": [draw(st.integers(0, 2)) for _ in range(n)],
            # seen days further apart than the window: such pairs are not linked, in either path
            "seen": [draw(st.sampled_from([None, date(2024, 1, 1), date(2024, 1, 31), date(2024, 3, 1)])) for _ in range(n)],
        }
    )


@settings(max_examples=60, deadline=None)
@given(batches(), st.integers(1, 6), st.booleans())
def test_any_partitioning_gives_the_single_process_result(df, n_parts, share_rule):
    """The steps and exchanges of dedup_on_cluster, run serially: any split of any batch (exact
    and case copies across partitions, shared furniture, ties on every quality key, pages seen
    inside and outside the time window of each other) clusters as one process does."""
    cfg = dataclasses.replace(DedupConfig(), min_site_repeat_docs=2, min_docs_for_doc_frac=0 if share_rule else 10**6, max_shingle_doc_frac=0.2)
    want = assign_clusters(df, cfg)
    _assert_same(dedup_frame(SerialClient(), df, cfg, n_parts), want)  # type: ignore[arg-type]
