"""Windows across runs: a backfill re-runs an explicit window without moving a watermark back or
storing anything twice; a changed query is a new search from the baseline cut-off, recorded
and annotated in the report, never mixed silently with the old one.

The monthly flow runs for real (Prefect test harness, SQLite store) against the replay server;
Europe PMC alone keeps it quick, and its recorded results are the oracle.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from livingreview.cli.corpus import init_store
from livingreview.config import Settings, load_review
from livingreview.harvest.windows import plan_windows
from livingreview.replay.bodies import RECORDINGS_DIR
from livingreview.replay.server import running_replay_server
from livingreview.store.database import session_scope
from livingreview.store.models import SourceHit, StoredRecord, UpdateRun, Watermark

ROOT = Path(__file__).resolve().parent.parent
UNTIL = date(2026, 11, 1)
EPMC = json.loads((RECORDINGS_DIR / "europepmc" / "search_cancer_core.json").read_text())["resultList"]["result"]


@pytest.fixture
def project(tmp_path, monkeypatch, prefect_harness):
    with running_replay_server(scenario="recordings") as replay:
        monkeypatch.setenv("LR_DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
        monkeypatch.setenv("LR_REPORT_DIR", str(tmp_path / "reports"))
        for name, url in replay.environment().items():
            monkeypatch.setenv(name, url)
        init_store(Settings.from_env())
        yield replay


def _count(model) -> int:
    with session_scope(Settings.from_env().database_url) as session:
        return session.scalar(select(func.count()).select_from(model))


def _mark(source: str) -> date:
    with session_scope(Settings.from_env().database_url) as session:
        return session.get(Watermark, source).harvested_until


def test_backfill_keeps_the_watermark_and_stores_nothing_twice_and_a_changed_query_starts_again(
        project, tmp_path, monkeypatch):
    from flows.update_review import update_review

    first = update_review(until=UNTIL, sources=["europepmc"])
    in_window = sum("2021-12-14" <= r["firstIndexDate"] <= UNTIL.isoformat() for r in EPMC)
    assert first["counts"]["identified"] == {"europepmc": in_window} and in_window == 25
    assert first["counts"]["window_reasons"] == {"europepmc": "baseline"}
    assert _mark("europepmc") == UNTIL
    records, hits = _count(StoredRecord), _count(SourceHit)

    # `livingreview reparse RUN_ID` rebuilds the run from its archive: no request, all equal.
    project.clear_requests()
    done = subprocess.run([sys.executable, "-m", "livingreview", "reparse", str(first["run_id"]),
                           "--out", str(tmp_path / "rebuilt.jsonl")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert project.requests == []
    assert "europepmc │ 25      │ 25                │ 25    │ 0" in done.stdout
    rebuilt = [json.loads(line) for line in (tmp_path / "rebuilt.jsonl").read_text().splitlines()]
    assert sorted(r["source_id"] for r in rebuilt) == sorted(f"{r['source']}:{r['id']}" for r in EPMC)

    # Backfill an earlier window: the same records again, none stored twice, watermark unmoved.
    project.clear_requests()
    backfill = update_review(since=date(2024, 1, 1), until=date(2025, 3, 31), sources=["europepmc"])
    assert backfill["counts"]["window_reasons"] == {"europepmc": "backfill"}
    expected = sum("2024-01-01" <= r["firstIndexDate"] <= "2025-03-31" for r in EPMC)
    assert backfill["counts"]["identified"] == {"europepmc": expected} and expected == 4
    assert backfill["counts"]["intake"]["added"] == 0
    assert (_count(StoredRecord), _count(SourceHit)) == (records, hits)
    assert _mark("europepmc") == UNTIL
    assert "FIRST_IDATE:[2024-01-01 TO 2025-03-31]" in project.requests[0].params["query"]

    # The next monthly run with the same query would start at the watermark less the overlap.
    review_now = load_review(ROOT / "review.toml")
    with session_scope(Settings.from_env().database_url) as session:
        [planned] = plan_windows(session, review_now, ["europepmc"], until=date(2026, 12, 1))
    assert (planned.start, planned.reason) == (date(2026, 10, 29), "watermark")

    # A changed query: a new search from the baseline cut-off, annotated, with both versions known.
    review = (ROOT / "review.toml").read_text(encoding="utf-8")
    changed = review.replace('OR TITLE_ABS:"peer listener"', 'OR TITLE_ABS:"peer listener" OR TITLE_ABS:"peer helper"')
    assert changed != review
    (tmp_path / "review.toml").write_text(changed, encoding="utf-8")
    monkeypatch.setenv("LR_REVIEW_FILE", str(tmp_path / "review.toml"))
    renewed = update_review(until=UNTIL, sources=["europepmc"])
    assert renewed["counts"]["window_reasons"] == {"europepmc": "query_changed"}
    assert renewed["counts"]["windows"]["europepmc"] == ["2021-12-14", "2026-11-01"]
    old_version = first["counts"]["queries"]["europepmc"]
    new_version = renewed["counts"]["queries"]["europepmc"]
    assert old_version["sha256"] != new_version["sha256"]
    assert 'TITLE_ABS:\\"peer helper\\"' in new_version["text"] and "peer helper" not in old_version["text"]
    assert new_version["variant"] == "extended"
    assert renewed["counts"]["identified"] == {"europepmc": in_window}
    assert (_count(StoredRecord), _count(SourceHit)) == (records, hits)
    report = (Path(renewed["report_directory"]) / "report.md").read_text(encoding="utf-8")
    assert f"**a new search from the baseline cut-off**: the europepmc query changed" in report
    assert new_version["sha256"][:12] in report
    with session_scope(Settings.from_env().database_url) as session:
        stored = session.scalars(select(UpdateRun).where(UpdateRun.kind == "update")
                                 .order_by(UpdateRun.id)).all()
        assert [r.counts["queries"]["europepmc"]["sha256"] for r in stored] == [
            old_version["sha256"]] * 2 + [new_version["sha256"]]


def test_a_source_failing_after_its_retries_fails_the_run_by_name_and_the_next_run_recovers(project):
    from flows.update_review import update_review
    from livingreview.replay import Fault

    project.add_faults(Fault("gateway_timeout", path="/europepmc/webservices/rest/search", times=None))
    with pytest.raises(Exception, match="europepmc: .*504.*gave up after 5 attempts"):
        update_review(until=UNTIL, sources=["europepmc"])
    with session_scope(Settings.from_env().database_url) as session:
        run = session.scalar(select(UpdateRun).where(UpdateRun.kind == "update"))
        assert run.status == "failed"
        assert run.counts["failed_source"]["source"] == "europepmc"
        assert "GET http://127.0.0.1" in run.counts["failed_source"]["error"]
        assert "504" in run.error and "europepmc" in run.error
        assert session.get(Watermark, "europepmc") is None  # not advanced
    assert len(project.requests) == 5

    project.clear_faults()
    retry = update_review(until=UNTIL, sources=["europepmc"])
    assert retry["counts"]["window_reasons"] == {"europepmc": "baseline"}  # the same window again
    with session_scope(Settings.from_env().database_url) as session:
        stored = set(session.scalars(select(SourceHit.source_id).where(SourceHit.source == "europepmc")))
    # Exactly what an undisturbed run stores: every recorded result in the window, once.
    assert stored == {f"{r['source']}:{r['id']}" for r in EPMC}
    assert retry["counts"]["intake"]["received"] == len(EPMC) == 25
