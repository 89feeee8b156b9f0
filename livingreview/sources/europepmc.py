"""Europe PMC REST ``/search``: ``resultType=core`` JSON (abstracts), ``cursorMark`` paging.

The window is put in the query as ``FIRST_IDATE:[YYYY-MM-DD TO YYYY-MM-DD]``, the day Europe PMC
first indexed the record (its counterpart of PubMed's ``[crdt]``: a record indexed late still
falls into the month it became findable); ``date_field="creation"`` uses ``CREATION_DATE``.
Europe PMC asks for at most 10 requests a second and 500 a minute; the client keeps to both.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import httpx

from livingreview.config import Settings
from livingreview.errors import ConfigError, InputError
from livingreview.records import Record
from livingreview.sources.bodies import json_body
from livingreview.sources.client import Archive, RetryPolicy, SourceClient, make_request, redact_request
from livingreview.harvest.fetching import (
    CountingArchive,
    HarvestResult,
    check_window,
    clean_query,
    page_with_cursor,
    parse_or_fail,
    doi_batch,
    records_by_doi,
    source_client,
)
from livingreview.sources.markup import markup_to_text
from livingreview.sources.names import initials_last

log = logging.getLogger("livingreview.sources.europepmc")

SOURCE = "europepmc"
# An even 8 a second keeps under both limits: 10 a second, and 500 a minute (8 x 60 = 480).
RATE = 8.0
DATE_FIELDS = {"index": "FIRST_IDATE", "creation": "CREATION_DATE"}
PAGE_SIZE = 1000
DEFAULT_MAX_RECORDS = 10000


def windowed_query(query: str, start: date, end: date, date_field: str = "index") -> str:
    text = clean_query(SOURCE, query)
    check_window(SOURCE, start, end)
    if date_field not in DATE_FIELDS:
        raise ConfigError(f"europepmc: date_field {date_field!r} is not one of {sorted(DATE_FIELDS)}. "
                          "Fix: use 'index' (FIRST_IDATE, the default) or 'creation'")
    return f"({text}) AND {DATE_FIELDS[date_field]}:[{start.isoformat()} TO {end.isoformat()}]"


def build_search_request(settings: Settings, query: str, start: date, end: date, *,
                         cursor_mark: str = "*", page_size: int = PAGE_SIZE,
                         date_field: str = "index", result_type: str = "core") -> httpx.Request:
    """GET ``{base}/search?query=...&resultType=core&format=json&pageSize=...&cursorMark=...``."""
    if not isinstance(page_size, int) or not 1 <= page_size <= PAGE_SIZE:
        raise ConfigError(f"europepmc: page_size={page_size!r} is outside 1..{PAGE_SIZE}. "
                          f"Fix: choose page_size between 1 and {PAGE_SIZE}")
    params = [("query", windowed_query(query, start, end, date_field)), ("resultType", result_type),
              ("format", "json"), ("pageSize", str(page_size)), ("cursorMark", cursor_mark),
              ("email", settings.contact_email)]
    return make_request("GET", f"{settings.europepmc_base_url.rstrip('/')}/search", params=params,
                        contact_email=settings.contact_email, timeout=settings.http_timeout)


def _authors(result: dict[str, Any]) -> list[str]:
    listed = (result.get("authorList") or {}).get("author") or []
    names = []
    for author in listed:
        if author.get("collectiveName"):
            names.append(" ".join(author["collectiveName"].split()))
        elif author.get("lastName"):
            given = author.get("firstName") or author.get("initials")
            names.append(f"{author['lastName']}, {given}" if given else author["lastName"])
        elif author.get("fullName"):
            names.append(initials_last(author["fullName"]))
    if names or not result.get("authorString"):
        return [n for n in names if n]
    # "lite" results only have "Surname AB, Surname C." as one string.
    return [n for n in (initials_last(a.strip().rstrip(".")) for a in
                        result["authorString"].split(",")) if n]


def _year(result: dict[str, Any]) -> int | None:
    journal = result.get("journalInfo") or {}
    for value in (result.get("pubYear"), journal.get("yearOfPublication"),
                  (result.get("firstPublicationDate") or "")[:4]):
        if value and str(value).isdigit():
            return int(value)
    return None


def result_to_record(result: dict[str, Any]) -> Record:
    journal_info = result.get("journalInfo") or {}
    journal = journal_info.get("journal") or {}
    book = result.get("bookOrReportDetails") or {}
    return Record(
        source=SOURCE,
        source_id=f"{result.get('source', '')}:{result.get('id', '')}",
        title=markup_to_text(result.get("title"), labels=False),
        abstract=markup_to_text(result.get("abstractText")),
        authors=_authors(result),
        year=_year(result),
        journal=journal.get("title") or result.get("journalTitle") or book.get("publisher"),
        volume=journal_info.get("volume") or result.get("journalVolume"),
        issue=journal_info.get("issue") or result.get("issue"),
        pages=result.get("pageInfo"),
        doi=result.get("doi"),
        pmid=result.get("pmid"),
        pmcid=result.get("pmcid"),
        publication_types=list(dict.fromkeys((result.get("pubTypeList") or {}).get("pubType") or [])),
        language=result.get("language"),
        keywords=list(dict.fromkeys((result.get("keywordList") or {}).get("keyword") or [])),
        mesh_terms=list(dict.fromkeys(
            h.get("descriptorName") for h in (result.get("meshHeadingList") or {}).get("meshHeading") or []
            if h.get("descriptorName"))),
        created_date=result.get("dateOfCreation") or result.get("firstIndexDate"),
        url=(f"https://europepmc.org/article/{result['source']}/{result['id']}"
             if result.get("source") and result.get("id") else None),
    )


def _document(json_text: str | bytes, origin: str) -> dict[str, Any]:
    data = json_body(json_text, origin, "Europe PMC JSON (ask for format=json)",
                     "pass a Europe PMC search response fetched with format=json")
    if not isinstance(data, dict) or not isinstance((data.get("resultList") or {}).get("result"), list):
        message = data.get("errMsg") if isinstance(data, dict) else None
        raise InputError(origin, "top level", message or "no resultList.result: this is not a "
                         "Europe PMC search response", "pass a response of /search with format=json")
    return data


def parse_search(json_text: str | bytes, origin: str = "Europe PMC response") -> list[Record]:
    """Records from a ``/search`` JSON response (``resultList.result``, lite or core)."""
    data = _document(json_text, origin)
    return [result_to_record(r) for r in data["resultList"]["result"] if isinstance(r, dict)]


parse = parse_search


def harvest(client: httpx.Client | SourceClient, settings: Settings, query: str, start: date,
            end: date, archive: Archive, *, max_records: int = DEFAULT_MAX_RECORDS,
            page_size: int = PAGE_SIZE, date_field: str = "index",
            retry: RetryPolicy | None = None) -> HarvestResult:
    """All results for ``query`` created in the window, paging with ``cursorMark``.

    Paging stops at a short page, a repeated ``nextCursorMark`` (Europe PMC's end marker) or
    ``max_records``. ``summary`` keys: ``source``, ``start``, ``end``, ``count`` (``hitCount``),
    ``received``, ``pages``, ``requests``.
    """
    build_search_request(settings, query, start, end, page_size=page_size, date_field=date_field)
    sender = source_client(client, SOURCE, RATE, settings, retry)
    archive = CountingArchive(archive)

    def page(data: dict[str, Any]):
        results = [r for r in data["resultList"]["result"] if isinstance(r, dict)]
        return [result_to_record(r) for r in results], data.get("nextCursorMark"), data.get("hitCount")

    records, stats = page_with_cursor(
        sender, archive, page=page, read=_document, page_size=page_size, max_records=max_records,
        what="search page",
        build=lambda cursor: build_search_request(settings, query, start, end, cursor_mark=cursor,
                                                  page_size=page_size, date_field=date_field))
    summary = {"source": SOURCE, "start": start.isoformat(), "end": end.isoformat(),
               "date_field": DATE_FIELDS[date_field], **stats}
    return HarvestResult(source=SOURCE, records=records, summary=summary, responses=archive.count)


def count(client: httpx.Client | SourceClient, settings: Settings, query: str, start: date, end: date,
          archive: Archive, *, date_field: str = "index", retry: RetryPolicy | None = None) -> int:
    """How many results ``query`` has in the window (``hitCount`` of one idlist request)."""
    sender = source_client(client, SOURCE, RATE, settings, retry)
    request = build_search_request(settings, query, start, end, page_size=1, date_field=date_field,
                                   result_type="idlist")
    raw = sender.send(request, archive)
    data = parse_or_fail(_document, raw, redact_request(request, sender.secrets), "count")
    return int(data.get("hitCount") or 0)


DOI_BATCH = 50  # DOI:"..." terms ORed in one query


def build_dois_request(settings: Settings, dois: list[str]) -> httpx.Request:
    """GET ``{base}/search?query=DOI:"a" OR DOI:"b"...&resultType=core`` for up to ``DOI_BATCH``
    DOIs (a DOI can have several results, e.g. a preprint and the article: the page is larger)."""
    keys = doi_batch(SOURCE, dois, DOI_BATCH)
    params = [("query", " OR ".join(f'DOI:"{doi}"' for doi in keys)), ("resultType", "core"),
              ("format", "json"), ("pageSize", str(min(PAGE_SIZE, 4 * len(keys)))),
              ("email", settings.contact_email)]
    return make_request("GET", f"{settings.europepmc_base_url.rstrip('/')}/search", params=params,
                        contact_email=settings.contact_email, timeout=settings.http_timeout)


def results_by_doi(client: httpx.Client | SourceClient, settings: Settings, dois: list[str],
                   archive: Archive, *, retry: RetryPolicy | None = None) -> dict[str, Record]:
    """Europe PMC's records of ``dois`` (normalised DOI -> Record, one with an abstract first)."""
    found: dict[str, Record] = {}
    for record in records_by_doi(source_client(client, SOURCE, RATE, settings, retry), archive,
                                 dois, DOI_BATCH, lambda batch: build_dois_request(settings, batch),
                                 parse_search, "search page"):
        if record.doi and (record.doi not in found or
                           (record.abstract and not found[record.doi].abstract)):
            found[record.doi] = record
    return found
