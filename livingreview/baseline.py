"""The baseline corpus: the published review's included studies, loaded by ``livingreview init``.

The reference list (``data/seed/references.csv``) holds 102 of the 172 included studies, with
coding only where the article states it. Each study becomes a record with a ``seed`` source hit,
include decisions at both screening stages by reviewer ``baseline`` dated at the search cut-off,
and the charting codes the article gives.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from livingreview.errors import InputError
from livingreview.records import NOT_STORED, Record
from livingreview.screening.scheme import normalise_code
from livingreview.store.models import ChartingCode, ScreeningDecision, SourceHit, StoredRecord, UpdateRun

BASELINE_REVIEWER = "baseline"
BASELINE_CODER = "published-article"
SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "seed" / "references.csv"

_AUTHOR = re.compile(r"\s*(?:&\s*)?([^,&]+?),\s*((?:[A-ZÀ-Ž]\.?[\s-]*)+)(?:,|$)")
_REQUIRED = ("ref_id", "authors", "year", "title", "journal", "doi", "role", "doi_correction")


@dataclass
class BaselineResult:
    run_id: int
    studies: int
    coded_values: int


def parse_reference_authors(text: str) -> list[str]:
    """``"Agrawal, S., Capponi, P., & Soklaridis, S."`` -> ``["Agrawal, S.", ...]``."""
    return [f"{m.group(1).strip()}, {m.group(2).strip()}" for m in _AUTHOR.finditer(text)]


def read_seed(path: Path = SEED_FILE) -> list[dict[str, str]]:
    """The included-study rows of the reference list, checked for the columns we rely on."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(str(path), "header", f"missing columns {missing}",
                             "use the seed's references.csv (column dictionary: coding-scheme.md §5)")
        return [row for row in reader if row["role"] == "included_study"]


def seed_record(row: dict[str, str]) -> Record:
    return Record(
        source="seed",
        source_id=row["ref_id"],
        title=row["title"],
        authors=parse_reference_authors(row["authors"]),
        year=int(row["year"]) if row["year"].strip().isdigit() else None,
        journal=row["journal"] or None,
        volume=row["volume"] or None,
        issue=row["issue"] or None,
        pages=row["pages"] or None,
        doi=row["doi_correction"] or row["doi"] or None,
        publication_types=[row["publication_type"]] if row.get("publication_type") else [],
        language="eng",
        url=row["url"] or None,
    )


def seed_codes(row: dict[str, str]) -> list[tuple[str, str]]:
    """The coding the article states for one study, as (field, value) pairs of the scheme.

    Values go through the charting scheme's ``normalise_code`` so that the baseline's codes
    survive a ``chart export`` / ``chart import`` round trip like any screener's.
    """
    codes: list[tuple[str, str]] = []
    roles = normalise_code("role_type", row["role_type"])
    if roles:
        codes.append(("role_type", roles[0]))
        codes += [("role_type_secondary", r) for r in roles[1:]]
    for field in ("research_focus", "involvement", "country", "design", "service_context",
                  "identified_via"):
        codes += [(field, v) for v in normalise_code(field, row[field])]
    spanner = row["boundary_spanner"]
    codes += [("boundary_spanner", v) for v in normalise_code("boundary_spanner", spanner)]
    if normalise_code("boundary_spanner", spanner) == ["explicit"]:
        codes += [("boundary_spanner_descriptor", v)
                  for v in normalise_code("boundary_spanner_descriptor", spanner)]
    other = row.get("other_explicit_coding", "")
    for target in ("service users", "professionals"):
        if f"group activities targeting {target}" in other:
            codes.append(("group_activities", target))
    return codes


def load_baseline(session: Session, cutoff: date, path: Path = SEED_FILE) -> BaselineResult | None:
    """Load the baseline once; returns None when the store already has it."""
    if session.scalar(select(func.count()).select_from(UpdateRun).where(UpdateRun.kind == "baseline")):
        return None
    rows = read_seed(path)
    decided_at = datetime.combine(cutoff, time(0), tzinfo=timezone.utc)
    run = UpdateRun(kind="baseline", window_end=cutoff, status="succeeded",
                    started_at=decided_at, finished_at=datetime.now(timezone.utc))
    session.add(run)
    session.flush()
    coded = 0
    for row in rows:
        record = seed_record(row)
        stored = StoredRecord(origin="seed", study_id=row["ref_id"], in_baseline=True,
                              added_run_id=run.id, added_at=decided_at,
                              **{k: v for k, v in record.to_dict().items()
                                 if k not in NOT_STORED})
        session.add(stored)
        session.flush()
        session.add(SourceHit(record_id=stored.id, source="seed", source_id=row["ref_id"],
                              run_id=run.id, last_seen_run_id=run.id, payload=record.to_dict(),
                              harvested_at=decided_at))
        for stage in ("title_abstract", "full_text"):
            session.add(ScreeningDecision(record_id=stored.id, stage=stage, decision="include",
                                          reviewer=BASELINE_REVIEWER, decided_at=decided_at,
                                          run_id=run.id, note="included in the published review"))
        for field, value in seed_codes(row):
            session.add(ChartingCode(record_id=stored.id, field=field, value=value,
                                     coder=BASELINE_CODER, coded_at=decided_at,
                                     provenance="references.csv (stated in the article)"))
            coded += 1
    run.counts = {"studies": len(rows), "coded_values": coded}
    return BaselineResult(run_id=run.id, studies=len(rows), coded_values=coded)
