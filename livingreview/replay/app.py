"""The replay server's ASGI application: the API routes, the request log and the control API.

API routes (answered from the scenario):

* ``GET|POST /entrez/eutils/esearch.fcgi`` and ``GET|POST /entrez/eutils/efetch.fcgi``
* ``GET /works`` and ``GET /works/{doi}`` (Crossref)
* ``GET /openalex/works`` and ``GET /openalex/works/{id}`` (OpenAlex: W id, ``doi:``, DOI URL, ``pmid:``)
* ``GET /europepmc/webservices/rest/search`` (Europe PMC)

Control routes (for tests and demos; never logged):

* ``GET /_control/health``, ``GET /_control/scenario``
* ``GET /_control/requests`` (``{"counts": {path: n}, "requests": [...]}``), ``DELETE`` clears it
* ``GET|POST|DELETE /_control/faults`` (POST a fault object, a list, or ``{"faults": [...]}``)
* ``DELETE /_control/cursors`` expires every open Crossref cursor
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from livingreview.errors import ConfigError
from livingreview.replay import bodies, crossref, europepmc, eutils, openalex
from livingreview.replay.faults import REPLACING_KINDS, CutBodyResponse, Fault, FaultPlan
from livingreview.replay.limits import (
    Limit,
    RateLimiter,
    crossref_headers,
    crossref_limit,
    entrez_limit,
    europepmc_limit,
    openalex_limit,
)
from livingreview.replay.scenario import DEMO, Scenario, load_scenario

PUBMED, CROSSREF, OPENALEX, EUROPEPMC = "pubmed", "crossref", "openalex", "europepmc"
OPENALEX_PREFIX = "/openalex"
EUROPEPMC_PREFIX = "/europepmc/webservices/rest"
_SECRET_PARAMETERS = {"api_key"}
_REDACTED = "**********"


@dataclass
class RequestRecord:
    """One API request the server received, and how it was answered."""

    method: str
    path: str
    params: dict[str, str]  # query and form parameters; api_key redacted
    user_agent: str
    arrived: float  # time.monotonic() on arrival: differences are the client's pacing
    status: int | None = None
    fault: str | None = None  # the injected fault kind, "rate_limit_enforced", or None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Every API request, in arrival order; read from the test thread while the server runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self.records():
            counts[record.path] = counts.get(record.path, 0) + 1
        return counts

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


@dataclass
class ReplayState:
    scenario: Scenario
    faults: FaultPlan
    limiter: RateLimiter
    cursors: crossref.CursorStore
    history: eutils.HistoryServer = field(default_factory=eutils.HistoryServer)
    log: RequestLog = field(default_factory=RequestLog)
    latency: float = 0.0  # added to every API answer, to make concurrency observable
    spending: openalex.Spending = field(default_factory=openalex.Spending)


async def _params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if request.method == "POST":
        body = await request.body()
        content_type = request.headers.get("content-type", "application/x-www-form-urlencoded")
        if body and "application/x-www-form-urlencoded" not in content_type:
            raise ValueError(f"POST body of type {content_type!r}; send it form-urlencoded")
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _limit_for(source: str, single_work: bool, params: dict[str, str], request: Request) -> Limit:
    if source == PUBMED:
        return entrez_limit(bool(eutils.param(params, "api_key")))
    if source == OPENALEX:
        return openalex_limit()
    if source == EUROPEPMC:
        return europepmc_limit()
    polite = bool(params.get("mailto")) or "mailto:" in request.headers.get("user-agent", "")
    return crossref_limit(polite, single_work)


def _rate_limited(source: str, limit: Limit, request: Request, count: int, retry_after: float | None) -> Response:
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    if source == PUBMED:
        answer = json.loads(bodies.ENTREZ_RATE_LIMIT_TEMPLATE)
        answer.update({"api-key": request.client.host if request.client else "127.0.0.1",
                       "count": str(count), "limit": str(limit.per_second)})
        return Response(json.dumps(answer, separators=(",", ":")), status_code=429,
                        media_type="application/json", headers=headers)
    if source == OPENALEX:
        # OpenAlex's documented error shape and 429 message (no recorded body exists)
        made = {"error": "Rate limit exceeded", "message": "Rate limit exceeded"}
        return Response(json.dumps(made), status_code=429, media_type="application/json", headers=headers)
    if source == EUROPEPMC:
        # No Europe PMC 429 body is recorded or documented: a plain statement, made here.
        return Response("Too Many Requests", status_code=429, media_type="text/plain", headers=headers)
    return bodies.exactly(bodies.CROSSREF_RATE_LIMITED_429, 429, "text/html", headers)


def _fault_answer(fault: Fault, source: str, route: str, limit: Limit, request: Request) -> Response:
    if fault.kind == "rate_limited":
        return _rate_limited(source, limit, request, count=limit.per_second + 1, retry_after=fault.retry_after)
    if fault.kind == "server_error":
        return Response(bodies.CROSSREF_EXCEPTION_500, status_code=500, media_type="application/json")
    if fault.kind == "gateway_timeout":
        return bodies.exactly(bodies.CROSSREF_GATEWAY_TIMEOUT_504, 504, "text/html")
    # error_in_body: only matched for E-utilities routes (Fault.matches)
    made = bodies.esearch_error(fault.message) if route == "esearch" else bodies.efetch_error(fault.message)
    return Response(made, media_type=eutils.XML)


Handler = Callable[[ReplayState, dict[str, str], Request], Response]


def _api_route(path: str, source: str, route: str, handler: Handler, methods: list[str]) -> Route:
    async def endpoint(request: Request) -> Response:
        state: ReplayState = request.app.state.replay
        try:
            params = await _params(request)
        except ValueError as exc:
            return PlainTextResponse(f"livingreview replay server: {exc}", status_code=400)
        shown = {k: (_REDACTED if k.lower() in _SECRET_PARAMETERS else v) for k, v in params.items()}
        record = RequestRecord(request.method, request.url.path, shown,
                               request.headers.get("user-agent", ""), time.monotonic())
        state.log.add(record)
        limit = _limit_for(source, route == "work", params, request)
        refused = state.limiter.admit(limit)
        if refused is not None:
            record.fault = "rate_limit_enforced"
            response = _rate_limited(source, limit, request, count=refused, retry_after=1)
        else:
            try:
                response = await _answer(state, source, route, handler, params, request, limit, record)
            finally:
                state.limiter.release(limit)
        record.status = response.status_code
        return response

    return Route(path, endpoint, methods=methods, name=route)


async def _answer(state: ReplayState, source: str, route: str, handler: Handler, params: dict[str, str],
                  request: Request, limit: Limit, record: RequestRecord) -> Response:
    fault = state.faults.take(request.url.path, params, source)
    record.fault = fault.kind if fault else None
    if fault and fault.kind in REPLACING_KINDS:
        response = _fault_answer(fault, source, route, limit, request)
    else:
        if state.latency:
            await asyncio.sleep(state.latency)
        if fault and fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        response = handler(state, params, request)
    if source == CROSSREF:
        response.headers.update(crossref_headers(limit))
    if source == OPENALEX and not (fault and fault.kind in REPLACING_KINDS):
        cost = openalex.cost_of(None if route == "openalex_work" else params)
        charged = state.spending.charge(params.get("api_key", ""), cost)
        if charged is None:
            record.fault = "budget_exhausted"
            return _rate_limited(source, limit, request, count=0, retry_after=None)
        response.headers.update(charged)
    if fault and fault.kind in ("truncated_body", "dropped_connection"):
        response = CutBodyResponse(response, len(response.body) // 2,
                                   honest_length=fault.kind == "truncated_body")
    return response


# --- control API --------------------------------------------------------------------------------


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "scenario": request.app.state.replay.scenario.name})


async def _scenario(request: Request) -> Response:
    return JSONResponse(request.app.state.replay.scenario.summary())


async def _requests(request: Request) -> Response:
    log: RequestLog = request.app.state.replay.log
    if request.method == "DELETE":
        log.clear()
    return JSONResponse({"counts": log.counts(), "requests": [r.to_dict() for r in log.records()],
                         "rate_limit_violations": dict(request.app.state.replay.limiter.violations)})


async def _faults(request: Request) -> Response:
    plan: FaultPlan = request.app.state.replay.faults
    if request.method == "DELETE":
        plan.clear()
    elif request.method == "POST":
        try:
            spec = await request.json()
            specs = spec.get("faults", [spec]) if isinstance(spec, dict) else spec
            plan.add(*specs)
        except (ConfigError, ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"faults": plan.snapshot()})


async def _cursors(request: Request) -> Response:
    return JSONResponse({"expired": request.app.state.replay.cursors.expire_all()})


def create_app(
    scenario: str | Path | Scenario = DEMO,
    faults: Iterable[Fault | dict[str, Any]] = (),
    *,
    enforce_rate_limits: bool = False,
    cursor_ttl: float = 300.0,
    cursor_mode: str = "scroll",
    latency: float = 0.0,
    openalex_budget: bool = False,
) -> Starlette:
    """The ASGI app answering from ``scenario``; its state is at ``app.state.replay``."""
    plan = FaultPlan()
    plan.add(*faults)
    state = ReplayState(
        scenario=load_scenario(scenario),
        faults=plan,
        limiter=RateLimiter(enforce=enforce_rate_limits),
        cursors=crossref.CursorStore(ttl=cursor_ttl, mode=cursor_mode),
        latency=latency,
        spending=openalex.Spending(enforce=openalex_budget),
    )
    routes = [
        _api_route("/entrez/eutils/esearch.fcgi", PUBMED, "esearch",
                   lambda s, p, r: eutils.esearch(s.scenario, s.history, p), ["GET", "POST"]),
        _api_route("/entrez/eutils/efetch.fcgi", PUBMED, "efetch",
                   lambda s, p, r: eutils.efetch(s.scenario, s.history, p), ["GET", "POST"]),
        _api_route("/works", CROSSREF, "works",
                   lambda s, p, r: crossref.works(s.scenario, s.cursors, p), ["GET"]),
        _api_route("/works/{doi:path}", CROSSREF, "work",
                   lambda s, p, r: crossref.work(s.scenario, r.path_params["doi"], p), ["GET"]),
        _api_route(f"{OPENALEX_PREFIX}/works", OPENALEX, "openalex_works",
                   lambda s, p, r: openalex.works(s.scenario, p), ["GET"]),
        _api_route(f"{OPENALEX_PREFIX}/works/{{identifier:path}}", OPENALEX, "openalex_work",
                   lambda s, p, r: openalex.work(s.scenario, r.path_params["identifier"]), ["GET"]),
        _api_route(f"{EUROPEPMC_PREFIX}/search", EUROPEPMC, "europepmc_search",
                   lambda s, p, r: europepmc.search(s.scenario, p, r), ["GET"]),
        Route("/_control/health", _health, methods=["GET"]),
        Route("/_control/scenario", _scenario, methods=["GET"]),
        Route("/_control/requests", _requests, methods=["GET", "DELETE"]),
        Route("/_control/faults", _faults, methods=["GET", "POST", "DELETE"]),
        Route("/_control/cursors", _cursors, methods=["DELETE"]),
    ]
    app = Starlette(routes=routes)
    app.state.replay = state
    return app
