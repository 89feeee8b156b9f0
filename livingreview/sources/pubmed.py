"""PubMed through NCBI E-utilities: ESearch on the history server, then EFetch in batches.

Requests are built by pure functions (``build_esearch_request``, ``build_efetch_request``) and
sent by ``SourceClient``; ``harvest`` strings them together for one window of Create Date
(``[crdt]``), splitting the window whenever a search matches more than ESearch can hand over
(9,999 records). ``parse_esearch`` and ``parse_efetch`` read the XML with lxml.

Facts this module relies on (``seed/search-strategy.md`` (b)):

* at most 3 requests/s without an API key, 10/s with one; send ``tool`` and ``email``;
* ESearch by POST (the review's query is long), ``usehistory=y``; EFetch by WebEnv/query_key;
* errors can arrive inside a 200 body (``<ERROR>``, ``<ErrorList>``);
* the monthly window goes in the term as ``("YYYY/MM/DD"[crdt] : "YYYY/MM/DD"[crdt])``;
* a second pass can window by MeSH Date (``[mhda]``, the ``PubStatus="medline"`` history date):
  records are created without MeSH and indexed weeks later, so hits that need the query's MeSH
  lines only match after the month they were created in (search-strategy.md, "MeSH lag");
* Create Date is the ``PubMedPubDate`` whose ``PubStatus`` is ``entrez`` (MEDLINE format prints
  it as ``CRDT``); the ``pubmed`` status date is the Entrez Date (``EDAT``), which is reset for
  records added late, so ``created_date`` prefers ``entrez``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from lxml import etree

from livingreview.config import Settings
from livingreview.errors import ConfigError, InputError, PermanentSourceError, TransientSourceError
from livingreview.records import Record
from livingreview.sources.client import (
    Archive,
    RawResponse,
    RetryPolicy,
    SourceClient,
    make_request,
    redact_request,
)
from livingreview.harvest.fetching import (
    CountingArchive,
    HarvestResult,
    check_window,
    clean_query,
    parse_or_fail,
    source_client,
)

log = logging.getLogger("livingreview.sources.pubmed")

SOURCE = "pubmed"
# ESearch hands over at most the first 9,999 records of a PubMed search (retstart above 9,998 is
# refused), so a window with more hits is split rather than paged.
MAX_RETRIEVABLE = 9999
DEFAULT_BATCH_SIZE = 200
RATE_WITHOUT_KEY = 3.0
RATE_WITH_KEY = 10.0


def rate_for(settings: Settings) -> float:
    """NCBI's request ceiling for these settings: 10/s with an API key, 3/s without."""
    return RATE_WITH_KEY if settings.ncbi_api_key else RATE_WITHOUT_KEY


# --------------------------------------------------------------------------- request builders


# The date fields a harvest window can be on: Create Date, and MeSH Date for the late-indexing pass.
DATE_FIELDS = {"crdt": "Create Date", "mhda": "MeSH Date"}


def _check_date_field(date_field: str) -> None:
    if date_field not in DATE_FIELDS:
        raise ConfigError(
            f"pubmed: date field {date_field!r} is not one the harvest windows on. Fix: use "
            f"{' or '.join(repr(f) for f in DATE_FIELDS)} in review.toml [sources.pubmed] date_fields")


def date_window(start: date, end: date, date_field: str = "crdt") -> str:
    """The clause for ``start``..``end`` inclusive on ``date_field``, in PubMed's range syntax."""
    check_window(SOURCE, start, end)
    _check_date_field(date_field)
    return f'("{start:%Y/%m/%d}"[{date_field}] : "{end:%Y/%m/%d}"[{date_field}])'


def windowed_term(query: str, start: date | None = None, end: date | None = None,
                  date_field: str = "crdt") -> str:
    """The query, whitespace-collapsed, ANDed with the date window when one is given.

    The query is parenthesised so that a top-level OR in it cannot swallow the window.
    """
    term = clean_query(SOURCE, query)
    if (start is None) != (end is None):
        raise ConfigError("pubmed: a window needs both a start and an end date. Fix: pass both")
    if start is None:
        return term
    return f"({term}) AND {date_window(start, end, date_field)}"


def _identity(settings: Settings) -> list[tuple[str, str]]:
    params = [("tool", settings.tool_name), ("email", settings.contact_email)]
    if settings.ncbi_api_key:
        params.append(("api_key", settings.ncbi_api_key.reveal()))
    return params


def _check_count(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"pubmed: {name}={value!r} is outside {low}..{high}. "
                          f"Fix: choose a {name} between {low} and {high}")


def build_esearch_request(settings: Settings, query: str, start: date | None = None,
                          end: date | None = None, *, retmax: int = MAX_RETRIEVABLE,
                          retstart: int = 0, date_field: str = "crdt") -> httpx.Request:
    """ESearch by POST (``{base}/esearch.fcgi``), results kept on the history server.

    Form fields: ``db=pubmed, term, usehistory=y, retmode=xml, retstart, retmax, tool, email``
    and ``api_key`` when one is configured. ``term`` carries the window on ``date_field``.
    """
    term = windowed_term(query, start, end, date_field)
    _check_count("retmax", retmax, 0, 10000)
    _check_count("retstart", retstart, 0, MAX_RETRIEVABLE - 1)
    data = [("db", "pubmed"), ("term", term), ("usehistory", "y"), ("retmode", "xml"),
            ("retstart", str(retstart)), ("retmax", str(retmax))] + _identity(settings)
    return make_request("POST", f"{settings.pubmed_base_url.rstrip('/')}/esearch.fcgi", data=data,
                        contact_email=settings.contact_email, timeout=settings.http_timeout)


def build_efetch_request(settings: Settings, webenv: str, query_key: str | int, *,
                         retstart: int = 0, retmax: int = DEFAULT_BATCH_SIZE) -> httpx.Request:
    """EFetch by GET (``{base}/efetch.fcgi``) of one batch of a history-server result set."""
    if not webenv or not str(query_key).strip():
        raise ConfigError("pubmed: EFetch needs the WebEnv and query_key of an ESearch. "
                          "Fix: run ESearch with usehistory=y first")
    _check_count("retmax", retmax, 1, 10000)
    _check_count("retstart", retstart, 0, MAX_RETRIEVABLE - 1)
    params = [("db", "pubmed"), ("query_key", str(query_key)), ("WebEnv", webenv),
              ("retstart", str(retstart)), ("retmax", str(retmax)), ("retmode", "xml")]
    params += _identity(settings)
    return make_request("GET", f"{settings.pubmed_base_url.rstrip('/')}/efetch.fcgi", params=params,
                        contact_email=settings.contact_email, timeout=settings.http_timeout)


# --------------------------------------------------------------------------- XML helpers

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def _parse_xml(text: str | bytes, origin: str, expected: str) -> etree._Element:
    data = text.encode("utf-8") if isinstance(text, str) else text
    data = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not data:
        raise InputError(origin, "start of body", "the body is empty",
                         f"expected {expected} XML; check the request")
    if not data.startswith(b"<"):
        kind = "JSON" if data[:1] in (b"{", b"[") else "plain text"
        raise InputError(origin, "start of body", f"this is {kind}, not XML ({_excerpt(data)})",
                         f"expected {expected} XML; ask E-utilities for retmode=xml")
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise InputError(origin, f"line {exc.lineno}, column {exc.position[1]}",
                         f"not well-formed XML ({exc.msg})",
                         f"expected {expected} XML; the file may be truncated or not XML") from None


def _excerpt(data: bytes, limit: int = 80) -> str:
    text = re.sub(r"\s+", " ", data.decode("utf-8", errors="replace")).strip()
    return repr(text if len(text) <= limit else text[:limit] + "...")


_MATHML = "{http://www.w3.org/1998/Math/MathML}"


def _pieces(element: etree._Element):
    """Text of ``element`` and its descendants in document order, like ``itertext``, except that
    whitespace between MathML elements is dropped: it is layout, not content (MathML 3, 2.1.7),
    and in a pretty-printed record a formula would otherwise read "V . O 2 m a x"."""
    tag = element.tag if isinstance(element.tag, str) else ""
    in_math = tag.startswith(_MATHML)
    keep_blank = not in_math or tag == f"{_MATHML}mtext"
    if element.text and (keep_blank or element.text.strip()):
        yield element.text
    for child in element:
        if isinstance(child.tag, str):
            yield from _pieces(child)
        if child.tail and (not in_math or child.tail.strip()):
            yield child.tail


def _text(element: etree._Element | None) -> str | None:
    """All text inside ``element`` (inline HTML and MathML flattened), whitespace-collapsed."""
    if element is None:
        return None
    text = re.sub(r"\s+", " ", "".join(_pieces(element))).strip()
    return text or None


def _errors(root: etree._Element) -> list[str]:
    return [t for t in (_text(e) for e in root.iter("ERROR")) if t]


# --------------------------------------------------------------------------- ESearch

# Element names in eSearch_020511.dtd -> the names E-utilities use in its JSON output, which is
# how search-strategy.md and NCBI's documentation refer to them.
_LIST_KEYS = {
    "PhraseNotFound": "phrasesnotfound",
    "FieldNotFound": "fieldsnotfound",
    "PhraseIgnored": "phrasesignored",
    "QuotedPhraseNotFound": "quotedphrasesnotfound",
    "OutputMessage": "outputmessages",
}


@dataclass
class ESearchResult:
    """What ESearch said about one search: the count, where the results are kept, and how PubMed
    understood the query (``querytranslation``, ``errors``, ``warnings``: log these every run)."""

    count: int
    retmax: int
    retstart: int
    ids: list[str] = field(default_factory=list)
    webenv: str | None = None
    query_key: str | None = None
    querytranslation: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("ids")
        return data


def _grouped(element: etree._Element | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if element is None:
        return out
    for child in element:
        if not isinstance(child.tag, str):
            continue
        key = _LIST_KEYS.get(child.tag, child.tag.lower())
        text = _text(child)
        if text:
            out.setdefault(key, []).append(text)
    return out


def parse_esearch(xml_text: str | bytes, origin: str = "ESearch response") -> ESearchResult:
    """Read an ESearch XML result; an ``<ERROR>`` body raises ``InputError`` with NCBI's words.

    ``errors``/``warnings`` keep ``ErrorList``/``WarningList`` grouped by kind
    (``phrasesnotfound``, ``fieldsnotfound``, ``quotedphrasesnotfound``, ``phrasesignored``,
    ``outputmessages``). Deciding which of them is fatal is ``esearch_problem``'s job.
    """
    root = _parse_xml(xml_text, origin, "ESearch (eSearchResult)")
    if root.tag != "eSearchResult":
        raise InputError(origin, f"root element <{root.tag}>",
                         "this is not an ESearch result (expected <eSearchResult>)",
                         "pass the body of an esearch.fcgi call")
    errors = _errors(root)
    if errors:
        raise InputError(origin, "<ERROR>", f"E-utilities reported: {'; '.join(errors)}",
                         "correct the search term or parameters named in the message")

    def number(tag: str) -> int:
        value = root.findtext(tag)
        try:
            return int(value) if value is not None else 0
        except ValueError:
            raise InputError(origin, f"<{tag}>", f"not a number: {value!r}",
                             "the response is damaged; fetch it again") from None

    return ESearchResult(
        count=number("Count"),
        retmax=number("RetMax"),
        retstart=number("RetStart"),
        ids=[i.text.strip() for i in root.findall("IdList/Id") if i.text and i.text.strip()],
        webenv=(root.findtext("WebEnv") or "").strip() or None,
        query_key=(root.findtext("QueryKey") or "").strip() or None,
        querytranslation=_text(root.find("QueryTranslation")),
        errors=_grouped(root.find("ErrorList")),
        warnings=_grouped(root.find("WarningList")),
    )


def esearch_problem(result: ESearchResult) -> str | None:
    """Why this ESearch result cannot be used, or None.

    A phrase PubMed does not know (``phrasesnotfound``) is not fatal: PubMed ran the rest of the
    query, and for a 0-hit search it only means zero results. It is kept in the summary so the
    flow can alert. Any other ``ErrorList`` entry (e.g. an unknown field tag) means the query was
    not run as written, so the harvest stops.
    """
    fatal = {k: v for k, v in result.errors.items() if k != "phrasesnotfound"}
    if fatal:
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in fatal.items())
        return f"ESearch could not run the query as written ({detail})"
    if result.count > 0 and (not result.webenv or not result.query_key):
        return "ESearch found records but kept no history (no WebEnv/QueryKey); usehistory=y is required"
    return None


# --------------------------------------------------------------------------- EFetch records

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


def _year(date_element: etree._Element | None) -> int | None:
    """The year of any PubMed date form: Year (with Month/Day or Season) or MedlineDate."""
    if date_element is None:
        return None
    year = (date_element.findtext("Year") or "").strip()
    if year.isdigit():
        return int(year)
    # MedlineDate is free text such as "1998 Dec-1999 Jan" or "2000 Spring": the first year wins.
    match = re.search(r"\b(1[5-9]\d\d|2\d\d\d)\b", date_element.findtext("MedlineDate") or "")
    return int(match.group(1)) if match else None


def _iso_date(date_element: etree._Element | None) -> str | None:
    if date_element is None:
        return None
    year = (date_element.findtext("Year") or "").strip()
    if not year.isdigit():
        return None
    month_text = (date_element.findtext("Month") or "1").strip().lower()
    month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text[:3], 1)
    day_text = (date_element.findtext("Day") or "1").strip()
    day = int(day_text) if day_text.isdigit() else 1
    try:
        return date(int(year), month, day).isoformat()
    except ValueError:
        return None


def _created_date(history: etree._Element | None) -> str | None:
    if history is None:
        return None
    by_status = {d.get("PubStatus"): d for d in history.findall("PubMedPubDate")}
    for status in ("entrez", "pubmed"):
        iso = _iso_date(by_status.get(status))
        if iso:
            return iso
    return None


def _author(author: etree._Element) -> str | None:
    collective = _text(author.find("CollectiveName"))
    if collective:
        return collective
    last = _text(author.find("LastName"))
    given = _text(author.find("ForeName")) or _text(author.find("Initials"))
    if last and given:
        return f"{last}, {given}"
    return last


def _authors(lists: list[etree._Element]) -> list[str]:
    for author_list in lists:
        if author_list.get("Type", "authors") != "authors":
            continue  # editors of a book are not its chapter's authors
        names = [_author(a) for a in author_list.findall("Author") if a.get("ValidYN", "Y") != "N"]
        return [n for n in names if n]
    return []


def _abstract(abstract: etree._Element | None) -> str | None:
    if abstract is None:
        return None
    parts = []
    for section in abstract.findall("AbstractText"):
        text = _text(section)
        if not text:
            continue
        label = (section.get("Label") or "").strip()
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts) or None


def _pages(pagination: etree._Element | None) -> str | None:
    if pagination is None:
        return None
    pages = _text(pagination.find("MedlinePgn"))
    if pages:
        return pages
    start, end = _text(pagination.find("StartPage")), _text(pagination.find("EndPage"))
    if start and end:
        return f"{start}-{end}"
    return start


def _language(elements: list[etree._Element]) -> str | None:
    codes = [t for t in (_text(e) for e in elements) if t]
    # An article listed in English and another language has English text, which is what the
    # review's English-only criterion asks for.
    if "eng" in codes:
        return "eng"
    return codes[0] if codes else None


def _unique(values) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)


def _article_ids(*lists: etree._Element | None) -> dict[str, str]:
    ids: dict[str, str] = {}
    for id_list in lists:
        if id_list is None:
            continue
        for item in id_list.findall("ArticleId"):
            kind, value = item.get("IdType"), _text(item)
            if kind and value and kind not in ids:
                ids[kind] = value
    return ids


def _elocation_doi(article: etree._Element) -> str | None:
    for location in article.findall("ELocationID"):
        if location.get("EIdType") == "doi" and location.get("ValidYN", "Y") != "N":
            return _text(location)
    return None


def _pubmed_url(pmid: str | None) -> str | None:
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else None


def _journal_article(node: etree._Element, origin: str, position: int) -> Record:
    citation = node.find("MedlineCitation")
    article = citation.find("Article") if citation is not None else None
    pmid = _text(citation.find("PMID")) if citation is not None else None
    if article is None or not pmid:
        raise InputError(origin, f"PubmedArticle #{position}", "it has no MedlineCitation/Article "
                         "or no PMID", "the record is incomplete; fetch it again")
    data = node.find("PubmedData")
    journal = article.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    # The record's own identifiers are under PubmedData; ReferenceList entries carry their own
    # ArticleIdList, so never search ".//ArticleId" over the whole article.
    ids = _article_ids(data.find("ArticleIdList") if data is not None else None)
    year = _year(issue.find("PubDate") if issue is not None else None)
    if year is None:
        year = _year(article.find("ArticleDate"))
    return Record(
        source=SOURCE,
        source_id=pmid,
        title=_text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle")),
        abstract=_abstract(article.find("Abstract")),
        authors=_authors(article.findall("AuthorList")),
        year=year,
        journal=_text(journal.find("Title")) if journal is not None else None,
        volume=_text(issue.find("Volume")) if issue is not None else None,
        issue=_text(issue.find("Issue")) if issue is not None else None,
        pages=_pages(article.find("Pagination")),
        doi=ids.get("doi") or _elocation_doi(article),
        pmid=pmid,
        pmcid=ids.get("pmc"),
        publication_types=_unique(_text(t) for t in article.findall("PublicationTypeList/PublicationType")),
        language=_language(article.findall("Language")),
        keywords=_unique(_text(k) for k in citation.findall("KeywordList/Keyword")),
        mesh_terms=_unique(_text(d) for d in citation.findall("MeshHeadingList/MeshHeading/DescriptorName")),
        created_date=_created_date(data.find("History") if data is not None else None),
        url=_pubmed_url(pmid),
    )


def _book_article(node: etree._Element, origin: str, position: int) -> Record:
    document = node.find("BookDocument")
    pmid = _text(document.find("PMID")) if document is not None else None
    if document is None or not pmid:
        raise InputError(origin, f"PubmedBookArticle #{position}", "it has no BookDocument or no PMID",
                         "the record is incomplete; fetch it again")
    book = document.find("Book")
    data = node.find("PubmedBookData")
    ids = _article_ids(document.find("ArticleIdList"),
                       data.find("ArticleIdList") if data is not None else None)
    chapter_title = _text(document.find("ArticleTitle"))
    book_title = _text(book.find("BookTitle")) if book is not None else None
    year = None
    if book is not None:
        year = _year(book.find("PubDate")) or _year(book.find("BeginningDate"))
    author_lists = document.findall("AuthorList") + (book.findall("AuthorList") if book is not None else [])
    return Record(
        source=SOURCE,
        source_id=pmid,
        title=chapter_title or book_title or _text(document.find("VernacularTitle")),
        abstract=_abstract(document.find("Abstract")),
        authors=_authors(author_lists),
        year=year,
        # A chapter's container is its book, which is what a reference list prints there.
        journal=book_title if chapter_title else None,
        volume=_text(book.find("Volume")) if book is not None else None,
        doi=ids.get("doi"),
        pmid=pmid,
        pmcid=ids.get("pmc"),
        publication_types=_unique(_text(t) for t in document.findall("PublicationType")),
        language=_language(document.findall("Language")),
        keywords=_unique(_text(k) for k in document.findall("KeywordList/Keyword")),
        created_date=_created_date(data.find("History") if data is not None else None),
        url=_pubmed_url(pmid),
    )


def parse_efetch(xml_text: str | bytes, origin: str = "EFetch response") -> list[Record]:
    """Records from an EFetch ``PubmedArticleSet`` (journal articles and book chapters).

    An empty set gives ``[]`` (NCBI's answer for PMIDs it cannot return). Anything else (an
    ``<ERROR>`` body, HTML, ASN.1, an ESearch result) raises ``InputError`` naming ``origin``.
    """
    root = _parse_xml(xml_text, origin, "EFetch (PubmedArticleSet)")
    errors = _errors(root)
    if errors:
        raise InputError(origin, "<ERROR>", f"E-utilities reported: {'; '.join(errors)}",
                         "correct the request named in the message (WebEnv may have expired: "
                         "run the search again)")
    if root.tag != "PubmedArticleSet":
        hint = ("this is an ESearch result; it lists PMIDs but holds no records"
                if root.tag == "eSearchResult" else
                f"the root element is <{root.tag}>, not <PubmedArticleSet>")
        raise InputError(origin, f"root element <{root.tag}>", hint,
                         "pass an efetch.fcgi response fetched with db=pubmed&retmode=xml")
    records = []
    for position, node in enumerate(root, 1):
        if node.tag == "PubmedArticle":
            records.append(_journal_article(node, origin, position))
        elif node.tag == "PubmedBookArticle":
            records.append(_book_article(node, origin, position))
    return records


def parse(text: str | bytes, origin: str = "PubMed response") -> list[Record]:
    """Records from any E-utilities XML body: EFetch gives records, ESearch/EPost give none.

    ESearch and EPost results hold PMIDs only (the records come from EFetch), so they parse to
    ``[]``; an ``<ERROR>`` in any of them raises ``InputError``.
    """
    root = _parse_xml(text, origin, "E-utilities")
    if root.tag in ("eSearchResult", "ePostResult"):
        errors = _errors(root)
        if errors:
            raise InputError(origin, "<ERROR>", f"E-utilities reported: {'; '.join(errors)}",
                             "correct the request named in the message")
        return []
    return parse_efetch(text, origin)


# --------------------------------------------------------------------------- sending


def check_body(raw: RawResponse) -> None:
    """Errors E-utilities reports with HTTP 200: ``<ERROR>`` elements and JSON error objects.

    A JSON ``{"error": "API rate limit exceeded"}`` is transient (the request is retried); any
    other reported error is permanent. Bodies that are not XML at all are left to the parser.
    """
    body = raw.body.lstrip()
    if body.startswith("{"):
        try:
            message = str(json.loads(body).get("error", ""))
        except (ValueError, AttributeError):
            message = ""
        if message:
            error = TransientSourceError if "rate limit" in message.lower() else PermanentSourceError
            raise error(f"{raw.source}: {raw.method} {raw.url} returned HTTP {raw.status} with "
                        f"error {message!r}. Fix: "
                        + ("the run slows down and retries" if error is TransientSourceError
                           else "correct the request named in the message"))
    match = re.search(r"<ERROR>(.*?)</ERROR>", body, re.S)
    if match and "<PubmedArticle" not in body[:2000]:
        message = re.sub(r"\s+", " ", match.group(1)).strip()
        raise PermanentSourceError(
            f"{raw.source}: {raw.method} {raw.url} returned HTTP {raw.status} with an error "
            f"in the body: {message!r}. Fix: correct the search term or parameters named in "
            "the message (retrying will not help)")


def _send(client: SourceClient, request: httpx.Request, archive: Archive) -> RawResponse:
    return client.send(request, archive, check=check_body)


def _search(client: SourceClient, settings: Settings, query: str, start: date, end: date,
            archive: Archive, date_field: str) -> ESearchResult:
    request = build_esearch_request(settings, query, start, end, date_field=date_field)
    raw = _send(client, request, archive)
    safe = redact_request(request, client.secrets)
    result = parse_or_fail(parse_esearch, raw, safe, "ESearch result")
    problem = esearch_problem(result)
    if problem:
        raise PermanentSourceError(
            f"pubmed: {problem} for {start.isoformat()}..{end.isoformat()}; "
            f"querytranslation: {result.querytranslation!r}. Fix: correct the PubMed query in "
            "review.toml (check field tags and MeSH headings)",
            request=safe, response=httpx.Response(raw.status, text=raw.body, request=safe))
    return result


def _windows(client: SourceClient, settings: Settings, query: str, start: date, end: date,
             archive: Archive, limit: int, splits: list[str], date_field: str):
    """Yield (start, end, ESearchResult) for sub-windows each holding at most ``limit`` records."""
    result = _search(client, settings, query, start, end, archive, date_field)
    if result.count <= limit:
        yield start, end, result
        return
    if start == end:
        raise PermanentSourceError(
            f"pubmed: {result.count} records have {DATE_FIELDS[date_field]} {start.isoformat()}, more "
            f"than ESearch can hand over ({limit}). Fix: narrow the PubMed query, or harvest "
            "this day with EDirect")
    middle = start + timedelta(days=(end - start).days // 2)
    splits.append(f"{start.isoformat()}..{end.isoformat()} ({result.count} records) split at "
                  f"{middle.isoformat()}")
    log.info("pubmed: %s", splits[-1])
    yield from _windows(client, settings, query, start, middle, archive, limit, splits, date_field)
    yield from _windows(client, settings, query, middle + timedelta(days=1), end, archive, limit,
                        splits, date_field)


def search(client: httpx.Client | SourceClient, settings: Settings, term: str, archive: Archive,
           *, retmax: int = DEFAULT_BATCH_SIZE, fetch: bool = False,
           retry: RetryPolicy | None = None) -> tuple[ESearchResult, list[Record]]:
    """One ESearch of ``term`` without a date window (look-ups by ``[uid]`` or ``[aid]``), and
    with ``fetch`` the matching records by EFetch from the history server."""
    sender = source_client(client, SOURCE, rate_for(settings), settings, retry)
    request = build_esearch_request(settings, term, retmax=retmax)
    raw = _send(sender, request, archive)
    result = parse_or_fail(parse_esearch, raw, redact_request(request, sender.secrets),
                           "ESearch result")
    records: list[Record] = []
    if fetch and result.count and result.webenv:
        request = build_efetch_request(settings, result.webenv, result.query_key,
                                       retmax=min(max(result.count, 1), 10000))
        raw = _send(sender, request, archive)
        records = parse_or_fail(parse_efetch, raw, redact_request(request, sender.secrets),
                                "EFetch batch")
    return result, records


def count(client: httpx.Client | SourceClient, settings: Settings, query: str, start: date,
          end: date, archive: Archive, *, date_field: str = "crdt",
          retry: RetryPolicy | None = None) -> int:
    """How many records ``query`` matches in the window (one ESearch, ``retmax=0``)."""
    check_window(SOURCE, start, end)
    _check_date_field(date_field)
    sender = source_client(client, SOURCE, rate_for(settings), settings, retry)
    request = build_esearch_request(settings, query, start, end, retmax=0, date_field=date_field)
    raw = _send(sender, request, archive)
    return parse_or_fail(parse_esearch, raw, redact_request(request, sender.secrets),
                         "ESearch count").count


def harvest(client: httpx.Client | SourceClient, settings: Settings, query: str, start: date,
            end: date, archive: Archive, *, batch_size: int = DEFAULT_BATCH_SIZE,
            max_per_search: int = MAX_RETRIEVABLE, retry: RetryPolicy | None = None,
            date_field: str = "crdt") -> HarvestResult:
    """Every PubMed record matching ``query`` whose ``date_field`` date (Create Date by default,
    ``mhda`` for MeSH Date) lies between ``start`` and ``end`` (inclusive).

    ESearch (POST, history server) per window, splitting any window whose count exceeds
    ``max_per_search`` into halves until each fits; then EFetch in batches of ``batch_size``.
    Every response goes to ``archive`` before it is parsed.

    ``summary`` keys: ``source``, ``date_field``, ``start``, ``end``, ``querytranslation`` (first window),
    ``errors`` and ``warnings`` (merged over windows), ``count`` (sum over windows), ``fetched``,
    ``windows`` (per window: ``start``, ``end``, ``count``, ``fetched``, ``querytranslation``,
    ``errors``, ``warnings``), ``splits`` (why windows were split), ``missing_pmids`` (listed by
    ESearch but not returned by EFetch), ``requests``.
    """
    check_window(SOURCE, start, end)
    _check_date_field(date_field)
    _check_count("batch_size", batch_size, 1, 10000)
    _check_count("max_per_search", max_per_search, 1, MAX_RETRIEVABLE)
    sender = source_client(client, SOURCE, rate_for(settings), settings, retry)
    counted = CountingArchive(archive)
    records: dict[str, Record] = {}
    windows: list[dict[str, Any]] = []
    splits: list[str] = []
    missing: list[str] = []
    for w_start, w_end, result in _windows(sender, settings, query, start, end, counted,
                                           max_per_search, splits, date_field):
        fetched: set[str] = set()
        for retstart in range(0, result.count, batch_size):
            request = build_efetch_request(settings, result.webenv, result.query_key,
                                           retstart=retstart, retmax=batch_size)
            raw = _send(sender, request, counted)
            batch = parse_or_fail(parse_efetch, raw, redact_request(request, sender.secrets),
                                  "EFetch batch")
            for record in batch:
                fetched.add(record.pmid)
                records.setdefault(record.pmid, record)
        window_missing = [pmid for pmid in result.ids if pmid not in fetched]
        if window_missing:
            log.warning("pubmed: %d PMIDs listed by ESearch were not returned by EFetch for "
                        "%s..%s: %s", len(window_missing), w_start, w_end, window_missing[:10])
        missing += window_missing
        if result.errors or result.warnings:
            log.warning("pubmed: ESearch for %s..%s reported errors %s, warnings %s",
                        w_start, w_end, result.errors, result.warnings)
        windows.append({"start": w_start.isoformat(), "end": w_end.isoformat(),
                        "count": result.count, "fetched": len(fetched),
                        "querytranslation": result.querytranslation,
                        "errors": result.errors, "warnings": result.warnings})
    merged_errors: dict[str, list[str]] = {}
    merged_warnings: dict[str, list[str]] = {}
    for window in windows:
        for merged, found in ((merged_errors, window["errors"]), (merged_warnings, window["warnings"])):
            for kind, items in found.items():
                merged.setdefault(kind, [])
                merged[kind] += [i for i in items if i not in merged[kind]]
    summary = {
        "source": SOURCE,
        "date_field": date_field,
        "start": start.isoformat(),
        "end": end.isoformat(),
        # How PubMed read the query (first window; the others differ only in their dates) and
        # every error/warning it reported: log them each run and alert when they change.
        "querytranslation": windows[0]["querytranslation"] if windows else None,
        "errors": merged_errors,
        "warnings": merged_warnings,
        "count": sum(w["count"] for w in windows),
        "fetched": len(records),
        "windows": windows,
        "splits": splits,
        "missing_pmids": missing,
        "requests": counted.count,
    }
    return HarvestResult(source=SOURCE, records=list(records.values()), summary=summary,
                         responses=counted.count)
