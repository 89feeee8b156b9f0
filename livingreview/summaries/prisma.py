"""PRISMA flow counts for an update run, derived from stored facts and reconciled.

The unit at the top is a *hit*: one record as one source returned it in the run's window.

- **identified** (per source) = the run's new ``source_hits`` (``run_id``) + the hits it saw again
  (first stored by an earlier run: the windows overlap by a few days).
- **already known** = those hits seen again; nothing is stored twice for them. A run that saved
  its harvest counts (``update_runs.counts["identified"]`` with ``counts["intake"]``, as the
  flow does before summarising) counts them as received - stored new, per source, which never
  changes; for other runs they are the hits whose ``last_seen_run_id`` is the run, which a later
  run that sees the same hit again takes over.
- Every source the run harvested (``update_runs.counts["windows"]``) is listed, with 0 when it
  found nothing. A source searched by relevance ranking rather than the review's Boolean
  strategy (Crossref) is narrowed by a local post-filter; what the filter drops
  (``counts["filtered_out"]``) stays in the raw-response archive, is never stored as a record
  and so is *outside* the identified count: ``ranked_returned`` = identified by the harvest
  (``counts["identified"]``) + ``filtered_out``, reported beside the flow, not inside it.
- Every new hit points at a record. Its *fate*, checked in this order:

  1. **duplicate**: the record was merged into another record (``duplicate_links`` status
     ``merged``) and never queued; or the hit points at a record that an earlier run, or an
     earlier hit of this run, already brought in;
  2. **queued** for screening: the record has a ``candidates`` row, or a person overturned its
     automatic exclusion;
  3. **automatically excluded**: an ``auto:`` reviewer (the eligibility pre-filter) excluded it
     at title/abstract, with a reason code;
  4. **imported**: a baseline or import record that came with its own decisions;
  5. **awaiting the pre-filter**: none of these yet (only legitimate while a run is unfinished).

- The queued records are followed through screening with the status rules of
  ``screening.status``: awaiting title/abstract, excluded there (by reason), awaiting full text,
  excluded at full text (by reason), included, or merged as a duplicate during screening.

Identities, checked by ``PrismaCounts.reconcile`` (raises ``PrismaMismatch``):

    identified = already known + duplicates + auto-excluded + queued + imported + awaiting
    queued     = awaiting T/A + excluded T/A + awaiting FT + excluded FT + included
                 + found duplicate in screening

A record that is both queued and automatically excluded, a finished run with records still
awaiting the pre-filter, or an included record the status rules do not include, also raise.
Pending duplicate pairs ("maybe" pairs) are reported, not subtracted: their records are queued
with a ``possible_duplicate`` flag.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.errors import StoreError, ValidationFailed
from livingreview.screening.eligibility import NOT_RETRIEVED
from livingreview.screening.status import (
    AUTO_PREFIX,
    StageOutcome,
    included_record_ids,
    stage_outcomes,
)
from livingreview.store.models import (
    Candidate,
    DuplicateLink,
    ScreeningDecision,
    SourceHit,
    StoredRecord,
    UpdateRun,
)

NO_REASON = "no reason given"
_CHUNK = 800  # record ids per stage_outcomes call (it filters in SQL below 900)
FINISHED = ("succeeded",)
# Sources whose search is ranked by relevance, not the review's Boolean strategy: the harvest
# post-filters them locally, and the report says how many the ranked search returned.
RANKED_SEARCH = ("crossref",)


class PrismaMismatch(ValidationFailed):
    """PRISMA counts derived from the store do not reconcile; ``report`` says where."""


class _Total:
    """``<name>_total``: the sum of the per-key counts in the field ``<name>``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.field = name.removesuffix("_total")

    def __get__(self, counts: Any, owner: type | None = None) -> int:
        return sum(getattr(counts, self.field).values())


@dataclass
class PrismaCounts:
    """One run's PRISMA flow (or several runs' summed: ``run_ids`` has more than one)."""

    run_ids: tuple[int, ...]
    window_start: date | None = None
    window_end: date | None = None
    identified: dict[str, int] = field(default_factory=dict)
    ranked_returned: dict[str, int] = field(default_factory=dict)  # before the post-filter
    filtered_out: dict[str, int] = field(default_factory=dict)  # not matching the strategy
    already_known: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)  # how found -> hits
    auto_excluded: dict[str, int] = field(default_factory=dict)  # reason code -> records
    queued: int = 0
    imported: int = 0
    awaiting_prefilter: int = 0
    maybe_pairs: int = 0
    awaiting_title_abstract: int = 0
    excluded_title_abstract: dict[str, int] = field(default_factory=dict)
    awaiting_full_text: int = 0
    excluded_full_text: dict[str, int] = field(default_factory=dict)
    included: int = 0
    duplicates_in_screening: int = 0
    queued_from_earlier_runs: int = 0
    included_record_ids: tuple[int, ...] = ()
    harvest_counts: dict[str, Any] = field(default_factory=dict)
    finished: bool = True

    identified_total = _Total()
    filtered_out_total = _Total()
    already_known_total = _Total()
    duplicates_total = _Total()
    auto_excluded_total = _Total()
    excluded_title_abstract_total = _Total()
    excluded_full_text_total = _Total()

    @property
    def strategy_matched(self) -> dict[str, int]:
        """Per ranked-search source: what matched the review's search strategy."""
        return {s: n - self.filtered_out.get(s, 0) for s, n in self.ranked_returned.items()}

    @property
    def full_text_assessed(self) -> int:
        """Full texts with a decision (excluded or included)."""
        return self.excluded_full_text_total + self.included

    @property
    def not_retrieved(self) -> int:
        """Full texts sought but not retrieved (PRISMA 2020 counts them apart from exclusions)."""
        return self.excluded_full_text.get(NOT_RETRIEVED, 0)

    @property
    def reports_assessed(self) -> int:
        """Full texts retrieved and assessed for eligibility (excluded with a reason, or
        included)."""
        return self.full_text_assessed - self.not_retrieved

    @property
    def excluded_with_reasons(self) -> dict[str, int]:
        return {r: n for r, n in self.excluded_full_text.items() if r != NOT_RETRIEVED}

    @property
    def passed_title_abstract(self) -> int:
        """Records included at title/abstract: their full texts are sought."""
        return self.awaiting_full_text + self.full_text_assessed

    @property
    def screened_title_abstract(self) -> int:
        return self.excluded_title_abstract_total + self.passed_title_abstract

    def identities(self) -> list[dict[str, Any]]:
        """The flow's identities as (identity, left, right, detail) rows; they hold when
        left == right (the data-quality gate checks them with Great Expectations)."""
        removed = (self.already_known_total + self.duplicates_total + self.auto_excluded_total
                   + self.queued + self.imported + self.awaiting_prefilter)
        screened = (self.awaiting_title_abstract + self.excluded_title_abstract_total
                    + self.awaiting_full_text + self.excluded_full_text_total + self.included
                    + self.duplicates_in_screening)
        return [
            {"identity": "identified = already known + duplicates + auto-excluded + queued + "
                         "imported + awaiting pre-filter",
             "left": self.identified_total, "right": removed,
             "detail": f"identified ({self.identified_total}) != already known "
                       f"({self.already_known_total}) + duplicates ({self.duplicates_total}) + "
                       f"auto-excluded ({self.auto_excluded_total}) + queued ({self.queued}) + "
                       f"imported ({self.imported}) + awaiting pre-filter "
                       f"({self.awaiting_prefilter})"},
            {"identity": "queued = awaiting T/A + excluded T/A + awaiting FT + excluded FT + "
                         "included + duplicates found in screening",
             "left": self.queued, "right": screened,
             "detail": f"queued ({self.queued}) != awaiting title/abstract "
                       f"({self.awaiting_title_abstract}) + excluded at title/abstract "
                       f"({self.excluded_title_abstract_total}) + awaiting full text "
                       f"({self.awaiting_full_text}) + excluded at full text "
                       f"({self.excluded_full_text_total}) + included ({self.included}) + found "
                       f"duplicate in screening ({self.duplicates_in_screening})"},
            {"identity": "a finished run leaves nothing awaiting the pre-filter",
             "left": self.awaiting_prefilter if self.finished else 0, "right": 0,
             "detail": f"{self.awaiting_prefilter} records of a finished run were never "
                       "pre-filtered or queued (the queue step did not run on them)"},
        ]

    def identity_problems(self) -> list[str]:
        return [row["detail"] for row in self.identities() if row["left"] != row["right"]]

    def reconcile(self) -> "PrismaCounts":
        """Raise ``PrismaMismatch`` unless the flow's identities hold; returns self."""
        problems = self.identity_problems()
        if problems:
            raise _mismatch(self.run_ids, problems)
        return self

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["run_ids"] = list(self.run_ids)
        data["included_record_ids"] = list(self.included_record_ids)
        for name in ("window_start", "window_end"):
            data[name] = data[name].isoformat() if data[name] else None
        data["strategy_matched"] = self.strategy_matched
        for name in ("identified_total", "filtered_out_total", "already_known_total",
                     "duplicates_total", "auto_excluded_total", "screened_title_abstract",
                     "excluded_title_abstract_total", "passed_title_abstract",
                     "full_text_assessed", "not_retrieved", "reports_assessed",
                     "excluded_full_text_total"):
            data[name] = getattr(self, name)
        return data

    def rows(self) -> list[dict[str, Any]]:
        """The flow as (stage, box, n) rows, for a CSV or a table artifact."""
        rows = []
        for source, returned in self.ranked_returned.items():
            rows += [("identification", f"returned by the ranked search: {source}", returned),
                     ("identification", "did not match the review's search strategy (raw "
                      f"archive only, outside the identified count): {source}",
                      self.filtered_out.get(source, 0))]
        rows += [("identification", f"identified: {s}", n) for s, n in self.identified.items()]
        rows += [("identification", f"already known (seen again): {s}", n)
                 for s, n in self.already_known.items()]
        rows += [("identification", f"duplicates removed: {how}", n)
                 for how, n in self.duplicates.items()]
        rows += [("identification", f"excluded automatically: {reason}", n)
                 for reason, n in self.auto_excluded.items()]
        optional = [("identification", "imported with decisions", self.imported),
                    ("identification", "awaiting the pre-filter", self.awaiting_prefilter),
                    ("identification", "possible duplicate pairs (flagged, still queued)",
                     self.maybe_pairs)]
        rows += [row for row in optional if row[2]]
        rows += [("screening", "queued for screening", self.queued),
                 ("screening", "awaiting title/abstract screening", self.awaiting_title_abstract)]
        rows += [("screening", f"excluded at title/abstract: {r}", n)
                 for r, n in self.excluded_title_abstract.items()]
        if self.duplicates_in_screening:
            rows.append(("screening", "found duplicate during screening",
                         self.duplicates_in_screening))
        rows += [("eligibility", "passed title/abstract (full text sought)",
                  self.passed_title_abstract),
                 ("eligibility", "full texts assessed", self.full_text_assessed),
                 ("eligibility", "awaiting full-text decision", self.awaiting_full_text)]
        rows += [("eligibility", f"excluded at full text: {r}", n)
                 for r, n in self.excluded_full_text.items()]
        rows += [("included", "new studies included", self.included)]
        return [{"stage": s, "box": b, "n": int(n)} for s, b, n in rows]


def _mismatch(run_ids: Iterable[int], problems: list[str]) -> PrismaMismatch:
    runs = ", ".join(str(r) for r in run_ids) or "(none)"
    report = "\n".join([f"PRISMA counts for run(s) {runs} do not reconcile:"]
                       + [f"- {p}" for p in problems]
                       + ["Fix: inspect these runs' source_hits, duplicate_links, candidates "
                          "and screening_decisions; re-run the update for the window so the "
                          "queue step completes"])
    return PrismaMismatch(report, [{"run_ids": list(run_ids), "problem": p} for p in problems])


def run_counts(session: Session, run_id: int, *,
               included_ids: set[int] | None = None) -> PrismaCounts:
    """The reconciled PRISMA counts of one run (raises ``PrismaMismatch`` if they do not add up).

    ``included_ids`` saves a pass over the decision log when the caller already has
    ``screening.status.included_record_ids(session)``.
    """
    return _RunFacts(session, [run_id], included_ids).counts(run_id).reconcile()


def cumulative_counts(session: Session, run_ids: Iterable[int] | None = None, *,
                      kinds: tuple[str, ...] = ("update",),
                      included_ids: set[int] | None = None) -> PrismaCounts:
    """Summed, reconciled counts over runs (default: every run of the given kinds, in order)."""
    if run_ids is None:
        run_ids = session.scalars(select(UpdateRun.id).where(UpdateRun.kind.in_(kinds))
                                  .order_by(UpdateRun.id)).all()
    run_ids = list(run_ids)
    facts = _RunFacts(session, run_ids, included_ids)
    total = PrismaCounts(run_ids=tuple(run_ids))
    for run_id in run_ids:
        _add(total, facts.counts(run_id).reconcile())
    if run_ids:
        runs = [facts.runs[r] for r in run_ids]
        total.window_start = min((r.window_start for r in runs if r.window_start), default=None)
        total.window_end = max((r.window_end for r in runs if r.window_end), default=None)
    return total.reconcile()


def _add(total: PrismaCounts, part: PrismaCounts) -> None:
    for f in fields(PrismaCounts):
        mine, theirs = getattr(total, f.name), getattr(part, f.name)
        if f.name in ("run_ids", "window_start", "window_end", "harvest_counts"):
            continue
        if isinstance(mine, dict):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        elif f.name == "included_record_ids":
            total.included_record_ids = mine + theirs
        elif f.name == "finished":
            total.finished = mine and theirs
        else:
            setattr(total, f.name, mine + theirs)


def _harvested(harvest: dict[str, Any]) -> dict[str, int] | None:
    """Per source, the records the run's harvest handed to intake, when intake completed (its
    tally is saved with them); None for runs that did not save them (older or import runs)."""
    if "intake" not in harvest or not isinstance(harvest.get("identified"), dict):
        return None
    return {source: int(n) for source, n in harvest["identified"].items()}


def _seen_again(received: dict[str, int], identified: Counter, known: Counter,
                intake: dict[str, Any]) -> list[str]:
    """Already known = received - stored new, per source (``identified`` holds the new hits).

    ``source_hits.last_seen_run_id`` is overwritten by every later run that sees a hit again, so
    counting hits by it shrinks a run's "already known" after the fact; what the harvest
    received and which hits the run stored (``run_id``) never change.
    """
    problems = []
    for source, n in received.items():
        again = n - identified[source]
        if again < 0:
            problems.append(f"{source}: the run stored {identified[source]} new hits but its "
                            f"harvest counted only {n} records (update_runs.counts['identified'])")
            continue
        identified[source] += again
        if again:
            known[source] = again
    tallied = intake.get("already_known")
    if tallied is not None and not problems and sum(known.values()) != tallied:
        problems.append(f"already known per source {dict(known)} does not add up to the intake "
                        f"step's tally ({tallied})")
    return problems


@dataclass
class _Fate:
    kind: str
    detail: str | None = None


class _RunFacts:
    """The store's facts about some runs, loaded once (the queries are per table, not per row)."""

    def __init__(self, session: Session, run_ids: list[int],
                 included_ids: set[int] | None) -> None:
        self.runs = {r.id: r for r in session.scalars(
            select(UpdateRun).where(UpdateRun.id.in_(run_ids)))}
        unknown = sorted(set(run_ids) - set(self.runs))
        if unknown:
            raise StoreError(f"no update run with id {unknown} in the store. "
                             "Fix: pick a run id from the update_runs table (`livingreview runs`)")
        self.hits = session.execute(
            select(SourceHit.id, SourceHit.source, SourceHit.record_id, SourceHit.run_id,
                   SourceHit.last_seen_run_id)
            .where(SourceHit.run_id.in_(run_ids) | SourceHit.last_seen_run_id.in_(run_ids))
            .order_by(SourceHit.id)).all()
        self.records = {r.id: r for r in session.execute(
            select(StoredRecord.id, StoredRecord.added_run_id, StoredRecord.in_baseline)
            .join(SourceHit, SourceHit.record_id == StoredRecord.id)
            .where(SourceHit.run_id.in_(run_ids) | SourceHit.last_seen_run_id.in_(run_ids))
            .distinct())}
        self.merged: dict[int, DuplicateLink] = {}
        for link in session.scalars(select(DuplicateLink).where(DuplicateLink.status == "merged")
                                    .order_by(DuplicateLink.id)):
            self.merged.setdefault(link.record_id, link)
        self.maybe_pairs = Counter(session.scalars(
            select(DuplicateLink.run_id).where(DuplicateLink.status == "pending",
                                               DuplicateLink.run_id.in_(run_ids))))
        self.candidates = {c.record_id: (c.run_id, c.added_run_id) for c in session.execute(
            select(Candidate.record_id, Candidate.run_id, StoredRecord.added_run_id)
            .join(StoredRecord, StoredRecord.id == Candidate.record_id))}
        self.auto: dict[int, str] = {}  # record -> reason of its automatic exclusion
        self.human: set[int] = set()
        for event in session.execute(
                select(ScreeningDecision.record_id, ScreeningDecision.reviewer,
                       ScreeningDecision.decision, ScreeningDecision.reason_code)
                .order_by(ScreeningDecision.id)):
            if event.reviewer.startswith(AUTO_PREFIX):
                if event.decision == "exclude":
                    self.auto.setdefault(event.record_id, event.reason_code or NO_REASON)
            else:
                self.human.add(event.record_id)
        # Stage outcomes only of the records these runs brought in, a chunk at a time (the
        # status module filters in SQL for short lists).
        self.outcomes: dict[int, dict[str, StageOutcome]] = {}
        fresh = sorted(r.id for r in self.records.values() if r.added_run_id in self.runs)
        for start in range(0, len(fresh), _CHUNK):
            self.outcomes.update(stage_outcomes(session, fresh[start:start + _CHUNK]))
        self.included = included_record_ids(session) if included_ids is None else included_ids

    def counts(self, run_id: int) -> PrismaCounts:
        run = self.runs[run_id]
        counts = PrismaCounts(run_ids=(run_id,), window_start=run.window_start,
                              window_end=run.window_end, harvest_counts=dict(run.counts or {}),
                              finished=run.status in FINISHED,
                              maybe_pairs=self.maybe_pairs.get(run_id, 0))
        identified: Counter = Counter()
        known: Counter = Counter()
        duplicates: Counter = Counter()
        auto: Counter = Counter()
        problems: list[str] = []
        seen: set[int] = set()
        queued: list[int] = []
        harvest = run.counts or {}
        received = _harvested(harvest)
        for hit in self.hits:
            if hit.run_id != run_id:
                if received is None and hit.last_seen_run_id == run_id:
                    identified[hit.source] += 1
                    known[hit.source] += 1
                continue
            identified[hit.source] += 1
            record = self.records.get(hit.record_id)
            if record is None:
                problems.append(f"source hit {hit.id} points at record {hit.record_id}, "
                                "which does not exist")
                continue
            if record.added_run_id != run_id:
                duplicates["matched a record an earlier run stored"] += 1
                continue
            if hit.record_id in seen:
                duplicates["same record as another hit of this run"] += 1
                continue
            seen.add(hit.record_id)
            fate = self._fate(hit.record_id)
            if fate.kind == "duplicate":
                duplicates[fate.detail] += 1
            elif fate.kind == "queued":
                queued.append(hit.record_id)
            elif fate.kind == "auto_excluded":
                auto[fate.detail] += 1
            elif fate.kind == "imported":
                counts.imported += 1
            else:
                counts.awaiting_prefilter += 1
        if received is not None:
            problems += _seen_again(received, identified, known, harvest["intake"])
        # Every source the run harvested, also those that identified nothing.
        counts.identified = {**{s: 0 for s in harvest.get("windows", {})}, **identified}
        counts.already_known = dict(known)
        filtered = {s: int(n) for s, n in (harvest.get("filtered_out") or {}).items()}
        kept = harvest.get("identified") or {}
        for source in counts.identified:
            if source not in kept and source not in filtered:
                continue  # a run from before the harvest counted these (or not a harvest)
            if source in RANKED_SEARCH or filtered.get(source):
                counts.filtered_out[source] = filtered.get(source, 0)
                counts.ranked_returned[source] = int(kept.get(source, 0)) + filtered.get(source, 0)
        counts.duplicates, counts.auto_excluded = dict(duplicates), dict(auto)
        counts.queued = len(queued)
        counts.queued_from_earlier_runs = sum(
            1 for rid, (queued_by, added) in self.candidates.items()
            if queued_by == run_id and added is not None and added < run_id)
        both = [r for r in queued if r in self.auto and r in self.candidates
                and not self._title_abstract(r).human_votes]
        if both:
            problems.append(f"records {both} are queued for screening and, with no person's "
                            "vote against it, excluded automatically")
        problems += self._follow(counts, queued)
        if problems:
            raise _mismatch([run_id], problems)
        return counts

    def _title_abstract(self, record_id: int) -> StageOutcome:
        return self.outcomes.get(record_id, {}).get("title_abstract", StageOutcome(None))

    def _fate(self, record_id: int) -> _Fate:
        queued = record_id in self.candidates
        if record_id in self.merged and not queued:
            return _Fate("duplicate", f"merged ({self.merged[record_id].method})")
        ta = self._title_abstract(record_id)
        if queued or (record_id in self.auto and ta.human_votes and ta.decision != "exclude"):
            return _Fate("queued")
        if record_id in self.auto:
            return _Fate("auto_excluded", self.auto[record_id])
        record = self.records[record_id]
        if record.in_baseline or record_id in self.human:
            return _Fate("imported")
        return _Fate("awaiting")

    def _follow(self, counts: PrismaCounts, record_ids: list[int]) -> list[str]:
        """Where each queued record stands in screening now."""
        excluded_ta: Counter = Counter()
        excluded_ft: Counter = Counter()
        included: list[int] = []
        wrong: list[int] = []
        for record_id in record_ids:
            stages = self.outcomes.get(record_id, {})
            ta = stages.get("title_abstract", StageOutcome(None))
            ft = stages.get("full_text", StageOutcome(None))
            if record_id in self.merged:
                counts.duplicates_in_screening += 1
            elif ta.decision == "exclude":
                excluded_ta[ta.reason_code or NO_REASON] += 1
            elif ta.decision != "include":
                counts.awaiting_title_abstract += 1
            elif ft.decision == "exclude":
                excluded_ft[ft.reason_code or NO_REASON] += 1
            elif ft.decision == "include":
                included.append(record_id)
                if record_id not in self.included:
                    wrong.append(record_id)
            else:
                counts.awaiting_full_text += 1
        counts.excluded_title_abstract = dict(excluded_ta)
        counts.excluded_full_text = dict(excluded_ft)
        counts.included = len(included)
        counts.included_record_ids = tuple(sorted(included))
        if wrong:
            return [f"records {wrong} passed both stages but are not in "
                    "screening.status.included_record_ids"]
        return []
