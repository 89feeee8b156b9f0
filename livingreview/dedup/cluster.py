"""Clusters of duplicates, each with one canonical record.

Duplicate pairs are joined with a union-find, strongest evidence first (identifier matches, then
fuzzy pairs by score). Joining is refused when the two clusters hold conflicting identifiers
(two different DOIs, two different PMIDs ...): a chain A~B, B~C must not merge A with C when A
and C are provably different works. A refused pair is reported back so that a person can decide
it (``maybe``). A pair whose own two records differ in an identifier was judged on that
difference when it was called a duplicate; only chains are guarded against it.

The canonical record of a cluster is the most complete one; ties go to the earliest (the one
given first, i.e. already in the corpus before the batch arrived). Every member stays a member:
merging keeps all identifiers and all source hits, it only points them at one root.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np


class UnionFind:
    """Disjoint sets over hashable keys, each set carrying the identifiers its members hold."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.identifiers: dict[str, dict[str, set[str]]] = {}

    def add(self, key: str, identifiers: Mapping[str, str] | None = None) -> None:
        if key not in self.parent:
            self.parent[key] = key
            self.identifiers[key] = {
                name: {value} for name, value in (identifiers or {}).items() if value
            }

    def find(self, key: str) -> str:
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:  # path compression
            self.parent[key], key = root, self.parent[key]
        return root

    def conflicts(self, a: str, b: str, waive: Collection[str] = ()) -> bool:
        """Whether joining the sets of ``a`` and ``b`` would join two different identifiers
        (of a kind not in ``waive``)."""
        ids_a, ids_b = self.identifiers[self.find(a)], self.identifiers[self.find(b)]
        return any(name in ids_b and name not in waive and not values & ids_b[name]
                   for name, values in ids_a.items())

    def union(self, a: str, b: str, waive: Collection[str] = ()) -> bool:
        """Join the sets of ``a`` and ``b`` unless their identifiers conflict; True if joined.

        ``waive`` names identifier kinds whose difference was already weighed for this pair.
        """
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        if self.conflicts(root_a, root_b, waive):
            return False
        self.parent[root_b] = root_a
        merged = self.identifiers.pop(root_b)
        for name, values in merged.items():
            self.identifiers[root_a].setdefault(name, set()).update(values)
        return True

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key in self.parent:
            out.setdefault(self.find(key), []).append(key)
        return out


@dataclass
class Clusters:
    """The outcome of clustering: groups of two or more, canonical key first, and refused pairs.

    Records in no group are their own canonical record (``canonical_of`` returns them as given).
    """

    groups: list[list[str]]                        # each group: canonical key first
    canonical: dict[str, str]                      # member key -> canonical key (grouped only)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def canonical_of(self, key: str) -> str:
        return self.canonical.get(key, key)


def build_clusters(
    pairs: Iterable[tuple[str, str, float]],
    identifiers: Mapping[str, Mapping[str, str]] | None = None,
    completeness: Mapping[str, int] | None = None,
    position: Mapping[str, int] | None = None,
) -> Clusters:
    """Cluster records along duplicate ``pairs`` (left key, right key, score).

    ``identifiers`` maps a key to its identifiers (``{"doi": ..., "pmid": ...}``) for the
    conflict guard; ``completeness`` to how many fields it fills, for the canonical choice;
    ``position`` to its place in the corpus (earlier wins a tie; by default the order keys first
    appear in ``pairs``, right before left, since ``right`` is the earlier record).
    """
    identifiers = identifiers or {}
    completeness = completeness or {}
    first_seen: dict[str, int] = {}
    sets = UnionFind()
    refused = []
    pairs = list(pairs)
    for left, right, _score in pairs:
        for key in (right, left):
            if key not in first_seen:
                first_seen[key] = len(first_seen)
                sets.add(key, identifiers.get(key))
    rank = (lambda k: position[k]) if position is not None else first_seen.__getitem__
    for left, right, _score in sorted(pairs, key=lambda p: -p[2]):
        if not sets.union(left, right, own_conflicts(identifiers.get(left),
                                                      identifiers.get(right))):
            refused.append((left, right))
    groups, canonical = [], {}
    for members in sets.groups().values():
        if len(members) < 2:
            continue
        members.sort(key=lambda k: (-completeness.get(k, 0), rank(k)))
        groups.append(members)
        for member in members:
            canonical[member] = members[0]
    groups.sort(key=lambda g: min(rank(k) for k in g))
    return Clusters(groups=groups, canonical=canonical, refused=refused)


def own_conflicts(a: Mapping[str, str] | None, b: Mapping[str, str] | None) -> set[str]:
    """Identifier kinds on which the two records of one pair differ.

    A pair called a duplicate although its own two records differ there was judged on that
    difference (one item indexed under two DOIs): the guard waives it for that pair. It still
    guards chains, where nobody compared the two ends.
    """
    if not a or not b:
        return set()
    return {name for name, value in a.items() if value and b.get(name) and b[name] != value}


def components(u: np.ndarray, v: np.ndarray, n_nodes: int) -> np.ndarray:
    """Connected-component label of every node ``0..n_nodes-1`` along edges ``u[k]-v[k]``.

    Labels are ``0..k-1``. Minimum-label hooking with pointer jumping, in numpy: scipy's
    ``connected_components`` does the same, but importing scipy takes longer than
    ``dedup-file`` takes on 2,000 records.
    """
    labels = np.arange(n_nodes)
    u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    while len(u):
        low = np.minimum(labels[u], labels[v])
        hooked = labels.copy()
        np.minimum.at(hooked, labels[u], low)
        np.minimum.at(hooked, labels[v], low)
        while True:  # every node points at its root
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, labels):
            break
        labels = hooked
    return np.unique(labels, return_inverse=True)[1]


def conflicting(labels: np.ndarray, identifier_codes: list[np.ndarray]) -> np.ndarray:
    """Per component label, whether its members hold two different values of one identifier.

    ``identifier_codes`` holds, per identifier, every node's value code (0 when it has none).
    Most components hold at most one DOI and one PMID and need no union-find at all; only the
    conflicting ones are clustered pair by pair with the guard.
    """
    n_labels = int(labels.max()) + 1 if len(labels) else 0
    out = np.zeros(n_labels, dtype=bool)
    for codes in identifier_codes:
        present = codes != 0
        pairs = np.unique(np.stack([labels[present].astype(np.uint64), codes[present]]), axis=1)
        out |= np.bincount(pairs[0].astype(np.int64), minlength=n_labels) > 1
    return out
