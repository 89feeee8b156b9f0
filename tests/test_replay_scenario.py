"""Scenarios: what the named ones hold, the date range a window must cover to see all of one,
scenarios built by tests."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from lxml import etree

from livingreview.errors import ConfigError, InputError
from livingreview.replay import (
    build_scenario,
    load_scenario,
    running_replay_server,
    scenario_date_range,
    scenario_runs,
)

PARSER = etree.XMLParser(load_dtd=False, no_network=True)


def test_recordings_scenario_holds_every_recording_and_says_what_it_covers():
    demo = load_scenario("recordings")
    summary = demo.summary()
    assert summary["scenario"] == "recordings"
    # 22 PubmedArticle/PubmedBookArticle elements in 20 EFetch files; 149 dated Crossref works
    # (the 23 items cut down by select= carry no dates and are left out).
    assert (summary["pubmed_articles"], summary["crossref_works"]) == (22, 149)
    # The oldest recorded article (PMID 9997) was created 1976-09-28; the newest work 2026-03-16.
    assert scenario_date_range("recordings") == demo.created_range()
    assert (demo.created_range().first, demo.created_range().last) == (date(1976, 9, 28), date(2026, 3, 16))
    assert summary["pubmed_created"] == ["1976-09-28", "2024-12-19"]
    assert summary["crossref_types"]["journal-article"] == 62


def test_a_window_spanning_the_date_range_harvests_every_recording():
    covered = scenario_date_range("recordings")
    with running_replay_server("recordings") as server, httpx.Client(base_url=server.base_url) as client:
        term = f'peer AND ("{covered.first:%Y/%m/%d}"[crdt] : "{covered.last:%Y/%m/%d}"[crdt])'
        esearch = client.post("/entrez/eutils/esearch.fcgi", data={"db": "pubmed", "term": term, "retmode": "xml"})
        assert etree.fromstring(esearch.content, PARSER).findtext("Count") == "22"
        window = f"from-created-date:{covered.first},until-created-date:{covered.last}"
        works = client.get("/works", params={"filter": window, "rows": 0}).json()
        assert works["message"]["total-results"] == 149
        # A day less on either side loses the oldest article and the newest work.
        term_short = term.replace(f"{covered.first:%Y/%m/%d}", "1976/09/29")
        short = client.post("/entrez/eutils/esearch.fcgi", data={"db": "pubmed", "term": term_short, "retmode": "xml"})
        assert etree.fromstring(short.content, PARSER).findtext("Count") == "21"
        window_short = f"from-created-date:{covered.first},until-created-date:2026-03-15"
        assert client.get("/works", params={"filter": window_short, "rows": 0}).json()["message"]["total-results"] == 148


def test_the_demo_scenario_is_the_reviews_field_over_two_monthly_windows():
    demo = load_scenario("demo")
    summary = demo.summary()
    assert summary["scenario"] == "demo"
    # 7 PubMed articles and 14 Crossref works, every one a journal article (PROVENANCE.md).
    assert (summary["pubmed_articles"], summary["crossref_works"]) == (7, 14)
    assert summary["crossref_types"] == {"journal-article": 14}
    assert sorted(a.pmid for a in demo.articles) == [
        "33560695", "35564670", "36396756", "36476983", "38589934", "39144727", "40790915"]
    # The review's protocol (created 2021) is older than the cut-off: only its re-indexing in
    # August 2025 brings it into a window.
    assert summary["crossref_created"] == ["2021-03-15", "2025-08-11"]
    assert scenario_runs("demo") == [date(2025, 7, 31), date(2025, 8, 31)]
    assert scenario_runs("recordings") == []


def test_a_scenario_built_from_a_list_of_files_answers_only_from_them(tmp_path):
    directory = build_scenario(tmp_path / "tiny", [
        "pubmed/efetch_pubmed_11748933_11700088.xml",
        "pubmed/efetch_pubmed_219391_1979_case_report.xml",
        "crossref/works_query_widget_cursor_page1.json",
        "crossref/work_10.1038_srep16696.json",
    ])
    assert (directory / "pubmed" / "PROVENANCE.md").is_file()
    assert (directory / "crossref" / "PROVENANCE.md").is_file()
    scenario = load_scenario(directory)
    assert sorted(a.pmid for a in scenario.articles) == ["11700088", "11748933", "219391"]
    assert len(scenario.works) == 21
    with running_replay_server(directory) as server, httpx.Client(base_url=server.base_url) as client:
        search = client.get("/entrez/eutils/esearch.fcgi", params={"db": "pubmed", "term": "x", "retmode": "xml"})
        assert sorted(i.text for i in etree.fromstring(search.content, PARSER).iter("Id")) == [
            "11700088", "11748933", "219391"]
        message = client.get("/works", params={"rows": 100}).json()["message"]
        assert message["total-results"] == 21
        assert "10.1038/srep16696" in {item["DOI"] for item in message["items"]}
        assert client.get("/works/10.1371/journal.pone.0033693").status_code == 404


def test_a_scenario_with_no_pubmed_recordings_finds_nothing_in_pubmed(tmp_path):
    directory = build_scenario(tmp_path / "crossref-only", ["crossref/works_sample10.json"])
    with running_replay_server(directory) as server:
        answer = httpx.get(server.pubmed_base_url + "/esearch.fcgi", params={"db": "pubmed", "term": "x"})
        root = etree.fromstring(answer.content, PARSER)
        assert root.findtext("Count") == "0" and root.findtext("WarningList/OutputMessage") == "No items found."


def test_a_malformed_recording_is_named_with_its_place_and_fix(tmp_path):
    directory = build_scenario(tmp_path / "broken", ["pubmed/efetch_pubmed_219391_1979_case_report.xml"])
    broken = directory / "pubmed" / "efetch_pubmed_219391_1979_case_report.xml"
    broken.write_bytes(broken.read_bytes()[:-40])
    with pytest.raises(InputError) as caught:
        load_scenario(directory)
    assert caught.value.source == str(broken) and caught.value.place.startswith("line ")
    assert "unedited" in caught.value.fix


def test_an_unknown_scenario_or_recording_is_refused_with_the_fix(tmp_path):
    with pytest.raises(ConfigError, match="Fix: pass 'demo' or 'recordings'"):
        load_scenario("no-such-scenario")
    with pytest.raises(ConfigError, match="not found"):
        build_scenario(tmp_path / "x", ["pubmed/no_such_file.xml"])
