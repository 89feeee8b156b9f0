"""Co-creation alerts in a real SQLite store: raised by the detector for a run's candidates,
announced through apprise to a local HTTP receiver, confirmed and dismissed as append-only rows
(`livingreview alerts`), learned from once enough are decided, and stated in the report."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select
from test_summaries_store import corpus_fixtures
from typer.testing import CliRunner

from livingreview.alerts import co_creation_notification, new_co_creation_candidates, send
from livingreview.cli import app
from livingreview.cocreation.decisions import (
    decide,
    detector_for,
    detector_status,
    status_sentence,
)
from livingreview.cocreation.detector import DetectorConfig, Text
from livingreview.config import Settings
from livingreview.store.database import session_scope
from livingreview.store.models import AlertDecision, Candidate, CoCreationAlert, StoredRecord, \
    UpdateRun
from livingreview.summaries.report import write_report

FIXTURES = Path(__file__).resolve().parent / "fixtures"
runner = CliRunner()
published, corpus = corpus_fixtures()  # a store holding the published corpus, for reports


def _included() -> dict[str, dict[str, str]]:
    path = FIXTURES / "included_studies" / "included_studies.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return {r["record_id"]: r for r in csv.DictReader(handle)}


def _queue(session, rows: list[dict[str, str]]) -> int:
    """One update run whose new candidates are these records."""
    run = UpdateRun(kind="update", status="running")
    session.add(run)
    session.flush()
    for row in rows:
        record = StoredRecord(origin="pubmed", title=row["title"], abstract=row["abstract"],
                              keywords=[k for k in row.get("keywords", "").split("; ") if k],
                              doi=row.get("doi") or None, year=int(row.get("year") or 2022),
                              added_run_id=run.id)
        session.add(record)
        session.flush()
        session.add(Candidate(record_id=record.id, run_id=run.id))
    session.flush()
    return run.id


SEVEN = ["agrawal2016", "almeida2020", "byrne2017", "chisholm2020", "jones2020", "nelson2016",
         "storm2020"]


def test_the_detector_raises_alerts_once_and_they_are_sent(store_url, tmp_path, receiver,
                                                           monkeypatch):
    included = _included()
    with session_scope(store_url) as session:
        run_id = _queue(session, [included[k] for k in SEVEN])
        found = new_co_creation_candidates(session, run_id, DetectorConfig())
        again = new_co_creation_candidates(session, run_id, DetectorConfig())
    assert [item["title"] for item in found] == [included[k]["title"] for k in
                                                 ("chisholm2020", "jones2020", "nelson2016")]
    assert again == []  # a record is alerted once
    assert [item["mode"] for item in found] == ["rules"] * 3
    assert found[2]["evidence"][0] == ("Collaboration and involvement of persons with lived "
                                       "experience in planning Canada's At Home/Chez Soi project.")

    monkeypatch.setenv("LR_NOTIFY_URLS", f"json://127.0.0.1:{receiver.server_port}/hook")
    delivery = send(co_creation_notification("The review", 3, found), Settings.from_env())
    assert delivery.delivered and delivery.targets == 1
    (message,) = [m["body"] for m in receiver.received]
    assert message["title"] == "livingreview: 3 new co-creation candidate(s)"
    assert f"- alert {found[2]['alert_id']}: {included['nelson2016']['title']}" in \
        message["message"]
    assert "in planning Canada's At Home/Chez Soi project." in message["message"]
    assert "`livingreview alerts confirm ID`" in message["message"]


def _cli(store_url: str, monkeypatch, *args: str):
    monkeypatch.setenv("LR_DATABASE_URL", store_url)
    return runner.invoke(app, list(args))


def test_confirm_and_dismiss_are_append_only_rows(store_url, monkeypatch):
    included = _included()
    with session_scope(store_url) as session:
        run_id = _queue(session, [included[k] for k in SEVEN])
        ids = [item["alert_id"] for item in
               new_co_creation_candidates(session, run_id, DetectorConfig())]
    listed = _cli(store_url, monkeypatch, "alerts", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("[open]") == 3
    assert _cli(store_url, monkeypatch, "alerts", "confirm", str(ids[0]), "--by", "ana").output \
        == f"alert {ids[0]} confirmed by ana\n"
    no_reason = _cli(store_url, monkeypatch, "alerts", "dismiss", str(ids[1]), "--by", "ana")
    assert no_reason.exit_code != 0 and "--why" in no_reason.output
    assert _cli(store_url, monkeypatch, "alerts", "dismiss", str(ids[1]), "--by", "ana",
                "--why", "policy talk, peers only deliver").exit_code == 0
    # A second look changes the decision in force; the first decision stays.
    assert _cli(store_url, monkeypatch, "alerts", "dismiss", str(ids[0]), "--by", "bo",
                "--why", "planning was the researchers'").exit_code == 0
    missing = _cli(store_url, monkeypatch, "alerts", "confirm", "999")
    assert missing.exit_code == 1 and "alert 999: no such alert" in missing.output
    with session_scope(store_url) as session:
        rows = [(r.alert_id, r.decision, r.decided_by, r.reason)
                for r in session.scalars(select(AlertDecision).order_by(AlertDecision.id))]
        assert session.scalar(select(CoCreationAlert).where(CoCreationAlert.id == ids[0])
                              ).decisions[-1].decision == "dismissed"
    assert rows == [(ids[0], "confirmed", "ana", None),
                    (ids[1], "dismissed", "ana", "policy talk, peers only deliver"),
                    (ids[0], "dismissed", "bo", "planning was the researchers'")]
    dismissed = _cli(store_url, monkeypatch, "alerts", "list", "--status", "dismissed")
    assert dismissed.output.count("[dismissed") == 2 and "[open]" not in dismissed.output


def _written() -> list[dict[str, str]]:
    path = FIXTURES / "cocreation" / "written_records.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


LEARN = DetectorConfig(threshold=0.0, learn_after=8, learn_min_each=3)


def test_the_detector_learns_once_enough_alerts_are_decided_and_the_report_says_so(
        corpus, tmp_path):
    written = _written()
    with session_scope(corpus) as session:
        # threshold 0: every candidate is alerted, so maintainers decide co-creation and not.
        run_id = _queue(session, written)
        found = new_co_creation_candidates(session, run_id, LEARN)
        assert len(found) == 20
        truth = {row["title"]: row["co_creation"] == "true" for row in written}
        decided = 0
        for item in found[:7]:
            decide(session, item["alert_id"], "confirmed" if truth[item["title"]] else
                   "dismissed", by="ana", why="test")
            decided += 1
        assert detector_for(session, LEARN).mode == "rules"  # 7 < learn_after
        status = detector_status(session, LEARN)
        assert (status["mode"], status["decided"], status["confirmed"]) == ("rules", 7, 7)
        for item in found[7:]:
            decide(session, item["alert_id"], "confirmed" if truth[item["title"]] else
                   "dismissed", by="ana", why="test")
        detector = detector_for(session, LEARN)
        assert detector.mode == "learned" and len(detector.examples) == 20
        status = detector_status(session, LEARN)
        assert (status["mode"], status["decided"], status["confirmed"], status["dismissed"]) \
            == ("learned", 20, 10, 10)
        assert status["alert_precision"] == 0.5 and status["folds"] == 5
        assert (status["learned_precision"], status["learned_kept"]) == (0.9, 10)
        new = [Text("a", "Peer workers planning a new crisis service", "Peer workers took part "
                    "in planning the new crisis service and sat on its advisory board."),
               Text("b", "Peer workers in a crisis service", "Peer workers gave one-to-one "
                    "support in a crisis service.")]
        flags = detector.detect(new)
        assert [(f.flagged, f.mode) for f in flags] == [(True, "learned"), (False, "learned")]
        report = write_report(session, tmp_path / "reports", 1, detector=LEARN)
    text = report.markdown
    assert "The co-creation detector ran in **learned** mode" in text
    assert "20 alert(s) raised so far, 20 decided (10 confirmed, 10 dismissed)" in text
    assert "Measured precision on the decided alerts: 0.500 (confirmed / decided)." in text
    assert status_sentence(status) in text
    assert report.summary["co_creation_detector"]["mode"] == "learned"


def test_a_fresh_store_reports_rules_mode_and_no_precision_yet(corpus, tmp_path):
    with session_scope(corpus) as session:
        report = write_report(session, tmp_path / "reports", 1)
    assert ("The co-creation detector ran in **rules** mode: rules (the coding scheme's "
            "definitions; threshold 3). 0 alert(s) raised so far, 0 decided (0 confirmed, 0 "
            "dismissed). Its precision cannot be measured yet: no alert has been decided. It "
            "learns from the decisions once 20 alerts are decided, at least 5 confirmed and 5 "
            "dismissed") in report.markdown


def test_detect_cli_runs_in_the_mode_the_store_s_decisions_allow(corpus, tmp_path, monkeypatch):
    review = (Path(__file__).resolve().parent.parent / "review.toml").read_text(encoding="utf-8")
    for old, new in (("\nthreshold = 3.0\n", "\nthreshold = 0.0\n"),
                     ("\nlearn_after = 20\n", "\nlearn_after = 8\n"),
                     ("\nlearn_min_each = 5\n", "\nlearn_min_each = 3\n")):
        assert old in review
        review = review.replace(old, new)
    (tmp_path / "review.toml").write_text(review, encoding="utf-8")
    monkeypatch.setenv("LR_REVIEW_FILE", str(tmp_path / "review.toml"))
    records = FIXTURES / "cocreation" / "written_records.csv"
    out = tmp_path / "flags.csv"
    args = ["detect", "co-creation", str(records), "--out", str(out)]
    assert "(rules mode, threshold 0)" in _cli(corpus, monkeypatch, *args).output
    written = _written()
    with session_scope(corpus) as session:
        found = new_co_creation_candidates(session, _queue(session, written), LEARN)
        truth = {row["title"]: row["co_creation"] == "true" for row in written}
        for item in found:
            decide(session, item["alert_id"], "confirmed" if truth[item["title"]] else
                   "dismissed", by="ana", why="test")
    learned = _cli(corpus, monkeypatch, *args)
    assert learned.exit_code == 0, learned.output
    assert "(learned mode, learned from 20 decided alerts)" in learned.output
    assert "(rules mode, threshold 0)" in _cli(corpus, monkeypatch, *args, "--rules-only").output
