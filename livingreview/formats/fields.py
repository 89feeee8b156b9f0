"""Field cleaning shared by the file readers: years, authors, pages, labelled identifiers, the
checks every imported record must pass, and the provenance name of an imported file.

Each reader follows ASReview's read -> clean -> to_records: it reads the file into raw
per-record values, picks fields through its own declarative alias table, and hands the picked
values to ``finish_record``, which applies the rules below in one place.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from livingreview.errors import InputError
from livingreview.records import Record, normalise_doi, normalise_pmcid, normalise_pmid

FORMAT_NAMES = ("ris", "bibtex", "nbib", "csv")
SOURCE_MAX = 40  # StoredRecord.origin and SourceHit.source are String(40)

# Values that spreadsheets and reference managers put in an empty identifier cell.
_PLACEHOLDERS = {"", "-", "--", "n/a", "na", "none", "null", "nan", "not available", "unknown"}
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_PMID_LABEL = re.compile(r"\b(?:PMID|PubMed\s*ID|PubMed)\s*[:=]?\s*(\d{1,9})\b", re.I)
_PMCID_LABEL = re.compile(r"\b(?:PMCID\s*[:=]?\s*)?(PMC\d+)\b", re.I)
_PUBMED_URL = re.compile(r"pubmed\.ncbi\.nlm\.nih\.gov/(\d+)|ncbi\.nlm\.nih\.gov/pubmed/(\d+)", re.I)
_DOI_IN_TEXT = re.compile(r"\b(10\.\d{4,9}/\S+)")
# "Smith J" / "van der Berg PA" / "Ness O." : the PubMed CSV export's comma-separated names.
_INITIALS_NAME = re.compile(r"^\S.*\s[A-Z\u00C0-\u00DE]{1,4}\.?$")


def import_source(fmt: str, path: str | Path) -> str:
    """``import:<fmt>:<file name>``, shortened with a hash of the name to fit the store's column."""
    name = Path(path).name
    source = f"import:{fmt}:{name}"
    if len(source) <= SOURCE_MAX:
        return source
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    keep = SOURCE_MAX - len(f"import:{fmt}:") - len(digest) - 1
    return f"import:{fmt}:{name[:keep]}~{digest}"


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def year_of(value: Any, *, path: str | Path, place: str, field: str) -> int | None:
    """The four-digit year in ``value`` (``2016``, ``2016///``, ``2016 May``, ``2016-05-01``).

    Raises InputError for a value that holds no plausible year: a wrong year would silently
    move a study out of the review's time window.
    """
    if blank(value):
        return None
    text = str(value).strip()
    found = _YEAR.search(text)
    latest = date.today().year + 2
    if found is None or not 1500 <= int(found.group(1)) <= latest:
        raise InputError(str(path), place, f"{field} {text!r} is not a year",
                         f"write a four-digit year between 1500 and {latest} in {field}, or leave "
                         "it empty")
    return int(found.group(1))


def iso_date(value: Any) -> str | None:
    """``2016/02/24``, ``2016-02-24`` or ``2013/02/26 06:00`` as ``2016-02-24``; else None."""
    found = re.match(r"\s*(\d{4})[/-](\d{1,2})[/-](\d{1,2})", "" if blank(value) else str(value))
    if not found:
        return None
    year, month, day = (int(g) for g in found.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _pmid_text(value: str) -> str | None:
    # A spreadsheet that stored the PMID as a number writes it as "26905183.0".
    return normalise_pmid(value[:-2] if re.fullmatch(r"\d+\.0", value) else value)


# Identifier kind -> (normaliser, what it is called, an example), for explicit identifier fields.
_IDENTIFIER_RULES = {
    "doi": (normalise_doi, "a DOI", "a DOI looks like 10.1007/s40596-016-0533-z"),
    "pmid": (_pmid_text, "a PubMed id", "a PMID is a number such as 26905183"),
    "pmcid": (normalise_pmcid, "a PMC id", "a PMCID looks like PMC8561171"),
}


def identifier_of(kind: str, value: Any, *, path: str | Path, place: str,
                  field: str) -> str | None:
    """An explicit DOI/PMID/PMCID field's value, normalised. Empty cells and placeholders
    (``n/a``, ``-``) give None; anything else that is not that identifier is an error, because
    a wrong identifier would match the wrong study."""
    if blank(value) or str(value).strip().lower() in _PLACEHOLDERS:
        return None
    normalise, name, example = _IDENTIFIER_RULES[kind]
    text = str(value).strip()
    found = normalise(text)
    if found is None:
        raise InputError(str(path), place, f"{field} {text!r} is not {name}",
                         f"correct it ({example}) or empty {field}")
    return found


def doi_of(value: Any, *, path: str | Path, place: str, field: str) -> str | None:
    return identifier_of("doi", value, path=path, place=place, field=field)


def pmid_of(value: Any, *, path: str | Path, place: str, field: str) -> str | None:
    return identifier_of("pmid", value, path=path, place=place, field=field)


def pmcid_of(value: Any, *, path: str | Path, place: str, field: str) -> str | None:
    return identifier_of("pmcid", value, path=path, place=place, field=field)


def labelled_pmid(values: Iterable[Any]) -> str | None:
    """A PMID written with its label in a free-text field (``PMID: 123``) or as a PubMed URL."""
    for value in values:
        if blank(value):
            continue
        text = str(value)
        found = _PUBMED_URL.search(text) or _PMID_LABEL.search(text)
        if found:
            return normalise_pmid(next(g for g in found.groups() if g))
    return None


def labelled_pmcid(values: Iterable[Any]) -> str | None:
    for value in values:
        if not blank(value) and (found := _PMCID_LABEL.search(str(value))):
            return normalise_pmcid(found.group(1))
    return None


def doi_in_text(values: Iterable[Any]) -> str | None:
    """A DOI inside a URL or note (``https://doi.org/10...``), for files with no DOI field."""
    for value in values:
        if not blank(value) and (found := _DOI_IN_TEXT.search(str(value))):
            doi = normalise_doi(found.group(1))
            if doi:
                return doi
    return None


def split_authors(text: Any) -> list[str]:
    """One author string split into names: on ``;``, else on `` and ``, then PubMed-CSV commas.

    ``"Smith, John; Doe, Jane"``, ``"Smith, J. and Doe, J."`` and ``"Smith J, Doe J."`` all
    give two names; ``"Smith, John"`` stays one.
    """
    if blank(text):
        return []
    value = str(text).strip()
    parts = value.split(";") if ";" in value else re.split(r"\s+and\s+", value)
    names: list[str] = []
    for part in (p.strip() for p in parts):
        pieces = [p.strip() for p in part.split(",")]
        if len(pieces) > 1 and all(_INITIALS_NAME.match(p) for p in pieces if p):
            if not pieces[0].endswith("."):
                # PubMed's export ends the list with a full stop that belongs to no initial.
                pieces[-1] = pieces[-1].removesuffix(".")
            names += pieces
        else:
            names.append(part)
    return [n for n in names if n]


def split_list(text: Any, separators: str = ";") -> list[str]:
    if blank(text):
        return []
    return [p.strip() for p in re.split(f"[{re.escape(separators)}]", str(text)) if p.strip()]


def pages_of(start: Any, end: Any = None) -> str | None:
    """``"475-480"`` from a start and end page, or from one field written with any dash."""
    first = None if blank(start) else re.sub(r"\s*(?:--|[\u2010-\u2015\u2212])\s*", "-",
                                             str(start).strip())
    last = None if blank(end) else str(end).strip()
    if first and last and "-" not in first and last != first:
        return f"{first}-{last}"
    return first or last


def unique(values: Iterable[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if not blank(value):
            seen.setdefault(str(value).strip(), None)
    return list(seen)


def file_ids(ids: list[str | None], positions: list[int] | None = None) -> list[str]:
    """Source ids for a file's records: their own ids when every record has a distinct one,
    otherwise their positions, 1-based unless given (a file's ids must be unique and stable to
    re-import)."""
    cleaned = [None if blank(i) else str(i).strip() for i in ids]
    if all(cleaned) and len(set(cleaned)) == len(cleaned):
        return [str(i) for i in cleaned]
    return [str(n) for n in (positions or range(1, len(ids) + 1))]


def record_place(number: int, record_id: str | None = None, line: int | None = None, *,
                 unit: str = "record") -> str:
    """``record 3 (id smith2016, line 41)``: how errors point into a file."""
    details = [f"id {record_id}"] if record_id else []
    details += [f"line {line}"] if line else []
    return f"{unit} {number}" + (f" ({', '.join(details)})" if details else "")


def finish_record(values: dict[str, Any], *, path: str | Path, place: str) -> Record:
    """Build the Record and apply the rules every imported record must pass.

    A record with neither a title nor an identifier (DOI, PMID, PMCID, OpenAlex id) cannot be
    screened or matched to anything, so it is an error, not a silent drop.
    """
    record = Record(**values)
    if not record.title and not (record.doi or record.pmid or record.pmcid or record.openalex_id):
        raise InputError(str(path), place, "the record has no title and no identifier "
                         "(DOI, PMID or PMCID)",
                         "add its title or DOI in the reference manager and export again, or "
                         "delete the empty record")
    return record


def no_records(path: str | Path, what: str, fix: str) -> InputError:
    return InputError(str(path), "file", f"no records found ({what})", fix)
