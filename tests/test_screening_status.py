"""Screening status is derived from append-only decisions: votes, undo, conflicts, resolutions,
automatic exclusions, dual screening, and what counts as included."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from livingreview.screening.status import (
    DecisionRejected,
    included_record_ids,
    pending_candidates,
    record_decision,
    record_status,
    undo_last_decision,
)
from livingreview.store.database import session_scope
from livingreview.store.models import Candidate, DuplicateLink, ScreeningDecision, StoredRecord

TA, FT = "title_abstract", "full_text"


def add_records(url: str, n: int, priorities=None, dual=()) -> list[int]:
    ids = []
    with session_scope(url) as session:
        for i in range(n):
            row = StoredRecord(origin="pubmed", title=f"Peer workers study {i}", year=2022)
            session.add(row)
            session.flush()
            prio = priorities[i] if priorities else None
            session.add(Candidate(record_id=row.id, priority=prio, second_reviewer=i in dual))
            ids.append(row.id)
    return ids


def test_include_at_both_stages_makes_a_record_included(store_url):
    (a,) = add_records(store_url, 1)
    with session_scope(store_url) as s:
        record_decision(s, a, TA, "include", "ann")
        assert included_record_ids(s) == set()
        record_decision(s, a, FT, "include", "ann")
    with session_scope(store_url) as s:
        assert included_record_ids(s) == {a}


def test_exclusion_needs_a_known_reason_code(store_url):
    (a,) = add_records(store_url, 1)
    with session_scope(store_url) as s:
        with pytest.raises(DecisionRejected, match="needs a reason code"):
            record_decision(s, a, TA, "exclude", "ann")
        with pytest.raises(DecisionRejected, match="EX_NOPE"):
            record_decision(s, a, TA, "exclude", "ann", reason_code="EX_NOPE")
        with pytest.raises(DecisionRejected, match="unknown decision"):
            record_decision(s, a, TA, "yes", "ann")
        row = record_decision(s, a, TA, "exclude", "ann", reason_code="ex_setting")
        assert row.reason_code == "EX_SETTING"
        assert record_status(s, a)[TA].decision == "exclude"


def test_full_text_needs_a_title_abstract_include_first(store_url):
    (a,) = add_records(store_url, 1)
    with session_scope(store_url) as s:
        with pytest.raises(DecisionRejected, match="title/abstract include first"):
            record_decision(s, a, FT, "include", "ann")
        record_decision(s, a, TA, "maybe", "ann")
        with pytest.raises(DecisionRejected, match="status: maybe"):
            record_decision(s, a, FT, "include", "ann")


def test_undo_cancels_the_same_reviewers_last_decision_and_keeps_the_log(store_url):
    (a,) = add_records(store_url, 1)
    with session_scope(store_url) as s:
        record_decision(s, a, TA, "include", "ann")
        record_decision(s, a, TA, "exclude", "ann", reason_code="EX_SETTING")
        undo_last_decision(s, a, TA, "ann")
        assert record_status(s, a)[TA].decision == "include"
        undo_last_decision(s, a, TA, "ann")
        assert record_status(s, a)[TA].decision is None
        with pytest.raises(DecisionRejected, match="no standing"):
            undo_last_decision(s, a, TA, "ann")
        with pytest.raises(DecisionRejected, match="no standing"):
            undo_last_decision(s, a, TA, "bob")
        assert s.scalar(select(func.count()).select_from(ScreeningDecision)) == 4


def test_conflict_until_a_resolution_decides(store_url):
    (a,) = add_records(store_url, 1)
    with session_scope(store_url) as s:
        record_decision(s, a, TA, "include", "ann")
        record_decision(s, a, TA, "exclude", "bob", reason_code="EX_NOT_PAID")
        assert record_status(s, a)[TA].decision == "conflict"
        assert [i.outcome for i in pending_candidates(s)] == ["conflict"]
        assert pending_candidates(s, reviewer="cat") == []  # conflicts go to a resolver
        record_decision(s, a, TA, "exclude", "cat", reason_code="EX_ROLE_UNCLEAR",
                        note="both read the methods", resolution=True)
        outcome = record_status(s, a)[TA]
        assert outcome.decision == "exclude" and outcome.reason_code == "EX_ROLE_UNCLEAR"
        assert outcome.resolution.reviewer == "cat"
        assert set(outcome.votes) == {"ann", "bob"}
        with pytest.raises(DecisionRejected, match="resolution"):
            record_decision(s, a, TA, "include", "dan", note="[resolution] sneaky")
        undo_last_decision(s, a, TA, "cat")
        assert record_status(s, a)[TA].decision == "conflict"


def test_agreeing_exclusions_report_the_primary_reason(store_url):
    (a,) = add_records(store_url, 1)
    with session_scope(store_url) as s:
        record_decision(s, a, TA, "exclude", "ann", reason_code="EX_RECOVERY_COLLEGE")
        record_decision(s, a, TA, "exclude", "bob", reason_code="EX_NO_PEER_WORKER")
        outcome = record_status(s, a)[TA]
        assert outcome.decision == "exclude" and outcome.reason_code == "EX_NO_PEER_WORKER"


def test_automatic_exclusion_is_an_outcome_until_a_person_overrules_it(store_url):
    (a,) = add_records(store_url, 1)
    with session_scope(store_url) as s:
        s.add(ScreeningDecision(record_id=a, stage=TA, decision="exclude", reviewer="auto:eligibility",
                                reason_code="EX_LANGUAGE"))
        s.flush()
        assert record_status(s, a)[TA].decision == "exclude"
        assert pending_candidates(s) == []
        record_decision(s, a, TA, "include", "ann", note="English full text exists")
        assert record_status(s, a)[TA].decision == "include"


def test_queue_follows_stages_priority_and_reviewer(store_url):
    a, b, c = add_records(store_url, 3, priorities=[0.2, 0.9, None])
    with session_scope(store_url) as s:
        assert [i.record_id for i in pending_candidates(s, reviewer="ann")] == [b, a, c]
        record_decision(s, b, TA, "include", "ann")
        record_decision(s, a, TA, "exclude", "ann", reason_code="EX_SETTING")
        items = pending_candidates(s, reviewer="ann")
        assert [(i.record_id, i.stage) for i in items] == [(b, FT), (c, TA)]
        assert [i.record_id for i in pending_candidates(s, stage=TA)] == [c]
        record_decision(s, c, TA, "maybe", "ann")
        # A maybe stays open for others but leaves the deciding reviewer's queue.
        assert [i.record_id for i in pending_candidates(s, reviewer="ann")] == [b]
        assert c in [i.record_id for i in pending_candidates(s, reviewer="bob")]


def test_dual_screened_candidates_wait_for_a_second_reviewer(store_url):
    a, b = add_records(store_url, 2, dual={0})
    with session_scope(store_url) as s:
        record_decision(s, a, TA, "include", "ann")
        record_decision(s, b, TA, "include", "ann")
        assert record_status(s, a)[TA].decision == "awaiting_second"
        assert record_status(s, b)[TA].decision == "include"
        assert [i.record_id for i in pending_candidates(s, reviewer="bob")] == [a, b]
        assert a not in [i.record_id for i in pending_candidates(s, reviewer="ann")]
        with pytest.raises(DecisionRejected):
            record_decision(s, a, FT, "include", "ann")
        record_decision(s, a, TA, "include", "bob")
        assert record_status(s, a)[TA].decision == "include"


def test_merged_duplicates_are_never_counted_as_included(store_url):
    a, b = add_records(store_url, 2)
    with session_scope(store_url) as s:
        for rid in (a, b):
            record_decision(s, rid, TA, "include", "ann")
            record_decision(s, rid, FT, "include", "ann")
        s.add(DuplicateLink(record_id=b, canonical_id=a, method="doi", score=1.0, zone="duplicate",
                            status="merged", decided_by="auto"))
        s.flush()
        assert included_record_ids(s) == {a}


def test_baseline_decisions_count_as_included(store_url):
    from datetime import date

    from livingreview.baseline import load_baseline

    with session_scope(store_url) as s:
        result = load_baseline(s, date(2021, 12, 14))
    with session_scope(store_url) as s:
        assert len(included_record_ids(s)) == result.studies


def test_events_are_ordered_by_decision_time(store_url):
    (a,) = add_records(store_url, 1)
    now = datetime.now(timezone.utc)
    with session_scope(store_url) as s:
        record_decision(s, a, TA, "exclude", "ann", reason_code="EX_SETTING", decided_at=now)
        # An imported decision made earlier does not override the later one.
        record_decision(s, a, TA, "include", "ann", decided_at=now - timedelta(days=3))
        assert record_status(s, a)[TA].decision == "exclude"
