"""Intake: new hits are stored and linked to what the corpus already holds, never lost; the
pre-filter excludes with reason codes and queues the rest; re-reading a window adds nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from livingreview.baseline import load_baseline
from livingreview.intake import queue_candidates, store_hits
from livingreview.records import Record
from livingreview.store.database import session_scope
from livingreview.store.models import Candidate, DuplicateLink, ScreeningDecision, SourceHit, StoredRecord
from livingreview.store.runs import start_run

RULES = {"min_year": 2010, "languages": ["eng"]}


def _run(url: str) -> int:
    with session_scope(url) as session:
        return start_run(session, window_start=date(2021, 12, 14), window_end=date(2022, 1, 31))


def _new_study(source: str, source_id: str, **fields) -> Record:
    base = dict(title="Peer support workers co-designing a crisis service with clinicians",
                abstract="Peer workers with lived experience co-created and delivered the service.",
                authors=["Nordmann, Kari"], year=2022, journal="Psychiatric Services",
                doi="10.1176/appi.ps.2022.0001", language="eng",
                publication_types=["Journal Article"])
    base.update(fields)
    return Record(source=source, source_id=source_id, **base)


def count(url, model):
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_published_study_found_again_is_linked_not_queued(any_store_url):
    with session_scope(any_store_url) as session:
        load_baseline(session, date(2021, 12, 14))
    run = _run(any_store_url)
    again = Record(source="crossref", source_id="10.1007/s40596-016-0533-z",
                   doi="https://doi.org/10.1007/S40596-016-0533-Z",
                   title="From Surviving to Advising: A Novel Course Pairing Mental Health and "
                         "Addictions Service Users as Advisors to Senior Psychiatry Residents",
                   authors=["Agrawal, Sacha"], year=2016, language="eng")
    with session_scope(any_store_url) as session:
        counts = store_hits(session, run, [again])
        queued = queue_candidates(session, run, RULES)
    assert counts.added == 1 and counts.duplicates == {"doi": 1} and counts.new_canonical == []
    assert queued.queued == 0
    with session_scope(any_store_url) as session:
        link = session.scalar(select(DuplicateLink))
        canonical = session.get(StoredRecord, link.canonical_id)
        assert canonical.study_id == "agrawal2016" and link.status == "merged"
        assert link.method == "doi" and link.score == 1.0
        # the duplicate's own record and hit are kept
        assert session.get(StoredRecord, link.record_id).origin == "crossref"
        assert session.scalar(select(func.count()).select_from(SourceHit)) == 103


def test_the_same_study_from_two_sources_becomes_one_candidate(any_store_url):
    run = _run(any_store_url)
    pubmed = _new_study("pubmed", "35000001", pmid="35000001")
    crossref = _new_study("crossref", "10.1176/appi.ps.2022.0001", abstract=None)
    with session_scope(any_store_url) as session:
        counts = store_hits(session, run, [crossref, pubmed])
        queued = queue_candidates(session, run, RULES)
    assert counts.added == 2 and counts.duplicates == {"doi": 1}
    assert queued.queued == 1
    with session_scope(any_store_url) as session:
        candidate = session.scalar(select(Candidate))
        # the more complete hit (PMID, abstract) is the canonical one
        assert session.get(StoredRecord, candidate.record_id).origin == "pubmed"


def test_rereading_a_window_stores_nothing_twice(any_store_url):
    hits = [_new_study("pubmed", "35000001", pmid="35000001"),
            _new_study("pubmed", "35000002", pmid="35000002", doi=None,
                       title="Recovery coaches in emergency departments: an implementation study")]
    for _ in range(2):
        run = _run(any_store_url)
        with session_scope(any_store_url) as session:
            store_hits(session, run, hits)
            queue_candidates(session, run, RULES)
    assert count(any_store_url, StoredRecord) == 2
    assert count(any_store_url, SourceHit) == 2
    assert count(any_store_url, Candidate) == 2


def test_metadata_rules_exclude_with_a_reason_and_nothing_is_dropped(any_store_url):
    run = _run(any_store_url)
    hits = [
        _new_study("pubmed", "1", pmid="1", doi=None, year=2008, title="Peer support in 2008"),
        _new_study("pubmed", "2", pmid="2", doi=None, language="nor", title="Likepersoner i NAV"),
        _new_study("pubmed", "3", pmid="3", doi=None, publication_types=["Editorial"],
                   title="Why peer workers matter"),
        _new_study("pubmed", "4", pmid="4", doi=None, title="Peer workers in forensic services"),
    ]
    with session_scope(any_store_url) as session:
        store_hits(session, run, hits)
        counts = queue_candidates(session, run, RULES)
    assert counts.queued == 1
    assert counts.auto_excluded == {"EX_PRE2010": 1, "EX_LANGUAGE": 1,
                                    "EX_COMMENTARY_DISCUSSION": 1}
    with session_scope(any_store_url) as session:
        decisions = session.scalars(select(ScreeningDecision)).all()
        assert {d.reviewer for d in decisions} == {"auto:eligibility"}
        assert all(d.decision == "exclude" and d.reason_code for d in decisions)
    assert count(any_store_url, StoredRecord) == 4


def test_the_persisted_index_is_reused_only_for_its_own_store(store_url, tmp_path):
    from livingreview.intake import corpus_index, save_index

    path = tmp_path / "index.npz"
    with session_scope(store_url) as session:
        load_baseline(session, date(2021, 12, 14))
        save_index(session, path)
        assert len(corpus_index(session, path)) == 102
    run = _run(store_url)
    hit = _new_study("pubmed", "35000009", pmid="35000009")
    with session_scope(store_url) as session:
        store_hits(session, run, [hit], index_path=path)
        index = corpus_index(session, path)  # topped up with the new record
        assert len(index) == 103
        save_index(session, path)
    # Another store whose record ids overlap: the file does not describe it, so it is rebuilt.
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    from livingreview.store.database import upgrade

    upgrade(other)
    run = _run(other)
    with session_scope(other) as session:
        store_hits(session, run, [_new_study("crossref", "10.1/x", doi="10.1/x",
                                             title="An unrelated study of forensic peers")])
        index = corpus_index(session, path)
        assert len(index) == 1 and index.keys() == {"1"}
    # The same hit found again matches through the persisted index.
    run = _run(store_url)
    with session_scope(store_url) as session:
        again = store_hits(session, run, [_new_study("crossref", "10.1176/appi.ps.2022.0001")],
                           index_path=path)
    assert again.duplicates == {"doi": 1}
