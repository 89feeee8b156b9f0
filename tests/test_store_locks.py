"""One writer at a time: the update lock on a real store (SQLite here; the PostgreSQL variant
runs with the rest of the store tests on ``any_store_url``)."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from livingreview.errors import UpdateLocked
from livingreview.store import locks
from livingreview.store.database import session_scope, upgrade
from livingreview.store.models import StoreLock, UpdateRun
from livingreview.store.runs import finish_run, start_run

HOUR = timedelta(hours=1)


def _open(url: str, holder: str | None = None) -> int:
    with session_scope(url) as session:
        run_id = start_run(session, window_start=None, window_end=None)
        locks.acquire(session, run_id, stale_after=HOUR, holder=holder)
    return run_id


def _dead_holder() -> str:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:"


def test_a_second_update_is_refused_while_the_first_holds_the_lock(any_store_url):
    first = _open(any_store_url)
    with pytest.raises(UpdateLocked, match=rf"update run {first} has been writing to this store"):
        _open(any_store_url)
    with session_scope(any_store_url) as session:
        # The refused update left no run behind: its transaction was rolled back whole.
        assert [r.id for r in session.query(UpdateRun).all()] == [first]
        finish_run(session, first, status="succeeded")
        locks.release(session, first)
    second = _open(any_store_url)
    with session_scope(any_store_url) as session:
        assert session.get(StoreLock, locks.UPDATE_LOCK).run_id == second != first


def test_a_lock_left_by_a_killed_process_is_taken_over_and_its_run_marked_interrupted(store_url):
    orphan = _open(store_url, holder=_dead_holder())
    taker = _open(store_url)
    with session_scope(store_url) as session:
        run = session.get(UpdateRun, orphan)
        assert (run.status, run.finished_at is not None) == ("interrupted", True)
        assert "ended without closing it" in run.error
        assert session.get(StoreLock, locks.UPDATE_LOCK).run_id == taker
        assert session.get(UpdateRun, taker).status == "running"


def test_a_live_holder_on_another_machine_keeps_the_lock_until_its_heartbeat_is_stale(store_url):
    elsewhere = "another-host.example:4242:123"
    held = _open(store_url, holder=elsewhere)
    with pytest.raises(UpdateLocked):
        _open(store_url)
    with session_scope(store_url) as session:
        lock = session.get(StoreLock, locks.UPDATE_LOCK)
        lock.heartbeat_at = datetime.now(timezone.utc) - 2 * HOUR
    taker = _open(store_url)
    with session_scope(store_url) as session:
        assert session.get(UpdateRun, held).status == "interrupted"
        assert session.get(StoreLock, locks.UPDATE_LOCK).run_id == taker


def test_the_lock_survives_a_migration_round_trip(store_url):
    from alembic import command

    from livingreview.store.database import alembic_config

    command.downgrade(alembic_config(store_url), "0002")
    upgrade(store_url)
    assert _open(store_url) == 1
