"""PRISMA counts derived from the store's facts, and the checks that they reconcile."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from test_summaries_store import (
    ROOT,
    add_baseline_study,
    add_record,
    add_run,
    auto_exclude,
    merge,
    queue,
)

from livingreview.config import load_review
from livingreview.errors import StoreError, ValidationFailed
from livingreview.intake import queue_candidates, store_hits
from livingreview.records import Record
from livingreview.screening.status import record_decision
from livingreview.store.database import session_scope
from livingreview.store.models import SourceHit
from livingreview.store.runs import start_run
from livingreview.summaries.prisma import (
    PrismaCounts,
    PrismaMismatch,
    cumulative_counts,
    run_counts,
)

T0 = datetime(2022, 3, 1, tzinfo=timezone.utc)


def _decide(session, record_id, stage, decision, reason=None, *, minutes=0):
    record_decision(session, record_id, stage, decision, "anna", reason,
                    decided_at=T0 + timedelta(minutes=minutes))


@pytest.fixture
def two_runs(store_url):
    """Run A queues two records; run B sees them again and brings 16 new hits (see the test)."""
    with session_scope(store_url) as session:
        a = add_run(session, start=date(2021, 12, 14), end=date(2022, 1, 31))
        earlier = [add_record(session, a, source="pubmed", source_id=f"a{i}") for i in (1, 2)]
        for record in earlier:
            queue(session, record, a)
        b = add_run(session, start=date(2022, 1, 28), end=date(2022, 2, 28))
        for hit in session.scalars(select(SourceHit).where(SourceHit.run_id == a)):
            hit.last_seen_run_id = b  # the overlapping window returned them again
        p = {i: add_record(session, b, source="pubmed", source_id=f"p{i}") for i in range(1, 11)}
        c = {i: add_record(session, b, source="crossref", source_id=f"c{i}") for i in range(1, 7)}
        for i in (1, 2, 3):
            merge(session, c[i], p[i], b)
        auto_exclude(session, p[9], b, "EX_PRE2010")
        auto_exclude(session, c[4], b, "EX_REVIEW")
        for record in [p[i] for i in (1, 2, 3, 4, 5, 6, 7, 8, 10)] + [c[5], c[6]]:
            queue(session, record, b)
        merge(session, c[6], p[10], b, status="pending")
        for n, i in enumerate((1, 2, 3)):
            _decide(session, p[i], "title_abstract", "exclude", "EX_NO_PEER_WORKER", minutes=n)
        _decide(session, p[4], "title_abstract", "exclude", "EX_SETTING")
        for record in (p[6], p[7], p[8], p[10], c[5]):
            _decide(session, record, "title_abstract", "include")
        _decide(session, p[6], "full_text", "exclude", "EX_ROLE_UNCLEAR", minutes=10)
        for record in (p[8], p[10], c[5]):
            _decide(session, record, "full_text", "include", minutes=10)
    return store_url, a, b, p, c


def test_run_counts_follow_every_hit(two_runs):
    url, _, b, p, c = two_runs
    with session_scope(url) as session:
        counts = run_counts(session, b)
    assert counts.identified == {"pubmed": 12, "crossref": 6}
    assert counts.already_known == {"pubmed": 2}
    assert counts.duplicates == {"merged (doi)": 3}
    assert counts.auto_excluded == {"EX_PRE2010": 1, "EX_REVIEW": 1}
    assert counts.queued == 11
    assert counts.maybe_pairs == 1
    assert counts.awaiting_title_abstract == 2
    assert counts.excluded_title_abstract == {"EX_NO_PEER_WORKER": 3, "EX_SETTING": 1}
    assert counts.passed_title_abstract == 5
    assert counts.awaiting_full_text == 1
    assert counts.excluded_full_text == {"EX_ROLE_UNCLEAR": 1}
    assert counts.full_text_assessed == 4
    assert counts.included == 3
    assert set(counts.included_record_ids) == {p[8], p[10], c[5]}
    assert counts.identity_problems() == []
    # identified = already known + duplicates + auto-excluded + queued
    assert counts.identified_total == 18 == 2 + 3 + 2 + 11


def test_cumulative_counts_add_the_runs_up(two_runs):
    url, a, b, _, _ = two_runs
    with session_scope(url) as session:
        first = run_counts(session, a)
        total = cumulative_counts(session)
    assert first.identified == {"pubmed": 2} and first.queued == 2
    assert first.awaiting_title_abstract == 2
    assert total.run_ids == (a, b)
    assert total.identified == {"pubmed": 14, "crossref": 6}
    assert total.queued == 13 and total.awaiting_title_abstract == 4 and total.included == 3
    assert (total.window_start, total.window_end) == (date(2021, 12, 14), date(2022, 2, 28))
    rows = {r["box"]: r["n"] for r in total.rows()}
    assert rows["identified: pubmed"] == 14 and rows["new studies included"] == 3


def test_a_record_queued_and_excluded_automatically_does_not_reconcile(two_runs):
    url, _, b, p, _ = two_runs
    with session_scope(url) as session:
        queue(session, p[9], b)
        with pytest.raises(PrismaMismatch) as caught:
            run_counts(session, b)
    assert isinstance(caught.value, ValidationFailed)
    assert f"records [{p[9]}] are queued for screening" in caught.value.report
    assert "Fix:" in caught.value.report


def test_a_finished_run_must_have_pre_filtered_every_record(store_url):
    with session_scope(store_url) as session:
        done = add_run(session, status="succeeded")
        add_record(session, done, source="pubmed", source_id="lost")
        with pytest.raises(PrismaMismatch, match="never pre-filtered"):
            run_counts(session, done)
        running = add_run(session, status="running")
        add_record(session, running, source="pubmed", source_id="in-flight")
        assert run_counts(session, running).awaiting_prefilter == 1


def test_an_overturned_automatic_exclusion_is_screened(two_runs):
    url, _, b, p, _ = two_runs
    with session_scope(url) as session:
        _decide(session, p[9], "title_abstract", "include", minutes=30)
        counts = run_counts(session, b)
    assert counts.auto_excluded == {"EX_REVIEW": 1}
    assert counts.queued == 12 and counts.awaiting_full_text == 2


def test_a_duplicate_found_during_screening_leaves_the_included(two_runs):
    url, _, b, p, c = two_runs
    with session_scope(url) as session:
        merge(session, c[5], p[8], b)
        counts = run_counts(session, b)
    assert counts.duplicates_in_screening == 1
    assert counts.included == 2 and counts.queued == 11
    assert counts.duplicates == {"merged (doi)": 3}


def test_baseline_records_are_imported_not_screened(store_url):
    with session_scope(store_url) as session:
        run = add_run(session, "baseline", end=date(2021, 12, 14))
        for i in range(3):
            add_baseline_study(session, run, i, 2019, [])
        counts = run_counts(session, run)
        assert cumulative_counts(session).run_ids == ()  # update runs only
    assert counts.identified == {"seed": 3} and counts.imported == 3 and counts.queued == 0


def test_inconsistent_counts_name_the_broken_identity():
    counts = PrismaCounts(run_ids=(4,), identified={"pubmed": 5}, queued=3,
                          awaiting_title_abstract=3)
    with pytest.raises(PrismaMismatch) as caught:
        counts.reconcile()
    assert "identified (5) != already known (0) + duplicates (0)" in caught.value.report
    assert "run(s) 4" in caught.value.report


def test_unknown_run_is_refused(store_url):
    with session_scope(store_url) as session:
        with pytest.raises(StoreError, match="no update run with id"):
            run_counts(session, 99)


def test_counts_agree_with_what_the_intake_step_counted(store_url):
    """Derived from the store afterwards, the flow matches the intake's own tallies."""
    rules = load_review(ROOT / "review.toml")["eligibility"]
    title = "Peer support workers in community mental health teams: a qualitative study"
    records = [
        Record(source="pubmed", source_id="1001", title=title, year=2022, doi="10.1000/x1",
               authors=["Smith, A"], language="eng", publication_types=["Journal Article"]),
        Record(source="crossref", source_id="10.1000/x1", title=title, year=2022,
               doi="10.1000/x1", authors=["Smith, A"]),
        Record(source="pubmed", source_id="1002", title="Peer workers before 2010", year=2005,
               doi="10.1000/x2", authors=["Jones, B"], language="eng",
               publication_types=["Journal Article"]),
        Record(source="pubmed", source_id="1003", title="A systematic review of peer work",
               year=2022, doi="10.1000/x3", authors=["Lee, C"], language="eng",
               publication_types=["Review"]),
    ]
    with session_scope(store_url) as session:
        first = start_run(session, window_start=date(2021, 12, 11), window_end=date(2022, 1, 31))
        intake = store_hits(session, first, records)
        queued = queue_candidates(session, first, rules)
        second = start_run(session, window_start=date(2022, 1, 28), window_end=date(2022, 2, 28))
        again = store_hits(session, second, records[:2])
        queue_candidates(session, second, rules)
        counts, repeat = run_counts(session, first), run_counts(session, second)
    assert counts.identified_total == intake.received == 4
    assert counts.duplicates_total == sum(intake.duplicates.values()) == 1
    assert counts.auto_excluded == dict(queued.auto_excluded) == {"EX_PRE2010": 1,
                                                                  "EX_REVIEW": 1}
    assert counts.queued == queued.queued == 1
    assert repeat.already_known_total == again.already_known == 2
    assert repeat.identified_total == 2 and repeat.queued == 0


def _flow_run(session, rules, records, start, end):
    """One run the way the flow does it: intake, queue, then the harvest counts saved."""
    from livingreview.store.runs import finish_run, record_counts

    run = start_run(session, window_start=start, window_end=end)
    intake = store_hits(session, run, records)
    queue_candidates(session, run, rules)
    received = {}
    for record in records:
        received[record.source] = received.get(record.source, 0) + 1
    record_counts(session, run, {
        "windows": {"pubmed": [str(start), str(end)], "crossref": [str(start), str(end)]},
        "identified": {"pubmed": 0, "crossref": 0, **received},
        "filtered_out": {"pubmed": 0, "crossref": 0}, "intake": intake.as_dict()})
    finish_run(session, run, status="succeeded")
    return run, intake


def test_already_known_of_a_run_does_not_change_when_a_later_run_sees_the_hits_again(store_url):
    """source_hits keep only the last run that saw a hit; a run's own counts keep its number."""
    rules = load_review(ROOT / "review.toml")["eligibility"]
    records = [Record(source="pubmed", source_id=str(1000 + i), year=2022, language="eng",
                      title=f"Peer support workers in community mental health teams, site {i}",
                      doi=f"10.1000/site{i}", authors=[f"Author{i}, A"],
                      publication_types=["Journal Article"]) for i in range(4)]
    with session_scope(store_url) as session:
        first, _ = _flow_run(session, rules, records, date(2021, 12, 14), date(2022, 1, 31))
        second, again = _flow_run(session, rules, records[:3], date(2022, 1, 28),
                                  date(2022, 2, 28))
        before = run_counts(session, second)
        third, _ = _flow_run(session, rules, records[1:], date(2022, 2, 25), date(2022, 3, 31))
        after = run_counts(session, second)
        latest = run_counts(session, third)
        # the one fact the store keeps per hit has moved on to the third run
        moved = session.scalar(select(SourceHit.last_seen_run_id)
                               .where(SourceHit.source_id == "1001"))
    assert moved == third
    assert before.already_known == after.already_known == {"pubmed": 3} == {
        "pubmed": again.already_known}
    assert before.identified == after.identified == {"pubmed": 3, "crossref": 0}
    assert after.identity_problems() == []
    assert latest.already_known == {"pubmed": 3}


def test_harvest_counts_that_do_not_match_the_stored_hits_do_not_reconcile(store_url):
    from livingreview.store.runs import record_counts

    with session_scope(store_url) as session:
        run = add_run(session)
        for i in range(3):
            record = add_record(session, run, source="pubmed", source_id=f"x{i}")
            queue(session, record, run)
        record_counts(session, run, {"identified": {"pubmed": 2},
                                     "intake": {"already_known": 0}})
        with pytest.raises(PrismaMismatch, match="stored 3 new hits but its harvest counted "
                                                 "only 2"):
            run_counts(session, run)
        record_counts(session, run, {"identified": {"pubmed": 5},
                                     "intake": {"already_known": 1}})
        with pytest.raises(PrismaMismatch, match="does not add up to the intake step's tally"):
            run_counts(session, run)
