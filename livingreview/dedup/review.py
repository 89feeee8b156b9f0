"""A person's decisions on duplicate links in the corpus store.

The update flow links every new record it judges a duplicate (``zone`` duplicate, ``status``
merged) and queues every pair it is unsure of (``zone`` maybe, ``status`` pending). Here a
maintainer settles the pending pairs and can undo any merge. A decision never deletes anything:
it changes the link's status, names who decided and when, and appends a ``DuplicateDecision`` row
(from which status to which, and why) so that the link's history can always be read back.

Statuses: ``pending`` (waiting for a person), ``merged`` (the record is hidden behind its
canonical record), ``distinct`` (a person said the two differ), ``undone`` (a merge a person
reversed: the record is visible again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.errors import InputError
from livingreview.store.models import DuplicateDecision, DuplicateLink, StoredRecord

PENDING, MERGED, DISTINCT, UNDONE = "pending", "merged", "distinct", "undone"


@dataclass
class LinkView:
    """One duplicate link with both records, as a maintainer is shown it."""

    link: DuplicateLink
    record: StoredRecord
    canonical: StoredRecord


def _view(session: Session, link: DuplicateLink) -> LinkView:
    return LinkView(link, session.get(StoredRecord, link.record_id),
                    session.get(StoredRecord, link.canonical_id))


def links(session: Session, status: str | None = PENDING) -> list[LinkView]:
    """Links with the given status (all when None), oldest first."""
    query = select(DuplicateLink).order_by(DuplicateLink.id)
    if status is not None:
        query = query.where(DuplicateLink.status == status)
    return [_view(session, link) for link in session.scalars(query)]


def link_view(session: Session, link_id: int) -> LinkView:
    """One link with both records; its ``link.decisions`` are the people's decisions, oldest
    first."""
    return _view(session, _link(session, link_id))


def _link(session: Session, link_id: int) -> DuplicateLink:
    link = session.get(DuplicateLink, link_id)
    if link is None:
        raise InputError("duplicate links", f"link {link_id}", "no such link",
                         "list the links with `livingreview duplicates list --status all`")
    return link


def _record(link: DuplicateLink, status: str, reviewer: str, note: str | None) -> None:
    if not reviewer or not reviewer.strip():
        raise InputError("decision", "reviewer", "no reviewer named",
                         "name who decides (--reviewer NAME)")
    now = datetime.now(timezone.utc)
    link.decisions.append(DuplicateDecision(previous_status=link.status, status=status,
                                            reviewer=reviewer.strip(), decided_at=now,
                                            note=note or None))
    link.status = status
    link.decided_by = reviewer.strip()
    link.decided_at = now


def decide(session: Session, link_id: int, same: bool, reviewer: str,
           note: str | None = None) -> DuplicateLink:
    """Settle a pending pair (or revise a ``distinct`` one): ``same`` merges, else keeps apart."""
    link = _link(session, link_id)
    if link.status not in (PENDING, DISTINCT, UNDONE):
        raise InputError(
            "duplicate links", f"link {link_id}", f"the link is {link.status}, not pending",
            "undo a merge with `livingreview duplicates undo LINK`",
        )
    _record(link, MERGED if same else DISTINCT, reviewer, note)
    session.flush()
    return link


def undo(session: Session, link_id: int, reviewer: str, note: str | None = None) -> DuplicateLink:
    """Reverse a merge: the record becomes visible again; the link stays, marked undone."""
    link = _link(session, link_id)
    if link.status != MERGED:
        raise InputError("duplicate links", f"link {link_id}",
                         f"the link is {link.status}, not merged", "only a merge can be undone")
    _record(link, UNDONE, reviewer, note)
    session.flush()
    return link


def canonical_id(session: Session, record_id: int) -> int:
    """The record a record is merged into, following chains of merges; itself if none."""
    seen = {record_id}
    current = record_id
    while True:
        target = session.scalar(
            select(DuplicateLink.canonical_id)
            .where(DuplicateLink.record_id == current, DuplicateLink.status == MERGED)
            .order_by(DuplicateLink.id)
            .limit(1)
        )
        if target is None or target in seen:
            return current
        seen.add(target)
        current = target
