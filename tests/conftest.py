"""Shared fixtures: the project root and ../shared (tests skip cleanly when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared").resolve()

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The five seed pages: ../shared/seeds, or the demo copy in data/raw."""
    for d in (SHARED / "seeds", ROOT / "data" / "raw"):
        if d.is_dir() and len(list(d.glob("*.txt"))) >= 5:
            return d
    pytest.skip("seed pages are not present")
