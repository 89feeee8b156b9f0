"""OpenAlex ``/works``: full-text ``search``, a date-window filter, cursor paging (200 per page).

OpenAlex gives ``doi`` and ``ids.pmid`` as URLs and abstracts only as an inverted index
(word -> positions); ``parse_works`` rebuilds the text. Windowing on ``from_created_date`` needs
an OpenAlex Premium key, so the default window is on publication date; pass
``date_field="created"`` when a key is available.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from typing import Any, Literal

import httpx

from livingreview.config import Settings
from livingreview.errors import ConfigError, InputError
from livingreview.records import Record
from livingreview.sources.client import Archive, RawResponse, RetryPolicy, SourceClient, make_request, redact_request
from livingreview.sources.harvest import HarvestResult, parse_or_fail, source_client
from livingreview.sources.markup import markup_to_text
from livingreview.sources.names import surname_first

log = logging.getLogger("livingreview.sources.openalex")

SOURCE = "openalex"
RATE = 10.0  # OpenAlex allows 10 requests/s in the polite pool
PER_PAGE = 200
DEFAULT_MAX_RECORDS = 10000
DateField = Literal["publication", "created"]
_NULL_AUTHOR = "NULL AUTHOR_ID"


def build_works_request(settings: Settings, query: str, start: date, end: date, *,
                        cursor: str = "*", per_page: int = PER_PAGE,
                        date_field: DateField = "publication") -> httpx.Request:
    """GET ``{base}/works?search=...&filter=from_<field>_date:...,to_<field>_date:...``."""
    text = " ".join((query or "").split())
    if not text:
        raise ConfigError("openalex: the query is empty. Fix: set the OpenAlex query in review.toml")
    if start > end:
        raise ConfigError(f"openalex: window start {start.isoformat()} is after its end "
                          f"{end.isoformat()}. Fix: pass the earlier date as start")
    if date_field not in ("publication", "created"):
        raise ConfigError(f"openalex: date_field {date_field!r} is not 'publication' or 'created'. "
                          "Fix: use 'publication' (no key needed) or 'created' (Premium key)")
    if not isinstance(per_page, int) or not 1 <= per_page <= PER_PAGE:
        raise ConfigError(f"openalex: per_page={per_page!r} is outside 1..{PER_PAGE}. "
                          f"Fix: choose per_page between 1 and {PER_PAGE}")
    window = f"from_{date_field}_date:{start.isoformat()},to_{date_field}_date:{end.isoformat()}"
    params = [("search", text), ("filter", window), ("per-page", str(per_page)),
              ("cursor", cursor), ("mailto", settings.contact_email)]
    return make_request("GET", f"{settings.openalex_base_url.rstrip('/')}/works", params=params,
                        contact_email=settings.contact_email, timeout=settings.http_timeout)


def abstract_from_inverted_index(index: dict[str, list[int]] | None) -> str | None:
    """Rebuild the abstract text from OpenAlex's ``abstract_inverted_index``."""
    if not index:
        return None
    positions: dict[int, str] = {}
    for word, places in index.items():
        for place in places or []:
            positions[int(place)] = word
    return " ".join(positions[p] for p in sorted(positions)) or None


def _pmcid(value: str | None) -> str | None:
    # OpenAlex writes PMCIDs as ".../pmc/articles/6258996" (digits only, no PMC prefix).
    match = re.search(r"(?:PMC)?(\d+)/?$", value or "", re.I)
    return f"PMC{match.group(1)}" if match else None


def _authors(work: dict[str, Any]) -> list[str]:
    names = []
    for authorship in work.get("authorships") or []:
        display = (authorship.get("author") or {}).get("display_name")
        if not display or display == _NULL_AUTHOR:
            display = authorship.get("raw_author_name")
        name = surname_first(display)
        if name:
            names.append(name)
    return names


def _pages(biblio: dict[str, Any]) -> str | None:
    first, last = biblio.get("first_page"), biblio.get("last_page")
    if first and last and first != last:
        return f"{first}-{last}"
    return first or last or None


def work_to_record(work: dict[str, Any]) -> Record:
    ids = work.get("ids") or {}
    biblio = work.get("biblio") or {}
    source = ((work.get("primary_location") or {}).get("source") or {})
    types = [t for t in (work.get("type"), work.get("type_crossref")) if t]
    return Record(
        source=SOURCE,
        source_id=str(work.get("id", "")).rsplit("/", 1)[-1],
        title=markup_to_text(work.get("title") or work.get("display_name"), labels=False),
        abstract=abstract_from_inverted_index(work.get("abstract_inverted_index")),
        authors=_authors(work),
        year=work.get("publication_year"),
        journal=source.get("display_name"),
        volume=biblio.get("volume"),
        issue=biblio.get("issue"),
        pages=_pages(biblio),
        doi=work.get("doi") or ids.get("doi"),
        pmid=ids.get("pmid"),
        pmcid=_pmcid(ids.get("pmcid")),
        openalex_id=work.get("id"),
        publication_types=list(dict.fromkeys(types)),
        language=work.get("language"),
        keywords=[k["display_name"] for k in work.get("keywords") or [] if k.get("display_name")],
        mesh_terms=list(dict.fromkeys(m["descriptor_name"] for m in work.get("mesh") or []
                                      if m.get("descriptor_name"))),
        created_date=work.get("created_date"),
        url=work.get("id"),
    )


def _document(json_text: str | bytes, origin: str) -> dict[str, Any]:
    text = json_text.decode("utf-8") if isinstance(json_text, bytes) else json_text
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped.startswith("{"):
        raise InputError(origin, "start of body", f"this is not JSON ({stripped[:60]!r})",
                         "pass a response of api.openalex.org/works")
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise InputError(origin, f"line {exc.lineno}, column {exc.colno}",
                         f"not valid JSON ({exc.msg})", "the file may be truncated") from None
    if not isinstance(data, dict):
        raise InputError(origin, "top level", "not a JSON object", "pass an OpenAlex response")
    if "error" in data and "results" not in data:
        raise InputError(origin, "error", f"OpenAlex reported: {data.get('error')}: "
                         f"{data.get('message', '')}".strip(), "correct the request")
    return data


def parse_works(json_text: str | bytes, origin: str = "OpenAlex response") -> list[Record]:
    """Records from a ``/works`` list (``results``) or a single work (``/works/W...``)."""
    data = _document(json_text, origin)
    if isinstance(data.get("results"), list):
        works = data["results"]
    elif str(data.get("id", "")).startswith("https://openalex.org/W"):
        works = [data]
    else:
        raise InputError(origin, "top level", "neither 'results' nor a work 'id': this is not an "
                         "OpenAlex works response", "pass a response of api.openalex.org/works")
    return [work_to_record(w) for w in works if isinstance(w, dict)]


parse = parse_works


def harvest(client: httpx.Client | SourceClient, settings: Settings, query: str, start: date,
            end: date, archive: Archive, *, max_records: int = DEFAULT_MAX_RECORDS,
            per_page: int = PER_PAGE, date_field: DateField = "publication",
            retry: RetryPolicy | None = None) -> HarvestResult:
    """All works matching ``query`` in the window, paging with ``cursor`` (``meta.next_cursor``).

    ``summary`` keys: ``source``, ``start``, ``end``, ``date_field``, ``count`` (``meta.count``),
    ``received``, ``pages``, ``requests``.
    """
    build_works_request(settings, query, start, end, per_page=per_page, date_field=date_field)
    sender = source_client(client, SOURCE, RATE, settings, retry)
    records: dict[str, Record] = {}
    responses = pages = 0
    count = None

    def counted(raw: RawResponse) -> None:
        nonlocal responses
        responses += 1
        archive(raw)

    cursor: str | None = "*"
    while cursor and len(records) < max_records:
        request = build_works_request(settings, query, start, end, cursor=cursor,
                                      per_page=per_page, date_field=date_field)
        raw = sender.send(request, counted)
        data = parse_or_fail(_document, raw, redact_request(request, sender.secrets), "works page")
        pages += 1
        results = data.get("results") or []
        count = (data.get("meta") or {}).get("count", count)
        for work in results:
            if len(records) >= max_records:
                break
            record = work_to_record(work)
            records.setdefault(record.source_id, record)
        cursor = (data.get("meta") or {}).get("next_cursor")
        if len(results) < per_page:
            break
    summary = {"source": SOURCE, "start": start.isoformat(), "end": end.isoformat(),
               "date_field": date_field, "count": count, "received": len(records),
               "pages": pages, "requests": responses}
    return HarvestResult(source=SOURCE, records=list(records.values()), summary=summary,
                         responses=responses)
