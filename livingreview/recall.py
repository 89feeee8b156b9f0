"""Search recall on the known included studies: does each enabled source's search, as
configured, retrieve the corpus's included studies that carry an identifier?

* PubMed: the query ANDed with the studies' PMIDs as ``[uid]`` (batched). A study it misses is
  looked up block by block (each Table 1 block, and the language/date limits, ANDed with its
  PMID) to say which failed; a PMID PubMed does not return at all is ``absent``.
* Crossref: the studies' works fetched by DOI, their missing abstracts looked up (as the monthly
  run does), then the local strategy; a miss names the blocks the text does not show.

The included studies are the corpus baseline (the review's reference list, and whatever was
imported with ``--included``).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.config import Settings
from livingreview.harvest.windows import enabled_sources
from livingreview.sources.client import Archive, SourceClient
from livingreview.store.models import StoredRecord
from livingreview.strategy import (
    BLOCKS,
    evaluate,
    local_strategy,
    pubmed_query,
    query_blocks,
    source_variant,
)

UID_BATCH = 200
MEASURED = ("pubmed", "crossref")


@dataclass(frozen=True)
class KnownStudy:
    key: str  # study id (agrawal2016) or record id
    title: str | None
    doi: str | None
    pmid: str | None  # filled in from PubMed by DOI when the corpus has none


@dataclass
class Outcome:
    study: str
    status: str  # found | missed | absent (the source does not hold it) | no_identifier
    failed_blocks: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class SourceRecall:
    source: str
    variant: str
    outcomes: list[Outcome]

    @property
    def eligible(self) -> int:
        return sum(o.status != "no_identifier" for o in self.outcomes)

    @property
    def found(self) -> int:
        return sum(o.status == "found" for o in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "variant": self.variant, "studies": self.eligible,
                "found": self.found,
                "recall": round(self.found / self.eligible, 4) if self.eligible else None,
                "missed": [asdict(o) for o in self.outcomes if o.status in ("missed", "absent")]}


def known_studies(session: Session) -> list[KnownStudy]:
    rows = session.scalars(select(StoredRecord).where(StoredRecord.in_baseline.is_(True))
                           .order_by(StoredRecord.id))
    return [KnownStudy(r.study_id or f"record {r.id}", r.title, r.doi, r.pmid) for r in rows]


def _uids(pmids: list[str]) -> str:
    return "(" + " OR ".join(f"{p}[uid]" for p in pmids) + ")"


def _matching(http: httpx.Client | SourceClient, settings: Settings, term: str, n: int,
              archive: Archive) -> set[str]:
    from livingreview.sources import pubmed

    result, _ = pubmed.search(http, settings, term, archive, retmax=max(n, 1))
    return set(result.ids)


def pubmed_recall(http: httpx.Client | SourceClient, settings: Settings, query: str,
                  studies: list[KnownStudy], archive: Archive) -> list[Outcome]:
    from livingreview.abstracts import pubmed_records_by_doi

    blocks = query_blocks(" ".join(query.split()))
    outcomes: dict[str, Outcome] = {}
    # A study known by its DOI only (the reference list gives no PMIDs) is found in PubMed by
    # "<doi>"[aid] first; one PubMed does not hold is absent from it.
    unresolved = sorted({s.doi for s in studies if s.doi and not s.pmid})
    by_doi = pubmed_records_by_doi(http, settings, unresolved, archive) if unresolved else {}
    for study in [s for s in studies if s.doi and not s.pmid]:
        if not (study.doi in by_doi and by_doi[study.doi].pmid):
            outcomes[study.key] = Outcome(study.key, "absent", note=f"DOI {study.doi} not in PubMed")
    studies = [replace(s, pmid=by_doi[s.doi].pmid) if not s.pmid and s.doi in by_doi else s
               for s in studies]
    with_pmid = [s for s in studies if s.pmid]
    for first in range(0, len(with_pmid), UID_BATCH):
        batch = with_pmid[first:first + UID_BATCH]
        pmids = [s.pmid for s in batch]
        found = _matching(http, settings, f"({' '.join(query.split())}) AND {_uids(pmids)}",
                          len(pmids), archive)
        missed = [p for p in pmids if p not in found]
        present = _matching(http, settings, _uids(missed), len(missed), archive) if missed else set()
        failing: dict[str, list[str]] = {p: [] for p in missed if p in present}
        if failing:
            parts = {name: blocks[name] for name in BLOCKS}
            if blocks["limits"]:
                parts["limits"] = f"{_uids(list(failing))} {blocks['limits']}"
            for name, part in parts.items():
                term = part if name == "limits" else f"{part} AND {_uids(list(failing))}"
                shown = _matching(http, settings, term, len(failing), archive)
                for pmid in failing:
                    if pmid not in shown:
                        failing[pmid].append(name)
        for study in batch:
            if study.pmid in found:
                outcomes[study.key] = Outcome(study.key, "found")
            elif study.pmid in failing:
                outcomes[study.key] = Outcome(study.key, "missed", failing[study.pmid])
            else:
                outcomes[study.key] = Outcome(study.key, "absent", note=f"PMID {study.pmid} "
                                              "not returned by PubMed")
    return [outcomes.get(s.key) or Outcome(s.key, "no_identifier", note="no PMID or DOI")
            for s in studies]


def crossref_recall(http: httpx.Client | SourceClient, settings: Settings, review: dict[str, Any],
                    variant: str, studies: list[KnownStudy], archive: Archive) -> list[Outcome]:
    from livingreview.abstracts import enrich_abstracts
    from livingreview.sources import crossref

    works = crossref.works_by_doi(http, settings, [s.doi for s in studies if s.doi], archive)
    enrich_abstracts(http, settings, list(works.values()), archive)
    blocks = local_strategy(review, variant).compiled()
    outcomes = []
    for study in studies:
        if not study.doi:
            outcomes.append(Outcome(study.key, "no_identifier", note="no DOI"))
        elif study.doi not in works:
            outcomes.append(Outcome(study.key, "absent", note=f"DOI {study.doi} not in Crossref"))
        else:
            verdict = evaluate(blocks, works[study.doi])
            note = "kept without an abstract" if verdict.needs_abstract else ""
            outcomes.append(Outcome(study.key, "found" if verdict.kept else "missed",
                                    list(verdict.failed_blocks), note))
    return outcomes


def measure_recall(settings: Settings, review: dict[str, Any], studies: list[KnownStudy],
                   http: httpx.Client | SourceClient, archive: Archive,
                   only: list[str] | None = None) -> list[SourceRecall]:
    """Recall of every enabled source that can be measured (PubMed, Crossref)."""
    results = []
    for source in enabled_sources(review, only):
        if source not in MEASURED:
            continue
        variant = source_variant(review, source)
        if source == "pubmed":
            query = pubmed_query(review["sources"]["pubmed"], variant)
            outcomes = pubmed_recall(http, settings, query, studies, archive)
        else:
            outcomes = crossref_recall(http, settings, review, variant, studies, archive)
        results.append(SourceRecall(source, variant, outcomes))
    return results


def recall_table(results: list[SourceRecall]) -> str:
    lines = []
    for result in results:
        share = f"{result.found / result.eligible:.1%}" if result.eligible else "n/a"
        lines.append(f"{result.source} ({result.variant}): {result.found} of {result.eligible} "
                     f"known included studies with an identifier found ({share})")
        for outcome in result.outcomes:
            if outcome.status == "missed":
                lines.append(f"  missed {outcome.study}: failed block(s) "
                             f"{', '.join(outcome.failed_blocks)}")
            elif outcome.status == "absent":
                lines.append(f"  missed {outcome.study}: {outcome.note}")
    return "\n".join(lines)


def write_recall_csv(results: list[SourceRecall], out: Path) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["source", "variant", "study", "status", "failed_blocks", "note"])
        for result in results:
            for o in result.outcomes:
                writer.writerow([result.source, result.variant, o.study, o.status,
                                 ";".join(o.failed_blocks), o.note])
