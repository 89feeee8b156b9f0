"""Store contents for the summaries tests, written as rows the way the pipeline writes them.

``add_published_corpus`` makes 172 synthetic baseline studies coded so that every consistent
published number (and the reconstruction of the inconsistent ones) comes out exactly. The other
summaries test modules import these builders.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from livingreview.screening.status import included_record_ids, record_decision
from livingreview.store.models import (
    Candidate,
    ChartingCode,
    DuplicateLink,
    ScreeningDecision,
    SourceHit,
    StoredRecord,
    UpdateRun,
)

ROOT = Path(__file__).resolve().parent.parent
CUTOFF = date(2021, 12, 14)
CUTOFF_AT = datetime.combine(CUTOFF, time(0), tzinfo=timezone.utc)

ROLE_FOCUS = (
    [("pre-determined services", "outcomes")] * 19 + [("pre-determined services", "qualities")] * 2
    + [("peer support", "outcomes")] * 29 + [("peer support", "qualities")] * 49
    + [("peer support", "implementation")] * 67 + [("partners in co-creation", "outcomes")]
    + [("partners in co-creation", "qualities")]
    + [("partners in co-creation", "implementation")] * 4
)
REGIONS_EARLY = ["US"] * 40 + ["Oceania"] * 8 + ["Great Britain"] * 4 + ["Canada"] * 4
REGIONS_LATE = (["US"] * 35 + ["Oceania"] * 28 + ["Great Britain"] * 20 + ["Canada"] * 11
                + ["Europe"] * 13 + ["Asia"] * 8 + ["Southern America"])
SPELLINGS = {
    "US": ["United States", "US", "USA"], "Oceania": ["Australia", "NZ", "New Zealand"],
    "Great Britain": ["England", "UK", "Scotland", "Wales"], "Canada": ["Canada", "CA"],
    "Europe": ["Netherlands", "Norway", "SE", "Ireland", "Finland"],
    "Asia": ["Taiwan", "Hong Kong", "Singapore", "CHN"], "Southern America": ["Brazil"],
}


def add_run(session: Session, kind: str = "update", *, start: date | None = None,
            end: date | None = None, status: str = "succeeded") -> int:
    run = UpdateRun(kind=kind, window_start=start, window_end=end, status=status)
    session.add(run)
    session.flush()
    return run.id


def add_record(session: Session, run_id: int, *, source: str, source_id: str,
               title: str | None = None, year: int | None = None, baseline: bool = False,
               study_id: str | None = None, doi: str | None = None,
               pmid: str | None = None) -> int:
    """A record with the one source hit that brought it in (as intake stores a new hit)."""
    record = StoredRecord(origin=source, title=title or f"Study {source_id}", year=year,
                          in_baseline=baseline, added_run_id=run_id, study_id=study_id, doi=doi,
                          pmid=pmid)
    session.add(record)
    session.flush()
    session.add(SourceHit(record_id=record.id, source=source, source_id=source_id, run_id=run_id,
                          last_seen_run_id=run_id))
    session.flush()
    return record.id


def code(session: Session, record_id: int, field: str, value: str,
         coded_at: datetime = CUTOFF_AT) -> None:
    session.add(ChartingCode(record_id=record_id, field=field, value=value, coder="test",
                             coded_at=coded_at))


def include_baseline(session: Session, record_id: int, run_id: int) -> None:
    for stage in ("title_abstract", "full_text"):
        session.add(ScreeningDecision(record_id=record_id, stage=stage, decision="include",
                                      reviewer="baseline", decided_at=CUTOFF_AT, run_id=run_id))


def add_baseline_study(session: Session, run_id: int, index: int, year: int,
                       codes: list[tuple[str, str]]) -> int:
    record_id = add_record(session, run_id, source="seed", source_id=f"s{index:03d}",
                           year=year, baseline=True, study_id=f"study{index:03d}")
    include_baseline(session, record_id, run_id)
    for field, value in codes:
        code(session, record_id, field, value)
    return record_id


def published_codes(i: int) -> tuple[int, list[tuple[str, str]]]:
    """Year and codes of synthetic study ``i`` (0..171) of the published corpus."""
    if i < 56:
        year, region = 2010 + i % 7, REGIONS_EARLY[i]
    else:
        year, region = (2022 if i < 59 else 2017 + i % 5), REGIONS_LATE[i - 56]
    role, focus = ROLE_FOCUS[i]
    codes: list[tuple[str, str]] = [("research_focus", focus)]
    if i == 25:  # two role rows: the first is the primary role
        codes += [("role_type", role), ("role_type", "pre-determined services")]
    else:
        codes.append(("role_type", role))
    if 21 <= i <= 24:
        codes.append(("role_type_secondary", "pre-determined services"))
    if i == 100:
        codes.append(("region", region if region != "Europe" else "Europe excluding Great Britain"))
    else:
        spelling = SPELLINGS[region]
        codes.append(("country", spelling[i % len(spelling)]))
    if 56 <= i <= 61:  # multi-country studies: the US and Germany
        codes.append(("country", "Germany"))
    if 166 <= i <= 168:
        codes += [("service_cycle_phases", p) for p in ("commissioning", "design", "delivery")]
    elif 169 <= i:
        codes.append(("involvement", "co-creation"))
    elif i == 50:
        codes += [("service_cycle_phases", "delivery"), ("service_cycle_phases", "assessment")]
    elif i < 10:
        codes.append(("service_cycle_phases", "delivery"))
    else:
        codes.append(("involvement", "co-production"))
    codes.append(("multidisciplinary", "Team" if i < 10 else
                   "team" if i < 72 else "environment" if i < 142 else "not described"))
    codes.append(("boundary_spanner",
                  "explicit" if i < 132 else "implicit" if i < 142 else "not described"))
    if i < 28:
        codes.append(("group_activities", "service users"))
    elif i < 36:
        codes.append(("group_activities", "professionals"))
    elif i < 40:
        codes += [("group_activities", "service users"), ("group_activities", "professionals")]
    if i < 13:
        codes.append(("service_context", "veteran health care" if i % 2 else
                      "Veterans Affairs medical centre"))
    elif i < 21:
        codes.append(("service_context", "forensic peer support" if i % 2 else
                      "forensic mental health services"))
    elif i < 23:
        codes.append(("service_context", "mothers with children under 5 (substance use)"))
    else:
        codes.append(("service_context", "community services"))
    codes.append(("identified_via", "reference_list" if i < 6 else "expert" if i < 8 else
                  "scanning" if i < 11 else "database"))
    return year, codes


def add_published_corpus(session: Session) -> tuple[int, list[int]]:
    """The baseline run and 172 included studies coded to reproduce the article's numbers."""
    run_id = add_run(session, "baseline", end=CUTOFF)
    ids = []
    for i in range(172):
        year, codes = published_codes(i)
        ids.append(add_baseline_study(session, run_id, i, year, codes))
    session.flush()
    return run_id, ids


def include_new(session: Session, record_id: int, when: datetime) -> None:
    """A screener includes a candidate at both stages (through the screening API)."""
    record_decision(session, record_id, "title_abstract", "include", "anna", decided_at=when)
    record_decision(session, record_id, "full_text", "include", "anna",
                    decided_at=when + timedelta(days=1))


def queue(session: Session, record_id: int, run_id: int) -> None:
    session.add(Candidate(record_id=record_id, run_id=run_id, flags=[]))
    session.flush()


def auto_exclude(session: Session, record_id: int, run_id: int, reason: str) -> None:
    session.add(ScreeningDecision(record_id=record_id, stage="title_abstract", decision="exclude",
                                  reason_code=reason, reviewer="auto:eligibility", run_id=run_id))
    session.flush()


def merge(session: Session, record_id: int, canonical_id: int, run_id: int,
          status: str = "merged") -> None:
    session.add(DuplicateLink(record_id=record_id, canonical_id=canonical_id, method="doi",
                              score=1.0, zone="duplicate" if status == "merged" else "maybe",
                              status=status, decided_by="auto", run_id=run_id))
    session.flush()


def published_store(directory: Path) -> Path:
    """A migrated SQLite store holding the synthetic published corpus (built once, then copied)."""
    from livingreview.store.database import session_scope, upgrade

    path = directory / "published.sqlite"
    upgrade(f"sqlite:///{path}")
    with session_scope(f"sqlite:///{path}") as session:
        add_published_corpus(session)
    return path


def copy_store(source: Path, target: Path) -> str:
    """A consistent copy of a SQLite store (the backup API also copies what is still in the WAL)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


def corpus_fixtures():
    """Fixtures ``published`` (the corpus store, built once per module) and ``corpus`` (a fresh
    copy of it for each test, since tests change it).

    Use: ``published, corpus = corpus_fixtures()`` at module level.
    """

    @pytest.fixture(scope="module")
    def published(tmp_path_factory) -> Path:
        return published_store(tmp_path_factory.mktemp("published"))

    @pytest.fixture
    def corpus(published, tmp_path) -> str:
        return copy_store(published, tmp_path / "corpus.sqlite")

    return published, corpus


def test_published_corpus_is_172_included_studies(store_url):
    from livingreview.store.database import session_scope

    with session_scope(store_url) as session:
        _, ids = add_published_corpus(session)
        assert included_record_ids(session) == set(ids)
        assert len(ids) == 172
