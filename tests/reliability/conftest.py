"""What the reliability suite shares: a baseline store to copy, real update processes against the
replay server and a real Prefect API, and the store's contents in a form two stores compare by."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select

ROOT = Path(__file__).resolve().parents[2]
CRASH = Path(__file__).with_name("crash_update.py")
UNTIL = "2026-11-01"

# Columns that differ between two correct histories of the same data: surrogate keys, which run
# did it, when. Everything else must be equal, row for row.
VOLATILE = {"id", "run_id", "added_run_id", "last_seen_run_id", "raw_response_id", "flow_run_id",
            "alert_id", "link_id"}
# Per-run bookkeeping, compared on its own terms (no run left running; nothing archived lost).
RUN_TABLES = {"update_runs", "raw_responses", "store_locks", "alembic_version"}


@pytest.fixture(scope="session")
def replay_demo():
    from livingreview.replay.server import running_replay_server

    with running_replay_server(scenario="demo") as server:
        yield server


@pytest.fixture(scope="session")
def prefect_api(prefect_harness):
    """The harness's API URL, for update processes started as real subprocesses."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


@pytest.fixture(scope="session")
def baseline_store(tmp_path_factory):
    """A store with the published baseline loaded, made once and copied for each case."""
    from livingreview.cli.corpus import init_store
    from livingreview.config import Settings

    path = tmp_path_factory.mktemp("baseline") / "store.sqlite"
    url = f"sqlite:///{path}"
    init_store(Settings.from_env(database_url=url, review_file=ROOT / "review.toml"))
    create_engine(url).dispose()
    return path


@dataclass
class Project:
    root: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.env["LR_DATABASE_URL"]

    def update(self, kill_after_commit: int = 0, *extra: str,
               timeout: float = 240) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(CRASH), str(kill_after_commit), "--no-check",
             "--until", UNTIL, *extra],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)

    def start_update(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(CRASH), "0", "--no-check", "--until", UNTIL],
                                cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="session")
def make_project(tmp_path_factory, baseline_store, replay_demo, prefect_api):
    def make(**env: str) -> Project:
        root = tmp_path_factory.mktemp("project")
        with closing(sqlite3.connect(baseline_store)) as src, \
                closing(sqlite3.connect(root / "store.sqlite")) as dst:
            src.backup(dst)
        environment = {
            **os.environ,
            "PREFECT_API_URL": prefect_api,
            "LR_DATABASE_URL": f"sqlite:///{root / 'store.sqlite'}",
            "LR_REPORT_DIR": str(root / "reports"),
            "LR_REVIEW_FILE": str(ROOT / "review.toml"),
            **replay_demo.environment(),  # every source at the replay server, never live
            "LR_CROSSREF_RATE": "50",
            **env,
        }
        return Project(root=root, env=environment)

    return make


def contents(url: str) -> dict[str, Counter]:
    """Each table's rows without their volatile columns, records named by their identity
    (DOI, PMID, title) rather than their surrogate id: two stores with equal contents hold the
    same facts, however their histories were interleaved."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    records = meta.tables["records"]
    with engine.connect() as connection:
        identity = {row.id: (row.doi, row.pmid, row.title)
                    for row in connection.execute(select(records))}
        state = {}
        for name, table in sorted(meta.tables.items()):
            if name in RUN_TABLES:
                continue
            to_record = {c.name for c in table.columns
                         if any(fk.column.table.name == "records" for fk in c.foreign_keys)}
            rows = Counter()
            for row in connection.execute(select(table)):
                kept = tuple((key, identity.get(value) if key in to_record else value)
                             for key, value in row._mapping.items()
                             if key not in VOLATILE and not key.endswith("_at"))
                rows[repr(kept)] += 1
            state[name] = rows
    engine.dispose()
    return state


def run_rows(url: str) -> list[tuple[int, str, str]]:
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    runs = meta.tables["update_runs"]
    with engine.connect() as connection:
        rows = [(r.id, r.kind, r.status) for r in connection.execute(
            select(runs).order_by(runs.c.id))]
    engine.dispose()
    return rows


def archived(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM raw_responses").scalar()
    engine.dispose()
    return count


def watermarks(url: str) -> dict[str, str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        marks = dict(connection.exec_driver_sql(
            "SELECT source, harvested_until FROM watermarks").all())
    engine.dispose()
    return marks


def report_dirs(root: Path) -> list[str]:
    reports = root / "reports"
    return sorted(p.name for p in reports.iterdir()) if reports.exists() else []


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst)


def difference(got: dict[str, Counter], want: dict[str, Counter]) -> str:
    """The rows one store has and the other lacks, table by table (empty when equal)."""
    lines = []
    for name in sorted(set(got) | set(want)):
        extra = got.get(name, Counter()) - want.get(name, Counter())
        missing = want.get(name, Counter()) - got.get(name, Counter())
        lines += [f"{name}: extra {row}" for row in extra]
        lines += [f"{name}: missing {row}" for row in missing]
    return "\n".join(lines)
