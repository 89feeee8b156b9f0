"""What every source's API client shares when it fetches: its result, window and query checks,
archive counting, cursor paging, and turning an unreadable body into a source error."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

import httpx

from livingreview.config import Settings
from livingreview.errors import ConfigError, InputError, PermanentSourceError
from livingreview.records import Record
from livingreview.sources.client import Archive, RawResponse, RetryPolicy, SourceClient, redact_request


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


def clean_query(source: str, query: str) -> str:
    """The query with its whitespace collapsed (queries are kept multi-line in review.toml)."""
    text = " ".join((query or "").split())
    if not text:
        raise ConfigError(f"{source}: the query is empty. Fix: set the {source} query in review.toml")
    return text


def check_window(source: str, start: date, end: date) -> None:
    if start > end:
        raise ConfigError(f"{source}: window start {start.isoformat()} is after its end "
                          f"{end.isoformat()}. Fix: pass the earlier date as start")


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


def doi_batch(source: str, dois: list[str], limit: int) -> list[str]:
    """``dois`` normalised for one look-up request of at most ``limit``; a bad batch is a
    configuration error naming the source."""
    from livingreview.records import normalise_doi

    keys = [normalise_doi(d) for d in dois]
    if not keys or len(keys) > limit or None in keys:
        raise ConfigError(f"{source}: a DOI look-up takes 1..{limit} valid DOIs, got "
                          f"{len(keys)} ({dois[:3]}...). Fix: pass normalised DOIs in batches")
    return keys


def records_by_doi(sender: SourceClient, archive: Archive, dois: list[str], batch: int,
                   build: Callable[[list[str]], httpx.Request],
                   parse: Callable[..., list[Record]], what: str) -> list[Record]:
    """The records a source gives for ``dois``, asked ``batch`` DOIs a request (each response
    archived before it is parsed); a DOI the source does not know is simply not among them."""
    from livingreview.records import normalise_doi

    wanted = sorted({d for d in (normalise_doi(x) for x in dois) if d})
    found: list[Record] = []
    for first in range(0, len(wanted), batch):
        request = build(wanted[first:first + batch])
        raw = sender.send(request, archive)
        found += parse_or_fail(parse, raw, redact_request(request, sender.secrets), what)
    return found


class CountingArchive:
    """Hands every response on to the flow's archive and counts them for the summary."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.count = 0

    def __call__(self, raw: RawResponse) -> None:
        self.count += 1
        self.archive(raw)


def page_with_cursor(sender: SourceClient, archive: CountingArchive, *,
                     build: Callable[[str], httpx.Request], read: Callable[..., Any],
                     page: Callable[[Any], tuple[list[Record], str | None, int | None]],
                     page_size: int, max_records: int, what: str,
                     stop_before: Callable[[], str | None] = lambda: None,
                     answered: Callable[[RawResponse], None] = lambda raw: None,
                     ) -> tuple[list[Record], dict[str, Any]]:
    """Follow a cursor from ``*`` until a short page, no or a repeated cursor, or ``max_records``.

    ``build(cursor)`` makes the request, ``read(body, origin=...)`` decodes a page, and
    ``page(data)`` gives its records, the next cursor and the total count the API reports.
    Records are kept once per ``source_id``; one page is held at a time. ``stop_before()`` is
    asked before each request: a reason (a spent budget, say) ends the paging cleanly, recorded
    as ``stopped``; ``answered(raw)`` sees every archived answer (cost headers, say).
    """
    records: dict[str, Record] = {}
    pages, count, cursor, stopped = 0, None, "*", None
    while len(records) < max_records:
        stopped = stop_before()
        if stopped:
            break
        request = build(cursor)
        raw = sender.send(request, archive)
        answered(raw)
        data = parse_or_fail(read, raw, redact_request(request, sender.secrets), what)
        del raw  # the body is archived; only the decoded page is needed now
        pages += 1
        page_records, next_cursor, total = page(data)
        count = total if total is not None else count
        for record in page_records:
            if len(records) >= max_records:
                break
            records.setdefault(record.source_id, record)
        # A repeated cursor is Europe PMC's end marker; a short page ends every API's list.
        if len(page_records) < page_size or not next_cursor or next_cursor == cursor:
            break
        cursor = next_cursor
    summary = {"count": count, "received": len(records), "pages": pages, "requests": archive.count}
    if stopped:
        summary["stopped"] = stopped
    return list(records.values()), summary
