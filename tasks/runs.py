"""Opening and closing an update run; advancing watermarks only after success."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from livingreview.config import Settings
from livingreview.harvest.windows import Window, enabled_sources, plan_windows
from livingreview.store import locks
from livingreview.store.database import require_schema, session_scope
from livingreview.store.models import UpdateRun
from livingreview.summaries.versions import new_version
from livingreview.store.runs import advance_watermarks, finish_run, record_counts, start_run


@task(cache_policy=NO_CACHE)
def open_run(settings: Settings, review: dict[str, Any], since: date | None, until: date | None,
             sources: list[str] | None) -> tuple[int, list[Window]]:
    require_schema(settings.database_url)
    # The run and its lock first, in a transaction that starts by writing: a second update waits
    # for this one to commit and then finds the lock, instead of planning the same windows.
    with session_scope(settings.database_url) as session:
        run_id = start_run(session, window_start=None, window_end=None,
                           flow_run_id=flow_run.get_id())
        locks.acquire(session, run_id,
                      stale_after=timedelta(minutes=settings.lock_stale_minutes))
    try:
        with session_scope(settings.database_url) as session:
            windows = plan_windows(session, review, enabled_sources(review, sources),
                                   since=since, until=until)
            # Before anything is harvested: a report folder this run could not write into
            # without putting its version beside or over another store's.
            new_version(session, settings.report_dir)
            run = session.get(UpdateRun, run_id)
            run.window_start = min(w.start for w in windows)
            run.window_end = max(w.end for w in windows)
    except Exception as exc:
        with session_scope(settings.database_url) as session:
            finish_run(session, run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            locks.release(session, run_id)
        raise
    logger = get_run_logger()
    for w in windows:
        logger.info("run %s: %s window %s to %s", run_id, w.source, w.start, w.end)
    return run_id, windows


@task(cache_policy=NO_CACHE)
def close_run(settings: Settings, run_id: int, status: str, counts: dict[str, Any],
              error: str | None = None, report_version: int | None = None) -> None:
    with session_scope(settings.database_url) as session:
        finish_run(session, run_id, status=status, counts=counts, error=error,
                   report_version=report_version)
        locks.release(session, run_id)


@task(cache_policy=NO_CACHE)
def save_run_counts(settings: Settings, run_id: int, counts: dict[str, Any]) -> None:
    with session_scope(settings.database_url) as session:
        record_counts(session, run_id, counts)
        locks.heartbeat(session, run_id)


@task(cache_policy=NO_CACHE)
def advance_source_watermarks(settings: Settings, run_id: int, windows: list[Window]) -> None:
    with session_scope(settings.database_url) as session:
        for window in windows:
            advance_watermarks(session, [window.source], window.end, run_id)
    get_run_logger().info("watermarks advanced: %s",
                          ", ".join(f"{w.source} -> {w.end}" for w in windows))
