"""ESearch and EFetch over a scenario's recorded PubMed articles.

A look-up term, one that lists PMIDs (``123[uid]``) or DOIs (``"10.x/y"[aid]``), is evaluated in
full over the listed articles (``pubmed_query``: [tiab], MeSH by name without explosion, [la],
[dp]). Any other search term is taken as it comes: only its date windows decide which PMIDs
match, on Create
Date ``("2024/05/01"[crdt] : "2024/05/31"[crdt])`` (also ``2024/05/01:2024/05/31[crdt]``, a single
``"2024/05"[crdt]``, and the long tag ``[Create Date]``) and on MeSH Date (``[mhda]``,
``[MeSH Date]``: the article's ``PubStatus="medline"`` history date; an article without one is not
indexed yet and matches no MeSH Date window). Several windows in one term are ANDed, as the
harvest writes them. The rest of the term is not interpreted, only echoed in
``QueryTranslation``. A term that cannot be a PubMed query (unbalanced brackets or quotes, an
impossible date, a ``[crdt]`` or ``[mhda]`` tag with no date) gets the recorded zero-hit ``ErrorList`` answer.

History: ``usehistory=y`` stores the PMID list under a new ``WebEnv`` (or appends to the one the
request names) and returns its ``QueryKey``; EFetch reads slices of it with ``retstart/retmax``.
"""

from __future__ import annotations

import calendar
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import escape

from starlette.responses import PlainTextResponse, Response

from livingreview.replay import bodies, pubmed_query
from livingreview.replay.pubmed_query import UnsupportedTerm
from livingreview.replay.scenario import DateRange, RecordedArticle, Scenario

XML = "text/xml; charset=UTF-8"
PUBMED = "pubmed"
ESEARCH_RETMAX_DEFAULT = 20
EFETCH_RETMAX_DEFAULT = 20
RETMAX_LIMIT = 10_000  # E-utilities' documented maximum per request

_DAY = r"(\d{4})(?:/(\d{1,2})(?:/(\d{1,2}))?)?"
# The date fields the replay answers for, short and long tags: Create Date and MeSH Date.
_TAGS = {"crdt": r"\[(?:crdt|create\s+date)\]", "mhda": r"\[(?:mhda|mesh\s+date)\]"}
_PATTERNS = {
    name: (re.compile(rf'"?{_DAY}"?\s*{tag}\s*:\s*"?{_DAY}"?\s*{tag}', re.IGNORECASE),
           re.compile(rf'"?{_DAY}\s*:\s*{_DAY}"?\s*{tag}', re.IGNORECASE),
           re.compile(rf'"?{_DAY}"?\s*{tag}', re.IGNORECASE))
    for name, tag in _TAGS.items()
}
_ANY_TAG = re.compile("|".join(_TAGS.values()), re.IGNORECASE)


class TermError(ValueError):
    """The term is not a query PubMed could run; ``phrase`` is the offending piece."""

    def __init__(self, phrase: str) -> None:
        super().__init__(phrase)
        self.phrase = phrase


def date_windows(term: str) -> dict[str, list[DateRange]]:
    """The ``[crdt]`` and ``[mhda]`` windows in a term, by field (no window: every article
    matches on that field)."""
    _check_brackets(term)
    windows: dict[str, list[DateRange]] = {name: [] for name in _TAGS}
    rest = term
    for name, (two_tags, one_tag, single_day) in _PATTERNS.items():
        found = windows[name]

        def take_range(match: re.Match[str]) -> str:
            groups = match.groups()
            found.append(DateRange(_bound(match, groups[:3], last=False),
                                   _bound(match, groups[3:], last=True)))
            return " "

        def take_day(match: re.Match[str]) -> str:
            groups = match.groups()
            found.append(DateRange(_bound(match, groups, last=False), _bound(match, groups, last=True)))
            return " "

        rest = two_tags.sub(take_range, rest)
        rest = one_tag.sub(take_range, rest)
        rest = single_day.sub(take_day, rest)
    stray = _ANY_TAG.search(rest)
    if stray:
        start = max(0, stray.start() - 20)
        raise TermError(rest[start : stray.end()].strip())
    return windows


def _matches(article: RecordedArticle, windows: dict[str, list[DateRange]]) -> bool:
    # An article not yet indexed for MeSH has no MeSH Date and so no [mhda] window holds it.
    return (all(article.created in w for w in windows["crdt"])
            and all(article.mesh_dated in w for w in windows["mhda"]))


def _bound(match: re.Match[str], parts: tuple[str | None, ...], *, last: bool) -> date:
    year, month, day = (int(p) if p else None for p in parts)
    try:
        if month is None:
            return date(year, 12, 31) if last else date(year, 1, 1)
        if day is None:
            return date(year, month, calendar.monthrange(year, month)[1] if last else 1)
        return date(year, month, day)
    except ValueError as exc:  # month 13, 31 February, year 0
        raise TermError(match.group(0).strip()) from exc


def _check_brackets(term: str) -> None:
    if term.count('"') % 2:
        raise TermError(term[term.rindex('"') :][:40])
    depth = 0
    outside_quotes = re.sub(r'"[^"]*"', '""', term)
    for position, char in enumerate(outside_quotes):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise TermError(outside_quotes[max(0, position - 20) : position + 1])
    if depth:
        raise TermError(outside_quotes[outside_quotes.rindex("(") :][:40])


@dataclass
class HistoryServer:
    """NCBI's history server: WebEnv -> the PMID lists of its query keys (1-based)."""

    sessions: dict[str, list[list[str]]] = field(default_factory=dict)

    def store(self, pmids: list[str], webenv: str | None) -> tuple[str, int]:
        if not webenv or webenv not in self.sessions:
            webenv = "MCID_" + secrets.token_hex(12)
            self.sessions[webenv] = []
        self.sessions[webenv].append(pmids)
        return webenv, len(self.sessions[webenv])

    def get(self, webenv: str, query_key: str) -> list[str] | None:
        queries = self.sessions.get(webenv)
        if not queries or not query_key.isdigit() or not 1 <= int(query_key) <= len(queries):
            return None
        return queries[int(query_key) - 1]


def param(params: dict[str, str], name: str, default: str | None = None) -> str | None:
    """E-utilities parameter names are matched without regard to case (``WebEnv``/``webenv``)."""
    if name in params:
        return params[name]
    lowered = name.lower()
    for key, value in params.items():
        if key.lower() == lowered:
            return value
    return default


def _xml(body: bytes) -> Response:
    return Response(body, media_type=XML)


def _not_supported(what: str) -> Response:
    return PlainTextResponse(
        f"livingreview replay server: {what} is not supported; it answers db=pubmed with retmode=xml. "
        "Fix the request, or extend livingreview/replay/eutils.py",
        status_code=400,
    )


def _count(params: dict[str, str], name: str, default: int) -> int | None:
    raw = param(params, name)
    if raw in (None, ""):
        return default
    return int(raw) if raw.strip().isdigit() else None


def esearch(scenario: Scenario, history: HistoryServer, params: dict[str, str]) -> Response:
    db = param(params, "db", PUBMED)
    if db != PUBMED:
        return _xml(bodies.esearch_error(f"Invalid db name specified: {db}"))
    if (param(params, "retmode") or "xml").lower() != "xml":
        return _not_supported(f"retmode={param(params, 'retmode')}")
    for name in ("mindate", "maxdate", "reldate"):
        if param(params, name):
            # Answering as if the date limit were not there would hand back the wrong records.
            return _not_supported(f"{name} (put the window in the term as [crdt])")
    term = " ".join((param(params, "term") or "").split())
    if not term:
        return _xml(bodies.esearch_error("Empty term and query_key - nothing todo"))
    retstart = _count(params, "retstart", 0)
    retmax = _count(params, "retmax", ESEARCH_RETMAX_DEFAULT)
    if retstart is None or retmax is None:
        return _not_supported("a retstart/retmax that is not a whole number")
    try:
        windows = date_windows(term)
    except TermError as exc:
        return _xml(_no_hits(term, exc.phrase))
    try:
        pmids = [a.pmid for a in scenario.articles if _matches(a, windows) and _listed(a, term)]
    except UnsupportedTerm as exc:
        return _not_supported(f"the search field {exc} in a look-up term")
    page = pmids[retstart : retstart + min(retmax, RETMAX_LIMIT)]
    history_tags = ""
    if (param(params, "usehistory") or "").lower() == "y":
        webenv, query_key = history.store(pmids, param(params, "WebEnv"))
        history_tags = f"<QueryKey>{query_key}</QueryKey><WebEnv>{webenv}</WebEnv>"
    ids = "<IdList>\n" + "".join(f"<Id>{p}</Id>\n" for p in page) + "</IdList>" if page else "<IdList/>"
    warning = "" if pmids else "<WarningList><OutputMessage>No items found.</OutputMessage></WarningList>"
    body = (
        f"<eSearchResult><Count>{len(pmids)}</Count><RetMax>{len(page)}</RetMax>"
        f"<RetStart>{retstart}</RetStart>{history_tags}{ids}<TranslationSet/>"
        f"<QueryTranslation>{escape(term)}</QueryTranslation>{warning}</eSearchResult>\n"
    )
    return _xml(bodies.ESEARCH_PROLOGUE + body.encode())


_UID = re.compile(r"\b(\d+)\s*\[(?:uid|pmid)\]", re.IGNORECASE)
_AID = re.compile(r'"?(10\.\d{4,9}/[^\s"\[\]]+)"?\s*\[(?:aid|doi)\]', re.IGNORECASE)
# The article's own DOI: its ELocationID, or the first ArticleIdList (PubmedData's; the ones in
# a ReferenceList name the cited works).
_ELOCATION_DOI = re.compile(rb'<ELocationID EIdType="doi"[^>]*>([^<]+)</ELocationID>')
_OWN_IDS = re.compile(rb"<PubmedData>.*?<ArticleIdList>(.*?)</ArticleIdList>", re.DOTALL)
_ID_DOI = re.compile(rb'<ArticleId IdType="doi">([^<]+)</ArticleId>')


def _article_dois(element: bytes) -> set[str]:
    found = _ELOCATION_DOI.findall(element)
    own = _OWN_IDS.search(element)
    if own:
        found += _ID_DOI.findall(own.group(1))
    return {doi.decode().strip().lower() for doi in found}


def _listed(article: RecordedArticle, term: str) -> bool:
    """A look-up by PMID (``123[uid]``) or DOI (``"10.x/y"[aid]``) is evaluated in full
    (pubmed_query): only the articles it lists can match, and only if the rest of the term does
    too (the recall check's ``(query) AND (123[uid] OR ...)``). A term without such a list keeps
    every article (a harvest: the rest of its term is not interpreted)."""
    uids = set(_UID.findall(term))
    dois = {d.lower() for d in _AID.findall(term)}
    if not uids and not dois:
        return True
    own = frozenset(_article_dois(article.element))
    if article.pmid not in uids and not dois & own:
        return False
    return pubmed_query.matches(term, pubmed_query.article_text(article.pmid, article.element, own))


def _no_hits(term: str, phrase: str) -> bytes:
    """The recorded zero-hit answer (esearch_protein_no_hits_errorlist.xml) for this term."""
    body = (
        "<eSearchResult><Count>0</Count><RetMax>0</RetMax><RetStart>0</RetStart><IdList/>"
        f"<TranslationSet/><QueryTranslation>{escape(term)}</QueryTranslation>"
        f"<ErrorList><PhraseNotFound>{escape(phrase)}</PhraseNotFound></ErrorList>"
        "<WarningList><OutputMessage>No items found.</OutputMessage></WarningList></eSearchResult>\n"
    )
    return bodies.ESEARCH_PROLOGUE + body.encode()


def efetch(scenario: Scenario, history: HistoryServer, params: dict[str, str]) -> Response:
    db = param(params, "db", PUBMED)
    if db != PUBMED:
        return _xml(bodies.efetch_error(f"Invalid db name specified: {db}"))
    retmode = param(params, "retmode")
    if not retmode:
        # What EFetch sent for db=pubmed without retmode: not XML (recorded 2010).
        return bodies.exactly(bodies.EFETCH_WITHOUT_RETMODE, 200, "text/html")
    if retmode.lower() != "xml" or (param(params, "rettype") or "xml").lower() not in ("xml", "abstract", "full"):
        return _not_supported(f"retmode={retmode} rettype={param(params, 'rettype')}")
    by_pmid = {a.pmid: a for a in scenario.articles}
    ids = param(params, "id")
    if ids:
        wanted = list(dict.fromkeys(p for p in re.split(r"[,\s]+", ids) if p))
    else:
        webenv, query_key = param(params, "WebEnv"), param(params, "query_key")
        if not webenv:
            return _xml(bodies.efetch_error("Empty id list - nothing todo"))
        stored = history.get(webenv, query_key or "1")
        if stored is None:
            return _xml(bodies.efetch_error(f"Unable to obtain query #{query_key or 1}"))
        retstart = _count(params, "retstart", 0)
        retmax = _count(params, "retmax", EFETCH_RETMAX_DEFAULT)
        if retstart is None or retmax is None:
            return _not_supported("a retstart/retmax that is not a whole number")
        wanted = stored[retstart : retstart + min(retmax, RETMAX_LIMIT)]
    # Unknown PMIDs are left out silently, as EFetch does (efetch_pubmed_37909814_empty_set.xml).
    elements = b"".join(by_pmid[p].element for p in wanted if p in by_pmid)
    return _xml(bodies.EFETCH_PROLOGUE + elements + bodies.EFETCH_EPILOGUE)
