"""Benchmark record files in, duplicate groups out.

Reads the two record-file layouts deduplication benchmarks use:

* the bib-dedupe layout (``records_pre_merged.csv``): ``ID, title, author, year, journal,
  volume, number, pages`` and optionally ``booktitle, issue, doi, abstract, note``;
* the ASySD layout (``labelled_test_set.csv``): ``record_id, author, title, year, journal,
  abstract, doi, number, pages, volume, isbn``, Latin-1 encoded with mixed line endings.

and writes groups as ``merged_record_ids.csv`` does: a ``merged_ids`` column of ``;``-joined IDs.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from livingreview.dedup.normalise import split_authors
from livingreview.errors import InputError
from livingreview.records import Record, normalise_doi

ID_COLUMNS = ("ID", "record_id")
_DOI_IN_TEXT = re.compile(r"\b10\.\d{4,9}/\S+")


def _decode(path: Path) -> tuple[str, str]:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # ASySD exports are Latin-1/cp1252 (the copyright sign as byte 0xA9).
        return raw.decode("latin-1"), "latin-1"


def read_record_file(path: str | Path) -> list[tuple[str, Record]]:
    """(ID, Record) pairs of a benchmark record file, in file order.

    Raises ``InputError`` naming the file, the place and the fix when the file is missing, has no
    ID column, or repeats an ID.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "path", "no such file", "give the path of a records CSV file")
    text, _encoding = _decode(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    id_column = next((c for c in ID_COLUMNS if c in header), None)
    if id_column is None:
        raise InputError(
            str(path), "header (line 1)",
            f"no ID column (found: {', '.join(header) or 'nothing'})",
            "use the bib-dedupe layout (column ID) or the ASySD layout (column record_id)",
        )
    if "title" not in header:
        raise InputError(str(path), "header (line 1)", "no title column",
                         "add a title column (the records' titles)")
    out: list[tuple[str, Record]] = []
    seen: set[str] = set()
    for line_index, row in enumerate(reader, start=2):
        key = (row.get(id_column) or "").strip()
        place = f"record {len(out) + 1} (row starting near line {line_index})"
        if not key:
            raise InputError(str(path), place, f"empty {id_column}", "give every record an ID")
        if key in seen:
            raise InputError(str(path), place, f"{id_column} {key!r} appears twice",
                             "give every record a unique ID")
        seen.add(key)
        out.append((key, _row_record(row, key, path.name)))
    return out


def _cell(row: dict, *names: str) -> str | None:
    for name in names:
        value = row.get(name)
        if value is not None and str(value).strip() and str(value).strip().lower() != "nan":
            return str(value).strip()
    return None


def _row_record(row: dict, key: str, source: str) -> Record:
    doi = normalise_doi(_cell(row, "doi"))
    if doi is None:
        # Some exports park the DOI in a note or URL field.
        for text in (_cell(row, "note"), _cell(row, "url")):
            found = _DOI_IN_TEXT.search(text or "")
            if found and normalise_doi(found.group(0)):
                doi = normalise_doi(found.group(0))
                break
    year = _cell(row, "year")
    year_match = re.search(r"\d{4}", year or "")
    return Record(
        source=f"file:{source}",
        source_id=key,
        title=_cell(row, "title"),
        abstract=_cell(row, "abstract"),
        authors=split_authors(_cell(row, "author", "authors")),
        year=int(year_match.group(0)) if year_match else None,
        journal=_cell(row, "journal", "booktitle", "secondary_title"),
        volume=_cell(row, "volume"),
        issue=_cell(row, "number", "issue"),
        pages=_cell(row, "pages"),
        doi=doi,
        pmid=_cell(row, "pmid"),
    )


def write_groups(groups: list[list[str]], path: str | Path) -> None:
    """Write duplicate groups as ``merged_ids`` rows of ``;``-joined IDs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["merged_ids"])
        for group in groups:
            writer.writerow([";".join(group)])


def read_groups(path: str | Path) -> list[list[str]]:
    """Groups of a ``merged_record_ids.csv`` file."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        if "merged_ids" not in (reader.fieldnames or []):
            raise InputError(str(path), "header (line 1)", "no merged_ids column",
                             "use the merged_record_ids.csv layout: one merged_ids column")
        return [row["merged_ids"].split(";") for row in reader if row["merged_ids"]]
