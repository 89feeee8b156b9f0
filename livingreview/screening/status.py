"""Screening status, derived from the append-only decision log, and the one way to add to it.

Rules (one place; summaries, exports and the screener all read status from here):

- A decision is an event: (record, stage, decision, reviewer, time, reason code, note). Stages are
  ``title_abstract`` then ``full_text``; decisions ``include | exclude | maybe``. An ``undo`` event
  cancels the same reviewer's latest still-standing decision on that record and stage (several
  undos walk back further). Events are ordered by ``(decided_at, id)``.
- A reviewer's *vote* is their latest standing decision.
- **Resolution convention.** A decision whose note starts with ``[resolution]`` (written by
  ``record_decision(..., resolution=True)``) adjudicates the stage: the latest standing
  resolution is the outcome whatever the other votes say. A resolver's own earlier vote is
  replaced by their resolution.
- Otherwise, if the human votes agree that is the outcome; if they differ in any way (include vs
  exclude, or either vs maybe) the outcome is ``conflict``.
- Automatic votes (reviewers named ``auto:...``, e.g. the eligibility pre-filter
  ``auto:eligibility``) are an outcome on their own, but once any person has voted on the stage
  the person's vote supersedes them (double-checking an automatic exclusion can overturn it).
- A candidate marked ``second_reviewer`` needs two people at each stage: with one human vote and
  no resolution its outcome is ``awaiting_second``.
- The outcome's reason code, for an exclusion, is the primary one (table order of
  ``REASON_CODES``) among the agreeing votes, or the resolution's own.
- A record is *included* when it is canonical (not merged into another record) and both stages'
  outcomes are ``include``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.errors import LivingReviewError
from livingreview.screening.eligibility import REASON_CODES
from livingreview.store.models import Candidate, DuplicateLink, ScreeningDecision, StoredRecord

STAGES = ("title_abstract", "full_text")
DECISIONS = ("include", "exclude", "maybe")
UNDO = "undo"
RESOLUTION_MARK = "[resolution]"
AUTO_PREFIX = "auto:"

CONFLICT = "conflict"
AWAITING_SECOND = "awaiting_second"
FINAL = ("include", "exclude")


class DecisionRejected(LivingReviewError, ValueError):
    """A decision that the review's rules do not allow; the message says what to do instead."""


@dataclass(frozen=True)
class Vote:
    reviewer: str
    decision: str
    reason_code: str | None
    decided_at: datetime | None
    decision_id: int
    resolution: bool = False
    note: str | None = None

    @property
    def automatic(self) -> bool:
        return self.reviewer.startswith(AUTO_PREFIX)


@dataclass(frozen=True)
class StageOutcome:
    """A stage's derived status for one record.

    ``decision`` is ``include | exclude | maybe | conflict | awaiting_second`` or None when
    nobody has decided. ``votes`` are the standing votes by reviewer (resolutions excluded).
    """

    decision: str | None
    reason_code: str | None = None
    votes: dict[str, Vote] = field(default_factory=dict)
    resolution: Vote | None = None

    @property
    def final(self) -> bool:
        return self.decision in FINAL

    @property
    def human_votes(self) -> dict[str, Vote]:
        return {r: v for r, v in self.votes.items() if not v.automatic}


def _as_vote(event: Any) -> Vote:
    note = getattr(event, "note", None)
    return Vote(reviewer=event.reviewer, decision=event.decision,
                reason_code=getattr(event, "reason_code", None),
                decided_at=getattr(event, "decided_at", None), decision_id=event.id or 0,
                resolution=bool(note and note.startswith(RESOLUTION_MARK)), note=note)


def _utc(value: datetime | None, missing: datetime = datetime.min) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they were stored as UTC.
    value = value or missing
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _order_key(event: Any) -> tuple:
    return (_utc(getattr(event, "decided_at", None)), event.id or 0)


def vote_order(vote: Vote) -> tuple:
    """Sort key of votes: decision time, then the order they were stored in."""
    return (_utc(vote.decided_at), vote.decision_id)


def standing_votes(events: Iterable[Any]) -> dict[str, Vote]:
    """Each reviewer's latest decision still standing after undos (one record, one stage)."""
    stacks: dict[str, list[Vote]] = defaultdict(list)
    for event in sorted(events, key=_order_key):
        if event.decision == UNDO:
            if stacks[event.reviewer]:
                stacks[event.reviewer].pop()
        else:
            stacks[event.reviewer].append(_as_vote(event))
    return {reviewer: stack[-1] for reviewer, stack in stacks.items() if stack}


def primary_reason(codes: Iterable[str | None]) -> str | None:
    """The first of ``codes`` in the checklist's table order (unknown codes last)."""
    order = {code: i for i, code in enumerate(REASON_CODES)}
    present = [c for c in codes if c]
    return min(present, key=lambda c: order.get(c, len(order))) if present else None


def stage_outcome(events: Iterable[Any], reviewers_required: int = 1) -> StageOutcome:
    """The outcome of one stage for one record from its decision events (see module rules).

    ``events`` are ScreeningDecision rows (or anything with ``id, reviewer, decision,
    reason_code, decided_at, note``) of a single record and stage.
    """
    standing = standing_votes(events)
    resolutions = [v for v in standing.values() if v.resolution]
    votes = {r: v for r, v in standing.items() if not v.resolution}
    if resolutions:
        latest = max(resolutions, key=vote_order)
        return StageOutcome(latest.decision, latest.reason_code, votes, latest)
    human = [v for v in votes.values() if not v.automatic]
    deciding = human or list(votes.values())
    if not deciding:
        return StageOutcome(None, None, votes)
    kinds = {v.decision for v in deciding}
    if len(kinds) > 1:
        return StageOutcome(CONFLICT, None, votes)
    decision = kinds.pop()
    if human and len(human) < reviewers_required:
        return StageOutcome(AWAITING_SECOND, None, votes)
    reason = primary_reason(v.reason_code for v in deciding) if decision == "exclude" else None
    return StageOutcome(decision, reason, votes)


def merged_record_ids(session: Session) -> set[int]:
    """Records merged into another (canonical) record: they carry no status of their own."""
    return set(session.scalars(select(DuplicateLink.record_id)
                               .where(DuplicateLink.status == "merged")))


def stage_outcomes(session: Session, record_ids: Iterable[int] | None = None,
                   ) -> dict[int, dict[str, StageOutcome]]:
    """Outcome per record and stage for every record with decisions (or those given)."""
    query = select(ScreeningDecision)
    wanted = None if record_ids is None else set(record_ids)
    if wanted is not None and len(wanted) < 900:
        query = query.where(ScreeningDecision.record_id.in_(wanted))
    events: dict[tuple[int, str], list[ScreeningDecision]] = defaultdict(list)
    for event in session.scalars(query):
        if wanted is None or event.record_id in wanted:
            events[(event.record_id, event.stage)].append(event)
    dual = set(session.scalars(select(Candidate.record_id)
                               .where(Candidate.second_reviewer.is_(True))))
    result: dict[int, dict[str, StageOutcome]] = defaultdict(dict)
    for (record_id, stage), rows in events.items():
        result[record_id][stage] = stage_outcome(rows, 2 if record_id in dual else 1)
    return dict(result)


def record_status(session: Session, record_id: int) -> dict[str, StageOutcome]:
    """Both stages' outcomes for one record (stages nobody decided are ``StageOutcome(None)``)."""
    found = stage_outcomes(session, [record_id]).get(record_id, {})
    return {stage: found.get(stage, StageOutcome(None)) for stage in STAGES}


def included_record_ids(session: Session) -> set[int]:
    """Canonical records included at both title/abstract and full-text stages."""
    merged = merged_record_ids(session)
    return {record_id for record_id, stages in stage_outcomes(session).items()
            if record_id not in merged
            and stages.get("title_abstract", StageOutcome(None)).decision == "include"
            and stages.get("full_text", StageOutcome(None)).decision == "include"}


def current_stage(stages: dict[str, StageOutcome]) -> str | None:
    """The stage a record still needs a decision at, or None when screening is finished."""
    ta = stages.get("title_abstract", StageOutcome(None))
    if not ta.final:
        return "title_abstract"
    if ta.decision == "exclude":
        return None
    ft = stages.get("full_text", StageOutcome(None))
    return None if ft.final else "full_text"


@dataclass(frozen=True)
class QueueItem:
    record_id: int
    stage: str
    outcome: str | None  # None | maybe | conflict | awaiting_second
    priority: float | None
    flags: list[str]
    second_reviewer: bool
    reviewers: tuple[str, ...]  # who has a standing vote at this stage


def pending_candidates(session: Session, reviewer: str | None = None,
                       stage: str | None = None) -> list[QueueItem]:
    """Candidates still needing a decision, highest priority first.

    With ``reviewer``: what that person should screen now: no standing vote of theirs at the
    record's current stage, and not a conflict (conflicts go to a resolver, see ``conflicts``).
    Without: everything unfinished, conflicts included.
    """
    if stage is not None and stage not in STAGES:
        raise DecisionRejected(f"unknown stage {stage!r}. Fix: use one of {list(STAGES)}")
    merged = merged_record_ids(session)
    candidates = [c for c in session.scalars(select(Candidate)) if c.record_id not in merged]
    outcomes = stage_outcomes(session, [c.record_id for c in candidates])
    items = []
    for cand in candidates:
        stages = outcomes.get(cand.record_id, {})
        now = current_stage(stages)
        if now is None or (stage is not None and now != stage):
            continue
        outcome = stages.get(now, StageOutcome(None))
        if reviewer is not None and (reviewer in outcome.votes or outcome.decision == CONFLICT):
            continue
        items.append(QueueItem(cand.record_id, now, outcome.decision, cand.priority,
                               list(cand.flags or []), bool(cand.second_reviewer),
                               tuple(sorted(outcome.votes))))
    queued = {c.record_id: c.queued_at for c in candidates}
    items.sort(key=lambda i: (i.priority is None, -(i.priority or 0.0),
                              _utc(queued.get(i.record_id), datetime.max), i.record_id))
    return items


def conflicts(session: Session, stage: str | None = None) -> list[tuple[int, str, StageOutcome]]:
    """Unresolved disagreements: (record id, stage, outcome with everybody's votes)."""
    merged = merged_record_ids(session)
    found = []
    for record_id, stages in sorted(stage_outcomes(session).items()):
        if record_id in merged:
            continue
        for name in STAGES:
            outcome = stages.get(name)
            if outcome is not None and outcome.decision == CONFLICT and stage in (None, name):
                found.append((record_id, name, outcome))
    return found


def validate_decision(stage: str, decision: str, reviewer: str, reason_code: str | None,
                      reason_codes: Iterable[str] | None = None) -> str | None:
    """Check one decision's values; returns the normalised reason code."""
    codes = list(reason_codes) if reason_codes is not None else list(REASON_CODES)
    if stage not in STAGES:
        raise DecisionRejected(f"unknown stage {stage!r}. Fix: use one of {list(STAGES)}")
    if decision not in DECISIONS:
        raise DecisionRejected(f"unknown decision {decision!r}. Fix: use one of {list(DECISIONS)}"
                               " (to take a decision back, use undo)")
    if not reviewer or not reviewer.strip():
        raise DecisionRejected("a decision needs a reviewer name. Fix: pass --reviewer NAME")
    code = reason_code.strip().upper() if reason_code and reason_code.strip() else None
    if decision == "exclude" and code is None:
        raise DecisionRejected(f"an exclusion needs a reason code. Fix: give one of {codes}")
    if code is not None and decision == "include":
        raise DecisionRejected(f"an inclusion takes no reason code (got {code}). "
                               "Fix: leave the reason out, or exclude instead")
    if code is not None and code not in codes:
        raise DecisionRejected(f"unknown reason code {code!r}. Fix: use one of {codes}")
    return code


def require_title_abstract_include(record_id: int, status: dict[str, StageOutcome]) -> None:
    """Refuse a full-text decision on a record not included at title/abstract."""
    ta = status.get("title_abstract", StageOutcome(None))
    if ta.decision != "include":
        raise DecisionRejected(
            f"record {record_id}: a full-text decision needs a title/abstract include first "
            f"(title/abstract status: {ta.decision or 'not screened'}). "
            "Fix: screen it at title_abstract first, or resolve its conflict")


def record_decision(session: Session, record_id: int, stage: str, decision: str, reviewer: str,
                    reason_code: str | None = None, note: str | None = None, *,
                    resolution: bool = False, decided_at: datetime | None = None,
                    run_id: int | None = None,
                    reason_codes: Iterable[str] | None = None) -> ScreeningDecision:
    """Append one decision after checking it against the review's rules.

    Exclusions need a reason code from ``reason_codes`` (the review's, ``REASON_CODES``, by
    default); any full-text decision needs a title/abstract include first. ``resolution=True``
    marks the decision as the adjudication of a conflict (see the module's rules).
    """
    code = validate_decision(stage, decision, reviewer, reason_code, reason_codes)
    if session.get(StoredRecord, record_id) is None:
        raise DecisionRejected(f"record {record_id} does not exist. "
                               "Fix: pick a record id from `livingreview queue`")
    if stage == "full_text":
        require_title_abstract_include(record_id, record_status(session, record_id))
    text = note.strip() if note and note.strip() else None
    if resolution:
        text = f"{RESOLUTION_MARK} {text}" if text else RESOLUTION_MARK
    elif text and text.startswith(RESOLUTION_MARK):
        raise DecisionRejected(f"a note may not start with {RESOLUTION_MARK} unless the decision "
                               "is a resolution. Fix: pass resolution=True (--resolve)")
    row = ScreeningDecision(record_id=record_id, stage=stage, decision=decision, reason_code=code,
                            reviewer=reviewer.strip(), note=text, run_id=run_id,
                            decided_at=decided_at or datetime.now(timezone.utc))
    session.add(row)
    session.flush()
    return row


def undo_last_decision(session: Session, record_id: int, stage: str, reviewer: str,
                       note: str | None = None) -> ScreeningDecision:
    """Append an ``undo`` that cancels ``reviewer``'s latest standing decision on the stage."""
    if stage not in STAGES:
        raise DecisionRejected(f"unknown stage {stage!r}. Fix: use one of {list(STAGES)}")
    events = session.scalars(select(ScreeningDecision).where(
        ScreeningDecision.record_id == record_id, ScreeningDecision.stage == stage,
        ScreeningDecision.reviewer == reviewer)).all()
    if reviewer not in standing_votes(events):
        raise DecisionRejected(f"{reviewer} has no standing {stage} decision on record "
                               f"{record_id} to undo. Fix: check the reviewer name and stage")
    row = ScreeningDecision(record_id=record_id, stage=stage, decision=UNDO, reviewer=reviewer,
                            note=note, decided_at=datetime.now(timezone.utc))
    session.add(row)
    session.flush()
    return row
