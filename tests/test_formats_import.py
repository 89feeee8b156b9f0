"""`livingreview import`: files into a real SQLite store, all or nothing, idempotent, and the
command line around it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from livingreview.cli import app
from livingreview.corpus_import import ImportResult, import_file
from livingreview.errors import InputError, StoreError
from livingreview.formats import write_csv
from livingreview.records import Record
from livingreview.screening.status import included_record_ids, record_decision, record_status
from livingreview.store.database import session_scope, upgrade
from livingreview.store.models import (
    Base,
    ChartingCode,
    DuplicateLink,
    ScreeningDecision,
    SourceHit,
    StoredRecord,
    UpdateRun,
)

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
MALFORMED = sorted(p.name for p in FIXTURES.glob("malformed_*"))


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """One migrated, empty store file; each test gets a copy (migrating costs about a second)."""
    path = tmp_path_factory.mktemp("template") / "lr.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def url(tmp_path: Path, migrated: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{migrated}{suffix}").exists():
            shutil.copy(f"{migrated}{suffix}", tmp_path / f"lr.sqlite{suffix}")
    return f"sqlite:///{tmp_path}/lr.sqlite"


def row_counts(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return {table.name: session.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables}


def hits_of(url: str, source: str) -> dict[str, int]:
    with session_scope(url) as session:
        return dict(session.execute(select(SourceHit.source_id, SourceHit.record_id)
                                    .where(SourceHit.source == source)).all())


def test_import_stores_each_record_with_its_source_hit(url):
    result = import_file(url, FIXTURES / "pubmed_three.nbib")
    assert (result.records, result.added, result.already_present) == (3, 3, 0)
    assert result.format == "nbib" and result.source == "import:nbib:pubmed_three.nbib"
    hits = hits_of(url, result.source)
    assert sorted(hits) == ["23435529", "34529508", "36987902"]
    with session_scope(url) as session:
        trial = session.get(StoredRecord, hits["23435529"])
        assert trial.pmid == "23435529" and trial.doi == "10.1200/jco.2012.44.6112"
        assert trial.authors[-1] == "TAX 325 Study Group"
        assert trial.origin == result.source and trial.added_run_id == result.run_id
        hit = session.scalar(select(SourceHit).where(SourceHit.source_id == "23435529"))
        assert hit.payload["title"] == trial.title and hit.payload["file"] == "pubmed_three.nbib"
        run = session.get(UpdateRun, result.run_id)
        assert run.kind == "import" and run.status == "succeeded"
        assert run.counts["import"]["added"] == 3


def test_importing_the_same_file_again_adds_nothing(url):
    import_file(url, FIXTURES / "included_endnote.ris", included=True, identified_via="expert")
    before = row_counts(url)
    again = import_file(url, FIXTURES / "included_endnote.ris", included=True,
                        identified_via="expert")
    assert (again.added, again.already_present, again.included) == (0, 4, 0)
    assert again.run_id is None
    assert row_counts(url) == before


def test_a_study_the_store_holds_is_matched_by_doi_pmid_or_pmcid_across_formats(url):
    first = import_file(url, FIXTURES / "pubmed_three.nbib")
    ris = import_file(url, FIXTURES / "included_endnote.ris")
    # The TAX 325 trial has no DOI in the RIS file, only its PMID in AN.
    assert (ris.added, ris.already_present) == (3, 1)
    assert hits_of(url, ris.source)["4"] == hits_of(url, first.source)["23435529"]
    bib = import_file(url, FIXTURES / "zotero_export.bib")
    # ahmed2015 (same DOI as the RIS record) and fossella2013 (DOI, in upper case in the file).
    assert (bib.added, bib.already_present) == (3, 2)
    bib_hits = hits_of(url, bib.source)
    assert bib_hits["ahmed2015"] == hits_of(url, ris.source)["3"]
    assert bib_hits["fossella2013"] == hits_of(url, first.source)["23435529"]
    csv = import_file(url, FIXTURES / "pubmed_export.csv")
    assert (csv.added, csv.already_present) == (1, 2)  # 24349601 is new
    with session_scope(url) as session:
        assert session.scalar(select(func.count()).select_from(StoredRecord)) == 3 + 3 + 3 + 1


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_file_leaves_the_store_unchanged(url, name):
    import_file(url, FIXTURES / "pubmed_three.nbib", included=True)
    before = row_counts(url)
    with pytest.raises(InputError) as caught:
        import_file(url, FIXTURES / name, included=True, identified_via="reference_list")
    assert caught.value.source == str(FIXTURES / name)
    assert row_counts(url) == before


def test_a_refused_decision_rolls_back_the_records_already_written(url, tmp_path):
    first = import_file(url, FIXTURES / "pubmed_three.nbib")
    trial_id = hits_of(url, first.source)["23435529"]
    with session_scope(url) as session:
        record_decision(session, trial_id, "title_abstract", "exclude", "ann",
                        reason_code="EX_NO_PEER_WORKER")
    before = row_counts(url)
    # The RIS file holds the trial (now excluded by a person) and three new studies: marking it
    # included puts the trial in conflict, so its full-text include is refused, and nothing of
    # the file may stay, not even the three studies written before the refusal.
    with pytest.raises(InputError) as caught:
        import_file(url, FIXTURES / "included_endnote.ris", included=True)
    assert f"stored as record {trial_id}" in caught.value.place
    assert "--included" in caught.value.fix
    assert row_counts(url) == before


def test_included_appends_include_decisions_at_both_stages(url):
    result = import_file(url, FIXTURES / "zotero_export.bib", included=True,
                         identified_via="reference_list")
    assert result.included == 5
    ids = set(hits_of(url, result.source).values())
    with session_scope(url) as session:
        assert included_record_ids(session) == ids
        decisions = session.scalars(select(ScreeningDecision)).all()
        assert len(decisions) == 10
        assert {d.reviewer for d in decisions} == {"import:zotero_export.bib"}
        assert {(d.stage, d.decision) for d in decisions} == {("title_abstract", "include"),
                                                               ("full_text", "include")}
        codes = session.scalars(select(ChartingCode)).all()
        assert {(c.record_id, c.field, c.value) for c in codes} == \
            {(i, "identified_via", "reference_list") for i in ids}


def test_included_marks_studies_already_present_and_skips_those_already_included(url):
    first = import_file(url, FIXTURES / "pubmed_three.nbib", included=True)
    assert first.included == 3
    ris = import_file(url, FIXTURES / "included_endnote.ris", included=True,
                      identified_via="expert")
    assert (ris.added, ris.already_present, ris.included) == (3, 1, 3)
    trial_id = hits_of(url, first.source)["23435529"]
    with session_scope(url) as session:
        reviewers = set(session.scalars(select(ScreeningDecision.reviewer)
                                        .where(ScreeningDecision.record_id == trial_id)))
        assert reviewers == {"import:pubmed_three.nbib"}  # already included: nothing added
        # The trial was identified first from the database export; it keeps that.
        assert session.scalar(select(func.count()).select_from(ChartingCode)
                              .where(ChartingCode.record_id == trial_id)) == 0
        assert len(included_record_ids(session)) == 6


def test_without_included_nothing_is_decided(url):
    import_file(url, FIXTURES / "pubmed_three.nbib")
    assert row_counts(url)["screening_decisions"] == 0


def test_a_fuzzy_duplicate_is_stored_and_linked_and_included_on_its_canonical(url, tmp_path):
    import_file(url, FIXTURES / "pubmed_three.nbib")
    # The same trial typed from the article: no identifiers, title without the final period,
    # pages abbreviated as printed. (Without volume and pages, deduplication leaves the pair to
    # a person: errata and comments share titles with their articles.)
    path = tmp_path / "typed_by_hand.csv"
    write_csv([Record("x", "1", title="Randomized phase III trial of docetaxel versus "
                      "vinorelbine, both combined with cisplatin, as first-line therapy for "
                      "advanced non-small-cell lung cancer: the TAX 325 study group",
                      authors=["Fossella, F."], year=2013, journal="J Clin Oncol",
                      volume="31", pages="1207-1213")], path)
    result = import_file(url, path, included=True)
    assert (result.added, result.already_present, result.duplicates_linked) == (1, 0, 1)
    new_id = hits_of(url, result.source)["1"]
    with session_scope(url) as session:
        link = session.scalar(select(DuplicateLink).where(DuplicateLink.record_id == new_id))
        assert link.status == "merged" and link.zone == "duplicate"
        assert record_status(session, link.canonical_id)["full_text"].decision == "include"
        assert included_record_ids(session) == {link.canonical_id}


def test_origin_overrides_the_origin_of_new_records(url):
    result = import_file(url, FIXTURES / "pubmed_export.csv", origin="authors-dataset")
    with session_scope(url) as session:
        origins = set(session.scalars(select(StoredRecord.origin)))
        sources = set(session.scalars(select(SourceHit.source)))
    assert origins == {"authors-dataset"} and sources == {result.source}


def test_a_windows_encoded_file_is_imported_with_a_note(url):
    result = import_file(url, FIXTURES / "excel_semicolon_cp1252.csv")
    assert result.added == 2
    assert any("read as cp1252" in note for note in result.notes)


def test_bad_option_values_and_an_uninitialised_store_are_refused(url, tmp_path):
    with pytest.raises(InputError, match="unknown value 'friend'"):
        import_file(url, FIXTURES / "pubmed_three.nbib", identified_via="friend")
    with pytest.raises(StoreError, match="livingreview init"):
        import_file(f"sqlite:///{tmp_path}/empty.sqlite", FIXTURES / "pubmed_three.nbib")


def test_a_large_file_imports_with_the_progress_bar(url, tmp_path):
    records = [Record("x", str(i), title=f"Peer support workers in service {i}: study {i * 7}",
                      year=2022, doi=f"10.5555/peer.{i}") for i in range(250)]
    write_csv(records, tmp_path / "many.csv")
    result = import_file(url, tmp_path / "many.csv", progress=True)
    assert (result.records, result.added) == (250, 250)


# --- the command line ----------------------------------------------------------------------

def run_cli(url: str, *args: str):
    return CliRunner().invoke(app, ["import", *args], env={"LR_DATABASE_URL": url})


def test_cli_prints_the_counts(url):
    done = run_cli(url, str(FIXTURES / "included_endnote.ris"), "--included",
                   "--identified-via", "reference_list")
    assert done.exit_code == 0, done.output
    assert "included_endnote.ris (ris): 4 records read; 4 added to the corpus, 0 already " \
           "present, 0 duplicates linked; 4 studies newly marked included." in done.stdout
    again = run_cli(url, str(FIXTURES / "included_endnote.ris"))
    assert again.exit_code == 0 and "0 added to the corpus, 4 already present" in again.stdout


def test_cli_format_option_reads_a_file_with_another_extension(url, tmp_path):
    path = tmp_path / "export.dat"
    shutil.copy(FIXTURES / "zotero_export.bib", path)
    done = run_cli(url, str(path), "--format", "bibtex")
    assert done.exit_code == 0, done.output
    assert "5 added" in done.stdout


def test_cli_malformed_file_exits_1_with_the_message_and_writes_nothing(url):
    before = row_counts(url)
    done = run_cli(url, str(FIXTURES / "malformed_missing_er.ris"))
    assert done.exit_code == 1
    assert "record 1 (line 1): the record has no ER line" in done.stderr
    assert "Fix: end every record with a line 'ER  - '" in done.stderr
    assert "Nothing was imported." in done.stderr
    assert "Traceback" not in done.output
    assert row_counts(url) == before


def test_cli_unknown_extension_and_bad_option(url, tmp_path):
    path = tmp_path / "library.enl"
    path.write_text("x", encoding="utf-8")
    done = run_cli(url, str(path))
    assert done.exit_code == 1 and "unknown file type '.enl'" in done.stderr
    done = run_cli(url, str(FIXTURES / "pubmed_three.nbib"), "--identified-via", "friend")
    assert done.exit_code == 2  # typer refuses a value outside the choices


def test_cli_reports_the_encoding_fallback(url):
    done = run_cli(url, str(FIXTURES / "excel_semicolon_cp1252.csv"))
    assert done.exit_code == 0
    assert "warning:" in done.stderr and "cp1252" in done.stderr


def test_the_installed_command_exits_1_without_a_traceback(url):
    script = Path(sys.executable).with_name("livingreview")
    done = subprocess.run([str(script), "import", str(FIXTURES / "malformed_no_pmid.nbib")],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LR_DATABASE_URL": url})
    assert done.returncode == 1
    assert "record 2 (line 8): the record has no PMID line" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_import_result_adds_up(url):
    result = import_file(url, FIXTURES / "zotero_export.csv")
    assert isinstance(result, ImportResult)
    assert result.added + result.already_present == result.records == 3
