"""Where the tests' data lives: the project root, ../shared and the seed pages.

Tests import these from here (``from shared_data import SHARED, need``), not from a
``conftest``: pytest loads every ``conftest.py`` under the one module name, so an import of
``conftest`` from a test may get tests/flows/conftest.py instead of tests/conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared").resolve()
SEEDS = ROOT / "data" / "raw"
REQUIRE_SHARED = os.environ.get("NEWSCLEAN_REQUIRE_SHARED", "") not in ("", "0")


def need(path: Path, what: str | None = None) -> Path:
    """``path`` if it exists; else skip (fail under NEWSCLEAN_REQUIRE_SHARED=1) naming what is missing."""
    if not path.exists():
        pytest.skip(f"{what or path} is not present ({path})")
    return path
