"""Candidate duplicate pairs (``Match``) and deduplication within one batch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from livingreview.dedup.blocking import batch_pairs
from livingreview.dedup.cluster import Clusters, UnionFind, build_clusters
from livingreview.dedup.rules import DISTINCT, DUPLICATE, MAYBE, decide
from livingreview.dedup.scoring import score_pairs
from livingreview.dedup.table import IDENTIFIERS, RecordTable
from livingreview.records import Record


@dataclass(frozen=True)
class Match:
    """One candidate duplicate pair.

    ``left`` is the key of the new record (in a batch: the later of the two), ``right`` the key of
    the record it matched (earlier in the batch, or in the corpus). ``method`` says what matched:
    ``doi``, ``pmid``, ``pmcid``, ``openalex`` for an identical identifier, ``fuzzy`` otherwise.
    ``score`` is 1.0 for identifiers, the weighted title/author/journal similarity otherwise.
    ``zone`` is ``duplicate`` (merge automatically) or ``maybe`` (a person decides).
    """

    left: str
    right: str
    method: str
    score: float
    zone: str


CHUNK = 1_000_000  # pairs scored at a time: bounds the memory of the per-pair arrays


@dataclass
class DecidedPairs:
    """The non-distinct pairs of one scored chunk: row positions, zone, method, score."""

    left: np.ndarray
    right: np.ndarray
    zone: np.ndarray
    method: np.ndarray
    score: np.ndarray

    @classmethod
    def concat(cls, parts: list["DecidedPairs"]) -> "DecidedPairs":
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, empty, empty.astype(object), empty.astype(object),
                       empty.astype(np.float64))
        return cls(*(np.concatenate([getattr(p, name) for p in parts])
                     for name in ("left", "right", "zone", "method", "score")))


def decide_pairs(
    a: RecordTable, b: RecordTable, left: np.ndarray, right: np.ndarray
) -> DecidedPairs:
    """Score and decide pairs ``(a[left], b[right])``, keeping the duplicate and maybe ones."""
    parts = []
    for start in range(0, len(left), CHUNK):
        scores = score_pairs(a, b, left[start:start + CHUNK], right[start:start + CHUNK])
        zone, method, score = decide(scores)
        keep = np.flatnonzero(zone != DISTINCT)
        parts.append(DecidedPairs(scores.left[keep], scores.right[keep], zone[keep],
                                  method[keep], score[keep]))
    return DecidedPairs.concat(parts)


def to_matches(a: RecordTable, b: RecordTable, decided: DecidedPairs) -> list[Match]:
    """Matches from decided pairs, after the chain guard.

    Duplicate pairs that would chain two records with conflicting identifiers into one cluster
    (A~B and B~C where A and C carry different DOIs) are sent to ``maybe``.
    """
    d = decided
    zone = _guard_chains(a, b, d.left, d.right, d.zone, d.score, np.arange(len(d.left)))
    keys_a, keys_b = a.key[d.left], b.key[d.right]
    return [
        Match(left=str(x), right=str(y), method=str(m), score=round(float(v), 4), zone=str(z))
        for x, y, m, v, z in zip(keys_a, keys_b, d.method, d.score, zone)
    ]


def pair_matches(
    a: RecordTable, b: RecordTable, left: np.ndarray, right: np.ndarray
) -> list[Match]:
    """Score and decide pairs ``(a[left], b[right])``; the non-distinct ones as Matches."""
    return to_matches(a, b, decide_pairs(a, b, left, right))


def _guard_chains(a, b, left, right, zone, score, keep) -> np.ndarray:
    zone = zone.copy()
    duplicates = [k for k in keep if zone[k] == DUPLICATE]
    if not duplicates:
        return zone
    sets = UnionFind()
    order = sorted(duplicates, key=lambda k: -score[k])
    for k in order:
        for table, row in ((a, left[k]), (b, right[k])):
            sets.add(
                (id(table), int(row)),
                {name: getattr(table, name)[row] for name in IDENTIFIERS},
            )
    for k in order:
        if not sets.union((id(a), int(left[k])), (id(b), int(right[k]))):
            zone[k] = MAYBE
    return zone


def dedupe_batch(keyed_records: list[tuple[str, Record]]) -> list[Match]:
    """Duplicate and maybe-duplicate pairs within one batch of keyed records.

    ``left`` is the later record of each pair in batch order, ``right`` the earlier one.
    """
    table = RecordTable.from_records(keyed_records)
    return dedupe_table(table)


def dedupe_table(table: RecordTable) -> list[Match]:
    """``dedupe_batch`` over an already normalised table."""
    earlier, later = batch_pairs(table)
    return pair_matches(table, table, later, earlier)


def cluster_table(table: RecordTable, matches: list[Match] | None = None) -> Clusters:
    """Clusters of a table's records along its duplicate matches (maybe pairs stay apart)."""
    if matches is None:
        matches = dedupe_table(table)
    duplicates = [(m.left, m.right, m.score) for m in matches if m.zone == DUPLICATE]
    involved = {key for left, right, _ in duplicates for key in (left, right)}
    rows = {key: row for row, key in enumerate(table.key.tolist()) if key in involved}
    return build_clusters(
        duplicates,
        identifiers={
            key: {name: getattr(table, name)[row] for name in IDENTIFIERS}
            for key, row in rows.items()
        },
        completeness={key: int(table.completeness[row]) for key, row in rows.items()},
        position=rows,
    )
