"""Request builders are pure: these tests inspect built requests with no network at all."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl

import httpx
import pytest

from livingreview.config import Secret, Settings
from livingreview.errors import ConfigError
from livingreview.sources import crossref, europepmc, openalex, pubmed
from livingreview.sources.client import REDACTED, SourceClient, Throttle

KEY = "0123456789abcdef-ncbi-key"
QUERY = """("Peer Group"[MeSH Terms:noexp] OR "peer support*"[tiab])
    AND (collaborat*[tiab])   AND english[la]"""


@pytest.fixture
def settings(tmp_path):
    return Settings.from_env(home=tmp_path, contact_email="maint@example.org",
                             pubmed_base_url="http://127.0.0.1:9/entrez/eutils/",
                             crossref_base_url="http://127.0.0.1:9",
                             openalex_base_url="http://127.0.0.1:9",
                             europepmc_base_url="http://127.0.0.1:9/europepmc/webservices/rest",
                             ncbi_api_key=Secret(KEY))


def form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def test_esearch_is_a_form_post_with_history_and_identity(settings):
    request = pubmed.build_esearch_request(settings, QUERY, date(2021, 12, 14), date(2022, 1, 13))
    assert request.method == "POST"
    assert str(request.url) == "http://127.0.0.1:9/entrez/eutils/esearch.fcgi"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    fields = form(request)
    assert fields == {
        "db": "pubmed",
        "term": '(("Peer Group"[MeSH Terms:noexp] OR "peer support*"[tiab]) AND (collaborat*[tiab]) '
                'AND english[la]) AND ("2021/12/14"[crdt] : "2022/01/13"[crdt])',
        "usehistory": "y", "retmode": "xml", "retstart": "0", "retmax": "9999",
        "tool": "livingreview", "email": "maint@example.org", "api_key": KEY,
    }
    assert request.extensions["timeout"]["connect"] == settings.http_timeout


def test_esearch_without_key_sends_no_api_key(tmp_path):
    plain = Settings.from_env(home=tmp_path, ncbi_api_key=Secret(""))
    request = pubmed.build_esearch_request(plain, "peer[tiab]", date(2024, 5, 1), date(2024, 5, 31))
    assert "api_key" not in form(request)
    assert form(request)["term"] == '(peer[tiab]) AND ("2024/05/01"[crdt] : "2024/05/31"[crdt])'
    assert pubmed.rate_for(plain) == 3.0


def test_rate_follows_the_api_key(settings):
    assert pubmed.rate_for(settings) == 10.0


def test_efetch_is_a_history_batch(settings):
    request = pubmed.build_efetch_request(settings, "MCID_abc", "1", retstart=400, retmax=200)
    assert request.method == "GET"
    assert request.url.path == "/entrez/eutils/efetch.fcgi"
    assert list(request.url.params.multi_items()) == [
        ("db", "pubmed"), ("query_key", "1"), ("WebEnv", "MCID_abc"), ("retstart", "400"),
        ("retmax", "200"), ("retmode", "xml"), ("tool", "livingreview"),
        ("email", "maint@example.org"), ("api_key", KEY)]


def test_api_key_is_redacted_in_what_gets_archived(settings):
    request = pubmed.build_esearch_request(settings, "peer[tiab]", date(2024, 5, 1), date(2024, 5, 31))
    seen = []

    def server(sent: httpx.Request) -> httpx.Response:
        seen.append(form(sent))
        return httpx.Response(200, text="<eSearchResult><Count>0</Count></eSearchResult>")

    archived = []
    client = SourceClient(http=httpx.Client(transport=httpx.MockTransport(server)), source="pubmed",
                          throttle=Throttle(1000), secrets=tuple(settings.secrets()))
    client.send(request, archived.append)
    assert seen[0]["api_key"] == KEY
    [raw] = archived
    assert raw.params["api_key"] == REDACTED
    assert raw.params["term"] == '(peer[tiab]) AND ("2024/05/01"[crdt] : "2024/05/31"[crdt])'
    assert KEY not in repr(raw)


@pytest.mark.parametrize(("call", "message"), [
    (lambda s: pubmed.build_esearch_request(s, "   ", date(2024, 1, 1), date(2024, 1, 2)), "query is empty"),
    (lambda s: pubmed.build_esearch_request(s, "x", date(2024, 2, 1), date(2024, 1, 1)), "is after its end"),
    (lambda s: pubmed.build_esearch_request(s, "x", date(2024, 2, 1), None), "needs both"),
    (lambda s: pubmed.build_esearch_request(s, "x", retmax=20000), "retmax=20000"),
    (lambda s: pubmed.build_efetch_request(s, "", "1"), "WebEnv"),
    (lambda s: pubmed.build_efetch_request(s, "W", "1", retstart=10000), "retstart=10000"),
    (lambda s: crossref.build_works_request(s, "q", date(2024, 1, 1), date(2024, 1, 2), rows=5000), "rows=5000"),
    (lambda s: crossref.build_works_request(s, "q", date(2024, 1, 1), date(2024, 1, 2),
                                            select=("DOI", "language")), "language"),
    (lambda s: crossref.build_works_request(s, "q", date(2024, 1, 1), date(2024, 1, 2),
                                            date_field="update"), "date_field"),
    (lambda s: openalex.build_works_request(s, "q", date(2024, 1, 1), date(2024, 1, 2), per_page=500), "per_page"),
    (lambda s: europepmc.build_search_request(s, "", date(2024, 1, 1), date(2024, 1, 2)), "query is empty"),
])
def test_bad_parameters_are_rejected_before_any_http_call(settings, call, message):
    with pytest.raises(ConfigError, match=message) as caught:
        call(settings)
    assert "Fix:" in str(caught.value)


def test_crossref_works_request(settings):
    request = crossref.build_works_request(settings, "  peer support   worker mental health ",
                                           date(2021, 12, 14), date(2022, 1, 13), rows=100)
    assert request.method == "GET"
    assert str(request.url).startswith("http://127.0.0.1:9/works?")
    params = dict(request.url.params.multi_items())
    assert params == {
        "query.bibliographic": "peer support worker mental health",
        "filter": "type:journal-article,from-pub-date:2010-01-01,"
                  "from-created-date:2021-12-14,until-created-date:2022-01-13",
        "rows": "100", "cursor": "*", "select": ",".join(crossref.DEFAULT_SELECT),
        "mailto": "maint@example.org",
    }
    assert request.headers["user-agent"] == "livingreview/0.1 (mailto:maint@example.org)"


def test_crossref_index_date_pass_and_next_cursor(settings):
    request = crossref.build_works_request(settings, "peer", date(2024, 5, 1), date(2024, 5, 31),
                                           cursor="DnF1ZXJ5+/=", date_field="index",
                                           from_pub_date=None)
    params = dict(request.url.params.multi_items())
    assert params["filter"] == ("type:journal-article,from-index-date:2024-05-01,"
                                "until-index-date:2024-05-31")
    assert params["cursor"] == "DnF1ZXJ5+/="  # decoded back intact
    assert "cursor=DnF1ZXJ5%2B%2F%3D" in str(request.url)  # and URL-encoded on the wire


def test_crossref_pub_date_floor_from_toml_text_or_none(settings):
    def floor(value):
        request = crossref.build_works_request(settings, "peer", date(2024, 5, 1), date(2024, 5, 31),
                                               from_pub_date=value)
        return dict(request.url.params.multi_items())["filter"].split(",")[1]

    assert floor("2012-01-01") == "from-pub-date:2012-01-01"
    assert floor(date(2012, 1, 1)) == "from-pub-date:2012-01-01"
    assert floor(None) == "from-created-date:2024-05-01"
    with pytest.raises(ConfigError, match="from_pub_date='2012' is not a date"):
        floor("2012")


def test_openalex_and_europepmc_requests(settings):
    request = openalex.build_works_request(settings, "peer support", date(2024, 5, 1), date(2024, 5, 31))
    params = dict(request.url.params.multi_items())
    assert request.url.path == "/works"
    assert params["filter"] == "from_created_date:2024-05-01,to_created_date:2024-05-31"
    assert (params["per-page"], params["cursor"], params["mailto"]) == ("200", "*", "maint@example.org")
    assert "api_key" not in params  # no key configured: none sent
    request = europepmc.build_search_request(settings, "peer support", date(2024, 5, 1), date(2024, 5, 31))
    params = dict(request.url.params.multi_items())
    assert request.url.path.endswith("/search")
    assert params["query"] == "(peer support) AND FIRST_IDATE:[2024-05-01 TO 2024-05-31]"
    assert (params["resultType"], params["format"], params["cursorMark"]) == ("core", "json", "*")


def test_esearch_can_window_by_mesh_date_and_names_the_fields_it_knows(settings):
    request = pubmed.build_esearch_request(settings, "peer[tiab]", date(2024, 5, 1),
                                           date(2024, 5, 31), date_field="mhda")
    assert form(request)["term"] == '(peer[tiab]) AND ("2024/05/01"[mhda] : "2024/05/31"[mhda])'
    with pytest.raises(ConfigError, match=r"'edat' is not one .*'crdt' or 'mhda'.*date_fields"):
        pubmed.build_esearch_request(settings, "peer[tiab]", date(2024, 5, 1), date(2024, 5, 31),
                                     date_field="edat")
