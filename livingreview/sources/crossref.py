"""Crossref REST API: ``/works`` with ``query.bibliographic``, a date-window filter and deep paging.

Crossref ranks rather than matches (a multi-word query matches any word), so the harvest runs a
set of narrow queries one after another, pages each with ``cursor=*``/``next-cursor`` until
``max_per_query`` records or a short page, and unions the results by DOI. The local Boolean
filter that restores the review's P AND C AND S logic lives in screening, not here.

Facts this module relies on (``seed/search-strategy.md`` (c)):

* ``mailto`` in the query and in the User-Agent puts us in the polite pool, which allows list
  queries at 3 requests/s (since December 2025); ``X-Rate-Limit-*`` headers can lower that;
* ``rows`` is at most 1000; a cursor expires after about five minutes idle (restart at ``*``);
* ``filter=type:journal-article,from-pub-date:...,from-created-date:...,until-created-date:...``
  (or the ``index-date`` pair for the metadata-changed pass);
* ``select`` keeps responses small; ``language`` is not selectable (left out);
* abstracts are JATS XML; a 404 is ``text/plain`` and a 504 is an HTML page.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any, Literal

import httpx

from livingreview.config import Settings
from livingreview.errors import ConfigError, InputError, PermanentSourceError
from livingreview.records import Record, normalise_doi
from livingreview.sources.bodies import json_body
from livingreview.sources.client import (
    Archive,
    RetryPolicy,
    SourceClient,
    make_request,
    redact_request,
)
from livingreview.harvest.fetching import (
    CountingArchive,
    HarvestResult,
    check_window,
    clean_query,
    parse_or_fail,
    doi_batch,
    records_by_doi,
    source_client,
)
from livingreview.sources.markup import markup_to_text

log = logging.getLogger("livingreview.sources.crossref")

SOURCE = "crossref"
LIST_RATE = 3.0  # polite-pool list queries per second
MAX_ROWS = 1000
DEFAULT_ROWS = 200
DEFAULT_MAX_PER_QUERY = 1000
DEFAULT_FROM_PUB_DATE = date(2010, 1, 1)

# Fields /works accepts in ``select`` (habanero's VALID_SELECTS, itself from the API's error text).
VALID_SELECTS = frozenset({
    "DOI", "ISBN", "ISSN", "URL", "abstract", "accepted", "alternative-id", "approved", "archive",
    "article-number", "assertion", "author", "chair", "clinical-trial-number", "container-title",
    "content-created", "content-domain", "contributor", "created", "degree", "deposited", "editor",
    "event", "funder", "group-title", "indexed", "is-referenced-by-count", "issn-type", "issue",
    "issued", "license", "link", "member", "original-title", "page", "posted", "prefix",
    "published", "published-online", "published-print", "publisher", "publisher-location",
    "reference", "references-count", "relation", "resource", "score", "short-container-title",
    "short-title", "standards-body", "subject", "subtitle", "title", "translator", "type",
    "update-policy", "update-to", "updated-by", "volume",
})
DEFAULT_SELECT = (
    "DOI", "URL", "title", "subtitle", "abstract", "author", "container-title", "issued",
    "published-print", "published-online", "created", "indexed", "type", "volume", "issue",
    "page", "article-number", "subject", "relation", "update-to", "score",
)
DateField = Literal["created", "index"]


# --------------------------------------------------------------------------- request builder


def validate_select(select: tuple[str, ...] | list[str]) -> None:
    """Reject unknown ``select`` fields before any HTTP call (Crossref answers them with a 400)."""
    unknown = [name for name in select if name not in VALID_SELECTS]
    if unknown:
        raise ConfigError(
            f"crossref: select field(s) {', '.join(unknown)} are not accepted by /works. "
            f"Fix: use only {', '.join(sorted(VALID_SELECTS))}")


def _as_date(value: date | str | None, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"crossref: {name}={value!r} is not a date. "
                          "Fix: write it as YYYY-MM-DD (a TOML date needs no quotes)") from None


def works_filter(start: date, end: date, *, date_field: DateField = "created",
                 from_pub_date: date | str | None = DEFAULT_FROM_PUB_DATE) -> str:
    """``type:journal-article[,from-pub-date:...],from-<field>-date:...,until-<field>-date:...``."""
    check_window(SOURCE, start, end)
    from_pub_date = _as_date(from_pub_date, "from_pub_date")
    if date_field not in ("created", "index"):
        raise ConfigError(f"crossref: date_field {date_field!r} is not 'created' or 'index'. "
                          "Fix: use 'created' for new DOIs, 'index' for changed metadata")
    parts = ["type:journal-article"]
    if from_pub_date is not None:
        parts.append(f"from-pub-date:{from_pub_date.isoformat()}")
    parts += [f"from-{date_field}-date:{start.isoformat()}", f"until-{date_field}-date:{end.isoformat()}"]
    return ",".join(parts)


def build_works_request(settings: Settings, query: str, start: date, end: date, *,
                        cursor: str = "*", rows: int = DEFAULT_ROWS,
                        date_field: DateField = "created",
                        from_pub_date: date | str | None = DEFAULT_FROM_PUB_DATE,
                        select: tuple[str, ...] | list[str] = DEFAULT_SELECT) -> httpx.Request:
    """GET ``{base}/works`` for one page of one query in one window.

    Parameters: ``query.bibliographic``, ``filter``, ``rows``, ``cursor``, ``select``, ``mailto``;
    the User-Agent carries ``mailto:`` as well.
    """
    text = clean_query(SOURCE, query)
    if not isinstance(rows, int) or not 1 <= rows <= MAX_ROWS:
        raise ConfigError(f"crossref: rows={rows!r} is outside 1..{MAX_ROWS}. "
                          f"Fix: choose rows between 1 and {MAX_ROWS}")
    if not cursor:
        raise ConfigError("crossref: the cursor is empty. Fix: start paging with cursor='*'")
    validate_select(select)
    params = [
        ("query.bibliographic", text),
        ("filter", works_filter(start, end, date_field=date_field, from_pub_date=from_pub_date)),
        ("rows", str(rows)),
        ("cursor", cursor),
        ("select", ",".join(select)),
        ("mailto", settings.contact_email),
    ]
    return make_request("GET", f"{settings.crossref_base_url.rstrip('/')}/works", params=params,
                        contact_email=settings.contact_email, timeout=settings.http_timeout)


# --------------------------------------------------------------------------- parser


def _first(values: Any) -> str | None:
    if isinstance(values, list):
        for value in values:
            if isinstance(value, str) and value.strip():
                return value
        return None
    return values if isinstance(values, str) and values.strip() else None


def _title(item: dict[str, Any]) -> str | None:
    title = markup_to_text(_first(item.get("title")), labels=False)
    subtitle = markup_to_text(_first(item.get("subtitle")), labels=False)
    # Publishers often deposit the short title as the subtitle; append it only when it adds words.
    if title and subtitle and subtitle.casefold() not in title.casefold():
        return f"{title}: {subtitle}"
    return title or subtitle


def _date_parts(value: Any) -> list[int] | None:
    try:
        parts = value["date-parts"][0]
    except (KeyError, IndexError, TypeError):
        return None
    if not parts or parts[0] is None:
        return None
    return [int(p) for p in parts if p is not None]


def _year(item: dict[str, Any]) -> int | None:
    for key in ("issued", "published-print", "published-online", "created"):
        parts = _date_parts(item.get(key))
        if parts:
            return parts[0]
    return None


def _created_date(item: dict[str, Any]) -> str | None:
    created = item.get("created") or {}
    stamp = created.get("date-time") if isinstance(created, dict) else None
    if isinstance(stamp, str) and len(stamp) >= 10:
        return stamp[:10]
    parts = _date_parts(created)
    if parts and len(parts) == 3:
        return date(*parts).isoformat()
    return None


def _authors(item: dict[str, Any]) -> list[str]:
    names = []
    for author in item.get("author") or []:
        family = " ".join(str(author.get("family") or "").split())
        given = " ".join(str(author.get("given") or "").split())
        if family and given:
            names.append(f"{family}, {given}")
        elif family:
            names.append(family)
        elif author.get("name"):
            names.append(" ".join(str(author["name"]).split()))  # an organisation
        elif given:
            names.append(given)
    return names


def work_to_record(item: dict[str, Any]) -> Record:
    """One Crossref work (a ``message`` or an item of ``message.items``) as a Record."""
    doi = item.get("DOI")
    return Record(
        source=SOURCE,
        source_id=normalise_doi(doi) or str(doi),
        title=_title(item),
        abstract=markup_to_text(item.get("abstract")),
        authors=_authors(item),
        year=_year(item),
        journal=markup_to_text(_first(item.get("container-title")), labels=False),
        volume=item.get("volume") or None,
        issue=item.get("issue") or None,
        pages=item.get("page") or item.get("article-number") or None,
        doi=doi,
        publication_types=[item["type"]] if item.get("type") else [],
        language=item.get("language"),
        created_date=_created_date(item),
        # Crossref's URL is the resolver link in assorted spellings (http://dx.doi.org/...).
        url=f"https://doi.org/{doi}" if doi else None,
    )


def _message(json_text: str | bytes, origin: str) -> dict[str, Any]:
    data = json_body(json_text, origin, "Crossref JSON", "pass a response of api.crossref.org/works")
    if not isinstance(data, dict) or "message" not in data:
        raise InputError(origin, "top level", "no 'message' object: this is not a Crossref REST "
                         "API response (a CSL-JSON or other transform?)",
                         "pass a response of api.crossref.org/works or /works/{doi}")
    if data.get("status") != "ok":
        detail = data.get("message")
        if isinstance(detail, list):
            detail = "; ".join(str(d.get("message", d)) if isinstance(d, dict) else str(d)
                               for d in detail)
        elif isinstance(detail, dict):
            detail = detail.get("description") or detail.get("name") or json.dumps(detail)[:200]
        raise InputError(origin, f"status {data.get('status')!r}",
                         f"Crossref reported {data.get('message-type', 'an error')}: {detail}",
                         "correct the request named in the message")
    message = data["message"]
    if not isinstance(message, dict):
        raise InputError(origin, "message", "'message' is not an object",
                         "pass a response of api.crossref.org/works")
    return {"type": data.get("message-type"), "message": message}


def parse_works(json_text: str | bytes, origin: str = "Crossref response") -> list[Record]:
    """Records from a ``/works`` list response (``message.items``) or a single-work response.

    An error body (``status`` not ``ok``), plain text, HTML or a non-Crossref JSON document
    raises ``InputError`` naming ``origin``.
    """
    parsed = _message(json_text, origin)
    message = parsed["message"]
    if "items" in message:
        items = message["items"]
    elif parsed["type"] == "work" or "DOI" in message:
        items = [message]
    else:
        raise InputError(origin, "message", f"a {parsed['type']!r} response holds no works",
                         "pass a response of /works, /works/{doi} or a */works route")
    records = []
    for position, item in enumerate(items, 1):
        if not isinstance(item, dict) or not item.get("DOI"):
            raise InputError(origin, f"item #{position}", "a work without a DOI",
                             "the response is damaged; fetch it again")
        records.append(work_to_record(item))
    return records


parse = parse_works


# --------------------------------------------------------------------------- harvest


def _page(json_text: str, origin: str) -> tuple[dict[str, Any], list[Record]]:
    """The list ``message`` of one page and its records (one JSON decode)."""
    message = _message(json_text, origin)["message"]
    if not isinstance(message.get("items"), list):
        raise InputError(origin, "message", "no 'items' list: this is not a /works list page",
                         "check that the base URL points at the Crossref REST API")
    records = []
    for position, item in enumerate(message["items"], 1):
        if not isinstance(item, dict) or not item.get("DOI"):
            raise InputError(origin, f"item #{position}", "a work without a DOI",
                             "the response is damaged; fetch it again")
        records.append(work_to_record(item))
    return message, records


def _is_cursor_error(exc: PermanentSourceError) -> bool:
    response = exc.response
    return response is not None and response.status_code in (400, 404) and "cursor" in response.text.lower()


def harvest(client: httpx.Client | SourceClient, settings: Settings, queries: list[str],
            start: date, end: date, archive: Archive, *,
            max_per_query: int = DEFAULT_MAX_PER_QUERY, rows: int = DEFAULT_ROWS,
            date_field: DateField = "created",
            from_pub_date: date | str | None = DEFAULT_FROM_PUB_DATE,
            select: tuple[str, ...] | list[str] = DEFAULT_SELECT,
            retry: RetryPolicy | None = None) -> HarvestResult:
    """Run ``queries`` one after another over the window and union the works by DOI.

    Each query pages with ``cursor`` until ``max_per_query`` records, a page shorter than
    ``rows``, or no ``next-cursor``. An expired cursor restarts that query once from ``*``.

    ``summary`` keys: ``source``, ``start``, ``end``, ``date_field``, ``queries`` (per query:
    ``query``, ``total_results``, ``pages``, ``received``, ``new`` (not seen in earlier
    queries), ``last_score``, ``cursor_restarts``), ``unique`` (records after the union),
    ``requests``.
    """
    if not queries:
        raise ConfigError("crossref: no queries to run. Fix: list Crossref queries in review.toml")
    if not isinstance(max_per_query, int) or max_per_query < 1:
        raise ConfigError(f"crossref: max_per_query={max_per_query!r} must be a positive integer. "
                          "Fix: set it to the depth K per query (e.g. 1000)")
    rows = min(rows, max_per_query)
    # Build the first request of every query now, so a bad parameter fails before any HTTP call.
    for query in queries:
        build_works_request(settings, query, start, end, rows=rows, date_field=date_field,
                            from_pub_date=from_pub_date, select=select)
    sender = source_client(client, SOURCE, settings.crossref_rate or LIST_RATE, settings, retry)
    archive = CountingArchive(archive)
    records: dict[str, Record] = {}
    per_query = []
    for query in queries:
        stats: dict[str, Any] = {"query": query, "total_results": None, "pages": 0, "received": 0,
                                 "new": 0, "last_score": None, "cursor_restarts": 0}
        cursor, received = "*", 0
        while received < max_per_query:
            request = build_works_request(settings, query, start, end, cursor=cursor, rows=rows,
                                          date_field=date_field, from_pub_date=from_pub_date,
                                          select=select)
            try:
                raw = sender.send(request, archive)
            except PermanentSourceError as exc:
                if cursor != "*" and _is_cursor_error(exc) and stats["cursor_restarts"] == 0:
                    log.warning("crossref: cursor expired for %r after %d records; restarting "
                                "from cursor=*", query, received)
                    stats["cursor_restarts"] += 1
                    cursor, received = "*", 0
                    continue
                raise
            message, page_records = parse_or_fail(
                _page, raw, redact_request(request, sender.secrets), "works page")
            items = message["items"]
            stats["pages"] += 1
            stats["total_results"] = message.get("total-results")
            for item, record in zip(items, page_records):
                if received >= max_per_query:
                    break
                received += 1
                if isinstance(item.get("score"), (int, float)):
                    stats["last_score"] = item["score"]
                key = record.doi or record.source_id
                if key not in records:
                    records[key] = record
                    stats["new"] += 1
            next_cursor = message.get("next-cursor")
            # A short page is the last one; so is a page without a cursor to continue from.
            if len(items) < rows or not next_cursor:
                break
            cursor = next_cursor
        stats["received"] = received
        log.info("crossref: %r gave %s of %s results (%s new), last score %s", query, received,
                 stats["total_results"], stats["new"], stats["last_score"])
        per_query.append(stats)
    summary = {
        "source": SOURCE,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "date_field": date_field,
        "queries": per_query,
        "unique": len(records),
        "requests": archive.count,
    }
    return HarvestResult(source=SOURCE, records=list(records.values()), summary=summary,
                         responses=archive.count)


# --------------------------------------------------------------------------- works by DOI

DOI_BATCH = 50  # DOIs per /works request (the same filter given twice is ORed)


def build_dois_request(settings: Settings, dois: list[str], *,
                       select: tuple[str, ...] | list[str] = DEFAULT_SELECT) -> httpx.Request:
    """GET ``{base}/works?filter=doi:...,doi:...`` for up to ``DOI_BATCH`` DOIs at once."""
    keys = doi_batch(SOURCE, dois, DOI_BATCH)
    validate_select(select)
    params = [("filter", ",".join(f"doi:{doi}" for doi in keys)), ("rows", str(len(keys))),
              ("select", ",".join(select)), ("mailto", settings.contact_email)]
    return make_request("GET", f"{settings.crossref_base_url.rstrip('/')}/works", params=params,
                        contact_email=settings.contact_email, timeout=settings.http_timeout)


def works_by_doi(client: httpx.Client | SourceClient, settings: Settings, dois: list[str],
                 archive: Archive, *, retry: RetryPolicy | None = None) -> dict[str, Record]:
    """The Crossref works of ``dois`` (normalised DOI -> Record); a DOI Crossref does not know
    is simply absent from the answer."""
    sender = source_client(client, SOURCE, settings.crossref_rate or LIST_RATE, settings, retry)
    records = records_by_doi(sender, archive, dois, DOI_BATCH,
                             lambda batch: build_dois_request(settings, batch),
                             lambda body, origin: _page(body, origin)[1], "works page")
    return {r.doi: r for r in records if r.doi}
