"""``livingreview import``: load a bibliographic file into the corpus store, all or nothing.

Each record of the file becomes a source hit (source ``import:<format>:<file name>``, source id
the record's id in the file or its position). Where the store already holds the study, found by
normalised DOI, PMID or PMCID, the hit is attached to that record and the study counts as
already present; otherwise a new record is stored and the project's deduplication
(``intake.store_hits``) links it to a canonical record when it is a fuzzy duplicate. Importing the
same file again adds nothing.

``included=True`` marks every imported study as an included study of the review by appending
include decisions at both screening stages (reviewer ``import:<file name>``), through
``screening.status.record_decision``, on the canonical record, where the review counts it.

The file is read and checked completely before the store is touched; everything is then
written in one transaction, so a malformed file or a refused decision leaves the store as it was.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.errors import InputError
from livingreview.formats import detect_format, read_file
from livingreview.formats.fields import SOURCE_MAX
from livingreview.records import Record
from livingreview.store.database import require_schema, session_scope
from livingreview.store.models import ChartingCode, DuplicateLink, SourceHit, StoredRecord
from livingreview.store.runs import finish_run, start_run

IDENTIFIED_VIA = ("database", "reference_list", "expert", "scanning")
_IDENTIFIERS = ("doi", "pmid", "pmcid")
_CHUNK = 500  # identifiers per IN (...) query: well under SQLite's bound-parameter limit
PROGRESS_FROM = 200  # records; smaller files finish before a progress bar would be read


@dataclass
class ImportResult:
    """What one import did. ``added + already_present == records`` (every record is one or the
    other); ``duplicates_linked`` of the added records were linked to a canonical record."""

    path: str
    format: str
    source: str
    records: int = 0
    added: int = 0
    already_present: int = 0
    duplicates_linked: int = 0
    possible_duplicates: int = 0  # pairs left for a person to decide (zone "maybe")
    included: int = 0  # studies newly marked included (with included=True)
    run_id: int | None = None  # the UpdateRun (kind "import") that holds the writes; None if none
    notes: list[str] = field(default_factory=list)  # e.g. the file was not UTF-8

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "source": self.source,
                "records": self.records, "added": self.added,
                "already_present": self.already_present,
                "duplicates_linked": self.duplicates_linked,
                "possible_duplicates": self.possible_duplicates, "included": self.included,
                "notes": list(self.notes)}


def reviewer_for(path: str | Path) -> str:
    """``import:<file name>``, the reviewer of the include decisions an import appends."""
    return f"import:{Path(path).name}"[:80]


def import_file(url: str, path: str | Path, *, format: str | None = None,
                origin: str | None = None, included: bool = False,
                identified_via: str | None = None, progress: bool = False) -> ImportResult:
    """Load the records of ``path`` into the store at ``url`` in one transaction.

    ``origin`` overrides the ``origin`` of newly stored records (default: the import source).
    ``identified_via`` (database | reference_list | expert | scanning) is kept in every hit's
    payload and, for included studies, as their ``identified_via`` charting code, as the
    baseline records it. ``progress`` shows a rich progress bar for large files.
    """
    if identified_via is not None and identified_via not in IDENTIFIED_VIA:
        raise InputError(str(path), "--identified-via", f"unknown value {identified_via!r}",
                         f"use one of: {', '.join(IDENTIFIED_VIA)}")
    if origin is not None and not 0 < len(origin) <= SOURCE_MAX:
        raise InputError(str(path), "--origin", f"origin {origin!r} is empty or longer than "
                         f"{SOURCE_MAX} characters", "give a shorter origin name")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fmt = detect_format(path, format)
        records = read_file(path, fmt)
    result = ImportResult(path=str(path), format=fmt, source=records[0].source,
                          records=len(records),
                          notes=list(dict.fromkeys(str(w.message) for w in caught)))
    require_schema(url)
    with session_scope(url) as session, _progress(progress and len(records) >= PROGRESS_FROM,
                                                  len(records)) as step:
        _store(session, records, result, path=Path(path), origin=origin, included=included,
               identified_via=identified_via, step=step)
    return result


def _store(session: Session, records: list[Record], result: ImportResult, *, path: Path,
           origin: str | None, included: bool, identified_via: str | None, step) -> None:
    source = result.source
    known_hits = dict(session.execute(select(SourceHit.source_id, SourceHit.record_id)
                                      .where(SourceHit.source == source)).all())
    roots = _canonical_map(session)
    by_identifier = _records_by_identifier(session, records)

    def canonical(record_id: int) -> int:
        seen = set()
        while record_id in roots and record_id not in seen:
            seen.add(record_id)
            record_id = roots[record_id]
        return record_id

    attach: list[tuple[Record, int]] = []  # (record, existing record id): new hit, old record
    fresh: list[Record] = []  # new hit, new record
    targets: dict[str, int] = {}  # source_id -> canonical record id of the study
    for record in records:
        step()
        if record.source_id in known_hits:
            targets[record.source_id] = canonical(known_hits[record.source_id])
            continue
        match = next((by_identifier[(name, getattr(record, name))] for name in _IDENTIFIERS
                      if (name, getattr(record, name)) in by_identifier), None)
        if match is not None:
            attach.append((record, match))
            targets[record.source_id] = canonical(match)
        else:
            fresh.append(record)
    result.already_present = len(records) - len(fresh)
    result.added = len(fresh)

    decisions_due = included and _undecided(session, set(targets.values()))
    if not (attach or fresh or decisions_due):
        return  # nothing new: the store is left exactly as it was
    result.run_id = start_run(session, window_start=None, window_end=None, kind="import")
    payload_extra = {"file": path.name, "identified_via": identified_via}

    for record, record_id in attach:
        session.add(SourceHit(record_id=record_id, source=source, source_id=record.source_id,
                              run_id=result.run_id, last_seen_run_id=result.run_id,
                              payload={**record.to_dict(), **payload_extra}))
    if fresh:
        from livingreview.intake import store_hits  # deduplication: numpy, rapidfuzz

        counts = store_hits(session, result.run_id, fresh)
        result.duplicates_linked = sum(counts.duplicates.values())
        result.possible_duplicates = counts.maybe_pairs
        roots = _canonical_map(session)
        hits = session.scalars(select(SourceHit).where(SourceHit.source == source,
                                                       SourceHit.run_id == result.run_id))
        for hit in hits:
            hit.payload = {**hit.payload, **payload_extra}
            targets[hit.source_id] = canonical(hit.record_id)
        if origin is not None:
            for row in session.scalars(select(StoredRecord)
                                       .where(StoredRecord.added_run_id == result.run_id)):
                row.origin = origin
    session.flush()

    if included:
        by_study: dict[int, Record] = {}
        for record in records:
            by_study.setdefault(targets[record.source_id], record)
        result.included = _mark_included(session, by_study, path=path, run_id=result.run_id,
                                         identified_via=identified_via)
    finish_run(session, result.run_id, status="succeeded",
               counts={"import": result.as_dict(), "identified_via": identified_via,
                       "file": path.name})


def _canonical_map(session: Session) -> dict[int, int]:
    """Merged record -> the record it was merged into (chains are followed by the caller)."""
    return dict(session.execute(select(DuplicateLink.record_id, DuplicateLink.canonical_id)
                                .where(DuplicateLink.status == "merged")).all())


def _records_by_identifier(session: Session, records: list[Record]) -> dict[tuple[str, str], int]:
    """(identifier name, value) -> the lowest-numbered stored record holding it."""
    found: dict[tuple[str, str], int] = {}
    for name in _IDENTIFIERS:
        column = getattr(StoredRecord, name)
        values = sorted({getattr(r, name) for r in records if getattr(r, name)})
        for chunk in _chunks(values, _CHUNK):
            for value, record_id in session.execute(
                    select(column, StoredRecord.id).where(column.in_(chunk))
                    .order_by(StoredRecord.id)):
                found.setdefault((name, value), record_id)
    return found


def _chunks(values: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _undecided(session: Session, record_ids: set[int]) -> bool:
    from livingreview.screening.status import stage_outcomes

    outcomes = stage_outcomes(session, record_ids)
    return any(outcomes.get(i, {}).get(stage) is None
               or outcomes[i][stage].decision != "include"
               for i in record_ids for stage in ("title_abstract", "full_text"))


def _mark_included(session: Session, studies: dict[int, Record], *, path: Path, run_id: int,
                   identified_via: str | None) -> int:
    """Include decisions at both stages for every study not already included; returns how many
    studies gained one."""
    from livingreview.screening.status import STAGES, DecisionRejected, record_decision, \
        stage_outcomes

    reviewer = reviewer_for(path)
    outcomes = stage_outcomes(session, studies)
    coded = set(session.scalars(select(ChartingCode.record_id)
                                .where(ChartingCode.field == "identified_via",
                                       ChartingCode.record_id.in_(list(studies)))))
    marked = 0
    for record_id, record in studies.items():
        stages = outcomes.get(record_id, {})
        changed = False
        for stage in STAGES:
            if stages.get(stage) is not None and stages[stage].decision == "include":
                continue
            try:
                record_decision(session, record_id, stage, "include", reviewer,
                                note=f"included study imported from {path.name}", run_id=run_id)
            except DecisionRejected as exc:
                raise InputError(str(path), f"record {record.source_id} (stored as record "
                                 f"{record_id})", f"it cannot be marked included: {exc}",
                                 "settle that record's screening first, or import the file "
                                 "without --included") from None
            changed = True
        if changed and identified_via and record_id not in coded:
            # Only for studies this import includes: a study already in the review keeps the
            # way it was first identified, as PRISMA counts each study once.
            session.add(ChartingCode(record_id=record_id, field="identified_via",
                                     value=identified_via, coder=reviewer,
                                     provenance=f"{path.name} (livingreview import "
                                                f"--identified-via {identified_via})"))
        marked += changed
    session.flush()
    return marked


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator:
    """A callable that advances a rich progress bar (on stderr) by one record, or does nothing."""
    if not enabled:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("matching records"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("import", total=total)
        yield lambda: bar.advance(task)
