"""Europe PMC REST ``/search`` over a scenario's recorded results.

The query is parsed in Europe PMC's syntax (``boolean_query``); a query that cannot be parsed, or
names a field this module does not know, is refused with a 400 that says so. Like the PubMed
side, which results a query gets depends on what it is:

* a **look-up** (it names ``DOI:``, ``PMID:``, ``PMCID:`` or ``EXT_ID:`` values, as the abstract
  enrichment and the search-recall check write it) is evaluated in full: text terms over title,
  abstract and keywords (phrases in order, ``*`` truncation), ``TITLE:``, ``ABSTRACT:``, ``KW:``,
  ``MESH:`` by heading name, ``LANG:``, ``PUB_YEAR:``, ``SRC:``, ``PUB_TYPE:``, the date ranges;
* any other query (a harvest) is checked but only its date ranges decide, ANDed, as the harvest
  writes them: ``FIRST_IDATE:[a TO b]`` (first index date, the window the living review uses),
  ``CREATION_DATE:[...]`` and ``FIRST_PDATE:[...]``; the rest is echoed in ``request.queryString``.

Paging: ``cursorMark=*`` starts, each answer's ``nextCursorMark`` continues; past the last result
the answer is empty and repeats the mark it was sent (Europe PMC's end signal). A mark encodes its
position and is tied to the query it came from; a foreign or damaged mark gets a 400.
``resultType``: ``lite`` (the recorded lite copy where there is one), ``core`` (the recorded core
copy: abstract, author list, journal info), ``idlist``. Only ``format=json`` is answered.

Error bodies: no real Europe PMC error body was recorded (fixtures/europepmc/PROVENANCE.md), so a
refusal is the search answer's own shape with ``hitCount`` 0 and an ``errMsg``, made here.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from livingreview.replay import boolean_query
from livingreview.replay.boolean_query import QuerySyntaxError, Term
from livingreview.replay.scenario import RecordedEuropePMCResult, Scenario

JSON = "application/json;charset=UTF-8"
VERSION = "6.9"  # as in every recorded answer
PAGE_SIZE_DEFAULT = 25
PAGE_SIZE_LIMIT = 1000
RESULT_TYPES = ("lite", "core", "idlist")
_PARAMETERS = {"query", "resultType", "format", "pageSize", "cursorMark", "email", "synonym", "sort"}
_LOOKUP_FIELDS = {"DOI", "PMID", "PMCID", "EXT_ID"}
_DATE_FIELDS = {"FIRST_IDATE": "indexed", "CREATION_DATE": "created", "FIRST_PDATE": "published"}
_TEXT_FIELDS = {"TITLE", "ABSTRACT", "TITLE_ABS", "KW", "MESH"}
_OTHER_FIELDS = {"LANG", "PUB_YEAR", "SRC", "PUB_TYPE", "HAS_ABSTRACT"}
KNOWN_FIELDS = _LOOKUP_FIELDS | set(_DATE_FIELDS) | _TEXT_FIELDS | _OTHER_FIELDS


class EuropePMCRequestError(Exception):
    def __init__(self, message: str, request_block: dict[str, Any]) -> None:
        super().__init__(message)
        self.message, self.request_block = message, request_block

    def response(self) -> Response:
        answer = {"version": VERSION, "hitCount": 0, "request": self.request_block,
                  "errMsg": self.message, "resultList": {"result": []}}
        return Response(json.dumps(answer, indent=2), status_code=400, media_type=JSON)


def _day(value: str, *, last: bool, field: str, block: dict[str, Any]) -> date:
    if value == "*":
        return date.max if last else date.min
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise EuropePMCRequestError(
            f"{field}: {value!r} is not a date; write {field}:[YYYY-MM-DD TO YYYY-MM-DD]", block) from None


def _text(result: RecordedEuropePMCResult, field: str | None) -> str:
    item = result.item
    title, abstract = item.get("title") or "", item.get("abstractText") or ""
    keywords = " ".join((item.get("keywordList") or {}).get("keyword") or [])
    if field == "TITLE":
        return title
    if field == "ABSTRACT":
        return abstract
    if field == "KW":
        return keywords
    return f"{title} {abstract} {keywords}" if field is None else f"{title} {abstract}"


def _in_range(day: date | None, term: Term, block: dict[str, Any]) -> bool:
    if not term.is_range:
        wanted = _day(term.value, last=False, field=term.field or "", block=block)
        return day == wanted
    low = _day(term.low or "*", last=False, field=term.field or "", block=block)
    high = _day(term.high or "*", last=True, field=term.field or "", block=block)
    return day is not None and low <= day <= high


def _matches(term: Term, result: RecordedEuropePMCResult, block: dict[str, Any]) -> bool:
    item, field = result.item, term.field
    if field in _DATE_FIELDS:
        return _in_range(getattr(result, _DATE_FIELDS[field]), term, block)
    value = term.value.lower()
    if field == "DOI":
        return (item.get("doi") or "").lower() == value
    if field == "PMID":
        return item.get("pmid") == term.value
    if field == "PMCID":
        return (item.get("pmcid") or "").lower() == value
    if field == "EXT_ID":
        return item.get("id") == term.value
    if field == "SRC":
        return (item.get("source") or "").lower() == value
    if field == "LANG":
        return (item.get("language") or "").lower()[:3] == value[:3]
    if field == "HAS_ABSTRACT":
        return bool(item.get("abstractText")) == (value in ("y", "yes", "true"))
    if field == "PUB_TYPE":
        return value in {t.lower() for t in (item.get("pubTypeList") or {}).get("pubType") or []}
    if field == "PUB_YEAR":
        year = int(item["pubYear"]) if str(item.get("pubYear", "")).isdigit() else None
        if term.is_range:
            return year is not None and int(term.low or 0) <= year <= int(term.high or 9999)
        return year is not None and str(year) == term.value
    if field == "MESH":
        headings = (item.get("meshHeadingList") or {}).get("meshHeading") or []
        return value in {(h.get("descriptorName") or "").lower() for h in headings}
    return bool(boolean_query.phrase_pattern(term.value).search(boolean_query.plain_text(_text(result, field))))


def _signature(query: str, result_type: str) -> str:
    return hashlib.sha1(f"{query}\x00{result_type}".encode()).hexdigest()[:10]


def _mark(position: int, signature: str) -> str:
    # Shaped like Europe PMC's (base64 text starting "AoI"); opaque to the client.
    return "AoII" + base64.b64encode(f"{position}|{signature}".encode()).decode()


def _position(mark: str, signature: str, block: dict[str, Any]) -> int:
    if mark == "*":
        return 0
    try:
        position, _, made_for = base64.b64decode(mark.removeprefix("AoII"), validate=True).decode().partition("|")
        if made_for == signature and position.isdigit():
            return int(position)
    except (ValueError, UnicodeDecodeError):
        pass
    raise EuropePMCRequestError(f"cursorMark {mark!r} was not issued for this query; start again with "
                                "cursorMark=*", block)


_LITE_KEYS = ("id", "source", "pmid", "pmcid", "doi", "title", "authorString", "journalTitle", "issue",
              "journalVolume", "pubYear", "journalIssn", "pageInfo", "pubType", "isOpenAccess", "inEPMC",
              "inPMC", "hasPDF", "hasBook", "hasSuppl", "citedByCount", "hasReferences",
              "hasTextMinedTerms", "hasDbCrossReferences", "hasLabsLinks", "hasTMAccessionNumbers",
              "firstIndexDate", "firstPublicationDate")


def _present(result: RecordedEuropePMCResult, result_type: str) -> dict[str, Any]:
    if result_type == "idlist":
        return {k: result.item[k] for k in ("id", "source", "pmid", "pmcid") if k in result.item}
    if result_type == "core" or not result.core:
        return result.item
    if result.lite_item is not None:
        return result.lite_item
    return {k: result.item[k] for k in _LITE_KEYS if k in result.item}


def search(scenario: Scenario, params: dict[str, str], request: Request) -> Response:
    query = params.get("query", "")
    result_type = params.get("resultType", "lite")
    block: dict[str, Any] = {"queryString": query, "resultType": result_type,
                             "cursorMark": params.get("cursorMark", "*").replace("*", "%2A"),
                             "pageSize": params.get("pageSize", PAGE_SIZE_DEFAULT),
                             "sort": params.get("sort", ""), "synonym": params.get("synonym") == "true"}
    try:
        return _search(scenario, params, request, query, result_type, block)
    except EuropePMCRequestError as refused:
        return refused.response()


def _search(scenario: Scenario, params: dict[str, str], request: Request, query: str,
            result_type: str, block: dict[str, Any]) -> Response:
    unknown = sorted(set(params) - _PARAMETERS - {"api_key"})
    if unknown:
        raise EuropePMCRequestError(f"parameter(s) {unknown} are not implemented by the livingreview "
                                    f"replay server; it takes {sorted(_PARAMETERS)}", block)
    if params.get("format", "xml") != "json":
        raise EuropePMCRequestError("the livingreview replay server answers format=json only", block)
    if result_type not in RESULT_TYPES:
        raise EuropePMCRequestError(f"resultType {result_type!r} is not one of {RESULT_TYPES}", block)
    if params.get("sort"):
        raise EuropePMCRequestError("sort is not implemented by the livingreview replay server", block)
    raw_size = params.get("pageSize", str(PAGE_SIZE_DEFAULT))
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= PAGE_SIZE_LIMIT:
        raise EuropePMCRequestError(f"pageSize {raw_size!r} must be between 1 and {PAGE_SIZE_LIMIT}", block)
    page_size = int(raw_size)
    block["pageSize"] = page_size
    try:
        tree = boolean_query.parse(query)
    except QuerySyntaxError as exc:
        raise EuropePMCRequestError(f"query syntax: {exc}", block) from None
    leaves = boolean_query.terms(tree)
    strange = sorted({t.field for t in leaves if t.field and t.field not in KNOWN_FIELDS})
    if strange:
        raise EuropePMCRequestError(f"field(s) {strange} are not implemented by the livingreview replay "
                                    f"server; it knows {sorted(KNOWN_FIELDS)}", block)
    if any(t.field in _LOOKUP_FIELDS for t in leaves):
        matching = [r for r in scenario.europepmc_results
                    if boolean_query.evaluate(tree, lambda t, r=r: _matches(t, r, block))]
    else:
        windows = [t for t in leaves if t.field in _DATE_FIELDS]
        matching = [r for r in scenario.europepmc_results if all(_matches(t, r, block) for t in windows)]
    mark = params.get("cursorMark", "*")
    signature = _signature(query, result_type)
    start = _position(mark, signature, block)
    page = matching[start:start + page_size]
    answer: dict[str, Any] = {"version": VERSION, "hitCount": len(matching)}
    if matching:
        following = _mark(start + len(page), signature) if page else mark
        answer["nextCursorMark"] = following
        answer["nextPageUrl"] = str(request.url.include_query_params(cursorMark=following))
    answer["request"] = block
    answer["resultList"] = {"result": [_present(r, result_type) for r in page]}
    return Response(json.dumps(answer, indent=2, ensure_ascii=False).encode(), media_type=JSON)
