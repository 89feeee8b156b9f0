"""Which run and which version a report is written for, and the store's note that it was.

The monthly flow numbers its report after the run: ``update_runs.report_version``, the next one
being ``store.runs.next_report_version``. A report written between runs (after screening
decisions or an import changed the numbers) is noted the same way, as an ``update_runs`` row of
kind ``report`` (as screening samples are noted as rows of kind ``screening_sample``), so that
the next monthly run numbers its version after it instead of writing over it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.cocreation.detector import DetectorConfig
from livingreview.errors import InputError, ValidationFailed
from livingreview.store.models import UpdateRun
from livingreview.store.runs import next_report_version
from livingreview.summaries.report import ReportPaths, version_dir, write_report
from livingreview.validation import EXPECTATIONS_DIR, validate, write_page

REPORT_KIND = "report"


def latest_update_run(session: Session) -> int | None:
    """The id of the latest update run that succeeded, or None when there is none yet."""
    return session.scalar(select(UpdateRun.id)
                          .where(UpdateRun.kind == "update", UpdateRun.status == "succeeded")
                          .order_by(UpdateRun.id.desc()).limit(1))


def rewrite_report(session: Session, out_root: Path, *, run_id: int | None = None,
                   version: int | None = None, search_note: str | None = None,
                   detector: DetectorConfig | None = None,
                   expectations_dir: Path | None = None) -> ReportPaths:
    """Write the report again from the store as it is now, as version ``version`` (default: the
    next one) for run ``run_id`` (default: the latest succeeded update run; with none, the
    report summarises the corpus without a run), and note the version in ``update_runs``.

    The store goes through the same data-quality gate as a monthly run first: when a suite
    fails, nothing is written but the gate's HTML page, and ``ValidationFailed`` is raised.
    """
    if run_id is None:
        run_id = latest_update_run(session)
    elif session.get(UpdateRun, run_id) is None:
        raise InputError("livingreview report", "--run", f"no update run with id {run_id}",
                         "pick a run id from `livingreview status`, or leave --run out for the "
                         "latest succeeded update run")
    outcome = validate(session, run_id, expectations_dir or EXPECTATIONS_DIR)
    if not outcome.success:
        when = datetime.now(timezone.utc)
        page = write_page(outcome, out_root, f"report-{when:%Y%m%dT%H%M%S}")
        raise ValidationFailed(f"{outcome.report}\n\nThe same account as a page: {page}",
                               outcome.failures)
    if version is None:
        version = next_report_version(session)
    replaced = version_dir(out_root, version).exists()
    when = datetime.now(timezone.utc)
    note = (f"It was rewritten on {when:%Y-%m-%d} (`livingreview report`), so it counts the "
            "screening decisions, imports and coding made since the run"
            + (f", and replaces an earlier version {version}." if replaced else "."))
    paths = write_report(session, out_root, version, run_id, search_note=search_note, note=note,
                         detector=detector)
    session.add(UpdateRun(kind=REPORT_KIND, status="succeeded", started_at=when,
                          finished_at=datetime.now(timezone.utc), report_version=version,
                          counts={"report_for_run": run_id, "replaced": replaced,
                                  "directory": str(paths.directory),
                                  "validation": outcome.checked}))
    session.flush()
    return paths


def rewrite_report_for(settings, review: dict, *, run_id: int | None = None,
                       version: int | None = None) -> ReportPaths:
    """What `livingreview report` and the report deployment run: the report rewritten from the
    store through the gate, refused while an update is writing (it would number the same
    version)."""
    from datetime import timedelta

    from livingreview.store import locks
    from livingreview.store.database import require_schema, session_scope

    require_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        locks.ensure_free(session, timedelta(minutes=settings.lock_stale_minutes))
        return rewrite_report(session, settings.report_dir, run_id=run_id, version=version,
                              search_note=review["review"].get("narrower_search_note"),
                              detector=DetectorConfig.from_review(review),
                              expectations_dir=settings.expectations_dir)
