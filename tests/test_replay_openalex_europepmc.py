"""The replay server's OpenAlex and Europe PMC routes, over loopback, answered from the recordings.

Expected counts are computed from the recorded files themselves (an oracle independent of the
server), and stated as numbers too so that a changed recording is noticed.
"""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest

from livingreview.replay import Fault, build_scenario, running_replay_server
from livingreview.replay.bodies import RECORDINGS_DIR

OPENALEX_FILE = RECORDINGS_DIR / "openalex" / "works_search_page1_per_page200.json"
EPMC_CORE_FILE = RECORDINGS_DIR / "europepmc" / "search_cancer_core.json"
OPENALEX_WORKS = json.loads(OPENALEX_FILE.read_text())["results"]
EPMC_CORE = json.loads(EPMC_CORE_FILE.read_text())["resultList"]["result"]
SEARCH = "machine learning AND public health"


@pytest.fixture(scope="module")
def server():
    with running_replay_server("recordings") as running:
        yield running


@pytest.fixture()
def client(server):
    server.clear_faults()
    server.clear_requests()
    with httpx.Client(timeout=10) as http:
        yield http


def _follow_openalex(client, base, params):
    cursor, seen, pages = "*", [], 0
    while cursor:
        answer = client.get(f"{base}/works", params={**params, "cursor": cursor}).json()
        seen += [w["id"] for w in answer["results"]]
        cursor, pages = answer["meta"]["next_cursor"], pages + 1
    return seen, pages


def test_openalex_cursor_paging_returns_every_work_of_the_created_window_once(server, client):
    expected = [w["id"] for w in OPENALEX_WORKS if w["created_date"] >= "2020-01-01"]
    assert len(expected) == 40
    seen, pages = _follow_openalex(client, server.openalex_base_url,
                                   {"search": SEARCH, "filter": "from_created_date:2020-01-01",
                                    "per-page": "7"})
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert pages == 6  # 40 works at 7 a page


def test_openalex_answers_carry_the_cost_headers_and_a_budget_can_be_enforced(client):
    with running_replay_server("recordings", openalex_budget=True) as alex:
        base = alex.openalex_base_url
        first = client.get(f"{base}/works", params={"search": SEARCH, "api_key": "k"})
        assert first.status_code == 200
        assert (first.headers["x-ratelimit-cost-usd"], first.headers["x-ratelimit-limit-usd"],
                first.headers["x-ratelimit-remaining-usd"]) == ("0.001", "1", "0.9990")
        single = client.get(f"{base}/works/W2068311567", params={"api_key": "k"})
        assert single.headers["x-ratelimit-cost-usd"] == "0"
        # Without a key the day's budget is $0.01: ten searches, then 429.
        statuses = [client.get(f"{base}/works", params={"search": SEARCH}).status_code for _ in range(11)]
        assert statuses == [200] * 10 + [429]
        assert alex.requests[-1].fault == "budget_exhausted"
        assert alex.requests[0].params["api_key"] == "**********"


def test_openalex_single_work_by_doi_in_every_documented_form(server, client):
    base = server.openalex_base_url
    for form in ("doi:10.4081/gh.2014.294", "https://doi.org/10.4081/gh.2014.294", "W2068311567",
                 "https://openalex.org/W2068311567"):
        answer = client.get(f"{base}/works/{form}")
        assert answer.status_code == 200, form
        assert answer.json()["id"] == "https://openalex.org/W2068311567"
    missing = client.get(f"{base}/works/doi:10.9999/not-recorded")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not found", "message": "Work doi:10.9999/not-recorded not found"}


def test_an_openalex_lookup_by_doi_evaluates_the_search(server, client):
    base = server.openalex_base_url
    dois = "|".join(w["doi"] for w in OPENALEX_WORKS[:5] if w["doi"])
    every = client.get(f"{base}/works", params={"filter": f"doi:{dois}"}).json()
    assert every["meta"]["count"] == 5
    title = OPENALEX_WORKS[0]["title"].split()[0].lower()  # "redefining"
    hit = client.get(f"{base}/works", params={"filter": f"doi:{dois}", "search": f'"{title}"'}).json()
    assert [w["id"] for w in hit["results"]] == [OPENALEX_WORKS[0]["id"]]
    none = client.get(f"{base}/works", params={"filter": f"doi:{dois}", "search": "kelp AND zebrafish"}).json()
    assert none["meta"]["count"] == 0


def test_openalex_refuses_unknown_filters_and_parameters_naming_them(server, client):
    base = server.openalex_base_url
    answer = client.get(f"{base}/works", params={"filter": "authorships.author.id:A1"})
    assert answer.status_code == 400 and "authorships.author.id is not a valid field" in answer.json()["message"]
    answer = client.get(f"{base}/works", params={"search": "(unbalanced"})
    assert answer.status_code == 400 and "unbalanced parentheses" in answer.json()["message"]
    answer = client.get(f"{base}/works", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert answer.status_code == 400 and "start again with cursor=*" in answer.json()["message"]


def _follow_epmc(client, base, params):
    mark, seen = "*", []
    while True:
        answer = client.get(f"{base}/search", params={**params, "cursorMark": mark}).json()
        seen += [f"{r['source']}:{r['id']}" for r in answer["resultList"]["result"]]
        if answer.get("nextCursorMark", mark) == mark:
            return seen, answer
        mark = answer["nextCursorMark"]


def test_europepmc_cursor_mark_paging_over_an_index_date_window(server, client):
    low, high = "2024-12-01", "2025-12-31"
    expected = {f"{r['source']}:{r['id']}" for r in EPMC_CORE if low <= r["firstIndexDate"] <= high}
    assert len(expected) == 23
    seen, last = _follow_epmc(client, server.europepmc_base_url, {
        "query": f"(peer support) AND FIRST_IDATE:[{low} TO {high}]", "format": "json",
        "resultType": "core", "pageSize": "4"})
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert last["hitCount"] == 23 and last["resultList"]["result"] == []


def test_europepmc_core_carries_the_abstract_and_lite_the_recorded_lite_copy(server, client):
    base, doi = server.europepmc_base_url, EPMC_CORE[1]["doi"]
    core = client.get(f"{base}/search", params={"query": f'DOI:"{doi}"', "format": "json",
                                                "resultType": "core"}).json()
    assert core["hitCount"] == 1 and core["resultList"]["result"][0] == EPMC_CORE[1]
    lite = client.get(f"{base}/search", params={"query": f'DOI:"{doi}"', "format": "json"}).json()
    recorded_lite = json.loads((RECORDINGS_DIR / "europepmc" / "search_cancer.json").read_text())
    assert lite["resultList"]["result"][0] == recorded_lite["resultList"]["result"][1]


def test_a_europepmc_lookup_is_evaluated_in_full(server, client):
    base, record = server.europepmc_base_url, EPMC_CORE[1]
    word = record["title"].split()[0]
    query = f'DOI:"{record["doi"]}" AND TITLE:"{word}"'
    assert client.get(f"{base}/search", params={"query": query, "format": "json"}).json()["hitCount"] == 1
    query = f'DOI:"{record["doi"]}" AND TITLE:zebrafish'
    assert client.get(f"{base}/search", params={"query": query, "format": "json"}).json()["hitCount"] == 0
    query = f'(DOI:"{record["doi"]}" OR DOI:"{EPMC_CORE[2]["doi"]}") NOT TITLE:zebrafish'
    assert client.get(f"{base}/search", params={"query": query, "format": "json"}).json()["hitCount"] == 2


def test_europepmc_refuses_what_it_cannot_answer_in_its_own_shape(server, client):
    base = server.europepmc_base_url
    answer = client.get(f"{base}/search", params={"query": "FOO:bar", "format": "json"})
    assert answer.status_code == 400 and "field(s) ['FOO']" in answer.json()["errMsg"]
    answer = client.get(f"{base}/search", params={"query": "cancer", "format": "json", "pageSize": "1001"})
    assert answer.status_code == 400 and "pageSize" in answer.json()["errMsg"]
    answer = client.get(f"{base}/search", params={"query": "cancer", "format": "json", "cursorMark": "AoIIxyz="})
    assert answer.status_code == 400 and "cursorMark=*" in answer.json()["errMsg"]


@pytest.mark.parametrize("path_of", ["openalex", "europepmc"])
@pytest.mark.parametrize("kind,status", [("rate_limited", 429), ("server_error", 500), ("gateway_timeout", 504)])
def test_the_same_faults_apply_to_openalex_and_europepmc(server, client, path_of, kind, status):
    if path_of == "openalex":
        url, path, params = f"{server.openalex_base_url}/works", "/openalex/works", {"search": SEARCH}
    else:
        url = f"{server.europepmc_base_url}/search"
        path, params = "/europepmc/webservices/rest/search", {"query": "cancer", "format": "json"}
    server.add_faults(Fault(kind, path=path, times=1, retry_after=0))
    assert client.get(url, params=params).status_code == status
    assert client.get(url, params=params).status_code == 200
    server.add_faults(Fault("truncated_body", path=path))
    with pytest.raises(json.JSONDecodeError):
        json.loads(client.get(url, params=params).content)
    server.add_faults(Fault("dropped_connection", path=path))
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(url, params=params)
    assert [r.fault for r in server.requests] == [kind, None, "truncated_body", "dropped_connection"]


def test_europepmc_limits_are_ten_a_second_and_counted_even_when_not_enforced(client):
    with running_replay_server("recordings", enforce_rate_limits=True) as strict:
        url = f"{strict.europepmc_base_url}/search"
        statuses = [client.get(url, params={"query": "cancer", "format": "json"}).status_code
                    for _ in range(11)]
        assert statuses == [200] * 10 + [429]
        assert strict.rate_limit_violations() == {"europepmc": 1}


def test_a_built_scenario_answers_only_from_its_own_recordings(tmp_path):
    directory = build_scenario(tmp_path / "s", ["europepmc/search_cancer_page2.json"])
    with running_replay_server(directory) as only, httpx.Client() as http:
        summary = only.state.scenario.summary()
        assert (summary["openalex_works"], summary["europepmc_results"]) == (0, 5)
        answer = http.get(f"{only.europepmc_base_url}/search",
                          params={"query": "FIRST_IDATE:[2000-01-01 TO 2030-01-01]", "format": "json"}).json()
        assert answer["hitCount"] == 5
        assert http.get(f"{only.openalex_base_url}/works").json()["meta"]["count"] == 0
        assert only.state.scenario.europepmc_indexed().last <= date(2025, 12, 31)
