"""Screening with other tools: queue out to Rayyan or ASReview, decisions back in; included
studies out as RIS and BibTeX for EndNote and Zotero.

Imported decisions become ordinary append-only decisions, checked by the same rules as the
terminal screener's. An import is all or nothing: if any row cannot be matched to a record,
lacks a reason code for an exclusion or breaks a rule, nothing is recorded and the error lists
every such row. Re-importing the same file records nothing new (a reviewer's standing vote that
already says the same is left alone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.errors import InputError, LivingReviewError
from livingreview.formats import asreview, rayyan
from livingreview.records import NOT_STORED, Record
from livingreview.screening.eligibility import REASON_CODES
from livingreview.screening.external import ExternalDecision
from livingreview.screening.status import (
    STAGES,
    DecisionRejected,
    merged_record_ids,
    pending_candidates,
    primary_reason,
    record_decision,
    record_status,
    included_record_ids,
    require_title_abstract_include,
    stage_outcomes,
    validate_decision,
)
from livingreview.store.models import Candidate, StoredRecord

FORMATS = ("rayyan", "asreview")
_CODE = re.compile(r"\bEX_[A-Z_]+\b")
_RECORD_FIELDS = [f for f in Record.__dataclass_fields__ if f not in NOT_STORED]


def to_record(stored: StoredRecord) -> Record:
    return Record(source=stored.origin, source_id=str(stored.id),
                  **{name: getattr(stored, name) for name in _RECORD_FIELDS})


def _fold_title(title: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", " ", (title or "").casefold()).strip()


def export_queue(session: Session, path: Path, fmt: str, stage: str = "title_abstract",
                 reviewer: str | None = None) -> int:
    """Write the pending queue at ``stage`` (for ``reviewer`` if given) in Rayyan or ASReview
    form; the ASReview file also carries the stage's decided candidates as prior labels."""
    if fmt not in FORMATS:
        raise InputError(fmt, "format", "unknown export format", f"use one of {list(FORMATS)}")
    items = pending_candidates(session, reviewer=reviewer, stage=stage)
    records = {r.id: r for r in session.scalars(
        select(StoredRecord).where(StoredRecord.id.in_([i.record_id for i in items])))} \
        if items else {}
    if fmt == "rayyan":
        return rayyan.write_queue(
            ((i.record_id, to_record(records[i.record_id]), i.flags) for i in items), path)
    rows = [(i.record_id, to_record(records[i.record_id]), None) for i in items]
    rows += _prior_labels(session, stage, {i.record_id for i in items})
    return asreview.write_queue(rows, path)


def _prior_labels(session: Session, stage: str, skip: set[int]) -> list[tuple[int, Record, int]]:
    merged = merged_record_ids(session)
    ids = [c for c in session.scalars(select(Candidate.record_id))
           if c not in skip and c not in merged]
    outcomes = stage_outcomes(session, ids)
    decided = {rid: stages[stage] for rid, stages in outcomes.items()
               if stage in stages and stages[stage].final}
    if not decided:
        return []
    rows = session.scalars(select(StoredRecord).where(StoredRecord.id.in_(list(decided)))
                           .order_by(StoredRecord.id))
    return [(r.id, to_record(r), int(decided[r.id].decision == "include")) for r in rows]


def reason_code_for(reasons: tuple[str, ...] | list[str], reason_map: dict[str, str] | None = None
                    ) -> str | None:
    """The review's primary reason code among another tool's reason texts, or None.

    A text counts when it is or contains a code (``EX_SETTING``), is a key of ``reason_map``
    (case-insensitive), or is a code's description in ``REASON_CODES``.
    """
    mapping = {k.strip().casefold(): v.strip().upper() for k, v in (reason_map or {}).items()}
    descriptions = {text.casefold(): code for code, text in REASON_CODES.items()}
    codes = []
    for reason in reasons:
        text = reason.strip()
        codes += [c for c in _CODE.findall(text.upper()) if c in REASON_CODES]
        if text.casefold() in mapping:
            codes.append(mapping[text.casefold()])
        if text.casefold() in descriptions:
            codes.append(descriptions[text.casefold()])
    return primary_reason(codes)


@dataclass
class ImportResult:
    rows: int = 0
    recorded: int = 0
    unchanged: int = 0
    reviewers: set[str] = field(default_factory=set)


def _match(session: Session, item: ExternalDecision, merged: set[int]) -> int | None:
    if item.record_id is not None:
        stored = session.get(StoredRecord, item.record_id)
        trusted = item.extra.get("id_from") != "key" or (
            stored is not None and _fold_title(stored.title) == _fold_title(item.title))
        if stored is not None and trusted:
            return stored.id
    candidates: list[StoredRecord] = []
    if item.doi:
        candidates = list(session.scalars(select(StoredRecord).where(StoredRecord.doi == item.doi)))
    if not candidates and item.pmid:
        candidates = list(session.scalars(select(StoredRecord).where(StoredRecord.pmid == item.pmid)))
    if not candidates and item.title:
        folded = _fold_title(item.title)
        candidates = [r for r in session.scalars(select(StoredRecord).where(
            StoredRecord.title.is_not(None))) if _fold_title(r.title) == folded]
    canonical = [r.id for r in candidates if r.id not in merged]
    return canonical[0] if len(canonical) == 1 else None


def import_decisions(session: Session, path: Path, fmt: str, *, stage: str = "title_abstract",
                     reviewer: str | None = None, reason_map: dict[str, str] | None = None,
                     default_reason: str | None = None) -> ImportResult:
    """Record the decisions in a Rayyan or ASReview export (all or nothing).

    ``reviewer`` names who decided when the file does not (ASReview), or overrides the names
    in the file. Exclusions take their reason code from the file's reasons (see
    ``reason_code_for``) or else ``default_reason``.
    """
    if fmt not in FORMATS:
        raise InputError(str(path), "format", f"unknown format {fmt!r}", f"use one of {list(FORMATS)}")
    if stage not in STAGES:
        raise InputError(str(path), "command line", f"unknown stage {stage!r}",
                         f"use one of {list(STAGES)}")
    items = rayyan.read_decisions(path) if fmt == "rayyan" else asreview.read_decisions(path)
    if default_reason and default_reason.strip().upper() not in REASON_CODES:
        raise InputError(str(path), "command line", f"unknown reason code {default_reason!r}",
                         f"use one of {list(REASON_CODES)}")
    merged = merged_record_ids(session)
    result = ImportResult(rows=len({i.line for i in items}))
    problems: list[str] = []
    writes: list[tuple[ExternalDecision, int, str, str | None]] = []
    for item in items:
        who = reviewer or item.reviewer
        if not who:
            problems.append(f"line {item.line}: the file does not say who decided. "
                            "Fix: pass --reviewer NAME")
            continue
        record_id = _match(session, item, merged)
        if record_id is None:
            problems.append(f"line {item.line}: no single record matches "
                            f"(id {item.record_id}, doi {item.doi}, title {item.title!r:.80}). "
                            "Fix: import only files exported from this queue")
            continue
        code = None
        if item.decision == "exclude":
            code = reason_code_for(item.reasons, reason_map) or (
                default_reason.strip().upper() if default_reason else None)
            if code is None:
                problems.append(f"line {item.line}: exclusion by {who} has no reason the review "
                                f"knows (reasons: {list(item.reasons) or 'none'}). Fix: name the "
                                "reason by its code (e.g. EX_SETTING), map it with --reason-map, "
                                "or give --default-reason")
                continue
        status = record_status(session, record_id)
        standing = status[stage].votes.get(who)
        if standing is not None and standing.decision == item.decision and \
                (standing.reason_code == code):
            result.unchanged += 1
            continue
        try:
            code = validate_decision(stage, item.decision, who, code)
            if stage == "full_text":
                require_title_abstract_include(record_id, status)
        except DecisionRejected as exc:
            problems.append(f"line {item.line}: {exc}")
            continue
        writes.append((item, record_id, who, code))
    # Everything is checked before anything is written, so a bad row leaves no trace even
    # when the caller's transaction goes on.
    if problems:
        raise InputError(str(path), f"{len(problems)} row(s)",
                         "nothing was imported:\n  " + "\n  ".join(problems[:200]) + "\n",
                         "correct the rows above (or the options) and import the file again")
    for item, record_id, who, code in writes:
        record_decision(session, record_id, stage, item.decision, who, reason_code=code,
                        note=f"imported from {fmt}: {path.name}"
                             + (f"; {item.note}" if item.note else ""),
                        decided_at=item.decided_at)
        result.recorded += 1
        result.reviewers.add(who)
    return result


def included_records(session: Session) -> list[Record]:
    """The included studies as Records (for RIS/BibTeX writers), oldest first."""
    ids = included_record_ids(session)
    if not ids:
        return []
    rows = session.scalars(select(StoredRecord).where(StoredRecord.id.in_(ids))
                           .order_by(StoredRecord.year, StoredRecord.id))
    return [to_record(r) for r in rows]


def export_included(session: Session, path: Path) -> int:
    """Write the included studies as RIS (``.ris``) or BibTeX (``.bib``) for reference managers."""
    suffix = path.suffix.lower()
    records = included_records(session)
    if suffix not in (".ris", ".bib", ".bibtex"):
        raise InputError(str(path), "file name", f"unknown extension {suffix!r}",
                         "name the file .ris (EndNote, Zotero) or .bib (Zotero, BibTeX)")
    try:
        if suffix == ".ris":
            from livingreview.formats.ris import write_ris as write
        else:
            from livingreview.formats.bibtex import write_bibtex as write
    except ImportError as exc:
        raise LivingReviewError(f"the {suffix} writer is not available ({exc}). "
                                "Fix: update livingreview; livingreview.formats.ris/bibtex "
                                "provide write_ris/write_bibtex") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    write(records, path)
    return len(records)
