"""The APIs' published request limits: advertised in headers, and refused with 429 when enforced.

E-utilities: 3 requests/s per client without an API key, 10 with one (E-utilities Help, "API
Keys"). Crossref since 1 December 2025: the polite pool (a ``mailto`` in the query or the
User-Agent) allows 3 requests/s and 3 at a time for list queries and 10/s, 3 at a time for single
works; the public pool 1/s and 1 at a time for lists, 5/s and 1 at a time for single works
(Crossref blog, "Announcing changes to REST API rate limits", 5 Nov 2025). OpenAlex: at most 100
requests/s for everyone, and a daily budget in US dollars (with a free key $1, without $0.01; a
list request costs $0.0001, a ``search`` $0.001, a single work nothing), reported on every answer
in ``X-RateLimit-*-USD`` headers (OpenAlex docs, "Rate limits and authentication", 2026).
Europe PMC: 10 requests/s and 500 a minute (Europe PMC REST API, "Rate limits").

Enforcement is off by default, so that timing on a busy test machine cannot fail an unrelated
test; turn it on to check that a client throttles itself. A request is refused when more than
``limit`` requests of its bucket arrived within the last second (or ``per_minute`` within the last
minute), or when ``concurrency`` are already being answered. Whether enforced or not, every arrival
over a limit is counted (``violations``): the benchmark reads how polite a client was.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    bucket: str
    per_second: int
    concurrency: int | None = None
    pool: str | None = None  # Crossref's x-api-pool
    per_minute: int | None = None


def entrez_limit(has_api_key: bool) -> Limit:
    return Limit("eutils-key" if has_api_key else "eutils", 10 if has_api_key else 3)


def crossref_limit(polite: bool, single_work: bool) -> Limit:
    pool = "polite" if polite else "public"
    if single_work:
        return Limit(f"crossref-{pool}-single", 10 if polite else 5, 3 if polite else 1, pool)
    return Limit(f"crossref-{pool}-list", 3 if polite else 1, 3 if polite else 1, pool)


def openalex_limit() -> Limit:
    return Limit("openalex", 100)


def europepmc_limit() -> Limit:
    return Limit("europepmc", 10, per_minute=500)


def crossref_headers(limit: Limit) -> dict[str, str]:
    """The headers Crossref documents for its limits (and, reportedly, sends for concurrency/pool)."""
    return {
        "X-Rate-Limit-Limit": str(limit.per_second),
        "X-Rate-Limit-Interval": "1s",
        "X-Concurrency-Limit": str(limit.concurrency),
        "X-Api-Pool": limit.pool or "public",
    }


class RateLimiter:
    """Counts arrivals per bucket over a sliding second and requests in flight."""

    def __init__(self, enforce: bool = False, clock=time.monotonic) -> None:  # noqa: ANN001
        self.enforce = enforce
        self._clock = clock
        self._arrivals: dict[str, deque[float]] = {}
        self._minute: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}
        self.violations: dict[str, int] = {}

    def admit(self, limit: Limit) -> int | None:
        """Record an arrival; None if admitted, else how many arrived in the last second."""
        now = self._clock()
        arrivals = self._arrivals.setdefault(limit.bucket, deque())
        while arrivals and arrivals[0] <= now - 1.0:
            arrivals.popleft()
        arrivals.append(now)
        over = len(arrivals) > limit.per_second
        if limit.per_minute is not None:
            minute = self._minute.setdefault(limit.bucket, deque())
            while minute and minute[0] <= now - 60.0:
                minute.popleft()
            minute.append(now)
            over = over or len(minute) > limit.per_minute
        busy = self._in_flight.get(limit.bucket, 0)
        over = over or (limit.concurrency is not None and busy >= limit.concurrency)
        if over:
            self.violations[limit.bucket] = self.violations.get(limit.bucket, 0) + 1
        if self.enforce and over:
            return len(arrivals)
        self._in_flight[limit.bucket] = busy + 1
        return None

    def release(self, limit: Limit) -> None:
        self._in_flight[limit.bucket] = max(0, self._in_flight.get(limit.bucket, 0) - 1)
