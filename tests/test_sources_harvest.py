"""Harvests over real HTTP on 127.0.0.1 against small recorded-response APIs.

``FakeEutils`` answers ESearch/EFetch from the recorded EFetch fixtures: it knows each record's
Create Date, so an ESearch with a ``[crdt]`` window finds exactly the records created in it,
keeps them on its "history server", and EFetch returns them in ``retstart``/``retmax`` batches.
``FakeCrossref`` replays the recorded ``cursor=*`` -> ``next-cursor`` chain of /works pages.
"""

from __future__ import annotations

import json
import re
import threading
import time
from contextlib import contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from lxml import etree

from livingreview.config import Secret, Settings
from livingreview.errors import PermanentSourceError, TransientSourceError
from livingreview.sources import HARVESTERS, crossref, pubmed
from livingreview.sources.client import REDACTED, RetryPolicy, SourceClient, Throttle

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "ncbi-key-that-must-not-leak"
FAST = RetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.01, jitter=0.0)


class Server:
    """A threaded HTTP server on 127.0.0.1 whose answers come from ``app(request) -> response``."""

    def __init__(self, app):
        self.app = app
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                request = {"method": self.command, "path": url.path,
                           "params": dict(parse_qsl(url.query, keep_blank_values=True)),
                           "form": dict(parse_qsl(body, keep_blank_values=True)),
                           "headers": dict(self.headers), "at": time.monotonic()}
                outer.requests.append(request)
                status, content_type, text, headers = outer.app(request)
                data = text.encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @contextmanager
    def running(self):
        thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()


# --------------------------------------------------------------------------- PubMed


def fixture_articles() -> dict[str, tuple[date, bytes]]:
    """PMID -> (Create Date, serialized <PubmedArticle>) for every recorded EFetch record."""
    articles = {}
    for path in sorted((FIXTURES / "pubmed").glob("efetch_*.xml")):
        root = etree.fromstring(path.read_bytes())
        for node in root:
            if node.tag not in ("PubmedArticle", "PubmedBookArticle"):
                continue
            pmid = node.findtext("MedlineCitation/PMID") or node.findtext("BookDocument/PMID")
            history = node.find("PubmedData/History")
            if history is None:
                history = node.find("PubmedBookData/History")
            entrez = history.find("PubMedPubDate[@PubStatus='entrez']")
            created = date(int(entrez.findtext("Year")), int(entrez.findtext("Month")),
                           int(entrez.findtext("Day")))
            articles[pmid] = (created, etree.tostring(node))
    return articles


ARTICLES = fixture_articles()
WINDOW = re.compile(r'\("(\d{4})/(\d\d)/(\d\d)"\[crdt\] : "(\d{4})/(\d\d)/(\d\d)"\[crdt\]\)$')


class FakeEutils:
    def __init__(self, extra_count: int = 0, esearch_body: str | None = None):
        self.history: dict[str, list[str]] = {}
        self.extra_count = extra_count  # pretend this many more hits exist (to force splits)
        self.esearch_body = esearch_body

    def __call__(self, request):
        if request["path"] == "/entrez/eutils/esearch.fcgi":
            return self.esearch(request)
        if request["path"] == "/entrez/eutils/efetch.fcgi":
            return self.efetch(request)
        return 404, "text/plain", "Not found", {}

    def esearch(self, request):
        assert request["method"] == "POST", "ESearch must be a POST"
        if self.esearch_body is not None:
            return 200, "text/xml", self.esearch_body, {}
        form = request["form"]
        y1, m1, d1, y2, m2, d2 = map(int, WINDOW.search(form["term"]).groups())
        start, end = date(y1, m1, d1), date(y2, m2, d2)
        pmids = sorted((p for p, (created, _) in ARTICLES.items() if start <= created <= end),
                       key=int)
        count = len(pmids) + (self.extra_count if (end - start).days > 3000 else 0)
        key = str(len(self.history) + 1)
        self.history[key] = pmids
        ids = "".join(f"<Id>{p}</Id>" for p in pmids[: int(form["retmax"])])
        body = (f'<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult><Count>{count}</Count>'
                f"<RetMax>{min(count, int(form['retmax']))}</RetMax><RetStart>0</RetStart>"
                f"<QueryKey>{key}</QueryKey><WebEnv>MCID_fake</WebEnv><IdList>{ids}</IdList>"
                f"<TranslationSet/><QueryTranslation>{form['term'].replace('&', '&amp;').replace('<', '&lt;')}"
                f"</QueryTranslation></eSearchResult>")
        return 200, "text/xml; charset=UTF-8", body, {}

    def efetch(self, request):
        params = request["params"]
        assert params["WebEnv"] == "MCID_fake" and params["retmode"] == "xml"
        pmids = self.history[params["query_key"]]
        start, size = int(params["retstart"]), int(params["retmax"])
        chunk = b"".join(ARTICLES[p][1] for p in pmids[start:start + size]).decode()
        return 200, "text/xml; charset=UTF-8", f'<?xml version="1.0" ?>\n<PubmedArticleSet>{chunk}</PubmedArticleSet>', {}


def settings_for(tmp_path, server: Server, key: str = KEY) -> Settings:
    return Settings.from_env(home=tmp_path, contact_email="maint@example.org",
                             pubmed_base_url=f"{server.base}/entrez/eutils",
                             crossref_base_url=server.base, ncbi_api_key=Secret(key))


def fast_client(source: str, settings: Settings) -> SourceClient:
    return SourceClient(http=httpx.Client(), source=source, throttle=Throttle(1000), retry=FAST,
                        secrets=tuple(settings.secrets()))


def test_pubmed_harvest_fetches_every_record_of_the_window_in_batches(tmp_path):
    server = Server(FakeEutils())
    archived = []
    with server.running():
        settings = settings_for(tmp_path, server)
        result = pubmed.harvest(fast_client("pubmed", settings), settings, "peer support[tiab]",
                                date(2021, 1, 1), date(2024, 12, 31), archived.append, batch_size=2)
    expected = sorted((p for p, (c, _) in ARTICLES.items() if date(2021, 1, 1) <= c <= date(2024, 12, 31)),
                      key=int)
    assert len(expected) == 8
    assert sorted((r.pmid for r in result.records), key=int) == expected
    esearch, *efetches = server.requests
    assert esearch["form"]["term"] == '(peer support[tiab]) AND ("2021/01/01"[crdt] : "2024/12/31"[crdt])'
    assert (esearch["form"]["usehistory"], esearch["form"]["db"], esearch["form"]["api_key"]) == ("y", "pubmed", KEY)
    assert [(r["params"]["retstart"], r["params"]["retmax"]) for r in efetches] == [
        ("0", "2"), ("2", "2"), ("4", "2"), ("6", "2")]
    assert all(r["headers"]["User-Agent"] == "livingreview/0.1 (mailto:maint@example.org)"
               for r in server.requests)
    summary = result.summary
    assert (summary["count"], summary["fetched"], summary["missing_pmids"]) == (8, 8, [])
    assert summary["windows"][0]["querytranslation"] == esearch["form"]["term"]
    assert summary["requests"] == result.responses == len(archived) == 5
    # Every body was archived exactly as served, with the key redacted from the request record.
    assert "<eSearchResult>" in archived[0].body and "<PubmedArticleSet>" in archived[1].body
    for raw in archived:
        assert raw.params["api_key"] == REDACTED and KEY not in raw.url


def test_pubmed_harvest_splits_windows_that_exceed_the_esearch_limit(tmp_path):
    server = Server(FakeEutils())
    with server.running():
        settings = settings_for(tmp_path, server)
        result = pubmed.harvest(fast_client("pubmed", settings), settings, "peer[tiab]",
                                date(1970, 1, 1), date(2025, 12, 31), lambda raw: None,
                                batch_size=3, max_per_search=4)
    assert sorted(r.pmid for r in result.records) == sorted(ARTICLES)
    windows = result.summary["windows"]
    assert all(w["count"] <= 4 and w["fetched"] == w["count"] for w in windows)
    # The windows tile the requested range: no gap, no overlap.
    assert windows[0]["start"] == "1970-01-01" and windows[-1]["end"] == "2025-12-31"
    for before, after in zip(windows, windows[1:]):
        assert date.fromisoformat(after["start"]) == date.fromisoformat(before["end"]) + timedelta(days=1)
    assert result.summary["splits"] and sum(w["count"] for w in windows) == len(ARTICLES)


def test_pubmed_harvest_refuses_a_single_day_beyond_the_limit(tmp_path):
    server = Server(FakeEutils(extra_count=20000))
    with server.running():
        settings = settings_for(tmp_path, server)
        # extra_count applies to windows longer than 3000 days, so splitting resolves it...
        result = pubmed.harvest(fast_client("pubmed", settings), settings, "peer[tiab]",
                                date(2000, 1, 1), date(2025, 12, 31), lambda raw: None)
        assert result.summary["splits"]
        # ...but a one-day window with too many records cannot be split further.
        huge = Server(FakeEutils(esearch_body=(
            "<eSearchResult><Count>12000</Count><RetMax>0</RetMax><RetStart>0</RetStart>"
            "<QueryKey>1</QueryKey><WebEnv>MCID_fake</WebEnv><IdList/></eSearchResult>")))
        with huge.running():
            settings = settings_for(tmp_path, huge)
            with pytest.raises(PermanentSourceError, match="12000 records have Create Date 2024-05-01, more than ESearch"):
                pubmed.harvest(fast_client("pubmed", settings), settings, "peer[tiab]",
                               date(2024, 5, 1), date(2024, 5, 1), lambda raw: None)


def test_pubmed_esearch_error_in_a_200_body_stops_the_harvest(tmp_path):
    body = '<?xml version="1.0" ?>\n<eSearchResult><ERROR>Invalid query</ERROR></eSearchResult>'
    server = Server(FakeEutils(esearch_body=body))
    archived = []
    with server.running():
        settings = settings_for(tmp_path, server)
        with pytest.raises(PermanentSourceError, match="Invalid query") as caught:
            pubmed.harvest(fast_client("pubmed", settings), settings, "peer[tiab]",
                           date(2024, 5, 1), date(2024, 5, 31), archived.append)
    assert len(server.requests) == 1 and len(archived) == 1  # not retried, but archived
    assert KEY not in str(caught.value.request.url) and KEY not in caught.value.request.content.decode()


def test_pubmed_unknown_field_stops_the_harvest_with_the_translation(tmp_path):
    body = (FIXTURES / "pubmed" / "esearch_protein_no_hits_errorlist.xml").read_text().replace(
        "<PhraseNotFound>abcXYZ</PhraseNotFound>", "<FieldNotFound>tiabx</FieldNotFound>")
    server = Server(FakeEutils(esearch_body=body))
    with server.running():
        settings = settings_for(tmp_path, server)
        with pytest.raises(PermanentSourceError, match=r"fieldsnotfound: tiabx.*querytranslation"):
            pubmed.harvest(fast_client("pubmed", settings), settings, "abcXYZ[tiabx]",
                           date(2024, 5, 1), date(2024, 5, 31), lambda raw: None)


def test_pubmed_zero_hits_with_phrase_not_found_is_an_empty_harvest_with_warnings(tmp_path):
    body = (FIXTURES / "pubmed" / "esearch_protein_no_hits_errorlist.xml").read_text()
    server = Server(FakeEutils(esearch_body=body))
    with server.running():
        settings = settings_for(tmp_path, server)
        result = pubmed.harvest(fast_client("pubmed", settings), settings, "abcXYZ",
                                date(2024, 5, 1), date(2024, 5, 31), lambda raw: None)
    assert result.records == [] and len(server.requests) == 1
    [window] = result.summary["windows"]
    assert window["errors"] == {"phrasesnotfound": ["abcXYZ"]}
    assert window["warnings"] == {"outputmessages": ["No items found."]}
    assert result.summary["errors"] == {"phrasesnotfound": ["abcXYZ"]}
    assert result.summary["querytranslation"] == "(abcXYZ[All Fields])"


def test_pubmed_harvest_with_a_plain_httpx_client_uses_ncbi_rate(tmp_path):
    server = Server(FakeEutils())
    with server.running(), httpx.Client() as http:
        settings = settings_for(tmp_path, server)
        result = HARVESTERS["pubmed"](http, settings, "peer[tiab]", date(2022, 6, 1),
                                      date(2022, 6, 30), lambda raw: None)
    assert [r.pmid for r in result.records] == ["35726897"]
    esearch, efetch = server.requests
    # NCBI's 10 requests/s with an API key: starts 0.1 s apart (arrivals jitter by a few ms;
    # without the throttle the gap is about 1 ms).
    assert efetch["at"] - esearch["at"] >= 0.07


# --------------------------------------------------------------------------- Crossref

WIDGET = [json.loads((FIXTURES / "crossref" / f"works_query_widget_cursor_page{n}.json").read_text())
          for n in (1, 2, 3)]
WIDGET_DOIS = [item["DOI"].lower() for page in WIDGET for item in page["message"]["items"]]


class FakeCrossref:
    """/works replaying the recorded widget chain: '*' -> page 1 -> page 2 -> page 3 -> empty.

    Crossref's cursor string stays the same along a chain (the recorded pages all carry the same
    ``next-cursor``): the server remembers how far each cursor has got, as the real one does.
    """

    def __init__(self, fail_first: dict[str, tuple[int, str, str]] | None = None):
        self.position: dict[str, int] = {}
        self.fail_first = dict(fail_first or {})

    def __call__(self, request):
        assert request["path"] == "/works"
        cursor = request["params"]["cursor"]
        if cursor in self.fail_first:
            return self.fail_first.pop(cursor) + ({},)
        index = 0 if cursor == "*" else self.position.get(cursor, len(WIDGET))
        if index < len(WIDGET):
            page = WIDGET[index]
            self.position[page["message"]["next-cursor"]] = index + 1
        else:  # past the recorded chain: a real empty last page
            page = {"status": "ok", "message-type": "work-list", "message": {
                "total-results": 454, "items": [], "items-per-page": 20, "next-cursor": cursor}}
        headers = {"x-rate-limit-limit": "50", "x-rate-limit-interval": "1s"}
        return 200, "application/json", json.dumps(page), headers


def test_crossref_harvest_pages_with_the_cursor_until_a_short_page(tmp_path):
    server = Server(FakeCrossref())
    archived = []
    with server.running():
        settings = settings_for(tmp_path, server)
        result = crossref.harvest(fast_client("crossref", settings), settings, ["widget"],
                                  date(2024, 5, 1), date(2024, 5, 31), archived.append,
                                  max_per_query=1000, rows=20)
    cursors = [r["params"]["cursor"] for r in server.requests]
    assert cursors == ["*"] + [p["message"]["next-cursor"] for p in WIDGET]
    first = server.requests[0]["params"]
    assert first["query.bibliographic"] == "widget" and first["rows"] == "20"
    assert first["filter"] == ("type:journal-article,from-pub-date:2010-01-01,"
                               "from-created-date:2024-05-01,until-created-date:2024-05-31")
    assert first["mailto"] == "maint@example.org"
    assert [r.doi for r in result.records] == list(dict.fromkeys(WIDGET_DOIS))
    [stats] = result.summary["queries"]
    assert (stats["pages"], stats["received"], stats["total_results"]) == (4, 60, 454)
    assert stats["last_score"] == WIDGET[2]["message"]["items"][-1]["score"]
    assert len(archived) == 4


def test_crossref_harvest_stops_at_max_per_query_without_asking_for_more(tmp_path):
    server = Server(FakeCrossref())
    with server.running():
        settings = settings_for(tmp_path, server)
        result = crossref.harvest(fast_client("crossref", settings), settings, ["widget"],
                                  date(2024, 5, 1), date(2024, 5, 31), lambda raw: None,
                                  max_per_query=30, rows=20)
    assert len(server.requests) == 2
    assert [r.doi for r in result.records] == list(dict.fromkeys(WIDGET_DOIS[:30]))
    assert result.summary["queries"][0]["received"] == 30


def test_crossref_queries_run_in_turn_and_union_by_doi(tmp_path):
    server = Server(FakeCrossref())
    with server.running():
        settings = settings_for(tmp_path, server)
        result = crossref.harvest(fast_client("crossref", settings), settings,
                                  ["widget", "peer support worker mental health"],
                                  date(2024, 5, 1), date(2024, 5, 31), lambda raw: None,
                                  max_per_query=40, rows=20)
    first, second = result.summary["queries"]
    assert first["new"] == len(set(WIDGET_DOIS[:40])) and second["new"] == 0
    assert result.summary["unique"] == len(result.records) == len(set(WIDGET_DOIS[:40]))
    asked = [r["params"]["query.bibliographic"] for r in server.requests]
    assert asked == ["widget"] * 2 + ["peer support worker mental health"] * 2


def test_crossref_expired_cursor_restarts_the_query_once(tmp_path):
    invalid = (FIXTURES / "crossref" / "error_works_invalid_cursor.json").read_text()
    second_cursor = WIDGET[0]["message"]["next-cursor"]
    server = Server(FakeCrossref(fail_first={second_cursor: (404, "application/json", invalid)}))
    with server.running():
        settings = settings_for(tmp_path, server)
        result = crossref.harvest(fast_client("crossref", settings), settings, ["widget"],
                                  date(2024, 5, 1), date(2024, 5, 31), lambda raw: None,
                                  max_per_query=40, rows=20)
    cursors = [r["params"]["cursor"] for r in server.requests]
    assert cursors == ["*", second_cursor, "*", second_cursor]
    assert result.summary["queries"][0]["cursor_restarts"] == 1
    assert [r.doi for r in result.records] == list(dict.fromkeys(WIDGET_DOIS[:40]))


def test_crossref_504_html_is_retried_then_succeeds(tmp_path):
    html = (FIXTURES / "crossref" / "error_504_gateway_timeout.html").read_text()
    server = Server(FakeCrossref(fail_first={"*": (504, "text/html", html)}))
    archived = []
    with server.running():
        settings = settings_for(tmp_path, server)
        result = crossref.harvest(fast_client("crossref", settings), settings, ["widget"],
                                  date(2024, 5, 1), date(2024, 5, 31), archived.append,
                                  max_per_query=20, rows=20)
    assert [r.status for r in archived] == [504, 200]
    assert len(result.records) == len(set(WIDGET_DOIS[:20]))


def test_crossref_504_that_persists_is_a_transient_error(tmp_path):
    html = (FIXTURES / "crossref" / "error_504_gateway_timeout.html").read_text()

    def always_504(request):
        return 504, "text/html", html, {}

    server = Server(always_504)
    with server.running():
        settings = settings_for(tmp_path, server)
        with pytest.raises(TransientSourceError, match="504 Gateway Time-out.*gave up after 3 attempts"):
            crossref.harvest(fast_client("crossref", settings), settings, ["widget"],
                             date(2024, 5, 1), date(2024, 5, 31), lambda raw: None)
    assert len(server.requests) == 3


def test_crossref_rate_limit_headers_tighten_the_throttle(tmp_path):
    server = Server(FakeCrossref())
    with server.running():
        settings = settings_for(tmp_path, server)
        client = fast_client("crossref", settings)
        client.throttle = Throttle(100.0)
        crossref.harvest(client, settings, ["widget"], date(2024, 5, 1), date(2024, 5, 31),
                         lambda raw: None, max_per_query=20, rows=20)
    assert client.throttle.rate == 50.0
