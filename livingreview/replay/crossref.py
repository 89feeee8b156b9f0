"""Crossref ``/works`` and ``/works/{doi}`` over a scenario's recorded work items.

Like the PubMed side, the query text (``query``, ``query.bibliographic``, ...) is accepted and
echoed but not matched: which works come back is decided by the filters, which are what the
living review windows on. Implemented filters: ``type``, ``from-/until-created-date``
(``created``), ``from-/until-index-date`` (``indexed``), ``from-/until-pub-date`` (``issued``; a
partial date is its earliest day, a work with no issued date never passes), ``from-/until-deposit-
date`` and ``-update-date`` (``deposited``), ``has-abstract``, ``doi``, ``prefix``. The same filter
given twice is ORed, different filters are ANDed, as Crossref documents. Any other filter is
refused with a 400 that says so, rather than silently ignored.

Deep paging works like Crossref's: ``cursor=*`` opens a scroll over the matching works and the
answer's ``next-cursor`` is the scroll's token. In ``scroll`` mode (the default, and what the
recordings show: consecutive pages carry the same ``next-cursor``) every request with the token
returns the next page, so a page whose answer was lost is skipped unless the client starts again
from ``*``. In ``pages`` mode every page gets its own token and a token can be re-sent. A token
unused for ``ttl`` seconds expires; an expired or unknown token gets the recorded 404
``cursor-invalid`` body.
"""

from __future__ import annotations

import calendar
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.responses import Response

from livingreview.replay import bodies
from livingreview.replay.scenario import RecordedWork, Scenario

JSON = "application/json"
ROWS_DEFAULT = 20
ROWS_LIMIT = 1000
OFFSET_LIMIT = 10_000
CURSOR_MODES = ("scroll", "pages")

# Fields /works accepts in select= (the list habanero validates against, habanero/select.py).
SELECTABLE = frozenset(
    "DOI ISBN ISSN URL abstract accepted alternative-id approved archive article-number assertion "
    "author chair clinical-trial-number container-title content-created content-domain contributor "
    "created degree deposited editor event funder group-title indexed is-referenced-by-count "
    "issn-type issue issued license link member original-title page posted prefix published "
    "published-online published-print publisher publisher-location reference references-count "
    "relation resource score short-container-title short-title standards-body subject subtitle "
    "title translator type update-policy update-to updated-by volume".split()
)
# Parameters /works takes; the replay server implements all but the last group.
_PARAMETERS = {"query", "filter", "rows", "offset", "cursor", "mailto", "select", "sort", "order"}
_NOT_IMPLEMENTED_PARAMETERS = {"sample", "facet"}
_SORTS = {
    "created": lambda w: w.item["created"]["date-time"],
    "indexed": lambda w: w.item["indexed"]["date-time"],
    "deposited": lambda w: (w.item.get("deposited") or {}).get("date-time", ""),
    "updated": lambda w: (w.item.get("deposited") or {}).get("date-time", ""),
    "issued": lambda w: w.issued or date.min,
    "published": lambda w: w.issued or date.min,
    "score": lambda w: w.item.get("score", 0),
    "relevance": lambda w: w.item.get("score", 0),
}


def crossref_json(answer: Any) -> bytes:
    """Serialise as Crossref does: compact, ASCII with \\u escapes, and ``/`` written ``\\/``."""
    # Outside strings JSON has no "/", so escaping every "/" only touches string contents.
    return json.dumps(answer, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


class CrossrefRequestError(Exception):
    """A request Crossref would refuse; ``response`` is what to send back."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _validation_failure(kind: str, value: str, message: str) -> CrossrefRequestError:
    # The recorded 400 shape (error_works_400_sample_too_large.json); ``kind``/``message`` vary.
    answer = {"status": "failed", "message-type": "validation-failure",
              "message": [{"type": kind, "value": value, "message": message}]}
    return CrossrefRequestError(Response(crossref_json(answer), status_code=400, media_type=JSON))


def _integer(params: dict[str, str], name: str, default: int, limit: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > limit:
        raise _validation_failure(
            "integer-not-valid", raw,
            f"Integer specified as {raw} but must be a positive integer less than or equal to {limit}. ",
        )
    return int(raw)


def _filter_day(name: str, value: str, *, last: bool) -> date:
    try:
        parts = [int(p) for p in value.split("-")]
        if len(parts) == 1:
            return date(parts[0], 12, 31) if last else date(parts[0], 1, 1)
        if len(parts) == 2:
            return date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1] if last else 1)
        if len(parts) == 3:
            return date(*parts)
    except ValueError:
        pass
    raise _validation_failure(
        "date-not-valid", value, f"Date specified for {name} as {value} but must be YYYY, YYYY-MM or YYYY-MM-DD"
    )


def _date_test(field_day, name: str, value: str):  # noqa: ANN001, ANN202 - small closures
    last = name.startswith("until-")
    bound = _filter_day(name, value, last=last)
    if last:
        return lambda w: (d := field_day(w)) is not None and d <= bound
    return lambda w: (d := field_day(w)) is not None and d >= bound


def _deposited(work: RecordedWork) -> date | None:
    stamp = (work.item.get("deposited") or {}).get("date-time")
    return date.fromisoformat(stamp[:10]) if stamp else None


_DATE_FIELDS = {
    "created": lambda w: w.created,
    "index": lambda w: w.indexed,
    "pub": lambda w: w.issued,
    "deposit": _deposited,
    "update": _deposited,
}


def _one_filter(name: str, value: str):  # noqa: ANN202
    for prefix in ("from-", "until-"):
        if name.startswith(prefix) and name.endswith("-date"):
            field_name = name[len(prefix) : -len("-date")]
            if field_name in _DATE_FIELDS:
                return _date_test(_DATE_FIELDS[field_name], name, value)
    if name == "type":
        return lambda w: w.item.get("type") == value
    if name == "has-abstract":
        wanted = value.lower() in ("true", "t", "1")
        return lambda w: ("abstract" in w.item) == wanted
    if name == "doi":
        return lambda w: w.key == value.lower()
    if name == "prefix":
        return lambda w: w.item.get("prefix") == value
    raise _validation_failure(
        "filter-not-available", name,
        f"Filter {name} specified but the livingreview replay server does not implement it. Implemented: "
        "type, from/until-created-date, from/until-index-date, from/until-pub-date, "
        "from/until-deposit-date, from/until-update-date, has-abstract, doi, prefix",
    )


def work_filter(raw: str | None):  # noqa: ANN201
    """The predicate a ``filter=`` value stands for (same name ORed, different names ANDed)."""
    groups: dict[str, list] = {}
    for clause in (raw or "").split(","):
        if not clause.strip():
            continue
        name, sep, value = clause.partition(":")
        if not sep or not value:
            raise _validation_failure("filter-not-valid", clause, f"Filter {clause} must be name:value")
        groups.setdefault(name.strip(), []).append(_one_filter(name.strip(), value.strip()))
    return lambda w: all(any(test(w) for test in tests) for tests in groups.values())


def _selected(raw: str | None) -> list[str] | None:
    if not raw:
        return None
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    for name in fields:
        if name not in SELECTABLE:
            raise _validation_failure(
                "select-not-valid", name, f"Field {name} specified in select is not a selectable field"
            )
    return fields


@dataclass
class _Scroll:
    works: list[RecordedWork]
    select: list[str] | None
    search_terms: str | None
    position: int = 0
    last_used: float = field(default_factory=time.monotonic)


def _cursor_token() -> str:
    # Shaped like Crossref's (Elasticsearch scroll ids): base64 with '-', '_' and '=' in it, so a
    # client that forgets to URL-encode next-cursor fails here as it would against Crossref.
    return "DnF1ZXJ5VGhlbkZldGNo" + secrets.token_urlsafe(48) + "=="


class CursorStore:
    """Open deep-paging scrolls, by token."""

    def __init__(self, ttl: float = 300.0, mode: str = "scroll") -> None:
        if mode not in CURSOR_MODES:
            raise ValueError(f"cursor mode {mode!r} is not one of {CURSOR_MODES}")
        self.ttl = ttl
        self.mode = mode
        self._scrolls: dict[str, _Scroll] = {}
        self._pages: dict[str, tuple[_Scroll, int]] = {}

    def open(self, scroll: _Scroll) -> str:
        token = _cursor_token()
        self._scrolls[token] = scroll
        return token

    def expire_all(self) -> int:
        count = len(self._scrolls) + len(self._pages)
        self._scrolls.clear()
        self._pages.clear()
        return count

    def page(self, token: str, rows: int) -> tuple[list[RecordedWork], _Scroll, str] | None:
        """The next page for ``token`` and the token to send back; None if unknown or expired."""
        now = time.monotonic()
        if token in self._pages:
            scroll, position = self._pages[token]
        elif token in self._scrolls:
            scroll, position = self._scrolls[token], None
        else:
            return None
        if now - scroll.last_used > self.ttl:
            self._scrolls.pop(token, None)
            self._pages.pop(token, None)
            return None
        scroll.last_used = now
        if self.mode == "scroll":
            start = scroll.position if position is None else position
            page = scroll.works[start : start + rows]
            scroll.position = start + len(page)
            return page, scroll, token
        start = position if position is not None else 0
        page = scroll.works[start : start + rows]
        following = _cursor_token()
        self._pages[following] = (scroll, start + len(page))
        return page, scroll, following


def _present(work: RecordedWork, select: list[str] | None) -> dict[str, Any]:
    if select is None:
        return work.item
    return {k: v for k, v in work.item.items() if k in select}


def _list_answer(message: dict[str, Any]) -> Response:
    answer = {"status": "ok", "message-type": "work-list", "message-version": "1.0.0", "message": message}
    return Response(crossref_json(answer), media_type=JSON)


def works(scenario: Scenario, cursors: CursorStore, params: dict[str, str]) -> Response:
    try:
        return _works(scenario, cursors, params)
    except CrossrefRequestError as refused:
        return refused.response


def _works(scenario: Scenario, cursors: CursorStore, params: dict[str, str]) -> Response:
    for name in params:
        if name in _NOT_IMPLEMENTED_PARAMETERS:
            raise _validation_failure(
                "parameter-not-allowed", name,
                f"The livingreview replay server does not implement {name}",
            )
        if name not in _PARAMETERS and not name.startswith("query."):
            raise _validation_failure("parameter-not-allowed", name, f"This route does not support {name}")
    rows = _integer(params, "rows", ROWS_DEFAULT, ROWS_LIMIT)
    cursor = params.get("cursor")
    if cursor is not None and "offset" in params:
        raise _validation_failure("parameter-not-allowed", "offset", "Offset cannot be combined with cursor")
    if cursor is not None and cursor != "*":
        return _next_page(cursors, cursor, rows)
    offset = _integer(params, "offset", 0, OFFSET_LIMIT)
    select = _selected(params.get("select"))
    keep = work_filter(params.get("filter"))
    matching = [w for w in scenario.works if keep(w)]
    if params.get("sort"):
        if params["sort"] not in _SORTS:
            raise _validation_failure("sort-not-valid", params["sort"], f"Sort {params['sort']} is not a sort field")
        matching.sort(key=_SORTS[params["sort"]], reverse=params.get("order", "desc") == "desc")
    search_terms = params.get("query")
    message: dict[str, Any] = {"facets": {}}
    if cursor == "*":
        scroll = _Scroll(works=matching, select=select, search_terms=search_terms)
        token = cursors.open(scroll)
        paged = cursors.page(token, rows)
        assert paged is not None  # just opened
        page, _, message["next-cursor"] = paged
    else:
        page = matching[offset : offset + rows]
    message.update({
        "total-results": len(matching),
        "items": [_present(w, select) for w in page],
        "items-per-page": rows,
        "query": {"start-index": 0 if cursor else offset, "search-terms": search_terms},
    })
    return _list_answer(message)


def _next_page(cursors: CursorStore, cursor: str, rows: int) -> Response:
    if cursor.isdigit():
        # Recorded: GET /works?cursor=5 -> HTTP 500 with a Clojure stack trace.
        return Response(bodies.CROSSREF_EXCEPTION_500, status_code=500, media_type=JSON)
    paged = cursors.page(cursor, rows)
    if paged is None:
        answer = json.loads(bodies.recorded(bodies.CROSSREF_INVALID_CURSOR))
        answer["message"][0]["value"] = cursor
        return Response(crossref_json(answer), status_code=404, media_type=JSON)
    page, scroll, token = paged
    return _list_answer({
        "facets": {},
        "next-cursor": token,
        "total-results": len(scroll.works),
        "items": [_present(w, scroll.select) for w in page],
        "items-per-page": rows,
        "query": {"start-index": 0, "search-terms": scroll.search_terms},
    })


def work(scenario: Scenario, doi: str, params: dict[str, str]) -> Response:
    if any(name.startswith("query") for name in params):
        return Response(bodies.CROSSREF_FIELD_QUERY_NOT_ALLOWED, status_code=400,
                        media_type="application/json;charset=utf-8")
    wanted = doi.lower()
    for recorded_work in scenario.works:
        if recorded_work.key == wanted:
            if recorded_work.single_body is not None:
                return Response(recorded_work.single_body, media_type=JSON)
            answer = {"status": "ok", "message-type": "work", "message-version": "1.0.0",
                      "message": recorded_work.item}
            return Response(crossref_json(answer), media_type=JSON)
    return bodies.exactly(bodies.CROSSREF_NOT_FOUND, 404, "text/plain")
