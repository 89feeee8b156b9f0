"""The HTTP machinery every bibliographic source shares.

``SourceClient`` wraps one ``httpx.Client`` for one source and adds what the APIs ask of us:

* a client-side throttle (requests per second, shared by every client of the same source in this
  process, because the APIs count requests per IP address, not per client object);
* retries for transient failures only (timeouts, dropped connections, 429, 5xx), with exponential
  backoff and jitter (tenacity), never sooner than a ``Retry-After`` header allows;
* classification of everything else as ``PermanentSourceError`` at once (4xx, or an error that the
  API reports inside a 200 body, detected by a per-source ``check`` callback);
* archiving: every response body is handed to ``archive(raw)`` before anything parses it, so a
  run can be re-parsed without querying again;
* redaction: secrets (``api_key``) never appear in ``RawResponse``, error messages or logs; a
  secret value a server echoes back in a body is replaced there too (nothing else is changed).

Building a request is pure and lives in each source module; this module only sends.
"""

from __future__ import annotations

import email.utils
import logging
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator, Protocol
from urllib.parse import parse_qsl, urlencode

import httpx
import tenacity

from livingreview.errors import PermanentSourceError, SourceError, TransientSourceError

log = logging.getLogger("livingreview.sources")

REDACTED = "REDACTED"
# Parameter names whose values are credentials. NCBI calls its key ``api_key``; the others are
# the usual spellings, listed so that a new source cannot leak a key by naming it differently.
SECRET_PARAMS = frozenset({"api_key", "apikey", "api-key", "key", "token", "access_token"})
# Response headers that can carry session credentials; never archived.
SECRET_HEADERS = frozenset({"set-cookie", "authorization", "proxy-authorization", "cookie"})


@dataclass(frozen=True)
class RawResponse:
    """One HTTP exchange as it is archived: what was asked and exactly what came back.

    ``url`` and ``params`` are redacted (secrets replaced by ``REDACTED``); ``params`` holds the
    query string and, for form POSTs, the form fields. ``received_at`` is an ISO-8601 UTC time.
    """

    source: str
    method: str
    url: str
    params: dict[str, str]
    status: int
    headers: dict[str, str]
    body: str
    received_at: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class Archive(Protocol):
    """Receives every response before it is parsed (the flow stores it)."""

    def __call__(self, raw: RawResponse) -> None: ...


def no_archive(raw: RawResponse) -> None:
    """An archive that keeps nothing, for callers that explicitly do not need one."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before a transient failure becomes the caller's problem.

    Waits grow as ``initial_wait * 2**n`` up to ``max_wait`` plus up to ``jitter`` seconds of
    random jitter; a ``Retry-After`` longer than the computed wait wins. A ``Retry-After`` longer
    than ``max_retry_after`` stops retrying at once (the API asked us to go away for a long time).
    Tests pass tiny waits so that retry paths run in milliseconds.
    """

    attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 60.0
    jitter: float = 1.0
    max_retry_after: float = 300.0


class Throttle:
    """At most ``rate`` request starts per second; thread-safe.

    ``lower_to`` lets the API's own rate-limit headers tighten (never loosen) the configured rate.
    """

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"throttle rate must be positive, got {rate}")
        self.configured_rate = float(rate)
        self.rate = float(rate)
        self._clock = clock
        self._lock = threading.Lock()
        self._next_start = 0.0

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    def lower_to(self, rate: float) -> None:
        if 0 < rate < self.rate:
            self.rate = rate

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> float:
        """Block until the next request may start; returns the seconds waited."""
        if _PAUSED.is_set():
            return 0.0
        with self._lock:
            now = self._clock()
            start = max(now, self._next_start)
            self._next_start = start + self.interval
        delay = start - now
        if delay > 0:
            sleep(delay)
        return max(delay, 0.0)


_THROTTLES: dict[str, Throttle] = {}
_THROTTLES_LOCK = threading.Lock()
_PAUSED = threading.Event()


@contextmanager
def throttles_paused() -> Iterator[None]:
    """No pacing while answers come from the archive (a re-parse): nothing reaches an API."""
    _PAUSED.set()
    try:
        yield
    finally:
        _PAUSED.clear()


def shared_throttle(source: str, rate: float) -> Throttle:
    """The process-wide throttle for ``source`` (created at ``rate`` on first use).

    A later call with a different rate re-targets the shared throttle to that rate, so that
    e.g. adding an NCBI API key (3/s -> 10/s) takes effect without restarting the process.
    """
    with _THROTTLES_LOCK:
        throttle = _THROTTLES.get(source)
        if throttle is None:
            throttle = _THROTTLES[source] = Throttle(rate)
        elif throttle.configured_rate != rate:
            throttle.configured_rate = throttle.rate = float(rate)
        return throttle


# --------------------------------------------------------------------------- redaction


def _redact_pairs(pairs: Iterable[tuple[str, str]], secrets: Iterable[str]) -> list[tuple[str, str]]:
    secret_values = [s for s in secrets if s]
    out = []
    for name, value in pairs:
        if name.lower() in SECRET_PARAMS or value in secret_values:
            value = REDACTED
        out.append((name, value))
    return out


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def request_params(request: httpx.Request) -> list[tuple[str, str]]:
    """Query-string parameters plus, for form POSTs, the form fields, in order."""
    pairs = list(request.url.params.multi_items())
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = request.content.decode("utf-8", errors="replace")
        pairs += parse_qsl(body, keep_blank_values=True)
    return pairs


def redacted_url(request: httpx.Request, secrets: Iterable[str] = ()) -> str:
    pairs = _redact_pairs(request.url.params.multi_items(), secrets)
    url = request.url.copy_with(query=urlencode(pairs).encode() if pairs else None)
    return str(url)


def redact_request(request: httpx.Request, secrets: Iterable[str] = ()) -> httpx.Request:
    """A copy of ``request`` that is safe to log, archive or attach to an error."""
    secrets = list(secrets)
    content = request.content
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qsl(content.decode("utf-8", errors="replace"), keep_blank_values=True)
        content = urlencode(_redact_pairs(form, secrets)).encode()
    headers = {k: v for k, v in request.headers.items()
               if k.lower() not in SECRET_HEADERS and k.lower() != "content-length"}
    return httpx.Request(request.method, redacted_url(request, secrets), headers=headers,
                         content=content)


def _safe_headers(response: httpx.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower() not in SECRET_HEADERS}


# --------------------------------------------------------------------------- error helpers


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def body_excerpt(raw: RawResponse, limit: int = 200) -> str:
    """A short, readable account of a response body for error messages.

    HTML error pages are reduced to their <title>; JSON and text bodies are cut to ``limit``.
    """
    text = raw.body.strip()
    if "html" in raw.content_type or text[:15].lower().startswith(("<html", "<!doctype html")):
        match = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
        text = f"HTML page '{match.group(1).strip()}'" if match else "an HTML page"
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[:limit] + "..."


def describe(raw: RawResponse) -> str:
    kind = raw.content_type.split(";")[0] or "no content type"
    return f"{raw.source}: {raw.method} {raw.url} returned HTTP {raw.status} ({kind}): {body_excerpt(raw)}"


def _error_response(raw: RawResponse, request: httpx.Request) -> httpx.Response:
    return httpx.Response(raw.status, headers=raw.headers, text=raw.body, request=request)


# --------------------------------------------------------------------------- the client

Check = Callable[[RawResponse], None]


class _RetryAfterOrBackoff(tenacity.wait.wait_base):
    """Exponential backoff with jitter, but never shorter than the server's Retry-After."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = tenacity.wait_exponential_jitter(
            initial=policy.initial_wait, max=policy.max_wait, jitter=policy.jitter)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        wait = self.backoff(retry_state)
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait


class _StopOnLongRetryAfter(tenacity.stop.stop_base):
    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return retry_after is not None and retry_after > self.limit


@dataclass
class SourceClient:
    """Sends one source's requests: throttled, retried when transient, archived, redacted.

    ``http`` is the flow run's ``httpx.Client`` (one per run, not cached). ``secrets`` are extra
    literal values to scrub (the NCBI key is also caught by its parameter name). ``sleep`` is
    injectable so that tests can observe waits without spending them.
    """

    http: httpx.Client
    source: str
    rate: float = 1.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    secrets: tuple[str, ...] = ()
    sleep: Callable[[float], None] = time.sleep
    throttle: Throttle | None = None
    respect_rate_limit_headers: bool = True

    def __post_init__(self) -> None:
        if self.throttle is None:
            self.throttle = shared_throttle(self.source, self.rate)

    # -- one attempt

    def _send_once(self, request: httpx.Request, archive: Archive, check: Check | None,
                   safe_request: httpx.Request) -> RawResponse:
        self.throttle.wait(self.sleep)
        url = str(safe_request.url)
        try:
            response = self.http.send(request, follow_redirects=True)
            # A server that echoes the request (some error pages do) must not put a key into
            # the archive: literal secret values are the only thing ever changed in a body.
            body = _scrub(response.text, self.secrets)
        except httpx.TimeoutException as exc:
            raise TransientSourceError(
                f"{self.source}: {request.method} {url} timed out ({type(exc).__name__}). "
                "Fix: the API is slow or unreachable; re-run later or raise LR_HTTP_TIMEOUT",
                request=safe_request) from None
        except httpx.TransportError as exc:
            raise TransientSourceError(
                f"{self.source}: {request.method} {url} failed to connect "
                f"({type(exc).__name__}: {_scrub(str(exc), self.secrets)}). "
                "Fix: check the network and the base URL setting, then re-run",
                request=safe_request) from None

        raw = RawResponse(
            source=self.source,
            method=request.method,
            url=url,
            params=dict(_redact_pairs(request_params(request), self.secrets)),
            status=response.status_code,
            headers={k: _scrub(v, self.secrets) for k, v in _safe_headers(response).items()},
            body=body,
            received_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        # Archive before judging or parsing: an error body is evidence worth keeping too.
        archive(raw)
        if self.respect_rate_limit_headers:
            self._apply_rate_limit_headers(raw.headers)
        self._classify(raw, safe_request)
        if check is not None:
            try:
                check(raw)
            except SourceError as exc:
                # Checks see only the archived response; the error still names the request.
                if exc.request is None:
                    exc.request = safe_request
                if exc.response is None:
                    exc.response = _error_response(raw, safe_request)
                raise
        return raw

    def _apply_rate_limit_headers(self, headers: dict[str, str]) -> None:
        limit = headers.get("x-rate-limit-limit")
        interval = headers.get("x-rate-limit-interval")
        if not limit or not interval:
            return
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*s?\s*", interval)
        try:
            requests = float(limit)
        except ValueError:
            return
        if match and requests > 0:
            self.throttle.lower_to(requests / float(match.group(1) or 1))

    def _classify(self, raw: RawResponse, safe_request: httpx.Request) -> None:
        status = raw.status
        if status < 400:
            return
        response = _error_response(raw, safe_request)
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(raw.headers.get("retry-after"))
            hint = ("Fix: the API is rate-limiting us; the run waits and retries, "
                    "lower the request rate if this persists" if status == 429 else
                    "Fix: the API is overloaded or down; re-run later")
            raise TransientSourceError(f"{describe(raw)}. {hint}", request=safe_request,
                                       response=response, retry_after=retry_after)
        raise PermanentSourceError(
            f"{describe(raw)}. Fix: the request was refused as sent; check the query and "
            "parameters in review.toml (retrying will not help)",
            request=safe_request, response=response)

    # -- public

    def send(self, request: httpx.Request, archive: Archive, check: Check | None = None) -> RawResponse:
        """Send ``request``; return the archived response or raise a ``SourceError``.

        ``check`` inspects a successful (< 400) response and raises ``PermanentSourceError`` (or
        ``TransientSourceError``) for errors the API reports inside the body.
        """
        safe_request = redact_request(request, self.secrets)
        policy = self.retry
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.attempts) | _StopOnLongRetryAfter(policy.max_retry_after),
            wait=_RetryAfterOrBackoff(policy),
            retry=tenacity.retry_if_exception_type(TransientSourceError),
            sleep=self.sleep,
            reraise=True,
            before_sleep=self._log_retry,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    raw = self._send_once(request, archive, check, safe_request)
        except TransientSourceError as exc:
            raise TransientSourceError(
                f"{exc} (gave up after {attempts} attempt{'s' if attempts != 1 else ''})",
                request=exc.request, response=exc.response, retry_after=exc.retry_after) from exc
        return raw

    def _log_retry(self, retry_state: tenacity.RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        log.warning("%s; retrying in %.2fs (attempt %d of %d)", exc, wait,
                    retry_state.attempt_number + 1, self.retry.attempts)


def user_agent(contact_email: str) -> str:
    """The User-Agent every source sends; carries the contact address the APIs ask for."""
    return f"livingreview/0.1 (mailto:{contact_email})"


def make_request(method: str, url: str, *, params: list[tuple[str, str]] | None = None,
                 data: list[tuple[str, str]] | None = None, contact_email: str,
                 timeout: float) -> httpx.Request:
    """A ready-to-send request with our User-Agent and an explicit timeout.

    The timeout travels in the request itself because a bare ``httpx.Request`` sent through
    ``Client.send`` would otherwise wait forever on a stalled server.
    """
    headers = {"User-Agent": user_agent(contact_email), "Accept-Encoding": "gzip, deflate"}
    content = None
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        content = urlencode(data).encode()
    return httpx.Request(method, url, params=params, headers=headers, content=content,
                         extensions={"timeout": httpx.Timeout(timeout).as_dict()})
