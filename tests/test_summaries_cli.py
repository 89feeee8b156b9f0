"""``livingreview report``: the report rewritten between monthly runs, through the real CLI."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from test_summaries_store import ROOT, add_record, add_run, corpus_fixtures, include_new, queue
from typer.testing import CliRunner

from livingreview.cli import app
from livingreview.store.database import session_scope
from livingreview.store.models import UpdateRun
from livingreview.store.runs import next_report_version
from livingreview.summaries.report import write_report

published, corpus = corpus_fixtures()
runner = CliRunner()


@pytest.fixture
def project(corpus, tmp_path, monkeypatch):
    """The published corpus plus one monthly run that wrote version 1 and queued a candidate."""
    reports = tmp_path / "reports"
    monkeypatch.setenv("LR_DATABASE_URL", corpus)
    monkeypatch.setenv("LR_REPORT_DIR", str(reports))
    monkeypatch.setenv("LR_REVIEW_FILE", str(ROOT / "review.toml"))
    with session_scope(corpus) as session:
        run = add_run(session, start=date(2022, 1, 1), end=date(2022, 1, 31))
        record = add_record(session, run, source="pubmed", source_id="9001", year=2022,
                            title="Peer workers co-producing crisis care", pmid="9001")
        queue(session, record, run)
        write_report(session, reports, 1, run)
        session.get(UpdateRun, run).report_version = 1  # as the flow closes the run
    return corpus, reports, run, record


def _report(*args: str):
    result = runner.invoke(app, ["report", *args])
    return result, result.stdout.strip().splitlines()


def test_report_after_screening_is_the_next_version(project):
    url, reports, run, record = project
    with session_scope(url) as session:  # a screener includes the candidate after the run
        include_new(session, record, datetime(2022, 3, 1, tzinfo=timezone.utc))

    result, out = _report()
    assert result.exit_code == 0, result.output
    assert out == [str(reports / "v0002" / "report.md")]
    assert "report version 2 (update run" in result.stderr

    summary = json.loads((reports / "v0002" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["id"] == run
    assert summary["included"] == {"baseline": 172, "new": 1, "all": 173}
    assert summary["prisma"]["run"]["included"] == 1
    assert [s["record_id"] for s in summary["changes"]["new_included_studies"]] == [record]
    text = (reports / "v0002" / "report.md").read_text(encoding="utf-8")
    assert "## What changed since version 1" in text
    assert "(`livingreview report`), so it counts the screening decisions" in text

    # the next monthly run numbers its report after this one instead of writing over it
    with session_scope(url) as session:
        assert next_report_version(session) == 3
        noted = session.scalars(select(UpdateRun).where(UpdateRun.kind == "report")).one()
        assert (noted.report_version, noted.counts["report_for_run"]) == (2, run)
    result, out = _report()
    assert out == [str(reports / "v0003" / "report.md")]
    assert sorted(p.name for p in reports.iterdir()) == ["v0001", "v0002", "v0003"]


def test_a_chosen_run_and_version_replace_that_version(project):
    url, reports, run, _ = project
    with session_scope(url) as session:
        later = add_run(session, start=date(2022, 2, 1), end=date(2022, 2, 28))
    result, out = _report("--run", str(run), "--report-version", "1")
    assert result.exit_code == 0, result.output
    assert out == [str(reports / "v0001" / "report.md")]
    summary = json.loads((reports / "v0001" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["id"] == run != later
    assert "replaces an earlier version 1" in summary["note"]
    with session_scope(url) as session:
        assert next_report_version(session) == 2  # version 1 again: numbering does not move


def test_without_a_succeeded_update_run_the_corpus_is_reported(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("LR_DATABASE_URL", corpus)
    monkeypatch.setenv("LR_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("LR_REVIEW_FILE", str(ROOT / "review.toml"))
    with session_scope(corpus) as session:
        add_run(session, status="failed", start=date(2022, 1, 1), end=date(2022, 1, 31))
    result, out = _report()
    assert result.exit_code == 0, result.output
    assert out == [str(tmp_path / "reports" / "v0001" / "report.md")]
    assert "(no update run;" in result.stderr
    summary = json.loads(Path(out[0]).with_name("summary.json").read_text(encoding="utf-8"))
    assert summary["run"] is None and summary["included"]["all"] == 172


def test_an_unknown_run_is_refused_and_nothing_is_written(project):
    _, reports, _, _ = project
    result, out = _report("--run", "999")
    assert result.exit_code == 1 and out == []
    assert "no update run with id 999" in result.stderr and "Fix:" in result.stderr
    assert sorted(p.name for p in reports.iterdir()) == ["v0001"]


def test_an_uninitialised_store_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("LR_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    monkeypatch.setenv("LR_REPORT_DIR", str(tmp_path / "reports"))
    result, _ = _report()
    assert result.exit_code == 1
    assert "livingreview init" in result.stderr


def test_versions_lists_them_and_diff_says_what_changed(project):
    url, reports, run, record = project
    with session_scope(url) as session:
        include_new(session, record, datetime(2022, 3, 1, tzinfo=timezone.utc))
    assert _report()[0].exit_code == 0  # version 2: the candidate is now included

    listed = runner.invoke(app, ["versions"])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("v1  ") and "172 studies (172 published + 0 new" in lines[0]
    assert lines[1].startswith("v2  ") and f"run {run}  2022-01-01 to 2022-01-31" in lines[1]
    assert "173 studies (172 published + 1 new; 1 newly included in this version)" in lines[1]

    changed = runner.invoke(app, ["diff", "1", "2"])
    assert changed.exit_code == 0, changed.output
    out = changed.stdout
    assert "studies in: 1\n" in out and "studies out: 0\n" in out
    assert f"  record {record}: Peer workers co-producing crisis care\n" in out
    assert "  included.all: 172 -> 173\n" in out and "  included.new: 0 -> 1\n" in out
    assert "  prisma.run.included: 0 -> 1\n" in out

    missing = runner.invoke(app, ["diff", "1", "9"])
    assert missing.exit_code == 1 and "version 9: there is no such version" in missing.output
