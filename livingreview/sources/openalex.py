"""OpenAlex ``/works``: full-text ``search``, a date-window filter, cursor paging (200 per page).

OpenAlex gives ``doi`` and ``ids.pmid`` as URLs and abstracts only as an inverted index
(word -> positions); ``parse_works`` rebuilds the text. Windowing on ``from_created_date`` needs
an OpenAlex Premium key, so the default window is on publication date; pass
``date_field="created"`` when a key is available.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any, Literal

import httpx

from livingreview.config import Settings
from livingreview.errors import ConfigError, InputError
from livingreview.records import Record
from livingreview.sources.bodies import json_body
from livingreview.sources.client import Archive, RetryPolicy, SourceClient, make_request
from livingreview.harvest.fetching import (
    CountingArchive,
    HarvestResult,
    check_window,
    clean_query,
    page_with_cursor,
    source_client,
)
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
    text = clean_query(SOURCE, query)
    check_window(SOURCE, start, end)
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
    data = json_body(json_text, origin, "OpenAlex JSON", "pass a response of api.openalex.org/works")
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
    archive = CountingArchive(archive)

    def page(data: dict[str, Any]):
        meta = data.get("meta") or {}
        works = [w for w in data.get("results") or [] if isinstance(w, dict)]
        return [work_to_record(w) for w in works], meta.get("next_cursor"), meta.get("count")

    records, stats = page_with_cursor(
        sender, archive, page=page, read=_document, page_size=per_page, max_records=max_records,
        what="works page",
        build=lambda cursor: build_works_request(settings, query, start, end, cursor=cursor,
                                                 per_page=per_page, date_field=date_field))
    summary = {"source": SOURCE, "start": start.isoformat(), "end": end.isoformat(),
               "date_field": date_field, **stats}
    return HarvestResult(source=SOURCE, records=records, summary=summary, responses=archive.count)
