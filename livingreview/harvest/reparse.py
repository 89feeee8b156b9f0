"""Re-parse a run from its archive: the run's harvest is run again with every answer taken from
the responses archived for it, so no request leaves the process, and the records it builds are
compared with the ones the run stored.

The archive answers a request with the next archived response to the same method, path and
parameters (secrets redacted, as archived); responses the run retried past (429, 5xx) are skipped,
as the retry that followed them is archived too. A request the archive cannot answer (the query
in review.toml changed since the run, say) stops the re-parse naming it. After a parser fix, the
same rebuild shows which stored records the fix changes.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.config import Settings
from livingreview.errors import ConfigError, LivingReviewError
from livingreview.harvest.run import harvest_source
from livingreview.harvest.windows import Window
from livingreview.records import Record
from livingreview.sources.client import no_archive, redact_request, request_params, throttles_paused
from livingreview.store.models import RawResponse, SourceHit, UpdateRun


class ReparseError(LivingReviewError):
    """The archive cannot answer what the re-run asks."""


def _key(method: str, path: str, params: dict[str, str]) -> tuple[str, str, str]:
    return method, path, json.dumps(sorted(params.items()))


class ArchiveTransport(httpx.BaseTransport):
    """Answers each request with the next archived response to it."""

    def __init__(self, rows: list[RawResponse], secrets: tuple[str, ...]) -> None:
        self.secrets = secrets
        self.answers: dict[tuple[str, str, str], deque[RawResponse]] = defaultdict(deque)
        for row in rows:
            if row.status == 429 or row.status >= 500:
                continue  # retried past during the run
            self.answers[_key(row.method, httpx.URL(row.url).path, row.params)].append(row)
        self.answered = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        safe = redact_request(request, self.secrets)
        key = _key(request.method, request.url.path, dict(request_params(safe)))
        waiting = self.answers.get(key)
        if not waiting:
            raise ReparseError(
                f"the archive holds no (further) response to {request.method} {safe.url}. "
                "Fix: re-parse with the review.toml the run used (its query and settings); a "
                "changed query needs a new run, not a re-parse")
        row = waiting.popleft()
        self.answered += 1
        headers = {k: v for k, v in row.headers.items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")}
        return httpx.Response(row.status, headers=headers, content=gzip.decompress(row.body_gzip),
                              request=request)


@dataclass
class SourceReparse:
    source: str
    rebuilt: int
    stored: int  # hits this run stored first
    equal: int
    differing: list[str] = field(default_factory=list)  # source ids whose stored copy differs
    missing: list[str] = field(default_factory=list)  # stored, but not rebuilt

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _comparable(record: Record) -> dict[str, Any]:
    return json.loads(json.dumps(record.to_dict(), default=str))


def reparse_run(session: Session, settings: Settings, review: dict[str, Any],
                run_id: int) -> tuple[dict[str, list[Record]], list[SourceReparse]]:
    """Rebuild run ``run_id``'s records per source from its archive and compare them."""
    run = session.get(UpdateRun, run_id)
    if run is None:
        raise ConfigError(f"run {run_id} is not in the store. Fix: pick a run id from "
                          "`livingreview status`")
    windows = (run.counts or {}).get("windows") or {}
    if not windows:
        raise ConfigError(f"run {run_id} ({run.kind}, {run.status}) recorded no harvest windows, so "
                          "there is nothing to re-parse. Fix: pick an update run that harvested")
    rows = session.scalars(select(RawResponse).where(RawResponse.run_id == run_id)
                           .order_by(RawResponse.id)).all()
    transport = ArchiveTransport(list(rows), tuple(settings.secrets()))
    rebuilt: dict[str, list[Record]] = {}
    with httpx.Client(transport=transport) as http, throttles_paused():
        for source, (start, end) in windows.items():
            window = Window(source, date.fromisoformat(start), date.fromisoformat(end))
            rebuilt[source] = harvest_source(window, settings, review, http, no_archive).records
    outcomes = []
    for source, records in rebuilt.items():
        by_id = {r.source_id: _comparable(r) for r in records}
        hits = session.scalars(select(SourceHit).where(SourceHit.run_id == run_id,
                                                       SourceHit.source == source)).all()
        outcome = SourceReparse(source, rebuilt=len(records), stored=len(hits), equal=0)
        for hit in hits:
            if hit.source_id not in by_id:
                outcome.missing.append(hit.source_id)
            elif by_id[hit.source_id] == hit.payload:
                outcome.equal += 1
            else:
                outcome.differing.append(hit.source_id)
        outcomes.append(outcome)
    return rebuilt, outcomes
