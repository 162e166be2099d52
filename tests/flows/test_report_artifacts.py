"""publish_artifacts: one table artifact and one markdown artifact per run, readable back from Prefect."""

from __future__ import annotations

import asyncio
import json

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from flows.report import MARKDOWN_ARTIFACT_KEY, TABLE_ARTIFACT_KEY, publish_artifacts
from reports.summary import summary_table

pytestmark = pytest.mark.flows

SUMMARY = {
    "run_id": "20250101T000000-test", "inputs": ["data/raw"], "output": "/tmp/out", "pages_read": 9, "articles": 5, "duplicates": 2,
    "rejected": 2, "clusters_with_copies": 1, "inserted": {"rejected": 2, "duplicates": 2, "articles": 5},
    "rejected_by_reason": {"too_short": 2}, "edits_by_kind": {"whitespace": 7, "boilerplate_nav": 3},
    "stats": {"chars.chars_delta": -40, "pages.read": 9}, "timings": {"clean": 1.5, "dedup": 0.25, "write": 0.125}, "seconds": 2.0,
}


@flow
def _publishing_flow(summary: dict) -> dict:
    return publish_artifacts(summary)


async def _latest(key: str):
    async with get_client() as client:
        found = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    return max(found, key=lambda a: a.created)


def test_publish_artifacts_round_trip():
    ids = _publishing_flow(SUMMARY)
    assert set(ids) == {TABLE_ARTIFACT_KEY, MARKDOWN_ARTIFACT_KEY}
    table = asyncio.run(_latest(TABLE_ARTIFACT_KEY))
    assert table.type == "table" and table.id == ids[TABLE_ARTIFACT_KEY] and table.flow_run_id is not None
    rows = table.data if isinstance(table.data, list) else json.loads(table.data)
    assert rows == summary_table(SUMMARY)
    by_item = {(r["section"], r["item"]): r["value"] for r in rows}
    assert by_item[("rejected", "too_short")] == 2 and by_item[("seconds", "write")] == 0.125
    md = asyncio.run(_latest(MARKDOWN_ARTIFACT_KEY))
    assert md.type == "markdown" and "| stories with copies | 1 |" in md.data and SUMMARY["run_id"] in md.data
