"""RIS (EndNote, Zotero, Mendeley, Scopus, Web of Science, Ovid, EBSCO exports): read and write.

Reading is read -> clean -> to_records. The file is first split into records by its ``TY`` and
``ER`` lines, which is where malformed exports go wrong, so that an error can name the line;
each record's lines are then parsed by ``rispy``, keeping the RIS tags as keys so that the alias
table below speaks the tags users see in their files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rispy
from rispy.config import LIST_TYPE_TAGS

from livingreview.errors import InputError
from livingreview.formats.fields import (
    doi_in_text,
    doi_of,
    file_ids,
    finish_record,
    import_source,
    labelled_pmcid,
    labelled_pmid,
    no_records,
    pages_of,
    record_place,
    split_list,
    unique,
    year_of,
)
from livingreview.formats.text import read_text
from livingreview.records import Record, normalise_pmid

# Record field -> RIS tags, most trusted first. Full journal names come before abbreviations;
# T2 is the container title in EndNote, Zotero, Scopus and Web of Science exports.
RIS_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("TI", "T1"),
    "abstract": ("AB", "N2"),
    "authors": ("AU", "A1"),
    "year": ("PY", "Y1", "DA"),
    "journal": ("JF", "T2", "JO", "JA", "J2"),
    "volume": ("VL",),
    "issue": ("IS",),
    "start_page": ("SP",),
    "end_page": ("EP",),
    "doi": ("DO",),
    "language": ("LA",),
    "keywords": ("KW",),
    "url": ("UR",),
    "id": ("ID",),
}
# Where exports put PubMed ids: AN (accession number: the PMID in Ovid/PubMed-derived files),
# or labelled ("PMID: 123") in a custom or note field; EndNote puts the PMCID in C2.
PMID_TAGS = ("AN", "C1", "ID", "N1", "M1", "UR")
PMCID_TAGS = ("C2", "C1", "N1", "M1")

# RIS reference types as publication types (PubMed's names where PubMed has one).
TYPES: dict[str, str] = {
    "JOUR": "Journal Article", "JFULL": "Journal Article", "EJOUR": "Journal Article",
    "ABST": "Abstract", "BOOK": "Book", "EBOOK": "Book", "EDBOOK": "Book",
    "CHAP": "Book Chapter", "ECHAP": "Book Chapter", "CONF": "Conference Proceedings",
    "CPAPER": "Conference Paper", "THES": "Thesis", "RPRT": "Report",
    "GOVDOC": "Government Document", "NEWS": "Newspaper Article", "MGZN": "Magazine Article",
    "ELEC": "Web Page", "DATA": "Dataset", "PREPRINT": "Preprint",
}
_TYPE_CODES = {name: code for code, name in reversed(list(TYPES.items()))}

_LAYOUT_FIX = "each line must read 'XX  - value' (tag, two spaces, hyphen, space); a record starts " \
              "with 'TY  - ' and ends with 'ER  - '"


class _Tags(dict):
    """A rispy mapping under which every tag is its own key: records come back keyed by tag."""

    def __missing__(self, key: str) -> str:
        return key


@dataclass
class _RawRecord:
    number: int  # 1-based position in the file
    line: int  # line of its TY
    lines: list[str]


def _tag(line: str) -> str | None:
    # rispy's own test for a tag line, so the split agrees with what rispy parses.
    if line[2:5] == "  -" and line[:2].isupper() and line[:1].isalpha():
        return line[:2]
    return None


def split_records(text: str, path: str | Path) -> list[_RawRecord]:
    """The file's records as lists of lines, checking that every record has its TY and ER."""
    records: list[_RawRecord] = []
    current: _RawRecord | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        tag = _tag(line)
        if current is None:
            if tag == "TY":
                current = _RawRecord(len(records) + 1, number, [line])
            elif tag is not None:
                where = "after the ER line of the previous record" if records else \
                    "before the first TY line"
                raise InputError(str(path), f"line {number}",
                                 f"tag {tag} stands outside a record ({where}); the record "
                                 "probably lost its 'TY  - ' line", _LAYOUT_FIX)
            elif line.lstrip().startswith("TY") and "-" in line[:8]:
                raise InputError(str(path), f"line {number}", f"{line.strip()!r} is not in the "
                                 "RIS layout", _LAYOUT_FIX)
            continue  # blank lines and export headers between records
        if tag == "TY":
            raise InputError(str(path), record_place(current.number, line=current.line),
                             f"the record has no ER line before the next record starts at line "
                             f"{number}", "end every record with a line 'ER  - '")
        current.lines.append(line)
        if tag == "ER":
            records.append(current)
            current = None
    if current is not None:
        raise InputError(str(path), record_place(current.number, line=current.line),
                         "the file ends inside this record (no ER line)",
                         "end every record with a line 'ER  - ' (the export may be truncated: "
                         "export it again)")
    if not records:
        raise no_records(path, "no line starts with 'TY  - '",
                         "export the references as RIS, or give the right --format")
    return records


def read_data(path: str | Path) -> list[tuple[_RawRecord, dict[str, Any]]]:
    """Each record with its tags and values as rispy parsed them (lists for repeated tags)."""
    # rispy's default delimiter mapping splits "UR  - a; b" into two URLs.
    parser = rispy.RisParser(mapping=_Tags(), list_tags=[*LIST_TYPE_TAGS, "AN", "C1", "C2"])
    found = []
    for raw in split_records(read_text(path).text, path):
        try:
            parsed = parser.parse_lines(iter(raw.lines))
        except Exception as exc:  # noqa: BLE001 (rispy raises KeyError/IndexError on odd lines)
            raise InputError(str(path), record_place(raw.number, line=raw.line),
                             f"rispy cannot parse this record ({type(exc).__name__}: {exc}); "
                             "a line in it is not 'XX  - value' or holds control characters",
                             _LAYOUT_FIX) from None
        found.append((raw, parsed[0] if parsed else {"TY": ""}))
    return found


def _values(entry: dict[str, Any], *tags: str) -> list[str]:
    values: list[str] = []
    for tag in tags:
        value = entry.get(tag)
        items = value if isinstance(value, list) else [value]
        values += [str(v).strip() for v in items if v is not None and str(v).strip()]
    return values


def _first(entry: dict[str, Any], field: str) -> str | None:
    values = _values(entry, *RIS_ALIASES[field])
    return values[0] if values else None


def _pmid(entry: dict[str, Any]) -> str | None:
    for accession in _values(entry, "AN"):
        # Only short bare numbers: Embase and PsycINFO accession numbers are longer or dashed.
        if accession.isdigit() and len(accession) <= 8:
            return normalise_pmid(accession)
    return labelled_pmid(_values(entry, *PMID_TAGS))


def _pmcid(entry: dict[str, Any]) -> str | None:
    return labelled_pmcid(_values(entry, *PMCID_TAGS))


def to_records(found: list[tuple[_RawRecord, dict[str, Any]]], path: str | Path) -> list[Record]:
    source = import_source("ris", path)
    ids = file_ids([_first(entry, "id") for _, entry in found])
    records = []
    for (raw, entry), source_id in zip(found, ids):
        place = record_place(raw.number, _first(entry, "id"), raw.line)
        kind = (_values(entry, "TY") or [""])[0].upper()
        keywords = _values(entry, "KW")
        if len(keywords) == 1 and ";" in keywords[0]:
            keywords = split_list(keywords[0])  # some exports put all keywords on one KW line
        year_field = next((t for t in RIS_ALIASES["year"] if _values(entry, t)), "PY")
        records.append(finish_record(dict(
            source=source,
            source_id=source_id,
            title=_first(entry, "title"),
            abstract=_first(entry, "abstract"),
            authors=unique(_values(entry, *RIS_ALIASES["authors"])),
            year=year_of(_first(entry, "year"), path=path, place=place, field=year_field),
            journal=_first(entry, "journal"),
            volume=_first(entry, "volume"),
            issue=_first(entry, "issue"),
            pages=pages_of(_first(entry, "start_page"), _first(entry, "end_page")),
            doi=doi_of(_first(entry, "doi"), path=path, place=place, field="DO")
            or doi_in_text(_values(entry, "UR")),
            pmid=_pmid(entry),
            pmcid=_pmcid(entry),
            publication_types=[TYPES.get(kind, kind)] if kind and kind != "GEN" else [],
            language=_first(entry, "language"),
            keywords=unique(keywords),
            url=_first(entry, "url"),
        ), path=path, place=place))
    return records


def read_ris(path: str | Path) -> list[Record]:
    """Records from a RIS file; a malformed file raises InputError naming the line or record."""
    return to_records(read_data(path), path)


class _Writer(rispy.RisWriter):
    def set_header(self, count: int) -> str:
        return ""  # rispy numbers records ("1.") by default; EndNote shows that as junk


def ris_entry(record: Record) -> dict[str, Any]:
    """One record as rispy's named RIS fields (TY, ID, TI, AU, PY, T2, VL, IS, SP, EP, DO, AN...)."""
    code = next((_TYPE_CODES[t] for t in record.publication_types if t in _TYPE_CODES), "JOUR")
    entry: dict[str, Any] = {"type_of_reference": code, "id": record.source_id,
                             "title": record.title, "authors": list(record.authors)}
    if record.year is not None:
        entry["year"] = str(record.year)
    # Publishers write page ranges with en or em dashes too ("525–531"): SP and EP either way.
    start, _, end = re.sub(r"\s*[\u2010-\u2015\u2212]\s*", "-", record.pages or "").partition("-")
    start, end = start.strip(), end.strip()
    entry.update({
        "secondary_title": record.journal, "volume": record.volume, "number": record.issue,
        "start_page": start or None, "end_page": end or None, "abstract": record.abstract,
        "doi": record.doi, "accession_number": record.pmid, "custom2": record.pmcid,
        "language": record.language, "keywords": list(record.keywords),
        "urls": [record.url] if record.url else [],
    })
    return {k: v for k, v in entry.items() if v not in (None, "", [])}


def write_ris(records: list[Record], path: str | Path) -> None:
    """Write records as RIS (UTF-8) for EndNote, Zotero or Mendeley; ``read_ris`` reads it back.

    The PMID goes in AN (EndNote's PubMed convention) and the PMCID in C2; publication types other
    than the reference type, MeSH terms and the OpenAlex id have no RIS tag and are left out.
    """
    text = rispy.dumps([ris_entry(r) for r in records], implementation=_Writer)
    Path(path).write_text(text, encoding="utf-8")
