"""Writers: what write_ris / write_bibtex / write_csv put in a file, read back, is what was
written (the exports for EndNote and Zotero rely on it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livingreview.formats import (
    read_bibtex,
    read_csv,
    read_file,
    read_ris,
    write_bibtex,
    write_csv,
    write_ris,
)
from livingreview.formats.bibtex import citation_keys
from livingreview.formats.fields import _INITIALS_NAME
from livingreview.records import Record

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
SOURCES = ["pubmed_three.nbib", "included_endnote.ris", "zotero_export.bib",
           "zotero_export.csv", "pubmed_export.csv"]
# Fields every writer carries (publication types, MeSH, created date and the OpenAlex id have no
# RIS or BibTeX field; the CSV keeps them and is compared on them too).
CARRIED = ("title", "abstract", "authors", "year", "journal", "volume", "issue", "pages", "doi",
           "pmid", "pmcid", "language", "keywords", "url")
CSV_CARRIED = CARRIED + ("publication_types", "mesh_terms", "created_date", "openalex_id")


def fields(record: Record, names) -> dict:
    return {name: getattr(record, name) for name in names}


def all_fixture_records() -> list[Record]:
    return [r for name in SOURCES for r in read_file(FIXTURES / name)]


@pytest.mark.parametrize("write, read, names", [
    (write_ris, read_ris, CARRIED),
    (write_bibtex, read_bibtex, CARRIED),
    (write_csv, read_csv, CSV_CARRIED),
], ids=["ris", "bibtex", "csv"])
def test_round_trip_over_every_fixture_record(tmp_path, write, read, names):
    records = all_fixture_records()
    path = tmp_path / {"write_ris": "out.ris", "write_bibtex": "out.bib",
                       "write_csv": "out.csv"}[write.__name__]
    write(records, path)
    back = read(path)
    assert len(back) == len(records)
    for before, after in zip(records, back):
        assert fields(after, names) == fields(before, names)


def test_ris_keeps_ids_and_reference_types(tmp_path):
    records = read_file(FIXTURES / "zotero_export.bib")
    write_ris(records, tmp_path / "out.ris")
    text = (tmp_path / "out.ris").read_text(encoding="utf-8")
    assert text.startswith("TY  - JOUR\n") and "\n1.\n" not in text  # no rispy "1." header
    assert text.count("ER  - ") == len(records)
    assert [r.source_id for r in read_ris(tmp_path / "out.ris")] == [r.source_id for r in records]
    assert "AN  - 23435529" in text and "DO  - 10.1200/jco.2012.44.6112" in text


def test_bibtex_output_is_utf8_with_unique_keys(tmp_path):
    records = read_file(FIXTURES / "zotero_export.bib") + read_file(FIXTURES / "pubmed_three.nbib")
    records.append(records[0])  # the same study twice still gets two keys
    write_bibtex(records, tmp_path / "out.bib")
    text = (tmp_path / "out.bib").read_text(encoding="utf-8")
    assert "{Åkerblom, K. B. and Ness, O.}" in text
    assert "Health \\& Social Care" in text  # LaTeX's reserved characters are escaped
    keys = re.findall(r"^@\w+\{([^,]+),", text, flags=re.M)
    assert len(keys) == len(set(keys)) == len(records)
    assert keys[0] == "akerblom2021peer" and keys[-1] == "akerblom2021peerb"
    assert "fossella2013randomized" in keys and "bruserud2023patients" in keys
    assert "{TAX 325 Study Group}" in text  # a collective author stays one name
    assert read_bibtex(tmp_path / "out.bib")[4].authors[-1] == "TAX 325 Study Group"


def test_citation_keys_follow_surname_year_word():
    records = [
        Record("x", "1", title="The role of peer workers", authors=["Müller, Jörg"], year=2016),
        Record("x", "2", title="The role of peer workers", authors=["Müller, J."], year=2016),
        Record("x", "3", title="A guide", authors=["van der Berg, Piet"]),
        Record("x", "4", title="Peer support", authors=["World Health Organization"], year=2019),
        Record("x", "5", doi="10.1000/x"),
    ]
    assert citation_keys(records) == ["muller2016role", "muller2016roleb", "bergndguide",
                                      "world2019peer", "anonnd"]


def test_csv_is_excel_friendly_utf8_with_bom(tmp_path):
    records = read_file(FIXTURES / "pubmed_three.nbib")
    write_csv(records, tmp_path / "out.csv")
    data = (tmp_path / "out.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfrecord_id,source,title,")
    assert "Bruserud, Øyvind".encode("utf-8") in data
    write_csv(records, tmp_path / "plain.csv", bom=False)
    assert (tmp_path / "plain.csv").read_bytes().startswith(b"record_id,")


# Text a reference manager could hold in a field: letters, digits, punctuation and symbols
# (LaTeX's reserved characters among them) separated by single spaces, no line breaks. Braces
# are left out: BibTeX counts even escaped braces, so an unbalanced one cannot be written (the
# balanced case is tested below).
_words = st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S"],
                               exclude_characters="{}"), min_size=1, max_size=12)
_text = st.lists(_words, min_size=1, max_size=5).map(" ".join)
# A person's name part starts with a letter and holds no comma, ";", backslash or the word
# "and" (the separators of author lists).
_name_part = st.builds(lambda first, rest: first + rest,
                       st.characters(categories=["Lu", "Ll"]), _text).filter(
    lambda s: not set(",;\\") & set(s) and "and" not in s.split())
# "Surname, Given" where the surname does not itself look like PubMed's "Surname INITIALS":
# two such parts ("Smith J, Doe J") are by design read as two PubMed-style names.
_names = st.builds(lambda last, given: f"{last}, {given}",
                   _name_part.filter(lambda s: not _INITIALS_NAME.match(s)), _name_part)
_records = st.builds(
    lambda i, title, authors, year, journal, doi: Record(
        source="x", source_id=str(i), title=title, authors=authors, year=year, journal=journal,
        doi=doi),
    st.integers(1, 10**6), _text, st.lists(_names, max_size=4, unique=True),
    st.one_of(st.none(), st.integers(1900, 2025)), st.one_of(st.none(), _text),
    st.one_of(st.none(), st.from_regex(r"10\.\d{4,6}/[a-z0-9.\-]{1,20}", fullmatch=True)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(_records, min_size=1, max_size=5))
@pytest.mark.parametrize("write, read, suffix", [(write_ris, read_ris, ".ris"),
                                                 (write_bibtex, read_bibtex, ".bib"),
                                                 (write_csv, read_csv, ".csv")],
                         ids=["ris", "bibtex", "csv"])
def test_round_trip_of_generated_records(tmp_path, write, read, suffix, records):
    path = tmp_path / f"generated{suffix}"
    write(records, path)
    back = read(path)
    names = ("title", "authors", "year", "journal", "doi")
    assert [fields(r, names) for r in back] == [fields(r, names) for r in records]


def test_bibtex_keeps_latex_special_characters_and_ligature_lookalikes(tmp_path):
    record = Record("x", "1", title=r"Costs of 50% {TAX} \ $5 #1 a_b ~x ^2 -- ``q'' !` ?`",
                    journal="Health & Social Care --- Community",
                    authors=["O'Brien, Ann-Marie", "Johnson & Johnson"])
    write_bibtex([record], tmp_path / "out.bib")
    (back,) = read_bibtex(tmp_path / "out.bib")
    assert (back.title, back.journal, back.authors) == (record.title, record.journal,
                                                        record.authors)


@pytest.mark.parametrize("authors", [["A0, A0 &", "A0, A0"], ["Smith, J %", "Doe, K"],
                                     ["R&D Group", "Doe, K"], ["Lee, A_", "Kim, B#"]])
def test_a_name_ending_in_a_reserved_character_keeps_every_author_through_bibtex(tmp_path,
                                                                                 authors):
    # Found by the property test: an unbraced "\&" before " and " made the reader drop it and
    # fold two authors into one.
    path = tmp_path / "names.bib"
    write_bibtex([Record(source="x", source_id="1", title="T", authors=authors)], path)
    assert read_bibtex(path)[0].authors == authors


def test_ris_writes_an_en_dash_page_range_as_start_and_end_page(tmp_path):
    path = tmp_path / "out.ris"
    write_ris([Record(source="pubmed", source_id="1", title="A study", pages="525–531")], path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert "SP  - 525" in lines and "EP  - 531" in lines
    assert read_file(path, "ris")[0].pages == "525-531"
