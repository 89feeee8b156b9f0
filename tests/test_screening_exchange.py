"""Interoperability: the queue goes out to Rayyan and ASReview as files those tools read, their
exports come back as decisions (all or nothing, idempotent), and the included studies go out
as RIS and BibTeX."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from livingreview.errors import InputError
from livingreview.formats import rayyan
from livingreview.screening.exchange import export_included, export_queue, import_decisions
from livingreview.screening.status import record_decision, record_status
from livingreview.store.database import session_scope
from livingreview.store.models import Candidate, ScreeningDecision, StoredRecord

TA = "title_abstract"


def _queue(url: str) -> list[int]:
    ids = []
    with session_scope(url) as s:
        for i, (title, doi) in enumerate([
            ("Peer support workers in assertive community treatment", "10.1000/a1"),
            ("Recovery college students' experiences", "10.1000/b2"),
            ("Peer navigators in primary care: a qualitative study", None),
        ]):
            row = StoredRecord(origin="pubmed", title=title, doi=doi, year=2023,
                               authors=["Smith, J.", "Doe, A."], abstract="Abstract text.",
                               pmid=str(40000000 + i))
            s.add(row)
            s.flush()
            s.add(Candidate(record_id=row.id, priority=1.0 - i / 10, flags=["needs_abstract"]))
            ids.append(row.id)
    return ids


def _rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def _write(path: Path, rows: list[dict[str, str]], delimiter: str = ",") -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


def _as_rayyan_export(upload: Path, export: Path, votes: dict[int, str], reasons: dict[int, str],
                      drop_key: bool = True) -> None:
    """What Rayyan's CSV export looks like after screening the uploaded file."""
    rows = _rows(upload)
    for n, row in enumerate(rows):
        if n in votes:
            row["notes"] += " | RAYYAN-INCLUSION: {" + votes[n] + "}"
        if n in reasons:
            row["notes"] += f" | RAYYAN-EXCLUSION-REASONS: {reasons[n]}"
        if drop_key:
            row["key"] = f"rayyan-{900 + n}"
    _write(export, rows)


def test_rayyan_round_trip_records_each_reviewers_decision(store_url, tmp_path):
    ids = _queue(store_url)
    upload, export = tmp_path / "rayyan_upload.csv", tmp_path / "articles.csv"
    with session_scope(store_url) as s:
        assert export_queue(s, upload, "rayyan") == 3
    rows = _rows(upload)
    assert list(rows[0]) == list(rayyan.COLUMNS)
    assert rows[0]["authors"] == "Smith, J. and Doe, A." and f"LR-RECORD-ID: {ids[0]}" in rows[0]["notes"]
    _as_rayyan_export(upload, export, votes={
        0: '"Ann"=>"Included", "Bob"=>"Included"',
        1: '"Ann"=>"Excluded", "Bob"=>"Maybe"',
    }, reasons={1: "EX_RECOVERY_COLLEGE,wrong population"})
    with session_scope(store_url) as s:
        result = import_decisions(s, export, "rayyan")
    assert result.recorded == 4 and result.reviewers == {"Ann", "Bob"}
    with session_scope(store_url) as s:
        first, second = record_status(s, ids[0])[TA], record_status(s, ids[1])[TA]
        assert first.decision == "include" and set(first.votes) == {"Ann", "Bob"}
        assert second.decision == "conflict"
        assert second.votes["Ann"].reason_code == "EX_RECOVERY_COLLEGE"
    # Importing the same export again records nothing twice.
    with session_scope(store_url) as s:
        again = import_decisions(s, export, "rayyan")
        assert again.recorded == 0 and again.unchanged == 4
        assert s.scalar(select(func.count()).select_from(ScreeningDecision)) == 4


def test_rayyan_rows_without_our_marker_match_by_doi_or_title(store_url, tmp_path):
    ids = _queue(store_url)
    upload, export = tmp_path / "up.csv", tmp_path / "articles.csv"
    with session_scope(store_url) as s:
        export_queue(s, upload, "rayyan")
    rows = _rows(upload)
    for row in rows:
        row["notes"] = ""
    rows[0]["notes"] = 'RAYYAN-INCLUSION: {"Ann"=>"Included"}'
    rows[2]["notes"] = 'RAYYAN-INCLUSION: {"Ann"=>"Included"}'  # no DOI: title match
    rows[0]["key"], rows[2]["key"] = "1", "2"  # Rayyan's own numbers, not ours
    _write(export, rows)
    with session_scope(store_url) as s:
        assert import_decisions(s, export, "rayyan").recorded == 2
        assert record_status(s, ids[0])[TA].decision == "include"
        assert record_status(s, ids[2])[TA].decision == "include"


def test_rayyan_import_is_all_or_nothing_and_names_bad_rows(store_url, tmp_path):
    _queue(store_url)
    upload, export = tmp_path / "up.csv", tmp_path / "articles.csv"
    with session_scope(store_url) as s:
        export_queue(s, upload, "rayyan")
    _as_rayyan_export(upload, export, votes={0: '"Ann"=>"Included"', 1: '"Ann"=>"Excluded"'},
                      reasons={1: "wrong population"})
    with session_scope(store_url) as s:
        with pytest.raises(InputError, match=r"line 3: exclusion by Ann has no reason"):
            import_decisions(s, export, "rayyan")
    with session_scope(store_url) as s:
        assert s.scalar(select(func.count()).select_from(ScreeningDecision)) == 0
    with session_scope(store_url) as s:
        result = import_decisions(s, export, "rayyan",
                                  reason_map={"Wrong population": "EX_AGE_POPULATION"})
        assert result.recorded == 2


def test_asreview_round_trip_with_prior_labels(store_url, tmp_path):
    ids = _queue(store_url)
    with session_scope(store_url) as s:
        record_decision(s, ids[2], TA, "exclude", "ann", reason_code="EX_SETTING")
    dataset, export = tmp_path / "asreview.csv", tmp_path / "asreview_export.tsv"
    with session_scope(store_url) as s:
        assert export_queue(s, dataset, "asreview") == 3
    rows = _rows(dataset)
    labels = {int(r["record_id"]): r["included"] for r in rows}
    assert labels == {ids[0]: "", ids[1]: "", ids[2]: "0"}
    # ASReview LAB's export: the same rows plus its own columns (here as TSV).
    for row in rows:
        row["asreview_label"] = {str(ids[0]): "1", str(ids[1]): "0"}.get(row["record_id"], "")
        row["asreview_time"] = "2026-02-01 10:00:00"
        row["asreview_note"] = "EX_RECOVERY_COLLEGE" if row["record_id"] == str(ids[1]) else ""
        del row["included"]
    _write(export, rows, delimiter="\t")
    with session_scope(store_url) as s:
        with pytest.raises(InputError, match="--reviewer"):
            import_decisions(s, export, "asreview")
    with session_scope(store_url) as s:
        result = import_decisions(s, export, "asreview", reviewer="bob")
        assert result.recorded == 2
        assert record_status(s, ids[0])[TA].votes["bob"].decision == "include"
        vote = record_status(s, ids[1])[TA].votes["bob"]
        assert vote.reason_code == "EX_RECOVERY_COLLEGE" and vote.decided_at.year == 2026


def test_asreview_bad_label_names_line_and_column(store_url, tmp_path):
    export = tmp_path / "bad.csv"
    export.write_text("record_id,title,asreview_label\n1,A title,yes\n", encoding="utf-8")
    with session_scope(store_url) as s:
        with pytest.raises(InputError, match="line 2, column asreview_label"):
            import_decisions(s, export, "asreview", reviewer="bob")


def test_included_studies_export_as_ris_and_bibtex(store_url, tmp_path):
    ris = pytest.importorskip("livingreview.formats.ris")
    bibtex = pytest.importorskip("livingreview.formats.bibtex")
    ids = _queue(store_url)
    with session_scope(store_url) as s:
        for rid in ids[:2]:
            record_decision(s, rid, TA, "include", "ann")
            record_decision(s, rid, "full_text", "include", "ann")
    with session_scope(store_url) as s:
        assert export_included(s, tmp_path / "included.ris") == 2
        assert export_included(s, tmp_path / "included.bib") == 2
        with pytest.raises(InputError, match=".ris"):
            export_included(s, tmp_path / "included.txt")
    back = ris.read_ris(tmp_path / "included.ris")
    assert sorted(r.doi for r in back) == ["10.1000/a1", "10.1000/b2"]
    back = bibtex.read_bibtex(tmp_path / "included.bib")
    assert sorted(r.title for r in back) == sorted(
        ["Peer support workers in assertive community treatment",
         "Recovery college students' experiences"])
