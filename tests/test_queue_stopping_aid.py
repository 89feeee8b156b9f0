"""`livingreview queue` shows, with the queue, how many relevant records probably remain."""

from __future__ import annotations

from typer.testing import CliRunner

from livingreview.cli import app
from livingreview.screening.status import record_decision
from livingreview.store.database import session_scope
from livingreview.store.models import Candidate, StoredRecord


def _queue(url: str, n: int) -> list[int]:
    with session_scope(url) as session:
        rows = [StoredRecord(origin="pubmed", pmid=str(1000 + i), title=f"Peer workers study {i}")
                for i in range(n)]
        session.add_all(rows)
        session.flush()
        session.add_all(Candidate(record_id=r.id, priority=1.0 - i / n) for i, r in enumerate(rows))
        return [r.id for r in rows]


def _screen(url: str, ids: list[int], included: set[int]) -> None:
    with session_scope(url) as session:
        for record_id in ids:
            if record_id in included:
                record_decision(session, record_id, "title_abstract", "include", "kari")
            else:
                record_decision(session, record_id, "title_abstract", "exclude", "kari",
                                reason_code="EX_NO_PEER_WORKER")


def test_queue_says_when_the_stopping_aid_has_too_little_to_go_on(store_url, monkeypatch):
    monkeypatch.setenv("LR_DATABASE_URL", store_url)
    ids = _queue(store_url, 40)
    _screen(store_url, ids[:5], set(ids[:2]))
    result = CliRunner().invoke(app, ["queue"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "37 pending" in result.output  # 35 new, 2 included ones waiting for their full text
    assert "Stopping aid: not yet (5 title/abstract decisions" in result.output


def test_queue_estimates_the_relevant_records_left(store_url, monkeypatch):
    monkeypatch.setenv("LR_DATABASE_URL", store_url)
    ids = _queue(store_url, 200)
    # Screened in rank order: inclusions thick at first, then none for a long stretch.
    _screen(store_url, ids[:100], set(ids[:12]))
    result = CliRunner().invoke(app, ["queue", "--limit", "5"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "112 pending, 5 shown" in result.output
    line = next(l for l in result.output.splitlines() if l.startswith("Stopping aid"))
    assert "relevant records probably remain among 100 unscreened" in line
    expected = float(line.split("about ")[1].split()[0])
    assert 0 <= expected < 5  # the ranker has run dry; far fewer than the 12 found so far
