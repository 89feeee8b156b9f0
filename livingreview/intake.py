"""Intake of harvested hits: store them, link duplicates, pre-filter and queue what is new.

Each step works from the store's state, not from what one run happened to pass along, so a
run that failed half-way is completed by the next one and a re-run of a window adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from livingreview.dedup import CorpusIndex, Match, dedupe_batch
from livingreview.records import NOT_STORED, Record
from livingreview.screening.eligibility import prefilter
from livingreview.screening.status import merged_record_ids
from livingreview.store.models import (
    Candidate,
    DuplicateLink,
    ScreeningDecision,
    SourceHit,
    StoredRecord,
)

AUTO_REVIEWER = "auto:eligibility"
_RECORD_FIELDS = [f for f in Record.__dataclass_fields__ if f not in NOT_STORED]


@dataclass
class IntakeCounts:
    received: int = 0
    already_known: int = 0
    added: int = 0
    duplicates: Counter = field(default_factory=Counter)  # method -> merged links
    maybe_pairs: int = 0
    new_canonical: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"received": self.received, "already_known": self.already_known,
                "added": self.added, "duplicates": dict(self.duplicates),
                "duplicates_total": sum(self.duplicates.values()), "maybe_pairs": self.maybe_pairs,
                "new_unique": len(self.new_canonical)}


def to_record(stored: StoredRecord) -> Record:
    return Record(source=stored.origin, source_id=str(stored.id),
                  **{name: getattr(stored, name) for name in _RECORD_FIELDS})


def canonical_records(session: Session) -> list[StoredRecord]:
    merged = merged_record_ids(session)
    return [r for r in session.scalars(select(StoredRecord)) if r.id not in merged]


def _fingerprint(rows: Iterable[StoredRecord]) -> str:
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: r.id):
        digest.update(f"{row.id}\x1f{row.doi}\x1f{row.pmid}\x1f{row.title}\x1e".encode())
    return digest.hexdigest()


def corpus_index(session: Session, path: Path | None = None) -> CorpusIndex:
    """The corpus's deduplication index: loaded from ``path`` and topped up when it still
    describes this store's records, rebuilt when it does not (a person merged records, the
    store was restored, the file belongs to another store).
    """
    canonical = {str(r.id): r for r in canonical_records(session)}
    stamp = path.with_suffix(".json") if path is not None else None
    if path is not None and path.exists() and stamp.exists():
        index = CorpusIndex.load(path)
        held = index.keys()
        if held <= canonical.keys() and json.loads(stamp.read_text())["fingerprint"] == \
                _fingerprint(canonical[key] for key in held):
            index.add((key, to_record(row)) for key, row in canonical.items() if key not in held)
            return index
    index = CorpusIndex()
    index.add((key, to_record(row)) for key, row in canonical.items())
    return index


def save_index(session: Session, path: Path) -> None:
    """Persist the index of the store as it is now (called after the intake committed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    index = corpus_index(session, path)
    rows = {str(r.id): r for r in canonical_records(session)}
    index.save(path)
    path.with_suffix(".json").write_text(json.dumps(
        {"fingerprint": _fingerprint(rows[key] for key in index.keys())}))


def _completeness(record: Record) -> tuple:
    # The most informative hit of a within-batch cluster becomes its canonical record.
    return (record.pmid is not None, record.abstract is not None, record.doi is not None,
            len(record.authors))


def store_hits(session: Session, run_id: int, records: list[Record],
               raw_response_ids: dict[tuple[str, str], int] | None = None,
               index_path: Path | None = None) -> IntakeCounts:
    """Store every new hit as a record, linking duplicates to their canonical records."""
    counts = IntakeCounts(received=len(records))
    fresh: dict[tuple[str, str], Record] = {}
    for record in records:
        key = (record.source, record.source_id)
        if key in fresh:
            counts.already_known += 1
            continue
        hit = session.scalar(select(SourceHit).where(SourceHit.source == record.source,
                                                     SourceHit.source_id == record.source_id))
        if hit is not None:
            hit.last_seen_run_id = run_id
            counts.already_known += 1
        else:
            fresh[key] = record
    if not fresh:
        return counts

    batch = [(f"new:{i}", r) for i, r in enumerate(fresh.values())]
    against_corpus = corpus_index(session, index_path).match(batch)
    within_batch = dedupe_batch(batch)

    stored: dict[str, StoredRecord] = {}
    for key, record in batch:
        row = StoredRecord(origin=record.source, added_run_id=run_id,
                           **{name: getattr(record, name) for name in _RECORD_FIELDS})
        session.add(row)
        session.flush()
        session.add(SourceHit(record_id=row.id, source=record.source, source_id=record.source_id,
                              run_id=run_id, last_seen_run_id=run_id, payload=record.to_dict(),
                              raw_response_id=(raw_response_ids or {}).get(
                                  (record.source, record.source_id))))
        stored[key] = row
    counts.added = len(stored)

    # Clusters of new records that are duplicates of each other (union-find).
    parent = {key: key for key, _ in batch}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for match in within_batch:
        if match.zone == "duplicate":
            parent[root(match.left)] = root(match.right)
    clusters: dict[str, list[str]] = defaultdict(list)
    for key, _ in batch:
        clusters[root(key)].append(key)

    by_key = dict(batch)
    corpus_hits: dict[str, Match] = {}
    for match in sorted(against_corpus, key=lambda m: -m.score):
        if match.zone == "duplicate":
            corpus_hits.setdefault(match.left, match)

    def link(record_key: str, canonical_id: int, match: Match, zone: str) -> None:
        session.add(DuplicateLink(
            record_id=stored[record_key].id, canonical_id=canonical_id, method=match.method,
            score=float(match.score), zone=zone,
            status="merged" if zone == "duplicate" else "pending",
            decided_by="auto", run_id=run_id))

    for members in clusters.values():
        corpus_match = next((corpus_hits[k] for k in members if k in corpus_hits), None)
        if corpus_match is not None:
            target = int(corpus_match.right)
            for key in members:
                match = corpus_hits.get(key) or _within(within_batch, key, members) or corpus_match
                link(key, target, match, "duplicate")
                counts.duplicates[match.method] += 1
            continue
        head = max(members, key=lambda k: _completeness(by_key[k]))
        counts.new_canonical.append(stored[head].id)
        for key in members:
            if key != head:
                match = _within(within_batch, key, members)
                link(key, stored[head].id, match, "duplicate")
                counts.duplicates[match.method] += 1

    canonical_new = set(counts.new_canonical)
    for match in against_corpus + within_batch:
        if match.zone != "maybe" or stored[match.left].id not in canonical_new:
            continue
        right = int(match.right) if not match.right.startswith("new:") else stored[match.right].id
        if right != stored[match.left].id:
            link(match.left, right, match, "maybe")
            counts.maybe_pairs += 1
    session.flush()
    return counts


def _within(matches: list[Match], key: str, members: list[str]) -> Match | None:
    for match in matches:
        if match.zone == "duplicate" and key in (match.left, match.right) and \
                {match.left, match.right} <= set(members):
            return match
    return None


@dataclass
class QueueCounts:
    queued: int = 0
    auto_excluded: Counter = field(default_factory=Counter)  # reason code -> records
    flagged: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"queued": self.queued, "auto_excluded": dict(self.auto_excluded),
                "auto_excluded_total": sum(self.auto_excluded.values()),
                "flags": dict(self.flagged)}


def queue_candidates(session: Session, run_id: int, rules: dict[str, Any]) -> QueueCounts:
    """Pre-filter every canonical record not yet screened or queued; queue or auto-exclude it."""
    counts = QueueCounts()
    merged = merged_record_ids(session)
    pending_pairs = set(session.scalars(select(DuplicateLink.record_id)
                                        .where(DuplicateLink.status == "pending")))
    unseen = session.scalars(
        select(StoredRecord)
        .where(StoredRecord.in_baseline.is_(False))
        .where(~exists().where(Candidate.record_id == StoredRecord.id))
        .where(~exists().where(ScreeningDecision.record_id == StoredRecord.id))
        .order_by(StoredRecord.id))
    for row in unseen:
        if row.id in merged:
            continue
        verdict = prefilter(to_record(row), rules)
        if verdict.excluded:
            session.add(ScreeningDecision(record_id=row.id, stage="title_abstract",
                                          decision="exclude", reason_code=verdict.reason_code,
                                          reviewer=AUTO_REVIEWER, run_id=run_id,
                                          note="metadata rule (eligibility pre-filter)"))
            counts.auto_excluded[verdict.reason_code] += 1
            continue
        flags = list(verdict.flags) + (["possible_duplicate"] if row.id in pending_pairs else [])
        session.add(Candidate(record_id=row.id, run_id=run_id, flags=flags))
        counts.queued += 1
        counts.flagged.update(flags)
    session.flush()
    return counts
