"""Candidate duplicate pairs (``Match``) and deduplication within one batch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from livingreview.dedup.blocking import batch_pairs
from livingreview.dedup.cluster import (
    Clusters,
    UnionFind,
    build_clusters,
    components,
    conflicting,
    own_conflicts,
)
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


CHUNK = 500_000  # pairs scored at a time: bounds the memory of the per-pair arrays


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
    """Send to ``maybe`` the duplicate pairs that would join conflicting identifiers.

    Pairs are joined strongest first; a pair whose two sides already belong to clusters with
    different DOIs (PMIDs, ...) is refused. Only connected groups of duplicate pairs that hold a
    conflict at all go through this sequential check.
    """
    zone = zone.copy()
    duplicates = np.asarray([k for k in keep if zone[k] == DUPLICATE], dtype=np.int64)
    if not len(duplicates):
        return zone
    offset = 0 if a is b else len(a)  # nodes: rows of a, then rows of b
    u, v = left[duplicates], right[duplicates] + offset
    nodes, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    labels = components(inverse[:len(u)], inverse[len(u):], len(nodes))
    in_a = nodes < len(a) if offset else np.ones(len(nodes), dtype=bool)
    codes = []
    for name in IDENTIFIERS:
        values = np.zeros(len(nodes), dtype=np.uint64)
        values[in_a] = a.code(name)[nodes[in_a]]
        if offset:
            values[~in_a] = b.code(name)[nodes[~in_a] - offset]
        codes.append(values)
    bad = conflicting(labels, codes)[labels[inverse[:len(u)]]]
    if not bad.any():
        return zone
    sets = UnionFind()
    suspect = duplicates[bad]
    order = suspect[np.argsort(-score[suspect], kind="stable")]
    for k in order:
        for table, row in ((a, left[k]), (b, right[k])):
            sets.add(
                (id(table), int(row)),
                {name: getattr(table, name)[row] for name in IDENTIFIERS},
            )
    for k in order:
        # the kinds this pair's own records differ on were weighed by the rules (see own_conflicts)
        waive = own_conflicts({name: getattr(a, name)[left[k]] for name in IDENTIFIERS},
                              {name: getattr(b, name)[right[k]] for name in IDENTIFIERS})
        if not sets.union((id(a), int(left[k])), (id(b), int(right[k])), waive):
            zone[k] = MAYBE
    return zone


def dedupe_batch(keyed_records: list[tuple[str, Record]]) -> list[Match]:
    """Duplicate and maybe-duplicate pairs within one batch of keyed records.

    ``left`` is the later record of each pair in batch order, ``right`` the earlier one. Keys
    must be unique within the batch.
    """
    keyed_records = list(keyed_records)
    seen: set[str] = set()
    for key, _record in keyed_records:
        if key in seen:
            raise ValueError(f"key {key!r} appears twice in the batch; give each record its own key")
        seen.add(key)
    table = RecordTable.from_records(keyed_records)
    return dedupe_table(table)


def dedupe_table(table: RecordTable) -> list[Match]:
    """``dedupe_batch`` over an already normalised table."""
    earlier, later = batch_pairs(table)
    return pair_matches(table, table, later, earlier)


def cluster_table(table: RecordTable, matches: list[Match] | None = None) -> Clusters:
    """Clusters of a table's records along its duplicate matches (maybe pairs stay apart).

    Connected groups of duplicate pairs that hold no conflicting identifiers become clusters
    directly (vectorised); the others go through ``build_clusters`` and its guard.
    """
    if matches is None:
        matches = dedupe_table(table)
    duplicates = [(m.left, m.right, m.score) for m in matches if m.zone == DUPLICATE]
    if not duplicates:
        return Clusters(groups=[], canonical={})
    position = {key: row for row, key in enumerate(table.key.tolist())}
    u = np.fromiter((position[d[0]] for d in duplicates), dtype=np.int64, count=len(duplicates))
    v = np.fromiter((position[d[1]] for d in duplicates), dtype=np.int64, count=len(duplicates))
    nodes, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    labels = components(inverse[:len(u)], inverse[len(u):], len(nodes))
    bad = conflicting(labels, [table.code(name)[nodes] for name in IDENTIFIERS])

    groups: list[list[str]] = []
    canonical: dict[str, str] = {}
    refused: list[tuple[str, str]] = []
    clean = ~bad[labels]
    if clean.any():
        # canonical first: most complete, then earliest row
        order = np.lexsort((nodes[clean], -table.completeness[nodes[clean]], labels[clean]))
        members, member_labels = nodes[clean][order], labels[clean][order]
        starts = np.flatnonzero(np.r_[True, member_labels[1:] != member_labels[:-1]])
        keys = table.key[members].tolist()
        for start, stop in zip(starts, np.r_[starts[1:], len(members)]):
            group = keys[start:stop]
            groups.append(group)
            for key in group:
                canonical[key] = group[0]
    if bad.any():
        troubled = bad[labels[inverse[:len(u)]]]
        subset = [d for d, t in zip(duplicates, troubled) if t]
        rows = {key: position[key] for d in subset for key in d[:2]}
        guarded = build_clusters(
            subset,
            identifiers={key: {name: getattr(table, name)[row] for name in IDENTIFIERS}
                         for key, row in rows.items()},
            completeness={key: int(table.completeness[row]) for key, row in rows.items()},
            position=rows,
        )
        groups.extend(guarded.groups)
        canonical.update(guarded.canonical)
        refused = guarded.refused
    groups.sort(key=lambda g: min(position[k] for k in g))
    return Clusters(groups=groups, canonical=canonical, refused=refused)
