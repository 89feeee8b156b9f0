"""Deduplication: normalise, block, score, decide, cluster.

Public API (stable; the update flow calls it)::

    Match(left, right, method, score, zone)       one candidate duplicate pair
    dedupe_batch(keyed_records) -> list[Match]    pairs within one batch
    CorpusIndex()                                 persisted, incremental index of the corpus
        .add(keyed_records)                       add records (keys already present are skipped)
        .match(keyed_records) -> list[Match]      new records against the index only
        .save(path) / CorpusIndex.load(path)
    build_clusters(keys, pairs, identifiers, completeness) -> Clusters
                                                  union-find clusters with a canonical record

``keyed_records`` are ``(key, Record)`` pairs; the key is the caller's (a store id, a file ID)
and comes back in ``Match.left``/``Match.right``.

Exact identifiers (DOI, PMID, PMCID, OpenAlex id) are matched first, then titles, first author and
year fuzzily (RapidFuzz). ``zone`` is ``duplicate`` only when nothing speaks against the pair;
otherwise ``maybe`` (a person decides). Conflicting identifiers veto a fuzzy duplicate.
"""

from livingreview.dedup.cluster import Clusters, build_clusters
from livingreview.dedup.index import CorpusIndex
from livingreview.dedup.match import Match, dedupe_batch

__all__ = ["Clusters", "CorpusIndex", "Match", "build_clusters", "dedupe_batch"]
