"""The data-quality gate over the SHIPPED suites in expectations/: a store built by two real
update runs (Prefect test harness, replay server over loopback, SQLite, real Great Expectations)
passes; each corruption of a stored row that a rule checks stops the gate with that suite and
rule, names the failing records, and leaves the store as it was."""

from __future__ import annotations

import html
import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livingreview.cli import app
from livingreview.cli.corpus import init_store
from livingreview.config import Settings
from livingreview.errors import ValidationFailed
from livingreview.replay.server import running_replay_server
from livingreview.store.database import session_scope
from livingreview.validation import EXPECTATIONS_DIR, load_suites, validate

UNTIL = date(2026, 11, 1)
TABLES = ("records", "screening_decisions", "charting_codes", "candidates", "source_hits",
          "duplicate_links", "watermarks")


@pytest.fixture(scope="module")
def built(tmp_path_factory, prefect_harness):
    """A store after two update runs over the demo scenario (run 2 stores, run 3 sees again)."""
    base = tmp_path_factory.mktemp("gate")
    with running_replay_server(scenario="demo") as replay, pytest.MonkeyPatch.context() as mp:
        mp.setenv("LR_DATABASE_URL", f"sqlite:///{base / 'store.sqlite'}")
        mp.setenv("LR_REPORT_DIR", str(base / "reports"))
        for name, url in replay.environment().items():
            mp.setenv(name, url)
        mp.setenv("LR_CROSSREF_RATE", "50")
        init_store(Settings.from_env())
        from flows.update_review import update_review

        first = update_review(until=UNTIL)
        second = update_review(since=date(2021, 12, 14), until=UNTIL)
    assert (first["run_id"], second["run_id"]) == (2, 3)
    return base / "store.sqlite"


@pytest.fixture
def store(built, tmp_path):
    """A private copy of the built store (SQLite's backup API: the WAL is copied too)."""
    copy = tmp_path / "store.sqlite"
    with sqlite3.connect(built) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return copy


def _sql(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA foreign_keys=OFF")  # corrupt as a careless script would
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


def _dump(path: Path) -> dict[str, list]:
    connection = sqlite3.connect(path)
    dump = {t: connection.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}
    connection.close()
    return dump


def _gate(path: Path, run_id: int = 3):
    with session_scope(f"sqlite:///{path}") as session:
        return validate(session, run_id, EXPECTATIONS_DIR)


def _value(path: Path, query: str):
    connection = sqlite3.connect(path)
    value = connection.execute(query).fetchone()
    connection.close()
    return value


def test_the_shipped_suites_cover_every_table_and_the_built_store_passes(store):
    names = {s["name"] for s in load_suites(EXPECTATIONS_DIR)}
    assert names == {"records", "decisions", "charting", "prisma", "queue", "run_sources",
                     "run_corpus"}
    outcome = _gate(store)
    assert outcome.success, outcome.report
    # whole-store suites: every record (baseline and harvested), every decision and code
    assert outcome.checked["records"] == _value(store, "SELECT count(*) FROM records")[0]
    assert outcome.checked["decisions"] == _value(store, "SELECT count(*) FROM screening_decisions")[0]
    assert outcome.checked["charting"] == _value(store, "SELECT count(*) FROM charting_codes")[0]
    assert _value(store, "SELECT count(*) FROM records WHERE in_baseline = 0")[0] > 0
    assert outcome.checked["prisma"] == 6  # three identities for each of the two runs


def _failure(outcome, suite: str, rule: str) -> dict:
    assert not outcome.success
    found = [f for f in outcome.failures if f["suite"] == suite and f["rule"] == rule]
    assert found, f"no failure {suite}/{rule} in {[(f['suite'], f['rule']) for f in outcome.failures]}"
    return found[0]


def _check(store: Path, corruption: list[str], suite: str, rule: str) -> dict:
    _sql(store, *corruption)
    before = _dump(store)
    outcome = _gate(store)
    assert _dump(store) == before  # the gate changes nothing
    failure = _failure(outcome, suite, rule)
    assert f"suite `{suite}`: {rule}" in outcome.report
    assert html.escape(rule) in outcome.html
    return failure


def _harvested(store: Path) -> list[tuple[int, str, str]]:
    """(id, DOI, PMID) of the harvested records that carry both, in id order."""
    connection = sqlite3.connect(store)
    rows = connection.execute("SELECT id, doi, pmid FROM records WHERE in_baseline = 0 AND doi "
                              "IS NOT NULL AND pmid IS NOT NULL ORDER BY id").fetchall()
    connection.close()
    assert len(rows) >= 6
    return rows


def test_a_doi_held_by_two_records_names_both(store):
    doi, title = _value(store, "SELECT doi, title FROM records WHERE id = 1")
    other = _harvested(store)[0][0]
    failure = _check(store, [f"UPDATE records SET doi = '{doi}' WHERE id = {other}"],
                     "records", "expect_column_values_to_be_unique(doi) where merged == False")
    assert [(r["id"], r["doi"]) for r in failure["rows"]] == [(1, doi), (other, doi)]
    assert failure["rows"][0]["title"] == title


def test_a_pmid_held_by_two_records(store):
    (a, _, pmid), (b, _, _) = _harvested(store)[:2]
    failure = _check(store, [f"UPDATE records SET pmid = '{pmid}' WHERE id = {b}"],
                     "records", "expect_column_values_to_be_unique(pmid) where merged == False")
    assert [(r["id"], r["pmid"]) for r in failure["rows"]] == [(a, pmid), (b, pmid)]


def test_a_merged_duplicate_may_share_its_canonical_doi(store):
    (a, doi, _), (b, _, _) = _harvested(store)[:2]
    _sql(store, f"UPDATE records SET doi = '{doi}' WHERE id = {b}",
         "INSERT INTO duplicate_links (record_id, canonical_id, method, score, zone, status, "
         f"decided_by, decided_at) VALUES ({b}, {a}, 'doi', 1.0, 'duplicate', 'merged', 'test', "
         "'2026-11-01')")
    outcome = _gate(store)
    assert not [f for f in outcome.failures if f["suite"] == "records"], outcome.report


def test_a_year_of_1850_on_a_baseline_record(store):
    failure = _check(store, ["UPDATE records SET year = 1850 WHERE id = 7"],
                     "records", "expect_column_values_to_be_between(year)")
    assert [(r["id"], r["doi"], r["year"]) for r in failure["rows"]] == [
        (7, "10.1037/prj0000048", 1850)]
    assert failure["rows"][0]["title"].startswith("Participant experiences in peer-")


def test_a_year_after_next_year(store):
    record = _harvested(store)[2][0]
    failure = _check(store, [f"UPDATE records SET year = {date.today().year + 2} WHERE id = {record}"],
                     "records", "expect_column_values_to_be_between(year)")
    assert [r["id"] for r in failure["rows"]] == [record]


def test_a_missing_title(store):
    record, _, pmid = _harvested(store)[3]
    failure = _check(store, [f"UPDATE records SET title = NULL WHERE id = {record}"],
                     "records", "expect_column_values_to_not_be_null(title)")
    assert [(r["id"], r["pmid"]) for r in failure["rows"]] == [(record, pmid)]


def test_a_blank_title(store):
    record, _, pmid = _harvested(store)[4]
    failure = _check(store, [f"UPDATE records SET title = '  ' WHERE id = {record}"],
                     "records", "expect_column_values_to_match_regex(title)")
    assert [(r["id"], r["pmid"]) for r in failure["rows"]] == [(record, pmid)]


def test_a_language_that_is_not_a_medline_code(store):
    record, doi, _ = _harvested(store)[5]
    failure = _check(store, [f"UPDATE records SET language = 'English' WHERE id = {record}"],
                     "records", "expect_column_values_to_match_regex(language)")
    assert [(r["id"], r["doi"], r["language"]) for r in failure["rows"]] == [
        (record, doi, "English")]


def _an_exclusion(store: Path) -> tuple[int, int]:
    return _value(store, "SELECT id, record_id FROM screening_decisions "
                         "WHERE decision = 'exclude' ORDER BY id LIMIT 1")


def test_an_exclusion_without_a_reason_code(store):
    decision, record = _an_exclusion(store)
    failure = _check(store, [f"UPDATE screening_decisions SET reason_code = NULL WHERE id = {decision}"],
                     "decisions",
                     'expect_column_values_to_not_be_null(reason_code) where decision == "exclude"')
    assert [(r["decision_id"], r["record_id"]) for r in failure["rows"]] == [(decision, record)]
    pmid = _value(store, f"SELECT pmid FROM records WHERE id = {record}")[0]
    assert failure["rows"][0]["pmid"] == pmid


def test_an_unknown_reason_code(store):
    decision, record = _an_exclusion(store)
    failure = _check(store, [f"UPDATE screening_decisions SET reason_code = 'EX_BORED' WHERE id = {decision}"],
                     "decisions", "expect_column_values_to_be_in_set(reason_code)")
    assert [(r["decision_id"], r["reason_code"]) for r in failure["rows"]] == [(decision, "EX_BORED")]


def test_a_decision_without_a_reviewer(store):
    decision, record = _an_exclusion(store)
    failure = _check(store, [f"UPDATE screening_decisions SET reviewer = '' WHERE id = {decision}"],
                     "decisions", "expect_column_values_to_match_regex(reviewer)")
    assert [r["record_id"] for r in failure["rows"]] == [record]


def test_a_decision_value_that_is_not_allowed(store):
    decision, record = _an_exclusion(store)
    failure = _check(store, [f"UPDATE screening_decisions SET decision = 'approve' WHERE id = {decision}"],
                     "decisions", "expect_column_values_to_be_in_set(decision)")
    assert [(r["decision_id"], r["decision"]) for r in failure["rows"]] == [(decision, "approve")]


def test_a_decision_on_an_unknown_record(store):
    decision, _ = _an_exclusion(store)
    failure = _check(store, [f"UPDATE screening_decisions SET record_id = 99999 WHERE id = {decision}"],
                     "decisions", "expect_column_values_to_be_in_set(record_known)")
    assert [(r["decision_id"], r["record_id"]) for r in failure["rows"]] == [(decision, 99999)]


def test_a_charting_value_outside_the_coding_scheme(store):
    code, record = _value(store, "SELECT id, record_id FROM charting_codes "
                                 "WHERE field = 'research_focus' ORDER BY id LIMIT 1")
    failure = _check(store, [f"UPDATE charting_codes SET value = 'astrology' WHERE id = {code}"],
                     "charting", "expect_column_values_to_be_in_set(readable)")
    assert [(r["code_id"], r["record_id"], r["value"]) for r in failure["rows"]] == [
        (code, record, "astrology")]
    assert failure["rows"][0]["title"] == _value(store, f"SELECT title FROM records WHERE id = {record}")[0]


def test_a_region_the_scheme_does_not_know(store):
    code, record = _value(store, "SELECT id, record_id FROM charting_codes WHERE field = 'country' "
                                 "ORDER BY id LIMIT 1")
    failure = _check(store, [f"UPDATE charting_codes SET field = 'region', value = 'Atlantis' "
                             f"WHERE id = {code}"],
                     "charting", "expect_column_values_to_be_in_set(coded)")
    assert [(r["code_id"], r["record_id"], r["coded"]) for r in failure["rows"]] == [
        (code, record, "region=Atlantis")]


def test_a_country_that_is_not_a_country(store):
    code, record = _value(store, "SELECT id, record_id FROM charting_codes WHERE field = 'country' "
                                 "ORDER BY id LIMIT 1")
    failure = _check(store, [f"UPDATE charting_codes SET value = 'Atlantis' WHERE id = {code}"],
                     "charting", "expect_column_values_to_be_in_set(readable)")
    assert [(r["code_id"], r["record_id"]) for r in failure["rows"]] == [(code, record)]


def test_a_charting_field_the_scheme_does_not_define(store):
    code, _ = _value(store, "SELECT id, record_id FROM charting_codes ORDER BY id LIMIT 1")
    failure = _check(store, [f"UPDATE charting_codes SET field = 'mood' WHERE id = {code}"],
                     "charting", "expect_column_values_to_be_in_set(field)")
    assert [r["code_id"] for r in failure["rows"]] == [code]


def test_a_prisma_identity_that_does_not_hold(store):
    # A queued record loses its queue row: run 2's records no longer add up.
    record = _value(store, "SELECT record_id FROM candidates ORDER BY record_id LIMIT 1")[0]
    failure = _check(store, [f"DELETE FROM candidates WHERE record_id = {record}"],
                     "prisma", "expect_column_pair_values_to_be_equal(left vs right)")
    assert {r["scope"] for r in failure["rows"]} == {"run 2"}
    assert any("never pre-filtered or queued" in r["detail"] for r in failure["rows"])


def test_a_source_returning_nothing_where_it_returned_dozens(store):
    history = json.dumps({"pubmed": 40, "crossref": 0})
    now = json.dumps({"pubmed": 0, "crossref": 0})
    failure = _check(store, [
        f"UPDATE update_runs SET counts = json_set(counts, '$.identified', json('{history}')) WHERE id = 2",
        f"UPDATE update_runs SET counts = json_set(counts, '$.identified', json('{now}')) WHERE id = 3"],
        "run_sources", "expect_column_values_to_be_between(identified_ratio) where history_median >= 12")
    assert [(r["run_id"], r["source"], r["identified"], r["history_median"])
            for r in failure["rows"]] == [(3, "pubmed", 0, 40)]


def test_a_shrinking_corpus(store):
    # A baseline study deleted with its decisions and codes: one record fewer than run 3 saw.
    total = _value(store, "SELECT count(*) FROM records")[0]
    _sql(store, "DELETE FROM charting_codes WHERE record_id = 5",
         "DELETE FROM screening_decisions WHERE record_id = 5", "DELETE FROM records WHERE id = 5")
    failure = _check(store, [], "run_corpus",
                     "expect_column_pair_values_a_to_be_greater_than_b(records vs records_before)")
    assert [(r["records"], r["records_before"]) for r in failure["rows"]] == [(total - 1, total)]


def test_a_duplicate_rate_out_of_its_band(store):
    intake = json.dumps({"received": 7, "already_known": 0, "added": 0,
                         "duplicates_total": 7, "duplicates": {"doi": 7}})
    failure = _check(store, [
        f"UPDATE update_runs SET counts = json_set(counts, '$.intake', json('{intake}')) WHERE id = 3"],
        "run_corpus", "expect_column_values_to_be_between(duplicate_rate_shift)")
    received, known, duplicates = _value(store, "SELECT json_extract(counts, '$.intake.received'), "
                                         "json_extract(counts, '$.intake.already_known'), "
                                         "json_extract(counts, '$.intake.duplicates_total') "
                                         "FROM update_runs WHERE id = 2")
    assert [(r["duplicate_rate"], r["duplicate_rate_median"]) for r in failure["rows"]] == [
        (1.0, duplicates / (received - known))]


def test_the_flow_stops_at_the_gate_names_the_record_and_keeps_the_data(
        built, tmp_path, monkeypatch, prefect_harness):
    store = tmp_path / "store.sqlite"
    with sqlite3.connect(built) as source, sqlite3.connect(store) as target:
        source.backup(target)
    _sql(store, "UPDATE records SET year = 1850 WHERE id = 7")
    before = _dump(store)
    with running_replay_server(scenario="demo") as replay:
        monkeypatch.setenv("LR_DATABASE_URL", f"sqlite:///{store}")
        monkeypatch.setenv("LR_REPORT_DIR", str(tmp_path / "reports"))
        for name, url in replay.environment().items():
            monkeypatch.setenv(name, url)
        monkeypatch.setenv("LR_CROSSREF_RATE", "50")
        from flows.update_review import update_review

        with pytest.raises(ValidationFailed) as failure:
            update_review(since=date(2021, 12, 14), until=UNTIL)
    assert "suite `records`: expect_column_values_to_be_between(year)" in failure.value.report
    assert "id 7; doi 10.1037/prj0000048; title Participant experiences" in failure.value.report
    status, error = _value(store, "SELECT status, error FROM update_runs ORDER BY id DESC LIMIT 1")
    assert status == "validation_failed" and "id 7; doi 10.1037/prj0000048" in error
    after = _dump(store)
    # The run saw its hits again (last_seen_run_id moves); nothing else changed, no watermark moved.
    assert {t: after[t] for t in TABLES if t != "source_hits"} == \
        {t: before[t] for t in TABLES if t != "source_hits"}
    assert len(after["source_hits"]) == len(before["source_hits"])
    page = tmp_path / "reports" / "validation" / "run-0004.html"
    assert "<td>10.1037/prj0000048</td>" in page.read_text(encoding="utf-8")
    assert not (tmp_path / "reports" / "v0003").exists()  # no report was published


def test_livingreview_report_goes_through_the_gate(store, tmp_path, monkeypatch):
    doi = _value(store, "SELECT doi FROM records WHERE id = 1")[0]
    other, _, pmid = _harvested(store)[0]
    _sql(store, f"UPDATE records SET doi = '{doi}' WHERE id = {other}")
    monkeypatch.setenv("LR_DATABASE_URL", f"sqlite:///{store}")
    monkeypatch.setenv("LR_REPORT_DIR", str(tmp_path / "reports"))
    result = CliRunner().invoke(app, ["report"])
    assert result.exit_code == 1
    assert "expect_column_values_to_be_unique(doi) where merged == False" in result.output
    assert f"id {other}; doi {doi}; pmid {pmid}" in result.output
    assert not list((tmp_path / "reports").glob("v0*"))
    pages = list((tmp_path / "reports" / "validation").glob("report-*.html"))
    assert len(pages) == 1 and f"<td>{doi}</td>" in pages[0].read_text(encoding="utf-8")
