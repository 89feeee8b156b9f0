"""Shared fixtures: a real SQLite store per test, and Prefect's test harness (started lazily,
once per session, only by tests that run flows)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Prefect offline and project-local, before anything imports it.
os.environ.setdefault("PREFECT_HOME", str(ROOT / ".prefect" / "tests"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
# Tests never write into the working tree's data/ or reports/ by accident.
for _name in ("LR_DATABASE_URL", "LR_REPORT_DIR", "LR_NOTIFY_URLS", "LR_NCBI_API_KEY",
              "LR_PUBMED_BASE_URL", "LR_CROSSREF_BASE_URL", "LR_EXPECTATIONS_DIR"):
    os.environ.pop(_name, None)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A migrated, empty corpus store in a temporary SQLite file."""
    from livingreview.store.database import upgrade

    url = f"sqlite:///{tmp_path / 'livingreview.sqlite'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test harness for the session (a real local API, a temporary database)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        with prefect_test_harness(server_startup_timeout=90):
            yield
