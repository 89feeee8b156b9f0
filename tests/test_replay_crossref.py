"""The replay server's Crossref /works routes, exercised with httpx over loopback.

Expected DOIs are computed here from the recorded JSON files, independently of the server.
"""

from __future__ import annotations

import json
import time
from datetime import date

import httpx
import pytest

from livingreview.replay import running_replay_server
from livingreview.replay.bodies import RECORDINGS_DIR

CROSSREF_DIR = RECORDINGS_DIR / "crossref"
MAILTO = "test@example.org"


def _recorded_items() -> dict[str, dict]:
    """DOI (lower case) -> item, for every dated work item in the recorded list and work answers."""
    items: dict[str, dict] = {}
    for path in sorted(CROSSREF_DIR.glob("*.json")):
        answer = json.loads(path.read_bytes())
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            continue
        found = answer["message"]["items"] if answer["message-type"] == "work-list" else [answer["message"]]
        for item in found:
            if "created" in item:
                items.setdefault(item["DOI"].lower(), item)
    return items


RECORDED = _recorded_items()


def _day(stamp: str) -> date:
    return date.fromisoformat(stamp[:10])


@pytest.fixture(scope="module")
def server():
    with running_replay_server("recordings") as running:
        yield running


@pytest.fixture()
def client(server):
    with httpx.Client(base_url=server.crossref_base_url, timeout=10) as http:
        yield http


def _harvest(client: httpx.Client, rows: int, **params: str) -> tuple[list[str], int, int]:
    """Deep-page one query the way the harvest must: returns (DOIs in order, total-results, requests)."""
    cursor, dois, requests = "*", [], 0
    while requests <= len(RECORDED):  # a page per work at most, or paging never ends
        response = client.get("/works", params={"rows": rows, "cursor": cursor, "mailto": MAILTO, **params})
        requests += 1
        assert response.status_code == 200, response.text
        message = response.json()["message"]
        dois += [item["DOI"].lower() for item in message["items"]]
        if len(message["items"]) < rows:
            return dois, message["total-results"], requests
        cursor = message["next-cursor"]
    pytest.fail(f"cursor paging did not end after {requests} pages")


def test_corpus_holds_every_dated_recorded_work(client):
    dois, total, _ = _harvest(client, rows=1000)
    assert total == len(RECORDED) == 149
    assert sorted(dois) == sorted(RECORDED)


@pytest.mark.parametrize("rows", [1, 7, 20, 149])
def test_cursor_paging_returns_every_matching_work_exactly_once(client, rows):
    window = "from-created-date:2015-01-01,until-created-date:2024-12-31"
    expected = {doi for doi, item in RECORDED.items()
                if date(2015, 1, 1) <= _day(item["created"]["date-time"]) <= date(2024, 12, 31)}
    dois, total, requests = _harvest(client, rows=rows, filter=window, **{"query.bibliographic": "peer support"})
    assert len(dois) == len(set(dois)) == total == len(expected)
    assert set(dois) == expected
    assert requests == len(expected) // rows + 1  # the last page is the first one short of rows


def test_pages_mode_gives_each_page_its_own_replayable_token():
    with running_replay_server("recordings", cursor_mode="pages") as server, \
            httpx.Client(base_url=server.crossref_base_url) as client:
        first = client.get("/works", params={"rows": 5, "cursor": "*"}).json()["message"]
        second = client.get("/works", params={"rows": 5, "cursor": first["next-cursor"]}).json()["message"]
        again = client.get("/works", params={"rows": 5, "cursor": first["next-cursor"]}).json()["message"]
        assert second["next-cursor"] != first["next-cursor"]
        assert [i["DOI"] for i in again["items"]] == [i["DOI"] for i in second["items"]]
        assert not {i["DOI"] for i in first["items"]} & {i["DOI"] for i in second["items"]}


def test_scroll_mode_returns_the_same_token_and_advances_as_crossref_does(client):
    first = client.get("/works", params={"rows": 5, "cursor": "*"}).json()["message"]
    second = client.get("/works", params={"rows": 5, "cursor": first["next-cursor"]}).json()["message"]
    third = client.get("/works", params={"rows": 5, "cursor": first["next-cursor"]}).json()["message"]
    assert first["next-cursor"] == second["next-cursor"] == third["next-cursor"]
    pages = [[i["DOI"] for i in page["items"]] for page in (first, second, third)]
    assert len({doi for page in pages for doi in page}) == 15


@pytest.mark.parametrize(
    ("filter_", "keep"),
    [
        ("type:journal-article", lambda i: i["type"] == "journal-article"),
        ("type:journal-article,type:posted-content", lambda i: i["type"] in ("journal-article", "posted-content")),
        ("from-created-date:2021-12-14", lambda i: _day(i["created"]["date-time"]) >= date(2021, 12, 14)),
        ("until-created-date:2010-06", lambda i: _day(i["created"]["date-time"]) <= date(2010, 6, 30)),
        ("from-index-date:2026-06-01,until-index-date:2026-06-15",
         lambda i: date(2026, 6, 1) <= _day(i["indexed"]["date-time"]) <= date(2026, 6, 15)),
        ("from-pub-date:2010-01-01,type:journal-article",
         lambda i: i["type"] == "journal-article" and (i["issued"]["date-parts"][0][0] or 0) >= 2010),
        ("has-abstract:true", lambda i: "abstract" in i),
    ],
)
def test_filters_select_the_matching_recorded_works(client, filter_, keep):
    expected = {doi for doi, item in RECORDED.items() if keep(item)}
    assert 0 < len(expected) < len(RECORDED)  # each case discriminates
    dois, total, _ = _harvest(client, rows=1000, filter=filter_)
    assert set(dois) == expected and total == len(expected)


def test_offset_paging_and_the_list_envelope(client):
    response = client.get("/works", params={"query": "widget", "rows": 3, "offset": 2})
    answer = response.json()
    assert list(answer) == ["status", "message-type", "message-version", "message"]
    assert (answer["status"], answer["message-type"], answer["message-version"]) == ("ok", "work-list", "1.0.0")
    assert list(answer["message"]) == ["facets", "total-results", "items", "items-per-page", "query"]
    assert answer["message"]["query"] == {"start-index": 2, "search-terms": "widget"}
    assert answer["message"]["items-per-page"] == 3 and len(answer["message"]["items"]) == 3
    # Written as Crossref writes JSON: "/" escaped, ASCII only.
    assert b"\\/" in response.content and max(response.content) < 128


def test_select_keeps_only_the_named_fields(client):
    message = client.get("/works", params={"select": "DOI,title,created", "rows": 50}).json()["message"]
    assert all(set(item) <= {"DOI", "title", "created"} and "DOI" in item for item in message["items"])


@pytest.mark.parametrize(
    ("params", "kind"),
    [({"rows": "1001"}, "integer-not-valid"), ({"filter": "has-orcid:true"}, "filter-not-available"),
     ({"filter": "from-created-date:2024-13-01"}, "date-not-valid"), ({"select": "DOI,language"}, "select-not-valid"),
     ({"sample": "10"}, "parameter-not-allowed"), ({"cursor": "*", "offset": "20"}, "parameter-not-allowed")],
)
def test_invalid_requests_get_a_400_validation_failure(client, params, kind):
    response = client.get("/works", params=params)
    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == "failed" and answer["message-type"] == "validation-failure"
    assert answer["message"][0]["type"] == kind


def test_unknown_and_expired_cursors_get_the_recorded_404(server, client):
    unknown = client.get("/works", params={"cursor": "thing"})
    assert unknown.status_code == 404
    assert unknown.content == (CROSSREF_DIR / "error_works_invalid_cursor.json").read_bytes()
    token = client.get("/works", params={"rows": 2, "cursor": "*"}).json()["message"]["next-cursor"]
    assert server.expire_cursors() >= 1
    expired = client.get("/works", params={"rows": 2, "cursor": token})
    assert expired.status_code == 404
    assert expired.json()["message"][0]["type"] == "cursor-invalid"


def test_a_cursor_idle_longer_than_its_ttl_expires():
    with running_replay_server("recordings", cursor_ttl=1.0) as server, \
            httpx.Client(base_url=server.crossref_base_url) as client:
        token = client.get("/works", params={"rows": 2, "cursor": "*"}).json()["message"]["next-cursor"]
        assert client.get("/works", params={"rows": 2, "cursor": token}).status_code == 200
        time.sleep(1.3)
        assert client.get("/works", params={"rows": 2, "cursor": token}).status_code == 404


def test_a_numeric_cursor_gets_the_recorded_500(client):
    response = client.get("/works", params={"cursor": "5"})
    assert response.status_code == 500
    assert response.content == (CROSSREF_DIR / "error_works_500_bad_cursor_exception.json").read_bytes()


def test_a_single_work_is_the_recorded_answer_byte_for_byte(client):
    response = client.get("/works/10.1371/journal.pone.0033693")
    assert response.status_code == 200
    assert response.content == (CROSSREF_DIR / "work_10.1371_journal.pone.0033693.json").read_bytes()


def test_a_work_known_only_from_a_list_comes_in_the_work_envelope(client):
    doi = next(d for d, item in RECORDED.items() if item["type"] == "posted-content")
    answer = client.get(f"/works/{doi}").json()
    assert answer["message-type"] == "work"
    assert answer["message"] == RECORDED[doi]


def test_an_unknown_doi_gets_the_recorded_plain_text_404(client):
    response = client.get("/works/10.1371/notarealdoi")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/plain"
    assert response.content == b"Resource not found."


def test_field_queries_on_a_single_work_are_refused_as_recorded(client):
    response = client.get("/works/10.1371/journal.pone.0033693", params={"query.author": "carl boettiger"})
    assert response.status_code == 400
    assert response.content == (CROSSREF_DIR / "error_work_400_query_param_not_allowed.json").read_bytes()


def test_rate_limit_headers_tell_the_polite_pool_from_the_public_one(client):
    polite = client.get("/works", params={"rows": 0, "mailto": MAILTO}).headers
    public = client.get("/works", params={"rows": 0}).headers
    via_agent = client.get("/works", params={"rows": 0}, headers={"User-Agent": f"livingreview (mailto:{MAILTO})"}).headers
    single = client.get("/works/10.1371/journal.pone.0033693", params={"mailto": MAILTO}).headers
    assert (polite["x-rate-limit-limit"], polite["x-rate-limit-interval"], polite["x-api-pool"]) == ("3", "1s", "polite")
    assert (public["x-rate-limit-limit"], public["x-concurrency-limit"], public["x-api-pool"]) == ("1", "1", "public")
    assert via_agent["x-api-pool"] == "polite"
    assert single["x-rate-limit-limit"] == "10"
