"""Ranking the pending queue from what the corpus has learned (store-backed).

Known inclusions are the included studies (the published baseline counts from the first run);
known exclusions are screeners' title/abstract exclusions. Exclusions by metadata rules say
nothing about topic and are left out. Before any screener has excluded anything, the model is
trained with the pending candidates as presumed exclusions (``Ranker``'s unlabelled texts), which
ranks those most like the included studies first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.screening.ranking import Ranker
from livingreview.screening.stopping import RemainingEstimate, estimate_remaining
from livingreview.store.models import Candidate, ScreeningDecision, StoredRecord

AUTO_PREFIX = "auto:"


def _text(record: StoredRecord) -> str:
    return " ".join(filter(None, [record.title, record.abstract, " ".join(record.keywords or [])]))


def prioritise(session: Session) -> dict[str, Any]:
    from livingreview.screening.status import included_record_ids

    decided = set(session.scalars(select(ScreeningDecision.record_id)
                                  .where(ScreeningDecision.stage == "title_abstract")))
    pending = [r for c, r in session.execute(
        select(Candidate, StoredRecord).join(StoredRecord, StoredRecord.id == Candidate.record_id))
        if r.id not in decided]
    if not pending:
        return {"ranked": 0, "model": "none (queue empty)"}
    included = included_record_ids(session)
    excluded = set(session.scalars(
        select(ScreeningDecision.record_id)
        .where(ScreeningDecision.stage == "title_abstract", ScreeningDecision.decision == "exclude",
               ~ScreeningDecision.reviewer.startswith(AUTO_PREFIX)))) - included
    if not included:
        return {"ranked": 0, "model": "none (no known inclusions yet)"}
    positives = list(session.scalars(select(StoredRecord).where(StoredRecord.id.in_(included))))
    negatives = list(session.scalars(select(StoredRecord).where(StoredRecord.id.in_(excluded))))
    ranker = Ranker()
    ranker.fit([_text(r) for r in positives + negatives],
               [1] * len(positives) + [0] * len(negatives),
               unlabelled_texts=[_text(r) for r in pending])
    scores = ranker.score([_text(r) for r in pending])
    by_id = {r.id: float(s) for r, s in zip(pending, scores)}
    for candidate in session.scalars(select(Candidate).where(Candidate.record_id.in_(by_id))):
        candidate.priority = by_id[candidate.record_id]
    session.flush()
    return {"ranked": len(pending), "model": ranker.model, "positives": len(positives),
            "negatives": len(negatives)}


def remaining_relevant(session: Session) -> tuple[RemainingEstimate | None, int, int]:
    """The stopping aid for the queue: how many relevant records probably remain unscreened.

    Fitted on the living review's own title/abstract screening (people's include/exclude
    decisions on candidates, in the order they were made; the published baseline and metadata
    rules are not screening in rank order). Returns (estimate or None, decisions, unscreened).
    """
    candidates = set(session.scalars(select(Candidate.record_id)))
    events = session.scalars(
        select(ScreeningDecision)
        .where(ScreeningDecision.stage == "title_abstract",
               ScreeningDecision.decision.in_(("include", "exclude")),
               ~ScreeningDecision.reviewer.startswith(AUTO_PREFIX))
        .order_by(ScreeningDecision.decided_at, ScreeningDecision.id))
    first: dict[int, int] = {}
    for event in events:
        if event.record_id in candidates:
            first.setdefault(event.record_id, 1 if event.decision == "include" else 0)
    unscreened = len(candidates - set(first) - set(session.scalars(
        select(ScreeningDecision.record_id).where(ScreeningDecision.stage == "title_abstract"))))
    labels = list(first.values())
    return estimate_remaining(labels, unscreened), len(labels), unscreened
