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

from livingreview.dedup.table import RecordTable

WINDOW = 10
KEY_SLICE = 200_000
TITLE_KEY_CHARS = 28
MIN_TITLE_KEY_CHARS = 12


def title_order(text: str) -> int:
    """A 64-bit number that sorts like the text's first eight letters."""
    compact = text[:8].encode("ascii", "ignore")
    return int.from_bytes(compact.ljust(8, b"\0"), "big")


def record_keys(table: RecordTable, stable: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocking entries of a table: (key hash, row, order within the key), one per key of a row.

    Within a title-opening key the records are ordered by what follows the opening; within
    every other key by the title's opening, so that neighbours in a large key have similar titles.
    Rows are keyed a slice at a time so that the key strings of a large table never all exist
    at once. ``stable`` hashes give the same numbers in every process (for a saved index).
    """
    parts = [_slice_keys(table, start, min(start + KEY_SLICE, len(table)), stable)
             for start in range(0, len(table), KEY_SLICE)]
    if not parts:
        empty = np.empty(0, dtype=np.uint64)
        return empty, np.empty(0, dtype=np.int64), empty
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


def _slice_keys(table: RecordTable, start: int, stop: int, stable: bool):
    keys: list[str] = []
    rows: list[int] = []
    orders: list[int] = []
    window = slice(start, stop)
    identifiers = [(prefix, getattr(table, name)[window].tolist())
                   for prefix, name in (("D", "doi"), ("M", "pmid"), ("C", "pmcid"),
                                        ("O", "openalex"))]
    columns = zip(table.title[window].tolist(), table.first_author[window].tolist(),
                  table.year[window].tolist(), table.volume[window].tolist(),
                  table.first_page[window].tolist(), table.journal[window].tolist())
    for offset, (title, surname, year, volume, page, journal) in enumerate(columns):
        title = title.replace(" ", "")
        head = title_order(title)
        count = len(keys)
        if len(title) >= MIN_TITLE_KEY_CHARS:
            keys.append("T" + title[:TITLE_KEY_CHARS])
            orders.append(title_order(title[TITLE_KEY_CHARS:]))
            keys.append("E" + title[-TITLE_KEY_CHARS:])
            orders.append(head)
        elif title:
            keys.append("T" + title)
            orders.append(head)
        if surname and year:
            keys.append(f"A{surname}|{year}")
            keys.append(f"A{surname}|{year + 1}")
            orders += (head, head)
        if volume and page:
            keys.append(f"P{volume}|{page}|{journal[:1]}")
            orders.append(head)
        for prefix, values in identifiers:
            if values[offset]:
                keys.append(prefix + values[offset])
                orders.append(head)
        rows.extend([start + offset] * (len(keys) - count))
    return (
        hash_keys(keys, stable),
        np.asarray(rows, dtype=np.int64),
        np.asarray(orders, dtype=np.uint64),
    )


def hash_keys(keys: list[str], stable: bool = False) -> np.ndarray:
    """64-bit hashes of key strings.

    Python's own string hash (salted per process) serves one process; ``stable`` ones (pandas'
    SipHash, the same in every process) are for an index that is saved. pandas is imported only
    then: it takes longer to import than ``dedup-file`` takes on 2,000 records.
    """
    if not keys:
        return np.empty(0, dtype=np.uint64)
    if not stable:
        return np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys)).view(np.uint64)
    import pandas as pd

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
    width = max(n_right, 1)
    code = np.sort(left.astype(np.int64) * width + right.astype(np.int64))
    # sort and drop repeats: numpy's hash-based unique is several times slower here
    code = code[np.concatenate(([True], code[1:] != code[:-1]))]
    return code // width, code % width


def entry_pairs(
    hashes: np.ndarray, rows: np.ndarray, order: np.ndarray, n_rows: int, window: int = WINDOW
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (earlier row, later row) from blocking entries, each pair once.

    Entries of one key must all be present (a partition by key hash keeps them together), so
    that the pairs of several partitions add up to the pairs of the whole.
    """
    hashes, rows, order = sort_entries(hashes, rows, order)
    width = np.int64(max(n_rows, 1))
    codes = []
    for distance in range(1, window + 1):
        same = np.flatnonzero(hashes[distance:] == hashes[:-distance])
        if not len(same):
            break
        a, b = rows[same], rows[same + distance]
        # one int64 code per pair (earlier * n + later) keeps memory at a third of two arrays
        code = np.minimum(a, b) * width + np.maximum(a, b)
        codes.append(code[a != b])
    if not codes:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    code = np.concatenate(codes)
    del codes
    code.sort()
    code = code[np.r_[True, code[1:] != code[:-1]]]
    return code // width, code % width


def batch_pairs(table: RecordTable, window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs within one table as (earlier row, later row), each pair once."""
    return entry_pairs(*record_keys(table), len(table), window)


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
