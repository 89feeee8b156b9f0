"""Update runs, per-source watermarks and the raw-response archive."""

from __future__ import annotations

import gzip
import hashlib
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.store.models import RawResponse, UpdateRun, Watermark


def start_run(session: Session, *, window_start: date | None, window_end: date | None,
              kind: str = "update", flow_run_id: str | None = None) -> int:
    run = UpdateRun(kind=kind, window_start=window_start, window_end=window_end,
                    flow_run_id=flow_run_id, status="running")
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int, *, status: str, counts: dict[str, Any] | None = None,
               error: str | None = None, report_version: int | None = None) -> None:
    run = session.get(UpdateRun, run_id)
    run.status = status
    run.finished_at = datetime.now(timezone.utc)
    if counts is not None:
        run.counts = {**(run.counts or {}), **counts}
    if error is not None:
        run.error = error
    if report_version is not None:
        run.report_version = report_version


def record_counts(session: Session, run_id: int, counts: dict[str, Any]) -> None:
    """Store what a run has counted so far (the report reads them before the run closes)."""
    run = session.get(UpdateRun, run_id)
    run.counts = {**(run.counts or {}), **counts}


def watermark(session: Session, source: str) -> date | None:
    mark = session.get(Watermark, source)
    return mark.harvested_until if mark else None


def advance_watermarks(session: Session, sources: list[str], until: date, run_id: int) -> None:
    """Move each source's watermark forward (never backward) after a wholly successful run."""
    for source in sources:
        mark = session.get(Watermark, source)
        if mark is None:
            session.add(Watermark(source=source, harvested_until=until, run_id=run_id))
        elif until > mark.harvested_until:
            mark.harvested_until, mark.run_id = until, run_id
            mark.updated_at = datetime.now(timezone.utc)


def next_report_version(session: Session) -> int:
    versions = session.scalars(select(UpdateRun.report_version)
                               .where(UpdateRun.report_version.is_not(None))).all()
    return max(versions, default=0) + 1


def archive_response(session: Session, run_id: int | None, *, source: str, method: str, url: str,
                     params: dict[str, Any], status: int, headers: dict[str, str], body: str,
                     received_at: datetime | None = None) -> int:
    """Store one response body, compressed, with its request. Call before parsing it."""
    data = body.encode("utf-8")
    row = RawResponse(run_id=run_id, source=source, method=method, url=url, params=params,
                      status=status, headers=headers, body_gzip=gzip.compress(data),
                      sha256=hashlib.sha256(data).hexdigest(),
                      received_at=received_at or datetime.now(timezone.utc))
    session.add(row)
    session.flush()
    return row.id


def archived_body(row: RawResponse) -> str:
    return gzip.decompress(row.body_gzip).decode("utf-8")
