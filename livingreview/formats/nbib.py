"""PubMed's MEDLINE format (``.nbib`` from "Send to: Citation manager", or ``.txt`` from
"Save: PubMed format"): read.

The file is split into records at blank lines, and each line is checked to be a ``TAG - value``
line or a six-space continuation, so that an error names its line; each record is then parsed
by Biopython's ``Bio.Medline``. Authors are read in file order from the FAU/AU/CN lines so that
a collective author keeps its place in the list. Fields follow ``sources/pubmed.py`` (full
journal title, MeSH descriptors without qualifiers, Create Date as ``created_date``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from Bio import Medline

from livingreview.errors import InputError
from livingreview.formats.fields import (
    doi_of,
    file_ids,
    finish_record,
    import_source,
    iso_date,
    no_records,
    pages_of,
    pmcid_of,
    record_place,
    unique,
    year_of,
)
from livingreview.formats.text import read_text
from livingreview.records import Record

# Record field -> MEDLINE tags, most trusted first.
NBIB_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("TI", "BTI", "TT"),
    "abstract": ("AB",),
    "year": ("DP",),
    "journal": ("JT", "TA"),
    "volume": ("VI",),
    "issue": ("IP",),
    "pages": ("PG",),
    "created_date": ("CRDT", "EDAT"),
}
_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]{0,3}) {0,3}-( |$)")
_TYPED_ID = re.compile(r"(\S+)\s+\[(\w+)\]")


@dataclass
class _RawRecord:
    number: int
    line: int
    lines: list[str]


def looks_like_medline(text: str) -> bool:
    """True when the first tag line of ``text`` is ``PMID- `` (how every PubMed export starts)."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    return first.startswith("PMID-")


def split_records(text: str, path: str | Path) -> list[_RawRecord]:
    records: list[_RawRecord] = []
    current: _RawRecord | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            if current is not None:
                records.append(current)
                current = None
            continue
        if line.startswith("      "):
            if current is None:
                raise InputError(str(path), f"line {number}", "a continuation line (six spaces) "
                                 "stands before any tag line of its record",
                                 "remove the blank line above it, or export the file again")
        elif not _TAG_LINE.match(line):
            raise InputError(str(path), f"line {number}", f"{line.strip()[:60]!r} is neither a "
                             "'TAG - value' line nor a continuation line (six spaces)",
                             "keep PubMed's layout: the tag padded to four characters, '- ', then "
                             "the value; export the file again from PubMed if it was edited")
        if current is None:
            current = _RawRecord(len(records) + 1, number, [])
        current.lines.append(line + "\n")
    if current is not None:
        records.append(current)
    if not records:
        raise no_records(path, "the file is empty",
                         "export from PubMed with 'Send to: Citation manager' (.nbib)")
    return records


def _authors(lines: list[str]) -> list[str]:
    """FAU (full name) where given, else AU, and CN (collective names), in the order printed."""
    names: list[str] = []
    paired = False  # an AU right after its FAU is the same person, abbreviated
    for line in lines:
        tag = line[:4].strip()
        value = line[6:].strip()
        if tag == "FAU":
            names.append(value)
            paired = True
        elif tag == "AU":
            if not paired:
                names.append(value)
            paired = False
        elif tag == "CN":
            names.append(value)
            paired = False
    return unique(names)


def _first(fields: dict, field: str) -> str | None:
    for tag in NBIB_ALIASES[field]:
        value = fields.get(tag)
        if isinstance(value, list):
            value = next((v for v in value if v and v.strip()), None)
        if value and value.strip():
            return value.strip()
    return None


def _typed_ids(fields: dict) -> dict[str, str]:
    """``LID``/``AID`` values by their bracketed type: ``10.1200/JCO.2012.44.6112 [doi]``."""
    ids: dict[str, str] = {}
    for tag in ("LID", "AID"):
        values = fields.get(tag) or []
        # Bio.Medline joins repeated LID lines into one string: read every "value [type]" in it.
        for value in values if isinstance(values, list) else [values]:
            for found, kind in _TYPED_ID.findall(value):
                ids.setdefault(kind.lower(), found)
    return ids


def _language(codes: list[str]) -> str | None:
    codes = [c.strip() for c in codes if c.strip()]
    return "eng" if "eng" in codes else (codes[0] if codes else None)


def _mesh(headings: list[str]) -> list[str]:
    # "Peer Group/*psychology" -> "Peer Group": descriptors only, as sources/pubmed.py keeps them.
    return unique(h.split("/")[0].lstrip("*").strip() for h in headings)


def to_records(raw_records: list[_RawRecord], path: str | Path) -> list[Record]:
    source = import_source("nbib", path)
    parsed = [next(Medline.parse(raw.lines)) for raw in raw_records]
    ids = file_ids([fields.get("PMID") for fields in parsed])
    records = []
    for raw, fields, source_id in zip(raw_records, parsed, ids):
        pmid = (fields.get("PMID") or "").strip()
        place = record_place(raw.number, pmid or None, raw.line)
        if not pmid:
            raise InputError(str(path), place, "the record has no PMID line",
                             "every PubMed record starts with 'PMID- <number>'; export the "
                             "records from PubMed again")
        if not pmid.isdigit():
            raise InputError(str(path), place, f"PMID {pmid!r} is not a PubMed id",
                             "a PMID is a number such as 23435529; export the record again")
        typed = _typed_ids(fields)
        records.append(finish_record(dict(
            source=source,
            source_id=source_id,
            title=_first(fields, "title"),
            abstract=_first(fields, "abstract"),
            authors=_authors(raw.lines),
            year=year_of(_first(fields, "year"), path=path, place=place, field="DP"),
            journal=_first(fields, "journal"),
            volume=_first(fields, "volume"),
            issue=_first(fields, "issue"),
            pages=pages_of(_first(fields, "pages")),
            doi=doi_of(typed.get("doi"), path=path, place=place, field="LID/AID [doi]"),
            pmid=pmid,
            pmcid=pmcid_of(fields.get("PMC"), path=path, place=place, field="PMC"),
            publication_types=unique(fields.get("PT", [])),
            language=_language(fields.get("LA", [])),
            keywords=unique(fields.get("OT", [])),
            mesh_terms=_mesh(fields.get("MH", [])),
            created_date=iso_date(_first(fields, "created_date")),
            url=f"https://pubmed.ncbi.nlm.nih.gov/{int(pmid)}/",
        ), path=path, place=place))
    return records


def read_nbib(path: str | Path) -> list[Record]:
    """Records from a PubMed MEDLINE-format file; a record without a PMID is an InputError."""
    text = read_text(path).text
    if text.strip() and not re.search(r"^PMID-", text, re.M):
        raise InputError(str(path), "file", "this is not PubMed's MEDLINE format (no line starts "
                         "with 'PMID- ')", "export from PubMed with 'Send to: Citation manager' "
                         "(.nbib), or give the file's real --format")
    return to_records(split_records(text, path), path)
