"""CSV (spreadsheets; PubMed, Zotero, Scopus, ASReview-style exports): read and write.

Columns are found through a declarative alias table, compared case-, space- and
punctuation-insensitively (``Publication Year``, ``publication_year`` and ``PY`` all mean the
year). The delimiter is taken from the header line (comma, semicolon as European Excel writes,
or tab). Every cell is read as text, so PMIDs and years keep their exact digits.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

from livingreview.errors import InputError
from livingreview.formats.fields import (
    doi_of,
    file_ids,
    finish_record,
    import_source,
    iso_date,
    labelled_pmid,
    no_records,
    pages_of,
    pmcid_of,
    pmid_of,
    record_place,
    split_authors,
    split_list,
    unique,
    year_of,
)
from livingreview.formats.text import read_text
from livingreview.records import Record

# Record field -> accepted column names (after normalising: lower case, runs of spaces, hyphens,
# underscores and dots become "_"), most trusted first.
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("record_id", "id", "key", "ref_id", "study_id", "citation_key"),
    "title": ("title", "primary_title", "ti", "article_title", "document_title", "t1"),
    "abstract": ("abstract", "ab", "abstract_note", "notes_abstract", "n2"),
    "authors": ("authors", "author", "au", "author_names", "first_authors", "author_full_names"),
    "year": ("year", "publication_year", "py", "pub_year", "publication_date", "date"),
    "journal": ("journal", "source", "container_title", "source_title", "journal_title",
                "publication_title", "journal/book", "secondary_title", "jo", "t2"),
    "volume": ("volume", "vl"),
    "issue": ("issue", "number", "is"),
    "pages": ("pages", "page", "pg", "page_range"),
    "doi": ("doi", "do"),
    "pmid": ("pmid", "pubmed_id", "pmid_number"),
    "pmcid": ("pmcid", "pmc", "pmc_id"),
    "openalex_id": ("openalex_id", "openalex"),
    "publication_types": ("publication_types", "publication_type", "document_type", "pt"),
    "language": ("language", "la", "language_of_original_document"),
    "keywords": ("keywords", "kw", "author_keywords", "manual_tags"),
    "mesh_terms": ("mesh_terms", "mesh", "mh"),
    "created_date": ("created_date", "create_date"),
    "url": ("url", "ur", "link"),
    "notes": ("extra", "notes", "note"),
}
LIST_SEPARATORS = ";|"


def column_key(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "_", str(name).strip().lower()).strip("_")


def _delimiter(text: str) -> str:
    header = next((line for line in text.split("\n") if line.strip()), "")
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_data(path: str | Path) -> pd.DataFrame:
    text = read_text(path).text
    if not text.strip():
        raise no_records(path, "the file is empty", "export the references as CSV with a header "
                         "row")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=_delimiter(text), dtype=str,
                            keep_default_na=False, skip_blank_lines=True, quotechar='"')
    except (pd.errors.ParserError, csv.Error) as exc:
        message = re.sub(r"\s+", " ", str(exc)).strip()
        found = re.search(r"line (\d+)", message)
        raise InputError(str(path), f"line {found.group(1)}" if found else "file",
                         f"the CSV cannot be parsed: {message}",
                         "every row needs as many cells as the header; a cell holding a comma "
                         "or line break must be in double quotes (save again from the "
                         "spreadsheet as CSV)") from None
    return frame


def columns_for(frame: pd.DataFrame, path: str | Path) -> dict[str, str]:
    """Record field -> the file's column, via the alias table; a title column is required."""
    by_key: dict[str, str] = {}
    for column in frame.columns:
        by_key.setdefault(column_key(column), column)
    chosen = {field: next((by_key[a] for a in aliases if a in by_key), None)
              for field, aliases in CSV_ALIASES.items()}
    if chosen["title"] is None:
        raise InputError(str(path), "header row",
                         f"no title column (the columns are: {', '.join(map(str, frame.columns))})",
                         f"name the title column one of: {', '.join(CSV_ALIASES['title'])} "
                         "(any capitals)")
    return {field: column for field, column in chosen.items() if column is not None}


def to_records(frame: pd.DataFrame, path: str | Path) -> list[Record]:
    columns = columns_for(frame, path)
    source = import_source("csv", path)
    # Rows with every cell empty are not records (spreadsheets leave them at the end of a sheet).
    rows = [(number, row) for number, row in enumerate(frame.to_dict("records"), start=1)
            if any(isinstance(v, str) and v.strip() for v in row.values())]
    if not rows:
        raise no_records(path, "the header row has no rows under it",
                         "export the references again, with their rows")

    def cell(row: dict[str, Any], field: str) -> str | None:
        column = columns.get(field)
        value = row.get(column) if column else None
        return value.strip() if isinstance(value, str) and value.strip() else None

    ids = file_ids([cell(row, "id") for _, row in rows], [number for number, _ in rows])
    records = []
    for (number, row), source_id in zip(rows, ids):
        # Rows are numbered as a spreadsheet shows them: the header is row 1.
        place = record_place(number + 1, cell(row, "id"), unit="row")

        def field_name(field: str) -> str:
            return f"column {columns.get(field, field)!r}"

        records.append(finish_record(dict(
            source=source,
            source_id=source_id,
            title=cell(row, "title"),
            abstract=cell(row, "abstract"),
            authors=unique(split_authors(cell(row, "authors"))),
            year=year_of(cell(row, "year"), path=path, place=place, field=field_name("year")),
            journal=cell(row, "journal"),
            volume=cell(row, "volume"),
            issue=cell(row, "issue"),
            pages=pages_of(cell(row, "pages")),
            doi=doi_of(cell(row, "doi"), path=path, place=place, field=field_name("doi")),
            pmid=pmid_of(cell(row, "pmid"), path=path, place=place, field=field_name("pmid"))
            or labelled_pmid([cell(row, "notes")]),
            pmcid=pmcid_of(cell(row, "pmcid"), path=path, place=place, field=field_name("pmcid")),
            openalex_id=cell(row, "openalex_id"),
            publication_types=unique(split_list(cell(row, "publication_types"), LIST_SEPARATORS)),
            language=cell(row, "language"),
            keywords=unique(split_list(cell(row, "keywords"), LIST_SEPARATORS)),
            mesh_terms=unique(split_list(cell(row, "mesh_terms"), LIST_SEPARATORS)),
            created_date=iso_date(cell(row, "created_date")),
            url=cell(row, "url"),
        ), path=path, place=place))
    return records


def read_csv(path: str | Path) -> list[Record]:
    """Records from a CSV file (UTF-8, UTF-8 with BOM, or Windows/Latin-1 with a warning)."""
    return to_records(read_data(path), path)


CSV_COLUMNS = ("record_id", "source", "title", "abstract", "authors", "year", "journal", "volume",
               "issue", "pages", "doi", "pmid", "pmcid", "openalex_id", "publication_types",
               "language", "keywords", "mesh_terms", "created_date", "url")


def csv_row(record: Record) -> dict[str, Any]:
    data = record.to_dict()
    row = {name: data.get(name) for name in CSV_COLUMNS}
    row["record_id"] = record.source_id
    for name in ("authors", "publication_types", "keywords", "mesh_terms"):
        row[name] = "; ".join(data[name])
    return row


def write_csv(records: list[Record], path: str | Path, *, bom: bool = True) -> None:
    """Write records as CSV, lists joined with ``"; "``; ``read_csv`` reads it back.

    With ``bom`` (the default) the file starts with a UTF-8 byte-order mark, which is what makes
    Excel open accented names correctly; pandas and ``read_csv`` ignore it.
    """
    frame = pd.DataFrame([csv_row(r) for r in records], columns=list(CSV_COLUMNS))
    frame.to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8")
