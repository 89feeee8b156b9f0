"""Fault injection, request counting, enforced limits and the server's life cycle, over loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import pytest
from lxml import etree

from livingreview.errors import ConfigError
from livingreview.replay import Fault, ReplayServer, running_replay_server
from livingreview.replay.bodies import RECORDINGS_DIR
from livingreview.replay.limits import RateLimiter, crossref_limit, entrez_limit

ESEARCH = "/entrez/eutils/esearch.fcgi"
EFETCH = "/entrez/eutils/efetch.fcgi"
SEARCH = {"db": "pubmed", "term": "peer support", "usehistory": "y", "retmode": "xml"}


@pytest.fixture(scope="module")
def server():
    with running_replay_server("recordings") as running:
        yield running


@pytest.fixture()
def client(server):
    server.clear_faults()
    server.clear_requests()
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        yield http


def test_rate_limited_n_times_then_answered_and_every_attempt_counted(server, client):
    server.add_faults(Fault("rate_limited", path="/works", times=2, retry_after=0))
    statuses = []
    for _ in range(3):
        response = client.get("/works", params={"rows": 1, "mailto": "a@b.org"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["retry-after"] == "0"
            assert response.headers["content-type"] == "text/html"
            assert b"429 Too Many Requests" in response.content
    assert statuses == [429, 429, 200]
    assert server.request_counts() == {"/works": 3}
    assert [r.fault for r in server.requests] == ["rate_limited", "rate_limited", None]


def test_entrez_rate_limit_answer_is_ncbis_json(server, client):
    server.add_faults(Fault("rate_limited", path=ESEARCH, retry_after=1))
    response = client.post(ESEARCH, data=SEARCH)
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert response.json()["error"] == "API rate limit exceeded"
    assert client.post(ESEARCH, data=SEARCH).status_code == 200


def test_server_errors_carry_the_recorded_bodies(server, client):
    server.add_faults(Fault("server_error", path="/works"), Fault("gateway_timeout", path="/works"))
    first, second, third = (client.get("/works", params={"rows": 1}) for _ in range(3))
    assert first.status_code == 500
    assert first.content == (RECORDINGS_DIR / "crossref/error_works_500_bad_cursor_exception.json").read_bytes()
    assert second.status_code == 504 and second.headers["content-type"] == "text/html"
    assert second.content == (RECORDINGS_DIR / "crossref/error_504_gateway_timeout.html").read_bytes()
    assert third.status_code == 200


def test_error_in_body_is_a_200_with_an_error_element_and_only_hits_eutils(server, client):
    server.add_faults(Fault("error_in_body", path="*", message="Search Backend failed: timeout"))
    assert client.get("/works", params={"rows": 1}).status_code == 200  # not applicable to Crossref
    response = client.post(ESEARCH, data=SEARCH)
    assert response.status_code == 200
    root = etree.fromstring(response.content, etree.XMLParser(load_dtd=False, no_network=True))
    assert root.tag == "eSearchResult" and root.findtext("ERROR") == "Search Backend failed: timeout"
    assert root.find("Count") is None
    assert client.post(ESEARCH, data=SEARCH).content.count(b"<Count>") == 1


def test_a_fault_can_target_a_later_request_with_given_parameters(server, client):
    webenv_answer = etree.fromstring(client.post(ESEARCH, data={**SEARCH, "retmax": "0"}).content,
                                     etree.XMLParser(load_dtd=False, no_network=True))
    fetch = {"db": "pubmed", "WebEnv": webenv_answer.findtext("WebEnv"), "query_key": "1", "retmode": "xml",
             "retmax": "5"}
    server.add_faults(Fault("error_in_body", path=EFETCH, params={"retstart": "5"}, after=1, times=1))
    bodies = [client.get(EFETCH, params={**fetch, "retstart": start}).content for start in (0, 5, 5, 5, 10)]
    assert [b"<ERROR>" in body for body in bodies] == [False, False, True, False, False]


def test_delay_makes_a_client_time_out(server, client):
    server.add_faults(Fault("delay", path="/works", seconds=1.0))
    with pytest.raises(httpx.ReadTimeout):
        client.get("/works", params={"rows": 1}, timeout=0.3)
    started = time.monotonic()
    assert client.get("/works", params={"rows": 1}).status_code == 200
    assert time.monotonic() - started < 1.0  # the one delay is used up


def test_truncated_body_is_well_framed_but_unparseable(server, client):
    whole = client.get("/works", params={"rows": 5}).content
    server.add_faults(Fault("truncated_body", path="/works"))
    cut = client.get("/works", params={"rows": 5})
    assert cut.status_code == 200 and int(cut.headers["content-length"]) == len(cut.content) == len(whole) // 2
    with pytest.raises(json.JSONDecodeError):
        cut.json()


def test_dropped_connection_is_a_protocol_error_for_the_client(server, client):
    server.add_faults(Fault("dropped_connection", path=EFETCH))
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(EFETCH, params={"db": "pubmed", "id": "219391", "retmode": "xml"})
    assert client.get(EFETCH, params={"db": "pubmed", "id": "219391", "retmode": "xml"}).status_code == 200


def test_the_control_api_sets_faults_and_reports_requests_over_http(server, client):
    response = client.post("/_control/faults", json={"faults": [{"kind": "server_error", "path": "/works*", "times": 1}]})
    assert response.status_code == 200 and response.json()["faults"][0]["kind"] == "server_error"
    assert client.get("/works/10.1371/journal.pone.0033693").status_code == 500
    assert client.get("/works/10.1371/journal.pone.0033693").status_code == 200
    report = client.get("/_control/requests").json()
    assert report["counts"] == {"/works/10.1371/journal.pone.0033693": 2}
    assert [r["status"] for r in report["requests"]] == [500, 200]
    assert client.get("/_control/faults").json()["faults"][0]["fired"] == 1
    bad = client.post("/_control/faults", json={"kind": "meltdown"})
    assert bad.status_code == 400 and "rate_limited" in bad.json()["error"]
    assert client.delete("/_control/faults").json() == {"faults": []}


def test_faults_given_at_start_apply_from_the_first_request():
    with running_replay_server("recordings", faults=[{"kind": "gateway_timeout", "path": "/works", "times": 1}]) as server:
        assert httpx.get(server.base_url + "/works").status_code == 504
        assert httpx.get(server.base_url + "/works").status_code == 200


def test_an_unknown_fault_kind_is_refused_with_the_valid_kinds():
    with pytest.raises(ConfigError, match="gateway_timeout"):
        Fault("timeout")


def test_the_limiter_counts_arrivals_over_a_sliding_second_and_requests_in_flight():
    now = [0.0]
    limiter = RateLimiter(enforce=True, clock=lambda: now[0])
    entrez = entrez_limit(has_api_key=False)
    admitted = []
    for moment in (0.0, 0.1, 0.2, 0.3):
        now[0] = moment
        admitted.append(limiter.admit(entrez))
        limiter.release(entrez)
    assert admitted == [None, None, None, 4]  # the fourth within one second is refused
    now[0] = 1.15  # the arrivals at 0.0 and 0.1 have left the window
    assert limiter.admit(entrez) is None
    single = crossref_limit(polite=False, single_work=True)  # 5 a second, 1 at a time
    assert limiter.admit(single) is None
    assert limiter.admit(single) == 2  # the first is still being answered
    limiter.release(single)
    assert limiter.admit(single) is None


def test_enforced_limits_refuse_entrez_requests_over_three_a_second_without_a_key():
    import concurrent.futures

    with running_replay_server("recordings", enforce_rate_limits=True) as server, \
            httpx.Client(base_url=server.pubmed_base_url) as client:
        def search(params: dict) -> int:
            return client.get("/esearch.fcgi", params={"db": "pubmed", "term": "x", **params}).status_code

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            anonymous = list(pool.map(search, [{}] * 8))
        assert 429 in anonymous and 200 in anonymous
        arrivals = [r.arrived for r in server.requests]
        for refused in (r for r in server.requests if r.status == 429):
            assert refused.fault == "rate_limit_enforced"
            assert sum(refused.arrived - 1.0 < t <= refused.arrived for t in arrivals) > 3
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            keyed = list(pool.map(search, [{"api_key": "k"}] * 8))
        assert keyed == [200] * 8  # 10 a second with a key


def test_enforced_limits_refuse_a_second_concurrent_public_single_work_request():
    import concurrent.futures

    # Public pool, single works: 5 a second but 1 at a time, so two at once breaks only concurrency.
    url = "/works/10.1371/journal.pone.0033693"
    with running_replay_server("recordings", enforce_rate_limits=True, latency=0.5) as server:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            statuses = sorted(pool.map(lambda _: httpx.get(server.base_url + url).status_code, range(2)))
        assert statuses == [200, 429]
        assert httpx.get(server.base_url + url).status_code == 200  # one at a time is fine


def test_paced_requests_are_visible_in_the_arrival_times(server, client):
    for _ in range(3):
        client.get("/works", params={"rows": 0})
        time.sleep(0.2)
    arrivals = [r.arrived for r in server.requests]
    assert all(later - earlier >= 0.19 for earlier, later in zip(arrivals, arrivals[1:]))


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_server_binds_a_free_loopback_port_and_shuts_down_cleanly():
    server = ReplayServer("recordings")
    with server:
        port = int(server.base_url.rsplit(":", 1)[1])
        assert server.base_url.startswith("http://127.0.0.1:") and port > 0
        assert server.pubmed_base_url == server.base_url + "/entrez/eutils"
        assert server.crossref_base_url == server.base_url
        assert server.running and _port_open(port)
        # A keep-alive connection left open must not hold the shutdown up.
        idle = httpx.Client(base_url=server.base_url)
        assert idle.get("/_control/health").status_code == 200
        started = time.monotonic()
    assert time.monotonic() - started < 3
    assert not server.running and not _port_open(port)
    idle.close()


def test_two_servers_run_side_by_side_with_separate_state():
    with running_replay_server("recordings") as one, running_replay_server("recordings") as two:
        assert one.base_url != two.base_url
        httpx.get(one.base_url + "/works")
        assert one.request_counts() == {"/works": 1} and two.request_counts() == {}


def test_the_module_entry_point_prints_its_base_url_and_stops_on_sigterm(tmp_path):
    ready = tmp_path / "url"
    process = subprocess.Popen(
        [sys.executable, "-m", "livingreview.replay", "--port", "0", "--scenario", "recordings", "--ready-file", str(ready)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert httpx.get(base_url + "/_control/scenario").json()["pubmed_articles"] == 22
        assert ready.read_text().strip() == base_url
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
    assert "22 PubMed articles" in process.stderr.read()
