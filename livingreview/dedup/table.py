"""Records as normalised columns, the form blocking and scoring work on.

Holding one numpy array per field (instead of one object per record) lets scoring run over
millions of pairs with vectorised comparisons, and lets an index be saved and loaded without
pickling.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np

from livingreview.dedup.normalise import (
    author_fields,
    author_words,
    first_page,
    is_letter_bundle,
    issue_part,
    normalise_journal,
    normalise_number,
    normalise_pages,
    normalise_text,
    normalise_title,
    normalise_volume,
    normalise_year,
    notice_kind,
    page_span,
    strip_cited_original,
)
from livingreview.records import Record

_NUMBER = re.compile(r"\d+")
BUILD_SLICE = 100_000
ABSTRACT_CHARS = 250  # enough to tell two abstracts apart, short enough to compare quickly

STRING_COLUMNS = (
    "key", "title", "title_numbers", "notice", "authors", "author_list", "author_words",
    "first_author", "journal", "volume", "number", "issue", "first_page", "page_kind",
    "doi", "pmid", "pmcid", "openalex", "abstract",
)
INT_COLUMNS = (
    "year", "completeness", "page_first", "page_last", "supplement", "author_count",
    "title_length",
)
IDENTIFIERS = ("doi", "pmid", "pmcid", "openalex")
# Columns whose values recur across records (surnames, volumes, page kinds): one shared string
# object per value instead of one per record saves most of their memory in a large corpus.
_REPEATING = frozenset(("title_numbers", "notice", "first_author", "volume", "number", "issue",
                        "first_page", "page_kind"))


def _completeness(record: Record) -> int:
    """How many comparable fields a record fills: the canonical record of a cluster is the fullest."""
    return (
        bool(record.title) + bool(record.authors) + bool(record.year) + bool(record.journal)
        + bool(record.volume) + bool(record.issue) + bool(record.pages) + bool(record.doi)
        + bool(record.pmid) + bool(record.pmcid) + bool(record.openalex_id)
        + bool(record.abstract)
    )


def _normalise_record(key: str, record: Record) -> tuple:
    """One row of a table: the STRING_COLUMNS then the INT_COLUMNS, in their order."""
    title = normalise_title(record.title)
    notice = notice_kind(title) or ("letters" if is_letter_bundle(record.title) else "")
    if notice == "erratum":
        title = strip_cited_original(title)
    authors, raw_authors = author_fields(record.authors)
    pages = normalise_pages(record.pages)
    number = normalise_number(record.issue)
    kind, first, last = page_span(pages)
    volume = record.volume or ""
    supplement = "s" in number or "suppl" in volume.lower()
    return (
        # STRING_COLUMNS
        str(key),
        title,
        "".join(_NUMBER.findall(title)),  # digits run together: "10 000" and "10000" agree
        notice,
        authors,
        raw_authors,
        author_words(raw_authors),
        authors.split(" ", 1)[0],
        normalise_journal(record.journal),
        normalise_volume(volume),
        number,
        issue_part(number),
        first_page(pages),
        kind,
        record.doi or "",
        record.pmid or "",
        record.pmcid or "",
        record.openalex_id or "",
        normalise_text(record.abstract[:ABSTRACT_CHARS]) if record.abstract else "",
        # INT_COLUMNS
        normalise_year(record.year),
        _completeness(record),
        first,
        last,
        int(supplement),
        min(len(record.authors), 8),
        len(title),
    )


@dataclass
class RecordTable:
    """Normalised comparison fields of a sequence of keyed records, one array per field."""

    key: np.ndarray
    title: np.ndarray
    title_numbers: np.ndarray
    notice: np.ndarray
    authors: np.ndarray
    author_list: np.ndarray
    author_words: np.ndarray
    first_author: np.ndarray
    journal: np.ndarray
    volume: np.ndarray
    number: np.ndarray
    issue: np.ndarray
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
    title_length: np.ndarray

    def __len__(self) -> int:
        return len(self.key)

    @classmethod
    def from_records(cls, keyed_records: Iterable[tuple[str, Record]]) -> "RecordTable":
        # A slice at a time: the per-record rows of a million records would cost more memory
        # than the finished columns.
        iterator = iter(keyed_records)
        parts = []
        while True:
            rows = [_normalise_record(key, record)
                    for key, record in itertools.islice(iterator, BUILD_SLICE)]
            if not rows and parts:
                break
            parts.append(cls._from_rows(rows))
            if len(rows) < BUILD_SLICE:
                break
        return parts[0] if len(parts) == 1 else cls.concat(parts)

    @classmethod
    def _from_rows(cls, rows: list[tuple]) -> "RecordTable":
        names = STRING_COLUMNS + INT_COLUMNS
        transposed = list(zip(*rows)) if rows else [() for _ in names]
        arrays = {}
        for name, values in zip(names, transposed):
            if name in INT_COLUMNS:
                arrays[name] = np.asarray(values, dtype=np.int32)
            elif name in _REPEATING:
                arrays[name] = _object_array(list(map(sys.intern, values)))
            else:
                arrays[name] = _object_array(values)
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

    def code(self, name: str) -> np.ndarray:
        """A text column as 64-bit codes (0 for empty), for fast equality tests over pairs.

        Comparing Python strings pair by pair costs a microsecond each; comparing codes is a
        vectorised integer comparison. Codes are Python's string hashes: equal within one
        process (so two tables' codes compare), never saved.
        """
        cache = self.__dict__.setdefault("_codes", {})
        if name not in cache:
            values = getattr(self, name)
            codes = np.fromiter(map(hash, values), dtype=np.int64, count=len(values))
            codes[values == ""] = 0
            cache[name] = codes
        return cache[name]


def _object_array(values: list[str]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array
