"""SourceClient: retries only what is transient, honours Retry-After, archives, redacts.

HTTP is served by ``httpx.MockTransport`` handlers that answer with recorded bodies; waits go
through an injected ``sleep`` that records them, so retry paths run in milliseconds.
"""

from __future__ import annotations

import logging
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from livingreview.errors import PermanentSourceError, TransientSourceError
from livingreview.sources import pubmed
from livingreview.sources.client import (
    REDACTED,
    RetryPolicy,
    SourceClient,
    Throttle,
    make_request,
    parse_retry_after,
    shared_throttle,
)

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "ncbi-secret-key-0123456789"
FAST = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=1.0, jitter=0.0, max_retry_after=30.0)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def scripted(*responses):
    """A MockTransport answering with ``responses`` in turn (callables get the request)."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = responses[min(len(calls), len(responses)) - 1]
        return answer(request) if callable(answer) else answer

    return httpx.MockTransport(handler), calls


def client_for(transport, sleeps=None, policy=FAST, secrets=()):
    http = httpx.Client(transport=transport)
    return SourceClient(http=http, source="test", retry=policy, secrets=secrets,
                        sleep=sleeps if sleeps is not None else Sleeps(),
                        throttle=Throttle(10_000))


def get(url="https://api.example.org/works?query=peer"):
    return make_request("GET", url, contact_email="maint@example.org", timeout=5)


def test_429_with_retry_after_is_retried_after_the_asked_wait():
    transport, calls = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}, text='{"error":"API rate limit exceeded"}'),
        httpx.Response(200, json={"status": "ok"}),
    )
    sleeps, archived = Sleeps(), []
    raw = client_for(transport, sleeps).send(get(), archived.append)
    assert raw.status == 200 and len(calls) == 2
    assert sleeps == [7.0]  # Retry-After (7 s) beat the 0.01 s backoff
    assert [r.status for r in archived] == [429, 200]  # the refusal is archived too


def test_retry_after_as_http_date():
    when = datetime.now(timezone.utc) + timedelta(seconds=90)
    assert 85 <= parse_retry_after(format_datetime(when, usegmt=True)) <= 90
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("soon") is None


def test_retry_after_beyond_the_limit_stops_at_once():
    transport, calls = scripted(httpx.Response(503, headers={"Retry-After": "3600"}, text="busy"))
    with pytest.raises(TransientSourceError) as caught:
        client_for(transport).send(get(), lambda raw: None)
    assert len(calls) == 1
    assert caught.value.retry_after == 3600.0
    assert "gave up after 1 attempt" in str(caught.value)


def test_400_is_not_retried_and_carries_request_and_response():
    body = (FIXTURES / "crossref" / "error_works_400_sample_too_large.json").read_text()
    transport, calls = scripted(httpx.Response(400, text=body,
                                               headers={"content-type": "application/json"}))
    with pytest.raises(PermanentSourceError) as caught:
        client_for(transport).send(get("https://api.example.org/works?sample=200"), lambda r: None)
    error = caught.value
    assert len(calls) == 1
    assert error.response.status_code == 400
    assert str(error.request.url) == "https://api.example.org/works?sample=200"
    assert "HTTP 400 (application/json)" in str(error)
    assert "less than or equal to 100" in str(error)
    assert "retrying will not help" in str(error)


def test_404_plain_text_is_permanent_with_the_body_in_the_message():
    body = (FIXTURES / "crossref" / "error_work_404_notarealdoi.txt").read_text()
    transport, calls = scripted(httpx.Response(404, text=body, headers={"content-type": "text/plain"}))
    with pytest.raises(PermanentSourceError, match=r"HTTP 404 \(text/plain\): Resource not found\."):
        client_for(transport).send(get("https://api.example.org/works/10.1371/notarealdoi"),
                                   lambda r: None)
    assert len(calls) == 1


def test_504_html_is_transient_and_gives_up_with_a_clear_message():
    body = (FIXTURES / "crossref" / "error_504_gateway_timeout.html").read_text()
    transport, calls = scripted(httpx.Response(504, text=body, headers={"content-type": "text/html"}))
    sleeps = Sleeps()
    with pytest.raises(TransientSourceError) as caught:
        client_for(transport, sleeps).send(get(), lambda r: None)
    message = str(caught.value)
    assert len(calls) == 3
    assert "HTTP 504 (text/html): HTML page '504 Gateway Time-out'" in message
    assert "gave up after 3 attempts" in message
    assert "re-run later" in message
    assert "<html>" not in message
    assert sleeps == pytest.approx([0.01, 0.02])  # exponential backoff
    assert caught.value.response.status_code == 504


def test_backoff_has_jitter_within_bounds():
    transport, _ = scripted(httpx.Response(500, text="oops"))
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=4, initial_wait=0.01, max_wait=1.0, jitter=0.5)
    with pytest.raises(TransientSourceError):
        client_for(transport, sleeps, policy).send(get(), lambda r: None)
    for wait, base in zip(sleeps, [0.01, 0.02, 0.04]):
        assert base <= wait <= base + 0.5


def test_timeouts_and_dropped_connections_are_retried():
    def timeout(request):
        raise httpx.ReadTimeout("read timed out", request=request)

    def refused(request):
        raise httpx.ConnectError("connection refused", request=request)

    transport, calls = scripted(timeout, refused, httpx.Response(200, text="ok"))
    raw = client_for(transport).send(get(), lambda r: None)
    assert raw.body == "ok" and len(calls) == 3


def test_connection_failure_gives_up_as_transient():
    def refused(request):
        raise httpx.ConnectError("connection refused", request=request)

    transport, calls = scripted(refused)
    with pytest.raises(TransientSourceError, match="failed to connect.*gave up after 3 attempts"):
        client_for(transport).send(get(), lambda r: None)
    assert len(calls) == 3


def test_error_inside_a_200_body_is_permanent():
    body = (FIXTURES / "pubmed" / "epost_error_invalid_db.xml").read_text()
    transport, calls = scripted(httpx.Response(200, text=body, headers={"content-type": "text/xml"}))
    archived = []
    with pytest.raises(PermanentSourceError) as caught:
        client_for(transport).send(get("https://eutils.example.org/esearch.fcgi"), archived.append,
                                   check=pubmed.check_body)
    assert len(calls) == 1
    assert "Invalid db name specified: nothing" in str(caught.value)
    assert caught.value.request is not None and caught.value.response.status_code == 200
    assert len(archived) == 1  # archived before it was judged


def test_rate_limit_json_in_a_200_body_is_retried():
    transport, calls = scripted(
        httpx.Response(200, json={"error": "API rate limit exceeded", "count": "11"}),
        httpx.Response(200, text="<eSearchResult><Count>0</Count></eSearchResult>"),
    )
    raw = client_for(transport).send(get(), lambda r: None, check=pubmed.check_body)
    assert len(calls) == 2 and "<Count>0</Count>" in raw.body


def test_api_key_is_sent_but_never_archived_logged_or_shown(caplog):
    transport, calls = scripted(
        httpx.Response(502, text="bad gateway"),
        httpx.Response(400, text="Invalid api_key " + KEY),
    )
    request = make_request("POST", "https://eutils.example.org/esearch.fcgi",
                           data=[("db", "pubmed"), ("term", "peer"), ("api_key", KEY)],
                           contact_email="maint@example.org", timeout=5)
    archived = []
    with caplog.at_level(logging.DEBUG, logger="livingreview"):
        with pytest.raises(PermanentSourceError) as caught:
            client_for(transport, secrets=(KEY,)).send(request, archived.append)
    assert KEY in calls[0].content.decode()  # the server did get the key
    for raw in archived:
        assert raw.params["api_key"] == REDACTED
        assert KEY not in raw.url and KEY not in str(raw.params)
    assert KEY not in str(caught.value)
    assert KEY not in caught.value.request.content.decode()
    assert KEY not in str(caught.value.request.url)
    assert KEY not in caplog.text
    assert "retrying" in caplog.text


def test_api_key_in_a_query_string_is_redacted():
    transport, _ = scripted(httpx.Response(200, text="<x/>"))
    raw = client_for(transport).send(
        get(f"https://eutils.example.org/efetch.fcgi?db=pubmed&api_key={KEY}&retmax=2"), lambda r: None)
    assert raw.url == "https://eutils.example.org/efetch.fcgi?db=pubmed&api_key=REDACTED&retmax=2"
    assert raw.params == {"db": "pubmed", "api_key": REDACTED, "retmax": "2"}


def test_raw_response_records_the_exchange():
    transport, _ = scripted(httpx.Response(200, text="body text", headers={
        "content-type": "application/json", "set-cookie": "session=abc", "x-rate-limit-limit": "50"}))
    raw = client_for(transport).send(get(), lambda r: None)
    assert (raw.source, raw.method, raw.status, raw.body) == ("test", "GET", 200, "body text")
    assert raw.params == {"query": "peer"}
    assert raw.headers["content-type"] == "application/json"
    assert "set-cookie" not in raw.headers
    assert datetime.fromisoformat(raw.received_at).tzinfo is not None


def test_throttle_spaces_request_starts():
    throttle = Throttle(5.0)
    sleeps = Sleeps()
    for _ in range(3):
        throttle.wait(sleeps)
    # Nothing slept for real, so the clock stood still: waits accumulate by 1/rate.
    assert sleeps == pytest.approx([0.2, 0.4], abs=0.01)


def test_throttle_really_waits():
    transport, calls = scripted(httpx.Response(200, text="ok"))
    client = SourceClient(http=httpx.Client(transport=transport), source="test-real-wait",
                          throttle=Throttle(20.0), retry=FAST)
    began = time.monotonic()
    for _ in range(5):
        client.send(get(), lambda r: None)
    assert time.monotonic() - began >= 0.19  # 4 gaps of 1/20 s


def test_rate_limit_headers_lower_the_rate_but_never_raise_it():
    transport, _ = scripted(httpx.Response(200, text="{}", headers={
        "x-rate-limit-limit": "2", "x-rate-limit-interval": "1s"}))
    client = client_for(transport)
    client.throttle = Throttle(3.0)
    client.send(get(), lambda r: None)
    assert client.throttle.rate == 2.0
    client.throttle.lower_to(50.0)
    assert client.throttle.rate == 2.0


def test_throttles_are_shared_per_source():
    assert shared_throttle("test-shared", 3.0) is shared_throttle("test-shared", 3.0)
    assert shared_throttle("test-shared", 10.0).rate == 10.0  # adding an API key takes effect
    assert shared_throttle("test-other", 3.0) is not shared_throttle("test-shared", 10.0)


def test_requests_carry_a_timeout_and_user_agent():
    request = get()
    assert request.extensions["timeout"]["read"] == 5
    assert request.headers["user-agent"] == "livingreview/0.1 (mailto:maint@example.org)"
