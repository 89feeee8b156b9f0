"""`make demo` as a newcomer runs it: the real flow under Prefect's test harness, the real replay
server on loopback serving the demo scenario (real post-cut-off peer-worker records, see
livingreview/replay/demo/PROVENANCE.md), a real SQLite demo store, real GX; then the demo store
worked on with `livingreview --demo`, kept on a fresh start, and report folders guarded."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from livingreview.cli import app
from livingreview.cli.corpus import run_demo
from livingreview.config import Settings
from livingreview.store.database import session_scope
from livingreview.store.models import (
    Candidate,
    CoCreationAlert,
    DuplicateLink,
    ScreeningDecision,
    StoredRecord,
)

ROOT = Path(__file__).resolve().parent.parent
# Everything run_demo and `--demo` set: registered here so that each test gets them back.
_DEMO_ENV = ("LR_PROFILE", "LR_DATA_DIR", "LR_DATABASE_URL", "LR_ARCHIVE_DIR", "LR_DEDUP_INDEX",
             "LR_REPORT_DIR", "LR_PUBMED_BASE_URL", "LR_CROSSREF_BASE_URL")


@pytest.fixture
def home(tmp_path, monkeypatch, prefect_harness):
    """A project home with no demo store yet; the project's review.toml."""
    for name in _DEMO_ENV:
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("LR_HOME", str(tmp_path))
    monkeypatch.setenv("LR_REVIEW_FILE", str(ROOT / "review.toml"))
    monkeypatch.setenv("LR_CROSSREF_RATE", "50")
    return tmp_path


def _run(result: dict) -> dict:
    counts = result["counts"]
    return {"window": counts["windows"]["pubmed"], "identified": counts["identified"],
            "dropped_by_strategy": counts["filtered_out"],
            "mesh_date_pass_only": counts["sources"]["pubmed"]["passes"]["mhda"]["new"],
            "already_known": counts["intake"]["already_known"],
            "duplicates": counts["intake"]["duplicates"],
            "excluded": counts["queue"]["auto_excluded"], "queued": counts["queue"]["queued"],
            "co_creation": counts["alerts"]["co_creation"], "version": result["report_version"]}


def _versions(folder: Path) -> list[str]:
    # Report folders also hold the data-quality gate's pages (validation/).
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("v0"))


def _doi_or_pmid(row: StoredRecord) -> str:
    return row.doi or f"PMID {row.pmid}"


def test_make_demo_shows_the_reviews_field_over_two_monthly_updates(home):
    first, second = run_demo(fresh=True)

    assert _run(first) == {
        "window": ["2021-12-14", "2025-07-31"],
        # OpenAlex and Europe PMC are enabled, but the demo scenario holds no recordings for them.
        "identified": {"pubmed": 6, "crossref": 11, "openalex": 0, "europepmc": 0},
        "dropped_by_strategy": {"pubmed": 0, "crossref": 1, "openalex": 0, "europepmc": 0},
        "mesh_date_pass_only": 1, "already_known": 0, "duplicates": {"doi": 3},
        "excluded": {"EX_REVIEW": 3}, "queued": 11, "co_creation": 0, "version": 1}
    assert _run(second) == {
        "window": ["2025-07-28", "2025-08-31"],
        "identified": {"pubmed": 1, "crossref": 3, "openalex": 0, "europepmc": 0},
        "dropped_by_strategy": {"pubmed": 0, "crossref": 0, "openalex": 0, "europepmc": 0},
        "mesh_date_pass_only": 0, "already_known": 1, "duplicates": {"doi": 1},
        "excluded": {"EX_NOT_PRIMARY": 1}, "queued": 1, "co_creation": 1, "version": 2}

    settings = Settings.from_env()
    assert settings.demo and settings.database_url == f"sqlite:///{home / 'data/demo/livingreview.sqlite'}"
    with session_scope(settings.database_url) as session:
        rows = {r.id: r for r in session.scalars(select(StoredRecord).where(StoredRecord.added_run_id.is_not(None)))}
        # The same study from PubMed and from Crossref, merged: the PubMed copy is canonical.
        merged = {(rows[link.record_id].origin, rows[link.canonical_id].pmid, rows[link.record_id].doi)
                  for link in session.scalars(select(DuplicateLink).where(DuplicateLink.status == "merged"))}
        assert merged == {("crossref", "35564670", "10.3390/ijerph19095276"),
                          ("crossref", "36396756", "10.1007/s10488-022-01242-x"),
                          ("crossref", "38589934", "10.1186/s13722-024-00453-x"),
                          ("crossref", "40790915", "10.1111/hex.70379")}
        excluded = {(_doi_or_pmid(rows[d.record_id]), d.reason_code) for d in session.scalars(
            select(ScreeningDecision).where(ScreeningDecision.reviewer == "auto:eligibility"))}
        assert excluded == {("10.1007/s10488-022-01242-x", "EX_REVIEW"),     # the review itself
                            ("10.1097/adm.0000000000000810", "EX_REVIEW"),   # via the MeSH Date pass
                            ("10.1002/emp2.13253", "EX_REVIEW"),
                            ("10.1371/journal.pone.0248558", "EX_NOT_PRIMARY")}  # its protocol
        queued = {_doi_or_pmid(rows[c.record_id]) for c in session.scalars(select(Candidate))}
        assert queued - {doi for doi, _ in excluded} == {
            "10.3390/ijerph19095276", "10.2196/40065", "10.1186/s13722-024-00453-x",
            "10.3390/ijerph19052743", "10.3390/ijerph19073881", "10.1108/jmhtep-02-2021-0017",
            "10.1080/13561820.2021.2014796", "10.1186/s13033-023-00588-5",
            "10.1371/journal.pone.0289920", "10.1186/s13722-024-00445-x",
            "10.25259/csdm_35_2023",  # off-topic, no abstract: the strategy leaves it to a person
            "10.1111/hex.70379"}
        (alert,) = session.scalars(select(CoCreationAlert))
        assert (rows[alert.record_id].pmid, alert.run_id) == ("40790915", second["run_id"])

    reports = home / "reports" / "demo"
    assert _versions(reports) == ["v0001", "v0002"]
    lines = (reports / "v0002" / "report.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# DEMO DATA: living review, version 2"
    assert lines[2].startswith("> **Demo data, not the living review.**")
    report = "\n".join(lines)
    assert "This run raised 1 alert(s):" in report and "doi:10.1111/hex.70379" in report
    assert json.loads((reports / "v0001" / "summary.json").read_text())["demo"] is True


def test_the_demo_store_is_worked_on_with_demo_and_a_fresh_demo_keeps_the_old_one(home, monkeypatch):
    run_demo(fresh=True)
    runner = CliRunner()
    # `--demo` points a command at the demo store whatever LR_DATABASE_URL says.
    monkeypatch.setenv("LR_DATABASE_URL", f"sqlite:///{home / 'elsewhere.sqlite'}")
    monkeypatch.setenv("LR_REPORT_DIR", str(home / "elsewhere"))
    queue = runner.invoke(app, ["--demo", "queue"], env={"COLUMNS": "200"})
    assert queue.exit_code == 0, queue.output
    assert "Co-design or faux-design?" in queue.output
    with session_scope(os.environ["LR_DATABASE_URL"]) as session:
        oldman = session.scalar(select(StoredRecord.id).where(StoredRecord.pmid == "40790915"))
    decided = runner.invoke(app, ["--demo", "decide", str(oldman), "include", "--reviewer", "newcomer"])
    assert decided.exit_code == 0, decided.output
    assert not (home / "elsewhere.sqlite").exists() and not (home / "elsewhere").exists()
    with session_scope(os.environ["LR_DATABASE_URL"]) as session:
        assert session.scalar(select(ScreeningDecision.decision).where(
            ScreeningDecision.reviewer == "newcomer")) == "include"
    # A second `make demo`: the demo store with the newcomer's decision moves aside, whole.
    again = run_demo(fresh=True)
    assert [r["report_version"] for r in again] == [1, 2]
    (backup,) = (home / "data" / "demo-backups").iterdir()
    assert _versions(backup / "reports") == ["v0001", "v0002"]
    with session_scope(f"sqlite:///{backup / 'data' / 'livingreview.sqlite'}") as session:
        assert session.scalar(select(ScreeningDecision).where(
            ScreeningDecision.reviewer == "newcomer")) is not None
    assert _versions(home / "reports" / "demo") == ["v0001", "v0002"]
    # --keep runs only what the demo store has not run: here nothing.
    assert run_demo(fresh=False) == []


def test_a_report_folder_holding_another_stores_versions_is_refused_before_harvesting(
        home, monkeypatch):
    from flows.update_review import update_review
    from livingreview.cli.corpus import init_store
    from livingreview.errors import ConfigError
    from livingreview.replay.server import running_replay_server

    run_demo(fresh=True)
    # A new store pointed at the demo's report folder (v0001, v0002 written by the demo store).
    monkeypatch.setenv("LR_PROFILE", "")
    monkeypatch.setenv("LR_DATABASE_URL", f"sqlite:///{home / 'other.sqlite'}")
    monkeypatch.setenv("LR_DATA_DIR", str(home / "other"))
    with running_replay_server("demo") as replay:
        monkeypatch.setenv("LR_PUBMED_BASE_URL", replay.pubmed_base_url)
        monkeypatch.setenv("LR_CROSSREF_BASE_URL", replay.crossref_base_url)
        init_store(Settings.from_env())
        with pytest.raises(ConfigError, match=r"already holds version\(s\) v0001, v0002 that this "
                                              r"store did not write .*Fix: point LR_REPORT_DIR"):
            update_review(until=date(2025, 7, 31))
        assert replay.request_counts() == {}  # nothing harvested
    summary = json.loads((home / "reports" / "demo" / "v0001" / "summary.json").read_text())
    assert summary["demo"] is True  # untouched
