"""The replay server's E-utilities, exercised with httpx over loopback.

Expected PMIDs and dates are read from the recordings here with lxml, independently of the
server's own indexing, so that a mistake in either shows up as a disagreement.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import httpx
import pytest
from lxml import etree

from livingreview.replay import running_replay_server
from livingreview.replay.bodies import RECORDINGS_DIR

PUBMED_DIR = RECORDINGS_DIR / "pubmed"
EFETCH_FILES = sorted(PUBMED_DIR.glob("efetch_*.xml"))
# The fixtures in force with the 2025 DTD were written by EFetch in one layout; the replay server
# must reproduce those files byte for byte when asked for the same PMIDs.
DTD_2025 = b"pubmed_250101.dtd"

QUERY = '"peer support*"[tiab] AND english[la]'


def _recorded_articles() -> dict[str, tuple[date, bytes, Path]]:
    """PMID -> (Create Date from PubStatus="entrez", element C14N, file), read straight from the files."""
    found = {}
    for path in EFETCH_FILES:
        root = etree.parse(str(path), etree.XMLParser(load_dtd=False, no_network=True)).getroot()
        if root.tag != "PubmedArticleSet":
            continue
        for article in root:
            pmid = article.findtext("./MedlineCitation/PMID") or article.findtext("./BookDocument/PMID")
            node = article.xpath('./*/History/PubMedPubDate[@PubStatus="entrez"]')[0]
            created = date(int(node.findtext("Year")), int(node.findtext("Month")), int(node.findtext("Day")))
            found[pmid] = (created, etree.tostring(article, method="c14n"), path)
    return found


RECORDED = _recorded_articles()


@pytest.fixture(scope="module")
def server():
    with running_replay_server("recordings") as running:
        yield running


@pytest.fixture()
def client(server):
    with httpx.Client(base_url=server.pubmed_base_url, timeout=10) as http:
        yield http


def _esearch(client: httpx.Client, term: str, **params: str) -> etree._Element:
    response = client.post("/esearch.fcgi", data={"db": "pubmed", "term": term, "usehistory": "y",
                                                   "retmode": "xml", "tool": "livingreview",
                                                   "email": "test@example.org", **params})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    return etree.fromstring(response.content, etree.XMLParser(load_dtd=False, no_network=True))


def _window(first: str, last: str) -> str:
    return f'{QUERY} AND ("{first}"[crdt] : "{last}"[crdt])'


def test_corpus_holds_every_recorded_article(client):
    root = _esearch(client, QUERY, retmax="1000")
    assert int(root.findtext("Count")) == len(RECORDED) == 22
    assert sorted(i.text for i in root.iter("Id")) == sorted(RECORDED)


@pytest.mark.parametrize(
    ("first", "last"),
    [("2021/12/14", "2024/12/31"), ("2001/11/09", "2001/12/26"), ("1970/01/01", "1989/12/31"),
     ("2025/01/01", "2025/01/31"),
     # 33856845 was created (entrez) 2021/04/15 but entered (pubmed, [edat]) 2021/04/16: not in here
     ("2021/04/16", "2021/04/30")],
)
def test_esearch_returns_exactly_the_articles_created_in_the_window(client, first, last):
    start, end = (date(*map(int, d.split("/"))) for d in (first, last))
    expected = {pmid for pmid, (created, _, _) in RECORDED.items() if start <= created <= end}
    root = _esearch(client, _window(first, last), retmax="100")
    assert int(root.findtext("Count")) == len(expected)
    assert {i.text for i in root.iter("Id")} == expected
    # The bounds are inclusive: 2001/11/09 and 2001/12/26 are the two Create Dates themselves.
    if first == "2001/11/09":
        assert expected == {"11700088", "11748933"}
    if first == "2021/04/16":
        assert expected == set()


def test_esearch_answer_has_the_recorded_shape_and_echoes_the_query(client):
    term = _window("2021/12/14", "2022/01/13")
    root = _esearch(client, term)
    assert [child.tag for child in root] == [
        "Count", "RetMax", "RetStart", "QueryKey", "WebEnv", "IdList", "TranslationSet",
        "QueryTranslation", "WarningList",  # zero hits in this window: "No items found."
    ]
    assert root.findtext("QueryTranslation") == term
    assert root.findtext("WebEnv").startswith("MCID_")
    assert root.findtext("WarningList/OutputMessage") == "No items found."


def test_window_forms_pubmed_accepts_are_all_understood(client):
    two_tags = _esearch(client, _window("2013/01/01", "2013/12/31"))
    one_tag = _esearch(client, f"{QUERY} AND 2013/01/01:2013/12/31[crdt]")
    month = _esearch(client, f'{QUERY} AND "2013/12"[Create Date]')
    assert {i.text for i in two_tags.iter("Id")} == {"23435529", "24349601"}
    assert {i.text for i in one_tag.iter("Id")} == {"23435529", "24349601"}
    assert {i.text for i in month.iter("Id")} == {"24349601"}


def test_paging_the_history_with_efetch_returns_each_recorded_element_once(client):
    root = _esearch(client, _window("1900/01/01", "3000/12/31"), retmax="0")
    count, webenv, key = int(root.findtext("Count")), root.findtext("WebEnv"), root.findtext("QueryKey")
    assert root.find("IdList/Id") is None  # retmax=0: count and history only
    fetched: list[str] = []
    for retstart in range(0, count, 5):
        response = client.get("/efetch.fcgi", params={"db": "pubmed", "WebEnv": webenv, "query_key": key,
                                                     "retstart": retstart, "retmax": 5, "retmode": "xml"})
        assert response.status_code == 200
        batch = etree.fromstring(response.content, etree.XMLParser(load_dtd=False, no_network=True))
        assert len(batch) <= 5
        for article in batch:
            pmid = article.findtext("./MedlineCitation/PMID") or article.findtext("./BookDocument/PMID")
            # The served element is the recorded one: same canonical XML, and its bytes occur verbatim
            # in the recorded file.
            assert etree.tostring(article, method="c14n") == RECORDED[pmid][1]
            fetched.append(pmid)
        for raw in re.findall(rb"<(?:PubmedArticle|PubmedBookArticle)>.*?</(?:PubmedArticle|PubmedBookArticle)>",
                              response.content, re.DOTALL):
            pmid = re.search(rb"<PMID[^>]*>(\d+)</PMID>", raw).group(1).decode()
            assert raw in RECORDED[pmid][2].read_bytes()
    assert sorted(fetched) == sorted(RECORDED)
    assert len(fetched) == len(set(fetched))


@pytest.mark.parametrize("path", [p for p in EFETCH_FILES if DTD_2025 in p.read_bytes()], ids=lambda p: p.stem)
def test_efetch_by_id_reproduces_the_recorded_file_byte_for_byte(client, path):
    ids = [m.decode() for m in re.findall(rb"<(?:MedlineCitation|BookDocument)[^>]*>\s*<PMID[^>]*>(\d+)</PMID>",
                                           path.read_bytes())]
    if not ids:  # the recorded empty set: asked for a PMID with no record
        ids = ["37909814"]
    response = client.post("/efetch.fcgi", data={"db": "pubmed", "id": ",".join(ids), "retmode": "xml"})
    assert response.content == path.read_bytes()


def test_efetch_leaves_out_unknown_pmids(client):
    response = client.get("/efetch.fcgi", params={"db": "pubmed", "id": "99999999,219391", "retmode": "xml"})
    root = etree.fromstring(response.content, etree.XMLParser(load_dtd=False, no_network=True))
    assert [a.findtext("MedlineCitation/PMID") for a in root] == ["219391"]


def test_a_second_search_in_the_same_webenv_gets_the_next_query_key(client):
    first = _esearch(client, _window("2020/01/01", "2020/12/31"))
    second = _esearch(client, _window("2018/01/01", "2018/12/31"), WebEnv=first.findtext("WebEnv"))
    assert second.findtext("WebEnv") == first.findtext("WebEnv")
    assert (first.findtext("QueryKey"), second.findtext("QueryKey")) == ("1", "2")
    response = client.get("/efetch.fcgi", params={"db": "pubmed", "WebEnv": first.findtext("WebEnv"),
                                                 "query_key": "2", "retmode": "xml"})
    root = etree.fromstring(response.content, etree.XMLParser(load_dtd=False, no_network=True))
    assert {a.findtext("MedlineCitation/PMID") for a in root} == {"29963580", "30108519"}


def test_a_long_term_sent_by_post_is_answered(client):
    long_term = " OR ".join(f'"peer term {n}*"[tiab]' for n in range(300))
    assert len(long_term) > 5000
    root = _esearch(client, f"({long_term}) AND {_window('2024/01/01', '2024/12/31').split(' AND ', 2)[2]}")
    assert {i.text for i in root.iter("Id")} == {"20301577", "38962805", "38833988"}


@pytest.mark.parametrize(
    "term",
    ['peer AND ("2024/01/01"[crdt] : "2024/02/30"[crdt])', 'peer AND ((support)', '"peer support[tiab]',
     'peer AND "2024"[crdt] : [crdt]'],
)
def test_an_unparseable_term_gets_the_recorded_errorlist_answer(client, term):
    root = _esearch(client, term)
    assert root.findtext("Count") == "0"
    assert root.find("IdList") is not None and len(root.find("IdList")) == 0
    assert root.findtext("ErrorList/PhraseNotFound")
    assert root.findtext("WarningList/OutputMessage") == "No items found."


def test_errors_arrive_inside_a_200_body_as_ncbi_sends_them(client):
    bad_db = client.get("/esearch.fcgi", params={"db": "nothing", "term": "x"})
    assert bad_db.status_code == 200
    assert b"<ERROR>Invalid db name specified: nothing</ERROR>" in bad_db.content
    empty = client.get("/esearch.fcgi", params={"db": "pubmed", "term": "  "})
    assert b"<ERROR>Empty term and query_key - nothing todo</ERROR>" in empty.content
    lost = client.get("/efetch.fcgi", params={"db": "pubmed", "WebEnv": "MCID_unknown", "query_key": "1",
                                              "retmode": "xml"})
    assert lost.status_code == 200
    assert b"<eFetchResult>" in lost.content and b"<ERROR>Unable to obtain query #1</ERROR>" in lost.content


def test_efetch_without_retmode_is_not_xml(client):
    response = client.get("/efetch.fcgi", params={"db": "pubmed", "id": "219391"})
    assert response.headers["content-type"] == "text/html"
    assert response.content == (PUBMED_DIR / "efetch_pubmed_19304878_default_retmode_asn1_html.html").read_bytes()


def test_json_output_is_refused_with_a_clear_message(client):
    response = client.get("/esearch.fcgi", params={"db": "pubmed", "term": "x", "retmode": "json"})
    assert response.status_code == 400
    assert "retmode=json" in response.text and "retmode=xml" in response.text


def test_date_parameters_are_refused_rather_than_ignored(client):
    response = client.get("/esearch.fcgi", params={"db": "pubmed", "term": "x", "datetype": "crdt",
                                                   "mindate": "2024/01/01", "maxdate": "2024/01/31"})
    assert response.status_code == 400 and "[crdt]" in response.text


def test_the_request_log_keeps_parameters_but_not_the_api_key(server, client):
    server.clear_requests()
    client.get("/esearch.fcgi", params={"db": "pubmed", "term": "x", "api_key": "s3cret", "tool": "livingreview"})
    (record,) = server.requests
    assert record.path == "/entrez/eutils/esearch.fcgi"
    assert record.params["tool"] == "livingreview"
    assert record.params["api_key"] != "s3cret"


def _mesh_dates() -> dict[str, date | None]:
    """PMID -> MeSH Date (PubStatus="medline"), read straight from the files; None if absent."""
    found = {}
    for pmid, (_, element, _) in RECORDED.items():
        node = etree.fromstring(element).xpath('./*/History/PubMedPubDate[@PubStatus="medline"]')
        found[pmid] = (date(int(node[0].findtext("Year")), int(node[0].findtext("Month")),
                            int(node[0].findtext("Day"))) if node else None)
    return found


def test_a_mesh_date_window_finds_records_indexed_in_it_whenever_they_were_created(client):
    mesh = _mesh_dates()
    start, end = date(2021, 12, 14), date(2022, 12, 31)
    expected = {pmid for pmid, day in mesh.items() if day is not None and start <= day <= end}
    root = _esearch(client, f'{QUERY} AND ("2021/12/14"[mhda] : "2022/12/31"[mhda])', retmax="100")
    assert {i.text for i in root.iter("Id")} == expected
    # created in November 2021, before the window, and indexed for MeSH in September 2022
    assert "34843274" in expected and RECORDED["34843274"][0] < start
    # the long tag means the same; ANDed with a Create Date window only both-dated records remain
    long_tag = _esearch(client, f'{QUERY} AND 2021/12/14:2022/12/31[MeSH Date]', retmax="100")
    assert {i.text for i in long_tag.iter("Id")} == expected
    both = _esearch(client, f'{QUERY} AND ("2021/12/14"[mhda] : "2022/12/31"[mhda]) AND '
                            f'("2021/12/14"[crdt] : "2022/12/31"[crdt])', retmax="100")
    assert {i.text for i in both.iter("Id")} == {
        p for p in expected if start <= RECORDED[p][0] <= end}
    assert "34843274" not in {i.text for i in both.iter("Id")}


def test_a_mesh_date_tag_without_a_date_gets_the_zero_hit_error(client):
    root = _esearch(client, f"{QUERY} AND [mhda]")
    assert root.findtext("Count") == "0" and root.find("ErrorList") is not None


def test_the_monthly_harvest_adds_late_indexed_records_by_a_mesh_date_pass(server, tmp_path):
    from livingreview.config import Settings
    from livingreview.harvest.run import harvest_source
    from livingreview.harvest.windows import Window

    settings = Settings.from_env(home=tmp_path, pubmed_base_url=server.pubmed_base_url,
                                 contact_email="maint@example.org")
    window = Window("pubmed", date(2021, 12, 14), date(2022, 12, 31))
    archived = []

    def run(fields):
        review = {"sources": {"pubmed": {"query": QUERY, "date_fields": fields}}}
        with httpx.Client() as http:
            return harvest_source(window, settings, review, http, archived.append)

    created_only = run(["crdt"])
    both = run(["crdt", "mhda"])
    created = {p for p, (day, _, _) in RECORDED.items() if window.start <= day <= window.end}
    mesh = {p for p, day in _mesh_dates().items() if day and window.start <= day <= window.end}
    assert {r.pmid for r in created_only.records} == created
    # every record once, though most are in both passes; the late-indexed ones come from [mhda]
    pmids = [r.pmid for r in both.records]
    assert len(pmids) == len(set(pmids)) and set(pmids) == created | mesh
    # created 2021-11-29 and 2021-04-15, indexed for MeSH 2022-09-14 and 2021-12-15
    assert mesh - created == {"34843274", "33856845"}
    passes = both.summary["passes"]
    assert (passes["crdt"]["count"], passes["mhda"]["count"]) == (len(created), len(mesh))
    assert (passes["crdt"]["new"], passes["mhda"]["new"]) == (len(created), 2)
    assert '[mhda]' in passes["mhda"]["querytranslation"]
    assert both.summary["fetched"] == len(created | mesh)
