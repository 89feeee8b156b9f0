"""Clusters of duplicates, each with one canonical record.

Duplicate pairs are joined with a union-find, strongest evidence first (identifier matches, then
fuzzy pairs by score). Joining is refused when the two clusters hold conflicting identifiers
(two different DOIs, two different PMIDs ...): a chain A~B, B~C must not merge A with C when A
and C are provably different works. A refused pair is reported back so that a person can decide
it (``maybe``).

The canonical record of a cluster is the most complete one; ties go to the earliest (the one
given first, i.e. already in the corpus before the batch arrived). Every member stays a member:
merging keeps all identifiers and all source hits, it only points them at one root.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


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

    def conflicts(self, a: str, b: str) -> bool:
        """Whether joining the sets of ``a`` and ``b`` would join two different identifiers."""
        ids_a, ids_b = self.identifiers[self.find(a)], self.identifiers[self.find(b)]
        return any(name in ids_b and not values & ids_b[name] for name, values in ids_a.items())

    def union(self, a: str, b: str) -> bool:
        """Join the sets of ``a`` and ``b`` unless their identifiers conflict; True if joined."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        if self.conflicts(root_a, root_b):
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
    """The outcome of clustering: groups with their canonical key, and the refused pairs."""

    groups: list[list[str]]                        # each group: canonical key first
    canonical: dict[str, str]                      # member key -> canonical key (all members)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def duplicate_groups(self) -> list[list[str]]:
        """Groups of two or more records."""
        return [g for g in self.groups if len(g) > 1]


def build_clusters(
    keys: Sequence[str],
    pairs: Iterable[tuple[str, str, float]],
    identifiers: Mapping[str, Mapping[str, str]] | None = None,
    completeness: Mapping[str, int] | None = None,
) -> Clusters:
    """Cluster ``keys`` along duplicate ``pairs`` (left, right, score).

    ``identifiers`` maps a key to its identifiers (``{"doi": ..., "pmid": ...}``) for the
    conflict guard; ``completeness`` to how many fields it fills, for the canonical choice. The
    order of ``keys`` breaks ties: earlier keys become canonical.
    """
    identifiers = identifiers or {}
    completeness = completeness or {}
    position = {key: i for i, key in enumerate(keys)}
    sets = UnionFind()
    for key in keys:
        sets.add(key, identifiers.get(key))
    refused = []
    for left, right, _score in sorted(pairs, key=lambda p: -p[2]):
        for key in (left, right):
            if key not in position:
                position[key] = len(position)
                sets.add(key, identifiers.get(key))
        if not sets.union(left, right):
            refused.append((left, right))
    groups, canonical = [], {}
    for members in sets.groups().values():
        members.sort(key=lambda k: (-completeness.get(k, 0), position[k]))
        groups.append(members)
        for member in members:
            canonical[member] = members[0]
    groups.sort(key=lambda g: position[g[0]])
    return Clusters(groups=groups, canonical=canonical, refused=refused)
