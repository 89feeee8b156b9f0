"""Which run and which version a report is written for, and the store's note that it was.

The monthly flow numbers its report after the run: ``update_runs.report_version``, the next one
being ``store.runs.next_report_version``. A report written between runs (after screening
decisions or an import changed the numbers) is noted the same way, as an ``update_runs`` row of
kind ``report`` (as screening samples are noted as rows of kind ``screening_sample``), so that
the next monthly run numbers its version after it instead of writing over it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.cocreation.detector import DetectorConfig
from livingreview.errors import ConfigError, InputError, ValidationFailed
from livingreview.store.models import UpdateRun
from livingreview.store.runs import next_report_version
from livingreview.summaries.report import ReportPaths, version_dir, write_report
from livingreview.validation import EXPECTATIONS_DIR, validate, write_page

REPORT_KIND = "report"
_VERSION_DIR = re.compile(r"^v(\d{4,})$")


def new_version(session: Session, out_root: Path) -> int:
    """The number of this store's next report version, once it is sure nothing is written over.

    A report folder can hold versions another store wrote (a store replaced, a report folder
    shared): numbering after this store alone would then put a new v0001 beside an old v0002, or
    write over it. Such folders are refused, naming them; a version left by a run of this store
    that failed after writing its report is replaced, as the run is repeated.
    """
    version = next_report_version(session)
    root = Path(out_root)
    foreign = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        match = _VERSION_DIR.match(folder.name)
        if match and folder.is_dir() and int(match.group(1)) >= version \
                and not _left_by_failed_run(session, folder):
            foreign.append(folder.name)
    if foreign:
        raise ConfigError(
            f"report folder {root} already holds version(s) {', '.join(foreign)} that this store "
            f"did not write (its next version is v{version:04d}); writing there would put a new "
            "version beside or over them. Fix: point LR_REPORT_DIR at an empty folder, or move "
            "those version folders away (the store that wrote them numbers after them)")
    return version


def _left_by_failed_run(session: Session, folder: Path) -> bool:
    try:
        run = json.loads((folder / "summary.json").read_text(encoding="utf-8")).get("run") or {}
    except (OSError, ValueError):
        return False
    row = session.get(UpdateRun, run.get("id")) if isinstance(run.get("id"), int) else None
    # Run ids repeat across stores: the run's start time tells this store's run from another's.
    return (row is not None and row.status not in ("succeeded", "running")
            and row.report_version is None and row.started_at is not None
            and row.started_at.isoformat()[:19] == str(run.get("started_at"))[:19])


def latest_update_run(session: Session) -> int | None:
    """The id of the latest update run that succeeded, or None when there is none yet."""
    return session.scalar(select(UpdateRun.id)
                          .where(UpdateRun.kind == "update", UpdateRun.status == "succeeded")
                          .order_by(UpdateRun.id.desc()).limit(1))


def rewrite_report(session: Session, out_root: Path, *, run_id: int | None = None,
                   version: int | None = None, search_note: str | None = None,
                   detector: DetectorConfig | None = None,
                   expectations_dir: Path | None = None,
                   demo: bool = False) -> ReportPaths:
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
        version = new_version(session, out_root)
    replaced = version_dir(out_root, version).exists()
    when = datetime.now(timezone.utc)
    note = (f"It was rewritten on {when:%Y-%m-%d} (`livingreview report`), so it counts the "
            "screening decisions, imports and coding made since the run"
            + (f", and replaces an earlier version {version}." if replaced else "."))
    paths = write_report(session, out_root, version, run_id, search_note=search_note, note=note,
                         detector=detector, demo=demo)
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
                              expectations_dir=settings.expectations_dir, demo=settings.demo)
