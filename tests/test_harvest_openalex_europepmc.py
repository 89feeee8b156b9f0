"""OpenAlex and Europe PMC harvests against the replay server, over loopback: windows, cursor
paging, abstracts, the API key as a secret, OpenAlex's cost and budget, Europe PMC's limits.

Expected records are computed from the recorded files (the oracle), not from the code under test.
"""

from __future__ import annotations

import json
import math
from datetime import date

import httpx
import pytest

from livingreview.config import Settings
from livingreview.replay import running_replay_server
from livingreview.replay.bodies import RECORDINGS_DIR
from livingreview.sources import europepmc, openalex
from livingreview.sources.client import RetryPolicy, SourceClient

OPENALEX_WORKS = json.loads((RECORDINGS_DIR / "openalex" / "works_search_page1_per_page200.json")
                            .read_text())["results"]
EPMC_CORE = json.loads((RECORDINGS_DIR / "europepmc" / "search_cancer_core.json").read_text())["resultList"]["result"]
KEY = "oa-secret-key-1234567890"
FAST = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0)


@pytest.fixture(scope="module")
def server():
    with running_replay_server("recordings", enforce_rate_limits=True) as running:
        yield running


@pytest.fixture()
def settings(server, tmp_path, monkeypatch):
    server.clear_requests()
    server.clear_faults()
    monkeypatch.setenv("LR_OPENALEX_API_KEY", KEY)
    return Settings.from_env(home=tmp_path, **server.base_urls())


def _client(source: str, settings: Settings, rate: float) -> SourceClient:
    return SourceClient(http=httpx.Client(timeout=10), source=source, rate=rate, retry=FAST,
                        secrets=tuple(settings.secrets()))


def _expected_openalex(first: str, last: str) -> list[str]:
    return sorted(w["id"].rsplit("/", 1)[-1] for w in OPENALEX_WORKS if first <= w["created_date"] <= last)


def test_openalex_harvests_the_created_window_page_by_page_with_abstracts(server, settings):
    archived = []
    expected = _expected_openalex("2020-01-01", "2024-12-31")
    result = openalex.harvest(_client("openalex", settings, 10), settings, "peer support", date(2020, 1, 1),
                              date(2024, 12, 31), archived.append, per_page=7)
    assert sorted(r.source_id for r in result.records) == expected and len(expected) == 40
    pages = math.ceil(len(expected) / 7)
    assert result.summary["pages"] == pages == len(archived) == server.request_counts()["/openalex/works"]
    sent = [r.params for r in server.requests]
    assert {p["filter"] for p in sent} == {"from_created_date:2020-01-01,to_created_date:2024-12-31"}
    with_abstract = {w["id"].rsplit("/", 1)[-1] for w in OPENALEX_WORKS if w["abstract_inverted_index"]}
    assert {r.source_id for r in result.records if r.abstract} == with_abstract & set(expected)
    # The key went to OpenAlex, and nowhere else: not in the archive, not in the summary.
    assert {p["api_key"] for p in sent} == {"**********"}  # the server saw it (and masks its log)
    assert all(KEY not in raw.url and KEY not in json.dumps(raw.params) for raw in archived)
    assert {raw.params["api_key"] for raw in archived} == {"REDACTED"}
    assert KEY not in json.dumps(result.summary)
    # Cost: each search page $0.001, as the answers' headers said.
    assert result.summary["cost_usd"] == pytest.approx(pages * 0.001)
    assert result.summary["limit_usd"] == 1.0
    assert "stopped" not in result.summary


def test_openalex_budget_stops_the_source_cleanly_before_it_would_be_exceeded(server, settings):
    result = openalex.harvest(_client("openalex", settings, 10), settings, "peer support", date(2020, 1, 1),
                              date(2024, 12, 31), lambda raw: None, per_page=7, budget_usd=0.0025)
    assert server.request_counts()["/openalex/works"] == 2  # a third page would cost $0.003
    assert len(result.records) == 14
    assert result.summary["stopped"].startswith("budget: $0.0020 spent of the run's $0.0025")
    assert result.summary["cost_usd"] == pytest.approx(0.002)


def test_europepmc_harvests_the_index_date_window_with_core_abstracts_within_its_limits(server, settings):
    first, last = "2024-12-01", "2025-12-31"
    expected = sorted(f"{r['source']}:{r['id']}" for r in EPMC_CORE if first <= r["firstIndexDate"] <= last)
    result = europepmc.harvest(_client("europepmc", settings, europepmc.RATE), settings, "peer support",
                               date(2024, 12, 1), date(2025, 12, 31), lambda raw: None, page_size=4)
    assert sorted(r.source_id for r in result.records) == expected and len(expected) == 23
    with_abstract = {f"{r['source']}:{r['id']}" for r in EPMC_CORE if r.get("abstractText")}
    assert {r.source_id for r in result.records if r.abstract} == with_abstract & set(expected)
    sent = [r.params for r in server.requests]
    assert sent[0]["query"] == "(peer support) AND FIRST_IDATE:[2024-12-01 TO 2025-12-31]"
    assert {p["resultType"] for p in sent} == {"core"}
    # 5 full pages of 4 and a short one of 3 ends it; no request over 10/s.
    assert len(sent) == 6 and server.rate_limit_violations().get("europepmc", 0) == 0
    gaps = [b.arrived - a.arrived for a, b in zip(server.requests, server.requests[1:])]
    assert min(gaps) >= 1 / europepmc.RATE * 0.9


def test_europepmc_count_is_the_hit_count_of_one_idlist_request(server, settings):
    hits = europepmc.count(_client("europepmc", settings, europepmc.RATE), settings, "x",
                           date(2024, 12, 1), date(2025, 12, 31), lambda raw: None)
    assert hits == 23
    assert [(r.params["resultType"], r.params["pageSize"]) for r in server.requests] == [("idlist", "1")]
