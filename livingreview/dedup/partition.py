"""Deduplication split into partitions that can run on separate workers.

Pure functions, no scheduler: ``flows/dedup_partitioned.py`` runs them as Prefect tasks on a
Dask cluster; run one after the other they give exactly what ``dedupe_table`` gives.

1. ``split_entries`` computes every record's blocking entries and deals them into partitions by
   key hash, so that all holders of one key land in the same partition;
2. ``block_partition`` turns one partition's entries into candidate pairs;
3. ``pair_chunks`` merges the partitions' pairs (a pair found through two keys in two
   partitions is kept once) and cuts them into chunks;
4. ``decide_pairs`` (in ``match``) scores and decides one chunk;
5. ``to_matches`` (in ``match``) joins the chunks' decisions and applies the chain guard, which
   needs all duplicate pairs at once (it is cheap: it sees only the duplicate pairs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from livingreview.dedup.blocking import WINDOW, entry_pairs, record_keys, unique_pairs
from livingreview.dedup.table import RecordTable


@dataclass
class Entries:
    """Blocking entries of one partition: key hash, row, order within the key."""

    hashes: np.ndarray
    rows: np.ndarray
    order: np.ndarray


def split_entries(table: RecordTable, partitions: int) -> list[Entries]:
    """The table's blocking entries dealt into ``partitions`` parts by key hash."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, not {partitions}")
    hashes, rows, order = record_keys(table)
    part = hashes % np.uint64(partitions)
    return [Entries(hashes[part == p], rows[part == p], order[part == p])
            for p in range(partitions)]


def block_partition(entries: Entries, n_rows: int, window: int = WINDOW):
    """Candidate pairs (earlier row, later row) within one partition."""
    return entry_pairs(entries.hashes, entries.rows, entries.order, n_rows, window)


def pair_chunks(pairs: list[tuple[np.ndarray, np.ndarray]], n_rows: int, chunks: int):
    """All partitions' pairs, each once, in ``chunks`` parts of about equal size.

    Pairs are in (earlier, later) order; a chunk's pairs are given as (later, earlier), the
    order ``dedupe_table`` scores them in (``Match.left`` is the later record).
    """
    if not pairs:
        return []
    earlier = np.concatenate([p[0] for p in pairs])
    later = np.concatenate([p[1] for p in pairs])
    earlier, later = unique_pairs(earlier, later, n_rows)
    bounds = np.linspace(0, len(earlier), max(chunks, 1) + 1).astype(int)
    return [(later[lo:hi], earlier[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]
