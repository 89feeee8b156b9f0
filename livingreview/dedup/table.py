"""Records as normalised columns, the form blocking and scoring work on.

Holding one numpy array per field (instead of one object per record) lets scoring run over
millions of pairs with vectorised comparisons, and lets an index be saved and loaded without
pickling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np

from livingreview.dedup.normalise import (
    author_keys,
    first_page,
    issue_part,
    normalise_author_list,
    normalise_journal,
    normalise_number,
    normalise_pages,
    normalise_title,
    normalise_volume,
    normalise_year,
    notice_kind,
    page_span,
    strip_cited_original,
)
from livingreview.records import Record

_NUMBER = re.compile(r"\d+")
ABSTRACT_CHARS = 400  # enough to tell two abstracts apart, short enough to compare quickly

STRING_COLUMNS = (
    "key", "title", "title_numbers", "notice", "authors", "author_keys", "first_author", "journal", "volume",
    "number", "issue", "pages", "first_page", "page_kind", "doi", "pmid", "pmcid", "openalex",
    "abstract",
)
INT_COLUMNS = (
    "year", "completeness", "page_first", "page_last", "supplement", "author_count",
)
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
    title_numbers: np.ndarray
    notice: np.ndarray
    authors: np.ndarray
    author_keys: np.ndarray
    first_author: np.ndarray
    journal: np.ndarray
    volume: np.ndarray
    number: np.ndarray
    issue: np.ndarray
    pages: np.ndarray
    first_page: np.ndarray
    page_kind: np.ndarray
    doi: np.ndarray
    pmid: np.ndarray
    pmcid: np.ndarray
    openalex: np.ndarray
    abstract: np.ndarray
    year: np.ndarray
    completeness: np.ndarray
    page_first: np.ndarray
    page_last: np.ndarray
    supplement: np.ndarray
    author_count: np.ndarray

    def __len__(self) -> int:
        return len(self.key)

    @classmethod
    def from_records(cls, keyed_records: Iterable[tuple[str, Record]]) -> "RecordTable":
        columns: dict[str, list] = {name: [] for name in STRING_COLUMNS + INT_COLUMNS}
        for key, record in keyed_records:
            title = normalise_title(record.title)
            notice = notice_kind(title)
            if notice == "erratum":
                title = strip_cited_original(title)
            authors = normalise_author_list(record.authors)
            pages = normalise_pages(record.pages)
            number = normalise_number(record.issue)
            kind, first, last = page_span(pages)
            columns["key"].append(str(key))
            columns["title"].append(title)
            columns["notice"].append(notice)
            # digits run together, so that "10 000" and "10000" agree
            columns["title_numbers"].append("".join(_NUMBER.findall(title)))
            columns["authors"].append(authors)
            keys = author_keys(record.authors)
            columns["author_keys"].append(keys)
            columns["author_count"].append(keys.count("|") + 1 if keys else 0)
            columns["first_author"].append(authors.split(" ", 1)[0])
            columns["journal"].append(normalise_journal(record.journal))
            columns["volume"].append(normalise_volume(record.volume))
            columns["number"].append(number)
            columns["issue"].append(issue_part(number))
            supplement = "s" in number or "suppl" in (record.volume or "").lower()
            columns["supplement"].append(int(supplement))
            columns["pages"].append(pages)
            columns["first_page"].append(first_page(pages))
            columns["page_kind"].append(kind)
            columns["page_first"].append(first)
            columns["page_last"].append(last)
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
