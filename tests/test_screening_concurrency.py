"""Twenty reviewers recording decisions at the same moment lose none of them (SQLite file,
WAL + busy_timeout): separate processes, released together by a barrier, each recording its
decisions in its own transactions, the way twenty `livingreview screen` sessions would."""

from __future__ import annotations

import multiprocessing
import threading

from sqlalchemy import func, select

from livingreview.screening.status import pending_candidates, record_decision, record_status
from livingreview.store.database import engine_for, session_scope
from livingreview.store.models import Candidate, ScreeningDecision, StoredRecord

REVIEWERS = 20
RECORDS = 10


def _setup(url: str) -> list[int]:
    ids = []
    with session_scope(url) as session:
        for i in range(RECORDS):
            row = StoredRecord(origin="pubmed", title=f"Peer support workers {i}", year=2023)
            session.add(row)
            session.flush()
            session.add(Candidate(record_id=row.id, priority=float(i)))
            ids.append(row.id)
    return ids


def _reviewer(url: str, name: str, ids: list[int], barrier, errors) -> None:
    try:
        barrier.wait(timeout=60)
        for n, record_id in enumerate(ids):
            with session_scope(url) as session:
                if n % 3 == 2:
                    record_decision(session, record_id, "title_abstract", "exclude", name,
                                    reason_code="EX_NO_PEER_WORKER")
                else:
                    record_decision(session, record_id, "title_abstract", "include", name)
    except Exception as exc:  # reported to the parent, which fails the test
        errors.put(f"{name}: {exc!r}")


def _process_main(url, name, ids, barrier, errors) -> None:
    # A forked child must not reuse the parent's pooled SQLite connections.
    engine_for(url).dispose(close=False)
    _reviewer(url, name, ids, barrier, errors)


def _assert_all_recorded(url: str, ids: list[int]) -> None:
    with session_scope(url) as session:
        total = session.scalar(select(func.count()).select_from(ScreeningDecision))
        assert total == REVIEWERS * RECORDS
        for record_id in ids:
            votes = record_status(session, record_id)["title_abstract"].votes
            assert set(votes) == {f"reviewer{i:02d}" for i in range(REVIEWERS)}
        # Everyone agreed on every record: nothing waits at title/abstract; the includes
        # moved on to full text.
        assert pending_candidates(session, stage="title_abstract") == []
        assert len(pending_candidates(session, stage="full_text")) == \
            len([n for n in range(RECORDS) if n % 3 != 2])


def test_twenty_processes_recording_at_once_lose_nothing(store_url):
    ids = _setup(store_url)
    engine_for(store_url).dispose()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(REVIEWERS)
    errors = context.Queue()
    workers = [context.Process(target=_process_main,
                               args=(store_url, f"reviewer{i:02d}", ids, barrier, errors))
               for i in range(REVIEWERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert problems == []
    assert all(w.exitcode == 0 for w in workers)
    _assert_all_recorded(store_url, ids)


def test_twenty_threads_recording_at_once_lose_nothing(store_url):
    ids = _setup(store_url)
    barrier = threading.Barrier(REVIEWERS)

    class Errors(list):
        def put(self, item):
            self.append(item)

    errors = Errors()
    threads = [threading.Thread(target=_reviewer,
                                args=(store_url, f"reviewer{i:02d}", ids, barrier, errors))
               for i in range(REVIEWERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    _assert_all_recorded(store_url, ids)
