"""Decisions made in another screening tool (Rayyan, ASReview), as read from its export.

The format readers (``livingreview.formats.rayyan`` / ``.asreview``) produce these; the
exchange module matches them to stored records and records them as ordinary decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ExternalDecision:
    """One reviewer's decision on one row of an exported file.

    ``record_id`` is this store's id when the file carried it back; ``doi``/``pmid``/``title``
    let a row be matched when the tool dropped it. ``reviewer`` is None when the tool does not
    say who decided (ASReview). ``reasons`` are the tool's exclusion reasons as written there.
    """

    line: int
    decision: str  # include | exclude | maybe
    record_id: int | None = None
    doi: str | None = None
    pmid: str | None = None
    title: str | None = None
    reviewer: str | None = None
    reasons: tuple[str, ...] = ()
    note: str | None = None
    decided_at: datetime | None = None
    extra: dict = field(default_factory=dict)
