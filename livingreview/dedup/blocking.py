"""Blocking: which pairs of records are worth comparing at all.

Every record gets a few blocking keys; two records become a candidate pair when they share a key.
The keys are chosen so that a true duplicate shares at least one of them despite the usual
damage (a typo at either end of the title, a dropped field, a shifted year):

* ``T`` the first 28 letters of the title, ``E`` its last 28 letters;
* ``A`` the first author's surname with the year, and again with the year plus one (online and
  print years differ by one);
* ``P`` volume, first page and the journal's initial;
* ``D``/``M``/``C``/``O`` each identifier (DOI, PMID, PMCID, OpenAlex id).

A key shared by many records (a common opening such as "the effect of") would make the work
quadratic, so within a key records are ordered by title and each is paired only with its
``window`` nearest neighbours (the sorted-neighbourhood method). A key shared by at most
``window + 1`` records gives all its pairs. The work therefore grows linearly with the number of
records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from livingreview.dedup.table import RecordTable

WINDOW = 24
TITLE_KEY_CHARS = 28
MIN_TITLE_KEY_CHARS = 12


def title_order(title: str) -> int:
    """A 64-bit number that sorts like the title's first eight letters."""
    compact = title.replace(" ", "")[:8].encode("ascii", "ignore")
    return int.from_bytes(compact.ljust(8, b"\0"), "big")


def record_keys(table: RecordTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocking entries of a table: (key hash, row, title order), one entry per key of a row."""
    keys: list[str] = []
    rows: list[int] = []
    for row in range(len(table)):
        title = table.title[row].replace(" ", "")
        entries = []
        if len(title) >= MIN_TITLE_KEY_CHARS:
            entries.append("T" + title[:TITLE_KEY_CHARS])
            entries.append("E" + title[-TITLE_KEY_CHARS:])
        elif title:
            entries.append("T" + title)
        surname = table.first_author[row]
        year = int(table.year[row])
        if surname and year:
            entries.append(f"A{surname}|{year}")
            entries.append(f"A{surname}|{year + 1}")
        volume, page = table.volume[row], table.first_page[row]
        if volume and page:
            entries.append(f"P{volume}|{page}|{table.journal[row][:1]}")
        for prefix, column in (("D", table.doi), ("M", table.pmid), ("C", table.pmcid),
                               ("O", table.openalex)):
            if column[row]:
                entries.append(prefix + column[row])
        keys.extend(entries)
        rows.extend([row] * len(entries))
    order = np.fromiter((title_order(t) for t in table.title), dtype=np.uint64,
                        count=len(table))
    row_array = np.asarray(rows, dtype=np.int64)
    return hash_keys(keys), row_array, order[row_array] if len(row_array) else order[:0]


def hash_keys(keys: list[str]) -> np.ndarray:
    """Stable 64-bit hashes of key strings (the same in every process, so they can be saved)."""
    if not keys:
        return np.empty(0, dtype=np.uint64)
    array = np.empty(len(keys), dtype=object)
    array[:] = keys
    return pd.util.hash_array(array, categorize=False)


def sort_entries(hashes: np.ndarray, rows: np.ndarray, order: np.ndarray):
    """Entries sorted by key, then by title within a key."""
    index = np.lexsort((order, hashes))
    return hashes[index], rows[index], order[index]


def unique_pairs(left: np.ndarray, right: np.ndarray, n_right: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (left, right) pairs."""
    if not len(left):
        return left, right
    code = np.unique(left.astype(np.int64) * max(n_right, 1) + right.astype(np.int64))
    return code // max(n_right, 1), code % max(n_right, 1)


def batch_pairs(table: RecordTable, window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs within one table as (earlier row, later row), each pair once."""
    hashes, rows, order = sort_entries(*record_keys(table))
    lefts, rights = [], []
    for distance in range(1, window + 1):
        same = hashes[distance:] == hashes[:-distance]
        if not same.any():
            break
        lefts.append(rows[:-distance][same])
        rights.append(rows[distance:][same])
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    a, b = np.concatenate(lefts), np.concatenate(rights)
    low, high = np.minimum(a, b), np.maximum(a, b)
    keep = low != high
    return unique_pairs(low[keep], high[keep], len(table))


def cross_pairs(
    new_hashes: np.ndarray,
    new_rows: np.ndarray,
    new_order: np.ndarray,
    corpus_hashes: np.ndarray,
    corpus_rows: np.ndarray,
    corpus_order: np.ndarray,
    n_corpus: int,
    window: int = WINDOW,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (new row, corpus row) between new entries and sorted corpus entries.

    For a key the corpus holds at most ``2 * window`` times, every holder is paired; for a larger
    key, the ``window`` holders on either side of the new record's title position.
    """
    if not len(new_hashes) or not len(corpus_hashes):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    start = np.searchsorted(corpus_hashes, new_hashes, side="left")
    stop = np.searchsorted(corpus_hashes, new_hashes, side="right")
    size = stop - start
    found = size > 0
    small = found & (size <= 2 * window)
    lefts, rights = [], []
    # Small blocks: expand every (entry, holder) pair with a repeat/arange trick.
    if small.any():
        counts = size[small]
        entry_rows = np.repeat(new_rows[small], counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        holder = np.repeat(start[small], counts) + offsets
        lefts.append(entry_rows)
        rights.append(corpus_rows[holder])
    for entry in np.flatnonzero(found & ~small):
        lo, hi = start[entry], stop[entry]
        at = lo + np.searchsorted(corpus_order[lo:hi], new_order[entry])
        span = np.arange(max(lo, at - window), min(hi, at + window))
        lefts.append(np.full(len(span), new_rows[entry]))
        rights.append(corpus_rows[span])
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return unique_pairs(np.concatenate(lefts), np.concatenate(rights), n_corpus)
