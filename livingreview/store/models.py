"""The corpus store's tables (SQLAlchemy 2). Schema changes go through Alembic migrations.

Facts are stored, states are derived: a record's screening status comes from its append-only
decisions, a record's canonical form from its duplicate links, PRISMA counts from both.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class UpdateRun(Base):
    """One run of the monthly update (or the baseline load)."""

    __tablename__ = "update_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="update")  # baseline | update | import
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(30), default="running")
    counts: Mapped[dict] = mapped_column(default=dict)
    report_version: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class Watermark(Base):
    """How far each source has been harvested successfully."""

    __tablename__ = "watermarks"

    source: Mapped[str] = mapped_column(String(30), primary_key=True)
    harvested_until: Mapped[date] = mapped_column(Date)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("update_runs.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StoreLock(Base):
    """A named writer lock: at most one update (or report) writes to the store at a time.

    The row exists while its holder runs; ``holder`` is ``host:pid`` so that a lock left by a
    killed process on this machine is recognised as stale at once, and ``heartbeat_at`` lets a
    lock from another machine expire.
    """

    __tablename__ = "store_locks"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("update_runs.id"))
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RawResponse(Base):
    """Every API response body, archived with its request before it is parsed."""

    __tablename__ = "raw_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("update_runs.id"), index=True)
    source: Mapped[str] = mapped_column(String(30))
    method: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(Text)
    params: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict] = mapped_column(default=dict)
    body_gzip: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StoredRecord(Base):
    """One bibliographic item. Never deleted: duplicates point at their canonical record."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(40))  # the source that first gave it
    study_id: Mapped[str | None] = mapped_column(String(80), unique=True)  # e.g. agrawal2016
    doi: Mapped[str | None] = mapped_column(String(300), index=True)
    pmid: Mapped[str | None] = mapped_column(String(20), index=True)
    pmcid: Mapped[str | None] = mapped_column(String(20), index=True)
    openalex_id: Mapped[str | None] = mapped_column(String(20), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    abstract: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list] = mapped_column(default=list)
    year: Mapped[int | None] = mapped_column(Integer)
    journal: Mapped[str | None] = mapped_column(Text)
    volume: Mapped[str | None] = mapped_column(String(60))
    issue: Mapped[str | None] = mapped_column(String(60))
    pages: Mapped[str | None] = mapped_column(String(60))
    publication_types: Mapped[list] = mapped_column(default=list)
    language: Mapped[str | None] = mapped_column(String(10))
    keywords: Mapped[list] = mapped_column(default=list)
    mesh_terms: Mapped[list] = mapped_column(default=list)
    created_date: Mapped[str | None] = mapped_column(String(30))
    url: Mapped[str | None] = mapped_column(Text)
    in_baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    added_run_id: Mapped[int | None] = mapped_column(ForeignKey("update_runs.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    hits: Mapped[list["SourceHit"]] = relationship(back_populates="record")


class SourceHit(Base):
    """A record as one source returned it: provenance, kept whole (``payload``)."""

    __tablename__ = "source_hits"
    __table_args__ = (UniqueConstraint("source", "source_id", name="uq_hit_source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    source: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(300))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("update_runs.id"), index=True)
    raw_response_id: Mapped[int | None] = mapped_column(ForeignKey("raw_responses.id"))
    last_seen_run_id: Mapped[int | None] = mapped_column(ForeignKey("update_runs.id"))
    payload: Mapped[dict] = mapped_column(default=dict)
    harvested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    record: Mapped[StoredRecord] = relationship(back_populates="hits")


class DuplicateLink(Base):
    """``record_id`` duplicates ``canonical_id``; ``status`` says whether the link is in force.

    zone: duplicate (merged automatically) | maybe (a person decides).
    status: merged | pending | distinct | undone.
    """

    __tablename__ = "duplicate_links"
    __table_args__ = (UniqueConstraint("record_id", "canonical_id", name="uq_dup_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    canonical_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    zone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("update_runs.id"))

    decisions: Mapped[list[DuplicateDecision]] = relationship(
        back_populates="link", order_by="DuplicateDecision.id")


class DuplicateDecision(Base):
    """Append-only: a person moved a duplicate link from one status to another.

    The link row holds the status in force; these rows are how it got there, so an undone merge
    still shows who merged it, when and why.
    """

    __tablename__ = "duplicate_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("duplicate_links.id"), index=True)
    previous_status: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    reviewer: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    link: Mapped[DuplicateLink] = relationship(back_populates="decisions")


class Candidate(Base):
    """A record queued for screening, with its priority and the pre-filter's flags."""

    __tablename__ = "candidates"

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("update_runs.id"), index=True)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    priority: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list] = mapped_column(default=list)
    second_reviewer: Mapped[bool] = mapped_column(Boolean, default=False)


class ScreeningDecision(Base):
    """Append-only screening events; a record's status is derived from the latest ones."""

    __tablename__ = "screening_decisions"
    __table_args__ = (Index("ix_decision_record_stage", "record_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    stage: Mapped[str] = mapped_column(String(20))  # title_abstract | full_text
    decision: Mapped[str] = mapped_column(String(10))  # include | exclude | maybe | undo
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reviewer: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("update_runs.id"))
    note: Mapped[str | None] = mapped_column(Text)


class ChartingCode(Base):
    """One coded value of one field for one study (multi-valued fields take several rows)."""

    __tablename__ = "charting_codes"
    __table_args__ = (Index("ix_chart_record_field", "record_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    field: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
    coder: Mapped[str] = mapped_column(String(80))
    provenance: Mapped[str | None] = mapped_column(Text)
    coded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CoCreationAlert(Base):
    """A record the co-creation detector flagged and the maintainers were told about (once per
    record). ``evidence`` keeps the passages that carried the flag, ``mode`` whether the rules
    or the learned model decided."""

    __tablename__ = "co_creation_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), unique=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("update_runs.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    mode: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[list] = mapped_column(default=list)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    decisions: Mapped[list[AlertDecision]] = relationship(
        back_populates="alert", order_by="AlertDecision.id")


class AlertDecision(Base):
    """Append-only: a maintainer confirmed or dismissed an alert; the latest row is in force."""

    __tablename__ = "alert_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("co_creation_alerts.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))  # confirmed | dismissed
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    alert: Mapped[CoCreationAlert] = relationship(back_populates="decisions")
