"""livingreview status as a maintainer reads it: the corpus size, the file behind each import,
update runs listed and numbered apart from the others, and the same pending count as queue."""

from __future__ import annotations

from typer.testing import CliRunner

from livingreview.cli import build_app
from livingreview.screening.status import record_decision
from livingreview.store.database import session_scope
from livingreview.store.models import Candidate, StoredRecord

RIS = ("TY  - JOUR\nTI  - Peer specialists in crisis teams\nAU  - Lee, K.\nPY  - 2024\n"
       "DO  - 10.1000/peer.1\nER  - \n")


def _run(args, url, tmp_path, monkeypatch):
    monkeypatch.setenv("LR_DATABASE_URL", url)
    monkeypatch.setenv("LR_HOME", str(tmp_path))
    result = CliRunner().invoke(build_app(args[0]), args, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    return result.output


def test_status_shows_corpus_imports_and_the_queue_as_queue_does(store_url, tmp_path,
                                                                    monkeypatch):
    with session_scope(store_url) as s:
        ids = []
        for title in ("Peer navigators in primary care", "Recovery coaches in emergency care",
                      "Peer workers co-design a crisis service"):
            row = StoredRecord(origin="pubmed", title=title, year=2024, authors=["Ng, A."])
            s.add(row)
            s.flush()
            s.add(Candidate(record_id=row.id, priority=1.0))
            ids.append(row.id)
        s.flush()
        record_decision(s, ids[0], "title_abstract", "exclude", "ann", reason_code="EX_SETTING")
    (tmp_path / "scopus-export.ris").write_text(RIS, encoding="utf-8")
    _run(["import", str(tmp_path / "scopus-export.ris")], store_url, tmp_path, monkeypatch)

    out = _run(["status"], store_url, tmp_path, monkeypatch)
    assert "Corpus: 4 records (4 stored, 0 merged into a duplicate)." in out
    assert "No update has run yet" in out
    assert "scopus-export.ris" in out and "Other runs" in out
    assert "2 candidate(s) wait for a screening decision" in out
    assert "3 queued since the start." in out
    queue = _run(["queue"], store_url, tmp_path, monkeypatch)
    assert "2 pending." in queue
    assert "Recovery coaches in emergency care" in queue  # whole title at 160 columns
