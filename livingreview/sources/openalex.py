"""OpenAlex ``/works``: Boolean ``search``, a date-window filter, cursor paging (200 per page).

OpenAlex gives ``doi`` and ``ids.pmid`` as URLs and abstracts only as an inverted index
(word -> positions); ``parse_works`` rebuilds the text. The window is on ``created_date``
(``from_created_date``/``to_created_date``: when OpenAlex first saw the work, the counterpart of
PubMed's ``[crdt]``); ``date_field="publication"`` windows on publication date instead.

Since 13 February 2026 OpenAlex wants an API key (``LR_OPENALEX_API_KEY``, sent as ``api_key`` and
redacted everywhere) and prices calls in dollars: every answer says what it cost
(``X-RateLimit-Cost-USD``) and what is left today (``X-RateLimit-Remaining-USD``). The harvest adds
the costs up and, given a ``budget_usd``, stops cleanly before a request that would exceed it,
saying so in its summary (``stopped``), so the run does not count the window as harvested.
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
from livingreview.sources.client import Archive, RawResponse, RetryPolicy, SourceClient, make_request
from livingreview.harvest.fetching import (
    CountingArchive,
    HarvestResult,
    check_window,
    clean_query,
    page_with_cursor,
    doi_batch,
    records_by_doi,
    source_client,
)
from livingreview.sources.markup import markup_to_text
from livingreview.sources.names import surname_first

log = logging.getLogger("livingreview.sources.openalex")

SOURCE = "openalex"
RATE = 10.0  # OpenAlex allows 100 requests/s; 10 keeps us far from it
# Documented prices (OpenAlex "Rate limits and authentication"), used until an answer says.
PRICE_SEARCH_USD = 0.001
PRICE_LIST_USD = 0.0001
PER_PAGE = 200
DEFAULT_MAX_RECORDS = 10000
DateField = Literal["publication", "created"]
_NULL_AUTHOR = "NULL AUTHOR_ID"


def build_works_request(settings: Settings, query: str, start: date, end: date, *,
                        cursor: str = "*", per_page: int = PER_PAGE,
                        date_field: DateField = "created") -> httpx.Request:
    """GET ``{base}/works?search=...&filter=from_<field>_date:...,to_<field>_date:...``."""
    text = clean_query(SOURCE, query)
    check_window(SOURCE, start, end)
    if date_field not in ("publication", "created"):
        raise ConfigError(f"openalex: date_field {date_field!r} is not 'created' or 'publication'. "
                          "Fix: use 'created' (the window on first sight) or 'publication'")
    if not isinstance(per_page, int) or not 1 <= per_page <= PER_PAGE:
        raise ConfigError(f"openalex: per_page={per_page!r} is outside 1..{PER_PAGE}. "
                          f"Fix: choose per_page between 1 and {PER_PAGE}")
    window = f"from_{date_field}_date:{start.isoformat()},to_{date_field}_date:{end.isoformat()}"
    params = [("search", text), ("filter", window), ("per-page", str(per_page)),
              ("cursor", cursor), ("mailto", settings.contact_email)]
    if settings.openalex_api_key:
        params.append(("api_key", settings.openalex_api_key.reveal()))
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


class Spend:
    """What the harvest's requests cost, from the answers' headers, against a run budget."""

    def __init__(self, budget_usd: float | None) -> None:
        if budget_usd is not None and budget_usd < 0:
            raise ConfigError(f"openalex: budget_usd={budget_usd!r} is negative. "
                              "Fix: set [sources.openalex] budget_usd to 0 or more dollars")
        self.budget_usd = budget_usd
        self.spent_usd = 0.0
        self.next_cost_usd = PRICE_SEARCH_USD
        self.remaining_usd: float | None = None
        self.limit_usd: float | None = None

    def answered(self, raw: RawResponse) -> None:
        headers = {k.lower(): v for k, v in raw.headers.items()}

        def dollars(name: str) -> float | None:
            try:
                return float(headers[name])
            except (KeyError, ValueError):
                return None

        cost = dollars("x-ratelimit-cost-usd")
        if cost is not None:
            self.spent_usd += cost
            self.next_cost_usd = cost
        else:
            self.spent_usd += self.next_cost_usd
        self.remaining_usd = dollars("x-ratelimit-remaining-usd")
        self.limit_usd = dollars("x-ratelimit-limit-usd")

    def stop_before(self) -> str | None:
        if self.budget_usd is not None and self.spent_usd + self.next_cost_usd > self.budget_usd + 1e-12:
            return (f"budget: ${self.spent_usd:.4f} spent of the run's ${self.budget_usd:g}; the next "
                    f"request would cost ${self.next_cost_usd:g} (raise [sources.openalex] budget_usd "
                    "to finish this window)")
        if self.remaining_usd is not None and self.remaining_usd + 1e-12 < self.next_cost_usd:
            return f"daily allowance: ${self.remaining_usd:.4f} left today, the next request costs " \
                   f"${self.next_cost_usd:g}"
        return None

    def summary(self) -> dict[str, Any]:
        return {"cost_usd": round(self.spent_usd, 6), "budget_usd": self.budget_usd,
                "remaining_usd": self.remaining_usd, "limit_usd": self.limit_usd}


def harvest(client: httpx.Client | SourceClient, settings: Settings, query: str, start: date,
            end: date, archive: Archive, *, max_records: int = DEFAULT_MAX_RECORDS,
            per_page: int = PER_PAGE, date_field: DateField = "created",
            budget_usd: float | None = None, retry: RetryPolicy | None = None) -> HarvestResult:
    """All works matching ``query`` in the window, paging with ``cursor`` (``meta.next_cursor``).

    ``summary`` keys: ``source``, ``start``, ``end``, ``date_field``, ``count`` (``meta.count``),
    ``received``, ``pages``, ``requests``, ``cost_usd``, ``budget_usd``, ``remaining_usd``,
    ``limit_usd``, and ``stopped`` (why paging ended before the window was complete) if it did.
    """
    build_works_request(settings, query, start, end, per_page=per_page, date_field=date_field)
    sender = source_client(client, SOURCE, RATE, settings, retry)
    archive = CountingArchive(archive)
    spend = Spend(budget_usd)

    def page(data: dict[str, Any]):
        meta = data.get("meta") or {}
        works = [w for w in data.get("results") or [] if isinstance(w, dict)]
        return [work_to_record(w) for w in works], meta.get("next_cursor"), meta.get("count")

    records, stats = page_with_cursor(
        sender, archive, page=page, read=_document, page_size=per_page, max_records=max_records,
        what="works page", stop_before=spend.stop_before, answered=spend.answered,
        build=lambda cursor: build_works_request(settings, query, start, end, cursor=cursor,
                                                 per_page=per_page, date_field=date_field))
    summary = {"source": SOURCE, "start": start.isoformat(), "end": end.isoformat(),
               "date_field": date_field, **stats, **spend.summary()}
    if "stopped" in stats:
        log.warning("openalex: stopped before the window was complete: %s", stats["stopped"])
    return HarvestResult(source=SOURCE, records=records, summary=summary, responses=archive.count)


DOI_BATCH = 50  # DOIs ORed in one doi: filter (a|b|c)


def build_dois_request(settings: Settings, dois: list[str]) -> httpx.Request:
    """GET ``{base}/works?filter=doi:a|b|c&per-page=n`` for up to ``DOI_BATCH`` DOIs."""
    keys = doi_batch(SOURCE, dois, DOI_BATCH)
    params = [("filter", "doi:" + "|".join(keys)), ("per-page", str(len(keys))),
              ("mailto", settings.contact_email)]
    return make_request("GET", f"{settings.openalex_base_url.rstrip('/')}/works", params=params,
                        contact_email=settings.contact_email, timeout=settings.http_timeout)


def works_by_doi(client: httpx.Client | SourceClient, settings: Settings, dois: list[str],
                 archive: Archive, *, retry: RetryPolicy | None = None) -> dict[str, Record]:
    """The OpenAlex works of ``dois`` (normalised DOI -> Record); unknown DOIs are absent."""
    found: dict[str, Record] = {}
    for record in records_by_doi(source_client(client, SOURCE, RATE, settings, retry), archive,
                                 dois, DOI_BATCH, lambda batch: build_dois_request(settings, batch),
                                 parse_works, "works page"):
        if record.doi and record.doi not in found:
            found[record.doi] = record
    return found
