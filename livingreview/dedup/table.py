"""Records as normalised columns, the form blocking and scoring work on.

Holding one numpy array per field (instead of one object per record) lets scoring run over
millions of pairs with vectorised comparisons, and lets an index be saved and loaded without
pickling.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np

from livingreview.dedup.normalise import (
    first_page,
    normalise_author_list,
    normalise_journal,
    normalise_number,
    normalise_pages,
    normalise_title,
    normalise_volume,
    normalise_year,
    notice_kind,
)
from livingreview.records import Record

ABSTRACT_CHARS = 400  # enough to tell two abstracts apart, short enough to compare quickly

STRING_COLUMNS = (
    "key", "title", "notice", "authors", "first_author", "journal", "volume", "number",
    "pages", "first_page", "doi", "pmid", "pmcid", "openalex", "abstract",
)
INT_COLUMNS = ("year", "completeness")
IDENTIFIERS = ("doi", "pmid", "pmcid", "openalex")


def _completeness(record: Record) -> int:
    """How many comparable fields a record fills: the canonical record of a cluster is the fullest."""
    return sum(
        bool(value)
        for value in (
            record.title, record.authors, record.year, record.journal, record.volume,
            record.issue, record.pages, record.doi, record.pmid, record.pmcid,
            record.openalex_id, record.abstract,
        )
    )


@dataclass
class RecordTable:
    """Normalised comparison fields of a sequence of keyed records, one array per field."""

    key: np.ndarray
    title: np.ndarray
    notice: np.ndarray
    authors: np.ndarray
    first_author: np.ndarray
    journal: np.ndarray
    volume: np.ndarray
    number: np.ndarray
    pages: np.ndarray
    first_page: np.ndarray
    doi: np.ndarray
    pmid: np.ndarray
    pmcid: np.ndarray
    openalex: np.ndarray
    abstract: np.ndarray
    year: np.ndarray
    completeness: np.ndarray

    def __len__(self) -> int:
        return len(self.key)

    @classmethod
    def from_records(cls, keyed_records: Iterable[tuple[str, Record]]) -> "RecordTable":
        columns: dict[str, list] = {name: [] for name in STRING_COLUMNS + INT_COLUMNS}
        for key, record in keyed_records:
            title = normalise_title(record.title)
            authors = normalise_author_list(record.authors)
            pages = normalise_pages(record.pages)
            columns["key"].append(str(key))
            columns["title"].append(title)
            columns["notice"].append(notice_kind(title))
            columns["authors"].append(authors)
            columns["first_author"].append(authors.split(" ", 1)[0])
            columns["journal"].append(normalise_journal(record.journal))
            columns["volume"].append(normalise_volume(record.volume))
            columns["number"].append(normalise_number(record.issue))
            columns["pages"].append(pages)
            columns["first_page"].append(first_page(pages))
            columns["doi"].append(record.doi or "")
            columns["pmid"].append(record.pmid or "")
            columns["pmcid"].append(record.pmcid or "")
            columns["openalex"].append(record.openalex_id or "")
            columns["abstract"].append(
                normalise_title(record.abstract[:ABSTRACT_CHARS]) if record.abstract else ""
            )
            columns["year"].append(normalise_year(record.year))
            columns["completeness"].append(_completeness(record))
        arrays = {name: _object_array(columns[name]) for name in STRING_COLUMNS}
        arrays.update({name: np.asarray(columns[name], dtype=np.int32) for name in INT_COLUMNS})
        return cls(**arrays)

    @classmethod
    def empty(cls) -> "RecordTable":
        return cls.from_records([])

    def take(self, rows: np.ndarray) -> "RecordTable":
        """The sub-table of the given row positions."""
        return RecordTable(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @classmethod
    def concat(cls, tables: list["RecordTable"]) -> "RecordTable":
        return cls(**{
            f.name: np.concatenate([getattr(t, f.name) for t in tables]) for f in fields(cls)
        })

    def columns(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _object_array(values: list[str]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array
