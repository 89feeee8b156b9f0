"""Readers of RIS, BibTeX, PubMed MEDLINE (.nbib/.txt) and CSV files, over hand-made files in
the layouts real exports use (tests/fixtures/formats/PROVENANCE.md)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from livingreview.errors import InputError
from livingreview.formats import (
    FileDecodingWarning,
    detect_format,
    read_bibtex,
    read_csv,
    read_file,
    read_nbib,
    read_ris,
)
from livingreview.formats.fields import import_source, split_authors

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
TAX325_TITLE = ("Randomized phase III trial of docetaxel versus vinorelbine, both combined with "
                "cisplatin, as first-line therapy for advanced non-small-cell lung cancer: the "
                "TAX 325 study group")


def by_id(records):
    return {r.source_id: r for r in records}


# --- PubMed MEDLINE ------------------------------------------------------------------------

def test_nbib_reads_every_field_pubmed_gives():
    records = read_nbib(FIXTURES / "pubmed_three.nbib")
    assert [r.pmid for r in records] == ["23435529", "36987902", "34529508"]
    trial, burns, editorial = records
    assert trial.source == "import:nbib:pubmed_three.nbib" and trial.source_id == "23435529"
    assert trial.title == TAX325_TITLE + "."  # continuation lines joined
    assert trial.authors == ["Fossella, Frank", "Pereira, Jose R", "von Pawel, Joachim",
                             "Splinter, Theo A W", "TAX 325 Study Group"]
    assert trial.year == 2013 and trial.volume == "31" and trial.issue == "10"
    assert trial.pages == "1207-13"
    assert trial.journal.startswith("Journal of clinical oncology : official journal")
    assert trial.doi == "10.1200/jco.2012.44.6112"
    assert trial.publication_types == ["Journal Article", "Randomized Controlled Trial",
                                       "Research Support, Non-U.S. Gov't"]
    assert trial.mesh_terms == ["Adult", "Aged", "Carcinoma, Non-Small-Cell Lung", "Humans",
                                "Lung Neoplasms"]
    assert trial.abstract.startswith("PURPOSE: To compare") and "  " not in trial.abstract
    assert trial.created_date == "2013-02-26"
    assert trial.url == "https://pubmed.ncbi.nlm.nih.gov/23435529/"
    # Two LID lines (doi and pii): the DOI is the one marked [doi].
    assert burns.doi == "10.4045/tidsskr.22.0358"
    assert burns.language == "eng"  # listed as eng and nor
    assert burns.authors[0] == "Bruserud, Øyvind"
    assert burns.mesh_terms == ["Male", "Humans", "Frailty", "Burns"]
    assert editorial.pmcid == "PMC8561171" and editorial.abstract is None
    assert editorial.publication_types == ["Editorial", "Comment"]


def test_pubmed_format_txt_is_recognised_and_keeps_keywords():
    path = FIXTURES / "pubmed_format_24349601.txt"
    assert detect_format(path) == "nbib"
    (record,) = read_file(path)
    assert record.keywords == ["5-HTTLPR", "genetic association", "life satisfaction",
                               "rs2020933", "serotonin transporter gene", "twin study"]
    assert record.pmcid == "PMC3858957" and record.mesh_terms == [] and record.pages is None
    assert record.authors == ["De Neve, Jan-Emmanuel", "Christakis, Nicholas A",
                              "Fowler, James H", "Frey, Bruno S"]


def test_nbib_with_only_abbreviated_authors_keeps_them(tmp_path):
    path = tmp_path / "old.nbib"
    path.write_text("PMID- 219391\nDP  - 1979 Jan\nTI  - A case report.\nAU  - Smith JA\n"
                    "AU  - Doe B\nCN  - Some Study Group\n", encoding="utf-8")
    (record,) = read_nbib(path)
    assert record.authors == ["Smith JA", "Doe B", "Some Study Group"]


# --- RIS -----------------------------------------------------------------------------------

def test_ris_reads_endnote_export_with_crlf_and_tag_aliases():
    records = read_ris(FIXTURES / "included_endnote.ris")
    assert [r.source_id for r in records] == ["1", "2", "3", "4"]  # no ID tags: positions
    agrawal, jones, ahmed, trial = records
    assert agrawal.doi == "10.1007/s40596-016-0533-z"  # from a doi.org URL
    assert agrawal.journal == "Academic Psychiatry" and agrawal.pages == "475-480"
    assert agrawal.language == "eng"
    assert agrawal.keywords == ["peer support", "service user involvement", "medical education"]
    assert len(agrawal.authors) == 7 and agrawal.authors[-1] == "Soklaridis, S."
    assert jones.authors == ["Jones, M.", "Pietilä, I."]  # A1
    assert jones.year == 2020 and jones.title.startswith("Alignments")  # Y1, T1
    assert jones.journal == "Health"  # JF before the JA abbreviation
    assert jones.pages == "223-240"  # en dash
    assert ahmed.doi == "10.1007/s10597-015-9854-8"  # the space printed in the article
    assert ahmed.year == 2015 and ahmed.journal == "Community Mental Health Journal"
    assert trial.pmid == "23435529"  # AN
    assert trial.pages == "1207-13" and trial.authors[-1] == "TAX 325 Study Group"
    assert trial.abstract.endswith("advanced non-small-cell lung cancer (NSCLC).")
    assert trial.publication_types == ["Journal Article"]


def test_ris_uses_its_id_tags_when_every_record_has_a_distinct_one(tmp_path):
    path = tmp_path / "ids.ris"
    path.write_text("TY  - JOUR\nID  - 17\nTI  - One\nER  - \n\nTY  - BOOK\nID  - 18\n"
                    "TI  - Two\nC2  - PMCID: PMC8561171\nER  - \n", encoding="utf-8")
    one, two = read_ris(path)
    assert (one.source_id, two.source_id) == ("17", "18")
    assert two.pmcid == "PMC8561171" and two.publication_types == ["Book"]
    path.write_text(path.read_text().replace("ID  - 18", "ID  - 17"), encoding="utf-8")
    assert [r.source_id for r in read_ris(path)] == ["1", "2"]  # repeated ids: positions


# --- BibTeX --------------------------------------------------------------------------------

def test_bibtex_decodes_latex_and_splits_authors():
    records = by_id(read_bibtex(FIXTURES / "zotero_export.bib"))
    assert list(records) == ["akerblom2021", "nelson2016", "mahlke2017", "ahmed2015",
                             "fossella2013"]
    akerblom = records["akerblom2021"]
    assert akerblom.authors == ["Åkerblom, K. B.", "Ness, O."]
    assert akerblom.title.endswith("addiction services: Protocol for a scoping review")
    assert akerblom.journal == "PLoS ONE" and akerblom.language == "eng"
    nelson = records["nelson2016"]  # upper-case field names
    assert nelson.authors[3] == "Egalité, N." and nelson.authors[5] == "Fleury, M.-J."
    assert nelson.title.endswith("planning Canada's At Home/Chez Soi project")
    assert nelson.journal == "Health & Social Care in the Community"
    assert nelson.issue == "2" and nelson.pages == "184-193" and nelson.year == 2016
    assert nelson.keywords == ["homelessness", "lived experience", "Housing First"]
    assert records["mahlke2017"].title.endswith("severe mental illness – a randomised "
                                                "controlled trial")
    ahmed = records["ahmed2015"]
    assert ahmed.journal == "Community Mental Health Journal"  # @string macro
    assert (ahmed.volume, ahmed.issue, ahmed.year) == ("51", "4", 2015)  # bare numbers
    trial = records["fossella2013"]
    assert trial.authors[-1] == "TAX 325 Study Group" and trial.authors[2] == "von Pawel, Joachim"
    assert trial.pmid == "23435529"  # note = {PMID: ...}
    assert "95% CI" in trial.abstract  # a bare % is not a LaTeX comment


# --- CSV -----------------------------------------------------------------------------------

def test_csv_zotero_export_with_bom_and_aliases():
    records = by_id(read_csv(FIXTURES / "zotero_export.csv"))
    assert list(records) == ["W2021AB3", "ALM2020X", "FOS2013TX"]  # the Key column
    wall = records["W2021AB3"]
    assert wall.title.startswith("Experiences and challenges")  # first column after the BOM
    assert wall.authors[-1] == "Stjernswärd, S." and wall.year == 2021
    assert wall.journal == "Issues in Mental Health Nursing" and wall.language == "eng"
    almeida = records["ALM2020X"]
    assert almeida.pages == "e17053" and almeida.keywords == ["peer support", "co-design"]
    assert records["FOS2013TX"].pmid == "23435529"  # "PMID: ..." in Extra
    assert records["FOS2013TX"].abstract.startswith("To compare")


def test_csv_pubmed_export_splits_initials_authors():
    records = read_csv(FIXTURES / "pubmed_export.csv")
    assert [r.pmid for r in records] == ["23435529", "34529508", "24349601"]
    assert records[0].authors[:3] == ["Fossella F", "Pereira JR", "von Pawel J"]
    assert records[0].authors[-1] == "Splinter TA"
    assert records[0].journal == "J Clin Oncol" and records[0].created_date == "2013-02-26"
    assert records[2].pmcid == "PMC3858957"


def test_csv_in_windows_encoding_is_read_and_the_fallback_reported():
    with pytest.warns(FileDecodingWarning, match="not UTF-8; it was read as cp1252"):
        jones, mahlke = read_csv(FIXTURES / "excel_semicolon_cp1252.csv")
    assert jones.authors == ["Jones, M.", "Pietilä, I."]
    assert jones.pages == "223-240" and jones.year == 2020
    assert mahlke.title.endswith("illness – a randomised controlled trial")
    assert mahlke.doi == "10.1016/j.eurpsy.2016.12.007"


def test_utf8_files_raise_no_decoding_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_csv(FIXTURES / "zotero_export.csv")
        read_ris(FIXTURES / "included_endnote.ris")


@pytest.mark.parametrize("text, names", [
    ("Smith, John; Doe, Jane", ["Smith, John", "Doe, Jane"]),
    ("Smith, J. and Doe, J.", ["Smith, J.", "Doe, J."]),
    ("Smith J, van der Berg PA, Doe J.", ["Smith J", "van der Berg PA", "Doe J"]),
    ("Fossella F, Pereira JR; TAX 325 Study Group", ["Fossella F", "Pereira JR",
                                                     "TAX 325 Study Group"]),
    ("Smith, John", ["Smith, John"]),
    ("World Health Organization", ["World Health Organization"]),
])
def test_author_strings_split_into_names(text, names):
    assert split_authors(text) == names


# --- choosing the reader, and errors --------------------------------------------------------

@pytest.mark.parametrize("name, fmt", [
    ("included_endnote.ris", "ris"), ("zotero_export.bib", "bibtex"),
    ("pubmed_three.nbib", "nbib"), ("pubmed_format_24349601.txt", "nbib"),
    ("zotero_export.csv", "csv"),
])
def test_read_file_chooses_the_reader_by_extension(name, fmt):
    assert detect_format(FIXTURES / name) == fmt
    assert read_file(FIXTURES / name)[0].source.startswith(f"import:{fmt}:")


def test_format_option_overrides_the_extension(tmp_path):
    path = tmp_path / "export.dat"
    shutil.copy(FIXTURES / "included_endnote.ris", path)
    assert len(read_file(path, format="ris")) == 4
    with pytest.raises(InputError, match=r"unknown format 'endnote'.*ris, bibtex, nbib, csv"):
        read_file(path, format="endnote")


def test_unknown_extension_names_the_supported_ones(tmp_path):
    path = tmp_path / "library.enl"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_file(path)
    assert caught.value.place == "file name"
    assert ".ris, .bib, .nbib" in caught.value.fix and ".csv" in caught.value.fix
    assert "--format" in caught.value.fix


def test_txt_that_is_neither_medline_nor_ris_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Some notes about the review\n", encoding="utf-8")
    with pytest.raises(InputError, match="neither PubMed MEDLINE format"):
        read_file(path)


def test_binary_and_missing_files_are_refused(tmp_path):
    workbook = tmp_path / "studies.csv"
    workbook.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00")
    with pytest.raises(InputError, match="binary file") as caught:
        read_file(workbook)
    assert "CSV (UTF-8)" in caught.value.fix
    with pytest.raises(InputError, match="does not exist"):
        read_file(tmp_path / "missing.ris")


MALFORMED = [
    ("malformed_missing_er.ris", "record 1 (line 1)", "no ER line before the next record "
                                                      "starts at line 8"),
    ("malformed_missing_ty.ris", "line 8", "tag AU stands outside a record"),
    ("malformed_truncated.ris", "record 2 (line 8)", "ends inside this record"),
    ("malformed_untitled.ris", "record 2 (id 418, line 8)", "no title and no identifier"),
    ("malformed_year.ris", "record 1 (line 1)", "PY 'in press' is not a year"),
    ("malformed_unclosed.bib", "line 8", "cannot be parsed"),
    ("malformed_duplicate_key.bib", "line 7", "'smith2016' is used again (first at line 1)"),
    ("malformed_no_pmid.nbib", "record 2 (line 8)", "no PMID line"),
    ("malformed_no_title_column.csv", "header row", "no title column (the columns are: Name, "
                                                    "Journal, Year, DOI)"),
    ("malformed_year.csv", "row 3", "column 'year' 'forthcoming' is not a year"),
    ("malformed_ragged.csv", "line 3", "Expected 3 fields in line 3, saw 4"),
]


@pytest.mark.parametrize("name, place, problem", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_file_names_file_place_and_fix(name, place, problem):
    path = FIXTURES / name
    with pytest.raises(InputError) as caught:
        read_file(path)
    error = caught.value
    assert error.source == str(path)
    assert error.place == place
    assert problem in error.problem
    assert error.fix and str(error).startswith(f"{path}: {place}: ")


def test_missing_title_column_error_lists_the_accepted_aliases():
    with pytest.raises(InputError) as caught:
        read_csv(FIXTURES / "malformed_no_title_column.csv")
    assert "title, primary_title, ti" in caught.value.fix


def test_bad_identifier_in_an_identifier_field_is_an_error(tmp_path):
    path = tmp_path / "refs.csv"
    path.write_text("title,doi,pmid\nA study,10.1000/abc,12345\nAnother study,see paper,\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_csv(path)
    assert caught.value.place == "row 3" and "'see paper' is not a DOI" in caught.value.problem
    path.write_text("title,doi,pmid\nA study,n/a,PMID: 12345\n", encoding="utf-8")
    (record,) = read_csv(path)  # placeholders are empty; a labelled PMID is a PMID
    assert record.doi is None and record.pmid == "12345"


def test_empty_files_are_errors_not_empty_imports(tmp_path):
    for name, header in (("a.ris", ""), ("b.bib", "% nothing\n"), ("c.csv", "title,doi\n"),
                         ("d.nbib", "")):
        path = tmp_path / name
        path.write_text(header, encoding="utf-8")
        with pytest.raises(InputError, match="no records found"):
            read_file(path)


def test_long_file_names_fit_the_source_column():
    short = import_source("csv", "studies.csv")
    assert short == "import:csv:studies.csv"
    long = import_source("bibtex", "included studies of the peer worker review (final).bib")
    other = import_source("bibtex", "included studies of the peer worker review (draft).bib")
    assert len(long) <= 40 and long.startswith("import:bibtex:included") and long != other


def test_csv_rows_with_every_cell_empty_are_not_records(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text("title,doi\nFirst study,10.1000/a\n,\nSecond study,\n,\n,\n", encoding="utf-8")
    records = read_csv(path)
    assert [(r.source_id, r.title) for r in records] == [("1", "First study"),
                                                         ("3", "Second study")]


def test_ris_url_field_with_several_urls_keeps_the_first(tmp_path):
    path = tmp_path / "urls.ris"
    path.write_text("TY  - JOUR\nTI  - A study\nUR  - https://example.org/a; "
                    "https://doi.org/10.1000/xyz\nER  - \n", encoding="utf-8")
    (record,) = read_ris(path)
    assert record.url == "https://example.org/a" and record.doi == "10.1000/xyz"


def test_bibtex_bare_ampersand_and_percent_are_kept(tmp_path):
    # Google Scholar and some publishers write & and % unescaped.
    path = tmp_path / "scholar.bib"
    path.write_text("@article{a, title={Peer work & co-production: 40% of {NHS} trusts}, "
                    "journal={Health & Social Care in the Community}, year={2016}}\n",
                    encoding="utf-8")
    (record,) = read_bibtex(path)
    assert record.title == "Peer work & co-production: 40% of NHS trusts"
    assert record.journal == "Health & Social Care in the Community"
