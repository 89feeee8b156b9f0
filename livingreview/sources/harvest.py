"""What a harvest returns, whichever source it ran against."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from livingreview.config import Settings
from livingreview.errors import InputError, PermanentSourceError
from livingreview.records import Record
from livingreview.sources.client import RawResponse, RetryPolicy, SourceClient


@dataclass
class HarvestResult:
    """Records from one source for one window, and an account of how they were got.

    ``summary`` is plain JSON-able data (counts, windows, query translations, warnings) for the
    flow to log, store with the run and alert on; its keys are documented by each source's
    ``harvest`` function. ``responses`` counts the responses handed to the archive.
    """

    source: str
    records: list[Record] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    responses: int = 0


def source_client(client: httpx.Client | SourceClient, source: str, rate: float,
                  settings: Settings, retry: RetryPolicy | None = None) -> SourceClient:
    """Use the caller's ``SourceClient`` as is, or wrap a plain ``httpx.Client`` for ``source``."""
    if isinstance(client, SourceClient):
        return client
    return SourceClient(http=client, source=source, rate=rate, retry=retry or RetryPolicy(),
                        secrets=tuple(settings.secrets()))


def parse_or_fail(parse, raw: RawResponse, request: httpx.Request, what: str):
    """Parse an archived response; a body we cannot read becomes a ``PermanentSourceError``.

    The body is already archived, so the run can be re-parsed once the parser is fixed.
    """
    try:
        return parse(raw.body, origin=f"{raw.source} {what} {raw.url}")
    except InputError as exc:
        response = httpx.Response(raw.status, headers=raw.headers, text=raw.body, request=request)
        raise PermanentSourceError(
            f"{raw.source}: could not read the {what} returned by {raw.method} {raw.url}: "
            f"{exc.place}: {exc.problem}. Fix: {exc.fix}; the raw body is in the archive",
            request=request, response=response) from exc
