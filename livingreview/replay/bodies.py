"""Recorded response bodies, and the few templates cut from them, that the replay server sends.

Every answer the server gives is either a recorded body sent as is (error pages, the single-work
files, the empty PubMed set) or is assembled from recorded pieces: the XML prologues below are the
exact first bytes of recorded E-utilities responses, and the articles and works come from the
scenario. Where no raw recording exists the body comes from ``recordings/quoted/`` (see its
PROVENANCE.md), and this module says so next to each use.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from starlette.responses import Response

RECORDINGS_DIR = Path(__file__).with_name("recordings")


@lru_cache(maxsize=None)
def recorded(relative_path: str) -> bytes:
    """The bytes of one recording, e.g. ``recorded("crossref/error_504_gateway_timeout.html")``."""
    return (RECORDINGS_DIR / relative_path).read_bytes()


def exactly(body: bytes, status_code: int, content_type: str, headers: dict[str, str] | None = None) -> Response:
    """A response with the recorded Content-Type as recorded (Starlette would add a charset to text/*)."""
    return Response(body, status_code=status_code, headers={**(headers or {}), "content-type": content_type})


def _before(relative_path: str, marker: bytes) -> bytes:
    body = recorded(relative_path)
    return body[: body.index(marker)]


# --- E-utilities --------------------------------------------------------------------------------

# XML declaration + DOCTYPE of a real ESearch answer, up to the root element.
ESEARCH_PROLOGUE = _before("pubmed/esearch_pubmed_cancer_usehistory_webenv.xml", b"<eSearchResult>")

# A real empty EFetch answer is exactly EFETCH_PROLOGUE + EFETCH_EPILOGUE; articles go between,
# one per line, as in the recorded multi-article files.
_EMPTY_SET = "pubmed/efetch_pubmed_37909814_empty_set.xml"
EFETCH_PROLOGUE = recorded(_EMPTY_SET)[: recorded(_EMPTY_SET).index(b"</PubmedArticleSet>")]
EFETCH_EPILOGUE = b"</PubmedArticleSet>"

# EFetch's error-in-a-200 shape (quoted, not recorded: recordings/quoted/PROVENANCE.md).
_EFETCH_ERROR = "quoted/efetch_error_unable_to_obtain_query.xml"
EFETCH_ERROR_PROLOGUE = _before(_EFETCH_ERROR, b"<eFetchResult>")

# The old ASN.1-in-HTML page EFetch gave when retmode was left out (recorded 2010).
EFETCH_WITHOUT_RETMODE = recorded("pubmed/efetch_pubmed_19304878_default_retmode_asn1_html.html")

ENTREZ_RATE_LIMIT_TEMPLATE = recorded("quoted/eutils_429_api_rate_limit_exceeded.json")


def esearch_error(*messages: str) -> bytes:
    """An ESearch answer carrying ``<ERROR>`` elements, in the recorded ePostResult error layout."""
    errors = "".join(f"\t<ERROR>{escape(m)}</ERROR>\n" for m in messages)
    return ESEARCH_PROLOGUE + f"<eSearchResult>\n{errors}</eSearchResult>\n".encode()


def efetch_error(*messages: str) -> bytes:
    """An EFetch answer carrying ``<ERROR>`` elements (the quoted eFetchResult layout)."""
    errors = "".join(f"\t<ERROR>{escape(m)}</ERROR>\n" for m in messages)
    return EFETCH_ERROR_PROLOGUE + f"<eFetchResult>\n{errors}</eFetchResult>\n".encode()


# --- Crossref -----------------------------------------------------------------------------------

CROSSREF_NOT_FOUND = recorded("crossref/error_work_404_notarealdoi.txt")  # b"Resource not found."
CROSSREF_INVALID_CURSOR = "crossref/error_works_invalid_cursor.json"  # HTTP 404, JSON
CROSSREF_EXCEPTION_500 = recorded("crossref/error_works_500_bad_cursor_exception.json")
CROSSREF_GATEWAY_TIMEOUT_504 = recorded("crossref/error_504_gateway_timeout.html")
CROSSREF_FIELD_QUERY_NOT_ALLOWED = recorded("crossref/error_work_400_query_param_not_allowed.json")
CROSSREF_RATE_LIMITED_429 = recorded("quoted/crossref_429_too_many_requests.html")  # quoted
