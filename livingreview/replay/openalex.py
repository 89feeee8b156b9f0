"""OpenAlex ``/works`` and ``/works/{id}`` over a scenario's recorded works.

Filters (``filter=name:value,name:value``; different names ANDed, ``a|b`` ORs values of one name):
``from_created_date``/``to_created_date`` (``created_date``, the window the living review uses),
``from_publication_date``/``to_publication_date``, ``publication_year`` (``2020``, ``2019-2021``,
``>2019``, ``<2022``), ``doi`` (bare or ``https://doi.org/`` form), ``ids.pmid``/``pmid``,
``openalex``/``ids.openalex``, ``type``, ``language``, ``has_abstract``, ``has_doi``. Any other
filter gets a 400 naming it, rather than being silently ignored.

``search``: a list that names its works (a ``doi``, ``pmid`` or ``openalex`` filter: a look-up, as
the abstract enrichment and the search-recall check write it) is searched in full over title and
abstract in the Boolean syntax (``boolean_query``; stemming is not modelled). Otherwise the search
text is checked and echoed, and the filters alone decide, as on the PubMed side.

Paging: ``page`` (``page * per-page`` at most 10,000) or ``cursor=*`` then ``meta.next_cursor``
until it is null. Cursors encode their position and are tied to the request they came from.

Cost: every answer carries OpenAlex's ``X-RateLimit-*-USD`` headers. A search costs $0.001, a list
$0.0001, a single work nothing, against a daily budget of $1 with an ``api_key`` and $0.01 without;
the replay keeps the spend per key, and answers 429 once it is gone only when started with
``openalex_budget=True`` (so an unrelated test cannot run out).

Error bodies are OpenAlex's documented shape (``{"error": ..., "message": ...}``, OpenAlex API
reference, "Errors"); no real error body was recorded (fixtures/openalex/PROVENANCE.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import date
from typing import Any

from starlette.responses import Response

from livingreview.replay import boolean_query
from livingreview.replay.boolean_query import QuerySyntaxError
from livingreview.replay.scenario import RecordedOpenAlexWork, Scenario

JSON = "application/json"
PER_PAGE_DEFAULT = 25
PER_PAGE_LIMIT = 200
PAGING_LIMIT = 10_000
COST_SEARCH, COST_LIST, COST_SINGLE = 0.001, 0.0001, 0.0
BUDGET_WITH_KEY, BUDGET_WITHOUT_KEY = 1.0, 0.01
_PARAMETERS = {"filter", "search", "per-page", "per_page", "page", "cursor", "mailto", "api_key", "select"}
_LOOKUP_FILTERS = {"doi", "ids.pmid", "pmid", "openalex", "ids.openalex"}


class OpenAlexRequestError(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def response(self) -> Response:
        return Response(json.dumps({"error": self.error, "message": self.message}),
                        status_code=self.status, media_type=JSON)


class Spending:
    """Dollars spent today per API key (``""`` without one); thread-safe."""

    def __init__(self, enforce: bool = False) -> None:
        self.enforce = enforce
        self._lock = threading.Lock()
        self._spent: dict[str, float] = {}

    def charge(self, key: str, cost: float) -> dict[str, str] | None:
        """The cost headers for this request, or None when the budget cannot pay for it."""
        budget = BUDGET_WITH_KEY if key else BUDGET_WITHOUT_KEY
        with self._lock:
            spent = self._spent.get(key, 0.0)
            if self.enforce and spent + cost > budget + 1e-12:
                return None
            spent += cost
            self._spent[key] = spent
        return {"X-RateLimit-Limit-USD": f"{budget:g}",
                "X-RateLimit-Remaining-USD": f"{max(budget - spent, 0.0):.4f}",
                "X-RateLimit-Cost-USD": f"{cost:g}",
                "X-RateLimit-Prepaid-Remaining-USD": "0"}


def _bare_doi(value: str) -> str:
    value = value.strip().lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "doi:"):
        value = value.removeprefix(prefix)
    return value


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise OpenAlexRequestError(400, "Invalid query parameters error.",
                                   f"Value for param {name} must be a date in format YYYY-MM-DD.") from None


def _year_test(value: str):  # noqa: ANN202 - a small predicate
    try:
        if value.startswith(">"):
            low = int(value[1:]) + 1
            return lambda y: y is not None and y >= low
        if value.startswith("<"):
            high = int(value[1:]) - 1
            return lambda y: y is not None and y <= high
        if "-" in value:
            low, high = (int(v) for v in value.split("-", 1))
            return lambda y: y is not None and low <= y <= high
        year = int(value)
        return lambda y: y == year
    except ValueError:
        raise OpenAlexRequestError(400, "Invalid query parameters error.",
                                   f"Value for param publication_year must be a number: {value}") from None


def _one_filter(name: str, value: str):  # noqa: ANN202
    if name in ("from_created_date", "to_created_date"):
        bound = _day(name, value)
        return (lambda w: w.created >= bound) if name.startswith("from") else (lambda w: w.created <= bound)
    if name in ("from_publication_date", "to_publication_date"):
        bound = _day(name, value)
        if name.startswith("from"):
            return lambda w: w.published is not None and w.published >= bound
        return lambda w: w.published is not None and w.published <= bound
    if name == "publication_year":
        test = _year_test(value)
        return lambda w: test(w.item.get("publication_year"))
    if name == "doi":
        wanted = _bare_doi(value)
        return lambda w: w.doi == wanted
    if name in ("ids.pmid", "pmid"):
        wanted = value.rsplit("/", 1)[-1]
        return lambda w: str((w.item.get("ids") or {}).get("pmid") or "").rsplit("/", 1)[-1] == wanted
    if name in ("openalex", "ids.openalex"):
        wanted = value.rsplit("/", 1)[-1].upper()
        return lambda w: w.openalex_id.upper() == wanted
    if name == "type":
        return lambda w: w.item.get("type") == value
    if name == "language":
        return lambda w: w.item.get("language") == value
    if name in ("has_abstract", "has_doi"):
        wanted = value.lower() == "true"
        key = "abstract_inverted_index" if name == "has_abstract" else "doi"
        return lambda w: bool(w.item.get(key)) == wanted
    raise OpenAlexRequestError(
        400, "Invalid query parameters error.",
        f"{name} is not a valid field, or is not implemented by the livingreview replay server. Implemented: "
        "from/to_created_date, from/to_publication_date, publication_year, doi, ids.pmid, openalex, type, "
        "language, has_abstract, has_doi")


def work_filter(raw: str | None):  # noqa: ANN201
    """The predicate for a ``filter=`` value, and whether it names its works (a look-up)."""
    tests = []
    lookup = False
    for clause in (raw or "").split(","):
        if not clause.strip():
            continue
        name, sep, value = clause.partition(":")
        name = name.strip()
        if not sep or not value:
            raise OpenAlexRequestError(400, "Invalid query parameters error.",
                                       f"Filter {clause!r} must be written name:value")
        lookup = lookup or name in _LOOKUP_FILTERS
        alternatives = [_one_filter(name, v) for v in value.split("|")]
        tests.append(lambda w, alternatives=alternatives: any(t(w) for t in alternatives))
    return (lambda w: all(t(w) for t in tests)), lookup


def _abstract(work: RecordedOpenAlexWork) -> str:
    index = work.item.get("abstract_inverted_index") or {}
    positions = {p: word for word, places in index.items() for p in places}
    return " ".join(positions[p] for p in sorted(positions))


def _searched(work: RecordedOpenAlexWork, tree: Any) -> bool:
    text = boolean_query.plain_text(f"{work.item.get('title') or ''} {_abstract(work)}")
    return boolean_query.evaluate(tree, lambda t: bool(boolean_query.phrase_pattern(t.value).search(text)))


def _integer(params: dict[str, str], names: tuple[str, ...], default: int, low: int, high: int) -> int:
    for name in names:
        raw = params.get(name)
        if raw is None:
            continue
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise OpenAlexRequestError(400, "Invalid query parameters error.",
                                       f"{name} must be a number between {low} and {high}")
        return int(raw)
    return default


def _signature(params: dict[str, str]) -> str:
    kept = {k: v for k, v in params.items() if k not in ("cursor", "api_key", "mailto")}
    return hashlib.sha1(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:10]


def _cursor(position: int, signature: str) -> str:
    return base64.b64encode(json.dumps([position, signature]).encode()).decode()


def _cursor_position(raw: str, signature: str) -> int:
    if raw == "*":
        return 0
    try:
        position, made_for = json.loads(base64.b64decode(raw, validate=True))
        if made_for == signature and isinstance(position, int):
            return position
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    raise OpenAlexRequestError(400, "Invalid query parameters error.",
                               f"cursor {raw!r} was not issued for this query; start again with cursor=*")


def cost_of(params: dict[str, str] | None) -> float:
    """What a request costs: a single work (``params`` None) is free."""
    if params is None:
        return COST_SINGLE
    return COST_SEARCH if params.get("search") else COST_LIST


def works(scenario: Scenario, params: dict[str, str]) -> Response:
    try:
        return _works(scenario, params)
    except OpenAlexRequestError as refused:
        return refused.response()


def _works(scenario: Scenario, params: dict[str, str]) -> Response:
    unknown = sorted(set(params) - _PARAMETERS)
    if unknown:
        raise OpenAlexRequestError(400, "Invalid query parameters error.",
                                   f"{', '.join(unknown)} is not a valid parameter (or not implemented by the "
                                   f"livingreview replay server). Valid parameters: {sorted(_PARAMETERS)}")
    per_page = _integer(params, ("per-page", "per_page"), PER_PAGE_DEFAULT, 1, PER_PAGE_LIMIT)
    keep, lookup = work_filter(params.get("filter"))
    matching = [w for w in scenario.openalex_works if keep(w)]
    search = (params.get("search") or "").strip()
    if search:
        try:
            tree = boolean_query.parse(search)
        except QuerySyntaxError as exc:
            raise OpenAlexRequestError(400, "Invalid query parameters error.", f"search: {exc}") from None
        if lookup:
            matching = [w for w in matching if _searched(w, tree)]
    meta: dict[str, Any] = {"count": len(matching), "db_response_time_ms": 0}
    if "cursor" in params:
        if "page" in params:
            raise OpenAlexRequestError(400, "Invalid query parameters error.", "cannot use page with cursor")
        signature = _signature(params)
        start = _cursor_position(params["cursor"], signature)
        page = matching[start:start + per_page]
        end = start + len(page)
        meta.update({"page": None, "per_page": per_page,
                     "next_cursor": _cursor(end, signature) if page and end < len(matching) else None})
    else:
        number = _integer(params, ("page",), 1, 1, PAGING_LIMIT)
        if number * per_page > PAGING_LIMIT:
            raise OpenAlexRequestError(400, "Invalid query parameters error.",
                                       f"page * per_page cannot exceed {PAGING_LIMIT}; use cursor paging")
        page = matching[(number - 1) * per_page:number * per_page]
        meta.update({"page": number, "per_page": per_page})
    meta["groups_count"] = None
    answer = {"meta": meta, "results": [w.item for w in page], "group_by": []}
    return Response(json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode(), media_type=JSON)


def work(scenario: Scenario, identifier: str) -> Response:
    """``/works/W123``, ``/works/https://openalex.org/W123``, ``/works/doi:10.x/y``,
    ``/works/https://doi.org/10.x/y``, ``/works/pmid:123``."""
    wanted = identifier.strip()
    lowered = wanted.lower()
    if lowered.startswith(("doi:", "https://doi.org/", "http://doi.org/", "doi.org/")):
        doi = _bare_doi(wanted.removeprefix("doi.org/") if lowered.startswith("doi.org/") else wanted)
        found = [w for w in scenario.openalex_works if w.doi == doi]
    elif lowered.startswith("pmid:"):
        pmid = wanted.split(":", 1)[1]
        found = [w for w in scenario.openalex_works
                 if str((w.item.get("ids") or {}).get("pmid") or "").rsplit("/", 1)[-1] == pmid]
    else:
        key = wanted.rsplit("/", 1)[-1].upper()
        found = [w for w in scenario.openalex_works if w.openalex_id.upper() == key]
    if not found:
        return OpenAlexRequestError(404, "Not found", f"Work {wanted} not found").response()
    return Response(json.dumps(found[0].item, ensure_ascii=False, separators=(",", ":")).encode(),
                    media_type=JSON)
