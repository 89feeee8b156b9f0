"""The monthly update end to end: the real flow under Prefect's test harness, real HTTP over
loopback against the replay server of recorded responses, a real SQLite store, real GX."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from livingreview.cli.corpus import init_store
from livingreview.config import Settings
from livingreview.errors import ValidationFailed
from livingreview.replay.bodies import RECORDINGS_DIR
from livingreview.replay.server import running_replay_server
from livingreview.store.database import session_scope
from livingreview.store.models import (
    Candidate,
    RawResponse,
    SourceHit,
    StoredRecord,
    UpdateRun,
    Watermark,
)

UNTIL = date(2026, 11, 1)
FAKE_KEY = "fake-ncbi-key-0123456789abcdef"
FAKE_TOKEN = "hook-token-s3cr3t-9876"
FAKE_OPENALEX_KEY = "fake-openalex-key-abcdef0123"


@pytest.fixture
def replay():
    with running_replay_server(scenario="recordings") as server:
        yield server


@pytest.fixture
def project(tmp_path, monkeypatch, replay, prefect_harness):
    """A fresh corpus (baseline loaded) whose sources point at the replay server."""
    monkeypatch.setenv("LR_DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("LR_REPORT_DIR", str(tmp_path / "reports"))
    for name, url in replay.environment().items():
        monkeypatch.setenv(name, url)
    monkeypatch.setenv("LR_CROSSREF_RATE", "50")  # loopback: the polite-pool pace only slows tests
    init_store(Settings.from_env())
    return tmp_path


def _count(model, *where) -> int:
    with session_scope(Settings.from_env().database_url) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _marks() -> dict[str, date]:
    with session_scope(Settings.from_env().database_url) as session:
        return {m.source: m.harvested_until for m in session.scalars(select(Watermark))}


def test_first_run_queues_second_run_over_the_same_window_adds_nothing(project, replay):
    from flows.update_review import update_review

    first = update_review(until=UNTIL)
    queued = first["counts"]["queue"]["queued"]
    assert queued > 0
    assert _count(Candidate) == queued
    assert _count(RawResponse) > 0  # every response archived
    assert _marks() == {"pubmed": UNTIL, "crossref": UNTIL, "openalex": UNTIL, "europepmc": UNTIL}
    # OpenAlex and Europe PMC run by default; the demo recordings' works in the window (the
    # cut-off 2021-12-14 to UNTIL: OpenAlex by created_date, Europe PMC by first index date).
    alex = json.loads((RECORDINGS_DIR / "openalex" / "works_search_page1_per_page200.json").read_text())
    epmc = json.loads((RECORDINGS_DIR / "europepmc" / "search_cancer_core.json").read_text())
    assert first["counts"]["identified"]["openalex"] == sum(
        "2021-12-14" <= w["created_date"] <= UNTIL.isoformat() for w in alex["results"])
    assert first["counts"]["identified"]["europepmc"] == sum(
        "2021-12-14" <= r["firstIndexDate"] <= UNTIL.isoformat() for r in epmc["resultList"]["result"])
    # Re-parse: the run's records rebuilt from its archive alone equal the stored ones, for all
    # four sources, and not one request reached the server.
    from livingreview.config import load_review
    from livingreview.harvest.reparse import reparse_run

    replay.clear_requests()
    with session_scope(Settings.from_env().database_url) as session:
        _, outcomes = reparse_run(session, Settings.from_env(), load_review(Settings.from_env().review_file),
                                  first["run_id"])
    assert replay.requests == []
    assert {o.source: (o.stored, o.equal, o.differing, o.missing) for o in outcomes} == {
        o.source: (o.stored, o.stored, [], []) for o in outcomes}
    assert sum(o.stored for o in outcomes) == first["counts"]["intake"]["added"]
    assert {o.source for o in outcomes} == {"pubmed", "crossref", "openalex", "europepmc"}
    report = Path(first["report_directory"])
    assert report.name == "v0001" and (report / "report.md").is_file()
    assert {p.name for p in report.glob("figures/*.png")} >= {
        "fig2_studies_per_year.png", "fig3_region_by_period.png", "fig4_research_focus.png",
        "prisma_flow.png"}
    assert (report / "tables" / "prisma_run.csv").is_file()
    # Every monthly run measures search recall on the known included studies, per source.
    recall = {r["source"]: r for r in first["counts"]["recall"]["sources"]}
    assert set(recall) == {"pubmed", "crossref"}
    assert all(r["studies"] >= 80 and r["variant"] == "extended" for r in recall.values())
    assert "### Search recall on the known included studies" in (report / "report.md").read_text()

    records, hits = _count(StoredRecord), _count(SourceHit)
    second = update_review(since=date(2021, 12, 14), until=UNTIL)
    assert second["counts"]["intake"]["added"] == 0
    assert second["counts"]["intake"]["already_known"] == first["counts"]["intake"]["received"]
    assert second["counts"]["queue"]["queued"] == 0
    assert (_count(StoredRecord), _count(SourceHit), _count(Candidate)) == (records, hits, queued)
    assert Path(second["report_directory"]).name == "v0002"


def test_failed_validation_keeps_the_data_and_the_watermark(project, monkeypatch, tmp_path):
    strict = tmp_path / "strict-expectations"
    strict.mkdir()
    # A suite no real harvest can meet: every record published before 2000.
    (strict / "records.json").write_text(json.dumps({
        "name": "records", "meta": {"table": "records"},
        "expectations": [{"type": "expect_column_values_to_be_between",
                          "kwargs": {"column": "year", "min_value": 1800, "max_value": 2000},
                          "meta": {"why": "test: a deliberately failing expectation"}}]}))
    monkeypatch.setenv("LR_EXPECTATIONS_DIR", str(strict))
    from flows.update_review import update_review

    with pytest.raises(ValidationFailed) as failure:
        update_review(until=UNTIL)
    assert "expect_column_values_to_be_between" in failure.value.report
    assert _marks() == {}  # not advanced
    with session_scope(Settings.from_env().database_url) as session:
        run = session.scalar(select(UpdateRun).where(UpdateRun.kind == "update"))
        assert run.status == "validation_failed" and "year" in run.error
        kept = session.scalar(select(func.count()).select_from(StoredRecord)
                              .where(StoredRecord.added_run_id == run.id))
    assert kept > 0 and _count(Candidate) > 0  # nothing thrown away

    monkeypatch.delenv("LR_EXPECTATIONS_DIR")
    retry = update_review(until=UNTIL)  # the next run covers the same window and succeeds
    assert retry["counts"]["intake"]["added"] == 0
    assert _marks() == {"pubmed": UNTIL, "crossref": UNTIL, "openalex": UNTIL, "europepmc": UNTIL}


def test_co_creation_alert_is_sent_and_no_secret_is_written_anywhere(
        project, monkeypatch, tmp_path, receiver, caplog, capfd):
    # A review whose co-creation detector flags every candidate (threshold 0), so that the alert
    # fires on the recorded demo candidates; everything else as in the project's review.toml.
    # Which records the detector flags is tested in test_cocreation_detector.py.
    review = (Path(__file__).resolve().parent.parent / "review.toml").read_text(encoding="utf-8")
    assert "\nthreshold = 3.0\n" in review
    review = review.replace("\nthreshold = 3.0\n", "\nthreshold = 0.0\n")
    (tmp_path / "review.toml").write_text(review, encoding="utf-8")
    monkeypatch.setenv("LR_REVIEW_FILE", str(tmp_path / "review.toml"))
    monkeypatch.setenv("LR_NCBI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("LR_OPENALEX_API_KEY", FAKE_OPENALEX_KEY)
    hook = f"json://127.0.0.1:{receiver.server_port}/hooks/{FAKE_TOKEN}"
    monkeypatch.setenv("LR_NOTIFY_URLS", hook)
    from flows.update_review import update_review

    with caplog.at_level(logging.DEBUG):
        result = update_review(until=UNTIL)
    alerts = result["counts"]["alerts"]
    assert alerts["co_creation"] == result["counts"]["queue"]["queued"]  # every candidate
    assert alerts["delivered"]
    assert len(receiver.received) == 1
    message = receiver.received[0]["body"]
    assert "co-creation" in message["title"] and "screening queue" in message["message"]

    written = [caplog.text, *capfd.readouterr()]
    for path in Path(result["report_directory"]).rglob("*"):
        if path.is_file() and path.suffix != ".png":
            written.append(path.read_text(encoding="utf-8"))
    with session_scope(Settings.from_env().database_url) as session:
        for raw in session.scalars(select(RawResponse)):
            written.append(json.dumps([raw.url, raw.params, raw.headers]))
        for run in session.scalars(select(UpdateRun)):
            written.append(json.dumps([run.counts, run.error], default=str))
    blob = "\n".join(written)
    assert "api_key" in blob  # the key was sent (and archived, redacted) ...
    for secret in (FAKE_KEY, FAKE_OPENALEX_KEY, FAKE_TOKEN, hook):
        assert secret not in blob  # ... but its value appears nowhere


def test_a_changed_pubmed_query_translation_is_alerted(project, monkeypatch, tmp_path, receiver):
    from flows.update_review import update_review

    monkeypatch.setenv("LR_NOTIFY_URLS", f"json://127.0.0.1:{receiver.server_port}/hooks/x")
    first = update_review(until=UNTIL, sources=["pubmed"])
    assert first["counts"]["alerts"]["co_creation"] == 0 and receiver.received == []
    # The maintainers add the optional extension named in the search strategy.
    review = (Path(__file__).resolve().parent.parent / "review.toml").read_text(encoding="utf-8")
    extended = review.replace('OR "expert by experienc*"[tiab]',
                              'OR "expert by experienc*"[tiab] OR "experts by experienc*"[tiab]')
    assert extended != review
    (tmp_path / "review.toml").write_text(extended, encoding="utf-8")
    monkeypatch.setenv("LR_REVIEW_FILE", str(tmp_path / "review.toml"))
    update_review(until=UNTIL, sources=["pubmed"])
    (message,) = [m["body"] for m in receiver.received]
    assert "translation" in message["title"]
    assert '"experts by experienc*"[tiab]' in message["message"]
