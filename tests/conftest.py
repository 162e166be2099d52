"""Shared fixtures and the CI rule on skips.

Tests that need ../shared call ``shared_data.need``; without the data they skip, except under
``NEWSCLEAN_REQUIRE_SHARED=1`` (set by ``.ci/run``), where any skip fails the test instead, so a
missing data set or tool can never pass CI silently. Tests that need only the seeds read
``data/raw`` (byte-identical copies, checked by ``test_demo_seeds_match_shared``) and never skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from shared_data import REQUIRE_SHARED, SEEDS, SHARED, need

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

# Property tests check what code does, not how fast (speed is `make bench`'s job): hypothesis's
# default 200 ms deadline per example failed them on a loaded 2-core machine.
settings.register_profile("newsclean", deadline=None)
settings.load_profile("newsclean")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SHARED and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under NEWSCLEAN_REQUIRE_SHARED=1 (CI runs every test): {reason}"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return need(SHARED, "../shared")


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The five seed pages of the demo corpus (data/raw, in the repository)."""
    return SEEDS
