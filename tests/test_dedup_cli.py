"""``livingreview dedup-file`` on record files in both benchmark layouts, and ``livingreview
duplicates`` deciding and undoing links in a real SQLite store."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livingreview.cli import app
from livingreview.dedup.record_files import read_groups, read_record_file
from livingreview.store.database import session_scope
from livingreview.store.models import DuplicateDecision, DuplicateLink, StoredRecord

runner = CliRunner()

BIB_DEDUPE_ROWS = [
    # ID, title, year, author, pages, volume, number, journal (stroke set, transcribed)
    ("id_0000001", "Efficacy observation of batroxobin for treatment of vascular cognitive "
     "impairment. [Chinese]", "2010", "Zhai, Q. J. and Yue, X. Y. and Hong, Z.", "73-76", "7",
     "2", "Chinese Journal of Cerebrovascular Diseases"),
    ("id_0000002", "Efficacy observation of batroxobin for treatment of vascular cognitive "
     "impairment", "2010", "Zhai, Q. J. and Yue, X. Y. and Hong, Z.", "73-76", "7", "2",
     "Chinese Journal of Cerebrovascular Diseases"),
    ("id_0000003", "Diabetes, comorbidities and increased long-term mortality in older patients "
     "admitted for geriatric inpatient care", "2012", "Zekry, D. and Frangos, E. and Graf, C.",
     "149-155", "38", "2", "Diabetes & metabolism"),
    ("id_0000004", "Diabetes, comorbidities and increased long-term mortality in older patients "
     "admitted for geriatric inpatient care", "2012", "Zekry, D. and Frangos, E. and Graf, C.",
     "149-55", "38", "2", "Diabetes & Metabolism"),
    ("id_0000005", "Pre-treatment compensation use is a stronger correlate of measures of "
     "activity limitations than cognitive impairment", "2012", "Yutsis, M. and Bergquist, T.",
     "1297-1306", "26", "11", "Brain injury"),
]


def write_bib_dedupe(path: Path, rows=BIB_DEDUPE_ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(["ID", "title", "year", "author", "pages", "volume", "number",
                         "ENTRYTYPE", "journal"])
        for row in rows:
            writer.writerow(list(row[:7]) + ["article", row[7]])
    return path


def write_asysd(path: Path) -> Path:
    """The ASySD layout as it comes: Latin-1 (the copyright sign), CRLF rows, LF inside fields,
    authors collapsed without separators."""
    header = "author,title,year,journal,abstract,doi,number,pages,volume,isbn,record_id,label,source"
    rows = [
        '"Adeli K.Lewis G. F.","Intestinal lipoprotein overproduction in insulin-resistant '
        'states",2008,"Curr Opin Lipidol","PURPOSE OF REVIEW: Excessive lipemia. \xa9 2008 '
        'Wolters","10.1097/MOL.0b013e3282ffaf82",3,"221-8",19,"0957-9672 (Print)\n0957-9672",'
        '1,"In_database","unique"',
        '"Adeli K.Lewis G. F.","Intestinal lipoprotein overproduction in insulin-resistant '
        'states",2008,"Current opinion in lipidology","PURPOSE OF REVIEW: Excessive lipemia.",'
        '"10.1097/MOL.0b013e3282ffaf82",3,"221-228",19,"0957-9672",728,"Duplicate_in_trash",'
        '"duplicate"',
        '"Marette A.","Obesity-linked insulin resistance: is interleukin-6 a friend or foe?",'
        '2015,"Can J Diabetes",,,,"S1-S2",39,,450,"In_database","unique"',
    ]
    path.write_bytes(("\r\n".join([header] + rows) + "\r\n").encode("latin-1"))
    return path


def test_dedup_file_writes_the_groups_in_merged_record_ids_form(tmp_path):
    records = write_bib_dedupe(tmp_path / "records_pre_merged.csv")
    out = tmp_path / "out" / "groups.csv"
    result = runner.invoke(app, ["dedup-file", str(records), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 records: 2 duplicate groups (2 duplicates to remove)" in result.output
    assert out.read_text().splitlines()[0] == "merged_ids"
    assert sorted(map(sorted, read_groups(out))) == [["id_0000001", "id_0000002"],
                                                      ["id_0000003", "id_0000004"]]


def test_dedup_file_reads_the_latin1_asysd_layout_and_lists_pairs_for_a_person(tmp_path):
    records = write_asysd(tmp_path / "labelled_test_set.csv")
    keyed = read_record_file(records)
    assert [key for key, _ in keyed] == ["1", "728", "450"]
    assert keyed[0][1].authors == ["Adeli K.", "Lewis G. F."]
    assert "\xa9" in keyed[0][1].abstract
    out, maybe = tmp_path / "groups.csv", tmp_path / "maybe.csv"
    result = runner.invoke(app, ["dedup-file", str(records), "--out", str(out),
                                 "--maybe", str(maybe)])
    assert result.exit_code == 0, result.output
    assert read_groups(out) == [["1", "728"]]
    assert maybe.read_text().splitlines()[0] == "left,right,method,score"


@pytest.mark.parametrize("content, problem", [
    ("title,year\nA study,2020\n", "no ID column"),
    ("ID,year\n1,2020\n", "no title column"),
    ("ID,title\n1,A study\n1,Another study\n", "appears twice"),
])
def test_dedup_file_names_the_file_the_place_and_the_fix(tmp_path, content, problem):
    records = tmp_path / "records.csv"
    records.write_text(content)
    result = runner.invoke(app, ["dedup-file", str(records), "--out", str(tmp_path / "g.csv")])
    assert result.exit_code == 1
    assert str(records) in result.output and problem in result.output and "Fix:" in result.output
    assert not (tmp_path / "g.csv").exists()


@pytest.fixture
def store_with_links(store_url, monkeypatch):
    """Three records: b merged into a by the update, c waiting for a person against a."""
    monkeypatch.setenv("LR_DATABASE_URL", store_url)
    with session_scope(store_url) as session:
        a = StoredRecord(origin="pubmed", title="Peer support workers in mental health services",
                         authors=["Ness, O."], year=2020, doi="10.1000/a")
        b = StoredRecord(origin="crossref", title="Peer support workers in mental health "
                         "services.", authors=["Ness, O."], year=2020, doi="10.1000/a")
        c = StoredRecord(origin="openalex", title="Peer support workers in mental-health "
                         "services: a reply", authors=["Ness, O."], year=2021)
        session.add_all([a, b, c])
        session.flush()
        session.add_all([
            DuplicateLink(record_id=b.id, canonical_id=a.id, method="doi", score=1.0,
                          zone="duplicate", status="merged", decided_by="auto"),
            DuplicateLink(record_id=c.id, canonical_id=a.id, method="fuzzy", score=0.91,
                          zone="maybe", status="pending", decided_by="auto"),
        ])
        session.flush()
        return store_url, {"a": a.id, "b": b.id, "c": c.id}


def link_of(url: str, record_id: int) -> DuplicateLink:
    with session_scope(url) as session:
        return session.query(DuplicateLink).filter_by(record_id=record_id).one()


def decisions_of(url: str, link_id: int) -> list[DuplicateDecision]:
    with session_scope(url) as session:
        return list(session.query(DuplicateDecision).filter_by(link_id=link_id)
                    .order_by(DuplicateDecision.id))


def test_duplicates_list_shows_the_pending_pairs_side_by_side(store_with_links):
    _url, ids = store_with_links
    result = runner.invoke(app, ["duplicates", "list"])
    assert result.exit_code == 0, result.output
    assert f"#{ids['c']} Peer support workers in mental-health services: a reply" in result.output
    assert f"#{ids['a']} Peer support workers in mental health services" in result.output
    assert "1 link(s) pending" in result.output


def test_duplicates_review_records_each_decision_with_who_and_when(store_with_links):
    url, ids = store_with_links
    result = runner.invoke(app, ["duplicates", "review", "--reviewer", "alice"], input="d\n")
    assert result.exit_code == 0, result.output
    assert "1 decision(s) recorded" in result.output
    link = link_of(url, ids["c"])
    assert (link.status, link.decided_by) == ("distinct", "alice")
    history = runner.invoke(app, ["duplicates", "history", str(link.id)])
    assert history.exit_code == 0, history.output
    assert "alice: pending -> distinct" in history.output
    assert "1 decision(s) by a person" in history.output
    assert "No pairs are waiting" in runner.invoke(
        app, ["duplicates", "review", "--reviewer", "alice"]).output


def test_a_merge_can_be_undone_and_the_history_is_kept(store_with_links):
    url, ids = store_with_links
    merged = link_of(url, ids["b"])
    result = runner.invoke(app, ["duplicates", "undo", str(merged.id), "--reviewer", "bob",
                                 "--note", "different versions"])
    assert result.exit_code == 0, result.output
    assert f"record #{ids['b']} is visible again" in result.output
    link = link_of(url, ids["b"])
    assert (link.status, link.decided_by) == ("undone", "bob")
    assert [(d.previous_status, d.status, d.reviewer, d.note) for d in decisions_of(url, link.id)] \
        == [("merged", "undone", "bob", "different versions")]
    # undoing twice is refused with the reason
    again = runner.invoke(app, ["duplicates", "undo", str(merged.id), "--reviewer", "bob"])
    assert again.exit_code == 1 and "not merged" in again.output
    # and a person can merge it back, with both decisions in the note
    runner.invoke(app, ["duplicates", "decide", str(merged.id), "--same", "--reviewer", "carol"])
    link = link_of(url, ids["b"])
    assert link.status == "merged"
    assert [(d.previous_status, d.status, d.reviewer) for d in decisions_of(url, link.id)] == [
        ("merged", "undone", "bob"), ("undone", "merged", "carol")]
    assert "bob: merged -> undone (different versions)" in runner.invoke(
        app, ["duplicates", "history", str(merged.id)]).output


def test_deciding_an_unknown_link_says_how_to_find_the_links(store_with_links):
    result = runner.invoke(app, ["duplicates", "decide", "999", "--same", "--reviewer", "x"])
    assert result.exit_code == 1
    assert "no such link" in result.output and "duplicates list" in result.output


def test_status_says_how_many_pairs_wait_for_a_person(store_with_links):
    _url, ids = store_with_links
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "1 possible duplicate pair(s) wait for a person" in result.output
    runner.invoke(app, ["duplicates", "review", "--reviewer", "alice"], input="s\n")
    assert "wait for a person" not in runner.invoke(app, ["status"]).output
