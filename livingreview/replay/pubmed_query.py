"""PubMed's field-tagged Boolean query, evaluated over one recorded article, for look-up terms.

A term that lists PMIDs (``123[uid]``) or DOIs (``"10.x/y"[aid]``), as the search-recall check and
the abstract look-up write them, is evaluated in full: the recall check asks whether the review's
query (or one block of it) matches each listed article, and a replay that ignored the query
would answer yes to a broken block. A harvest term (no list) is not interpreted (see eutils).

What is evaluated, on the article's recorded XML:

* ``[tiab]`` (and ``[ti]``): title and abstract; a phrase matches its words in order, with
  hyphens and punctuation read as spaces (``"co-creat*"`` = ``"co creat*"``) and ``*`` truncating
  the word it ends;
* ``[mh]``, ``[MeSH Terms]``, ``[MeSH Terms:noexp]``, ``[mh:noexp]``: a MeSH descriptor of the
  article, by name. **Explosion is not modelled**: ``"Health Services"[MeSH Terms]`` matches only
  an article indexed with that very heading, not the narrower ones PubMed would add;
* ``[la]``: the article's language (``english`` or ``eng``); ``[dp]``: a year or a
  ``2010:3000[dp]`` range against the publication year; ``[uid]``/``[pmid]``, ``[aid]``/``[doi]``;
* ``[crdt]``/``[mhda]`` windows count as true here (eutils checks them);
* an untagged word: title, abstract or MeSH.

Operators are read left to right, as PubMed does (parentheses group; adjacent terms are ANDed).
A field this module does not know raises :class:`UnsupportedTerm`: a wrong answer would be worse
than a refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from livingreview.replay.boolean_query import phrase_pattern as _phrase
from livingreview.replay.boolean_query import plain_text as _plain

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
_TOKEN = re.compile(r'\s*(?:(?P<paren>[()])|(?P<colon>:(?=\s))|(?P<term>"[^"]*"(?:\s*\[[^\]]*\])?'
                    r'|[^\s()"\[]+(?:\s*\[[^\]]*\])?))')
_TAGGED = re.compile(r'^(?P<text>"[^"]*"|[^\[]+?)\s*(?:\[(?P<tag>[^\]]*)\])?$')
_OPERATORS = ("AND", "OR", "NOT")


class UnsupportedTerm(ValueError):
    """A search field the replay cannot evaluate."""


@dataclass(frozen=True)
class ArticleText:
    pmid: str
    text: str  # title and abstract, lower case, punctuation as spaces
    mesh: frozenset[str]
    languages: frozenset[str]
    year: int | None
    dois: frozenset[str]


@lru_cache(maxsize=4096)
def article_text(pmid: str, element: bytes, dois: frozenset[str]) -> ArticleText:
    root = etree.fromstring(element, _PARSER)
    title = " ".join(root.xpath(".//ArticleTitle//text() | .//BookTitle//text()"))
    abstract = " ".join(root.xpath(".//Abstract//AbstractText//text()"))
    mesh = frozenset(" ".join(m.itertext()).strip().lower()
                     for m in root.iterfind(".//MeshHeadingList/MeshHeading/DescriptorName"))
    languages = frozenset((x.text or "").strip().lower() for x in root.iterfind(".//Language"))
    years = root.xpath(".//Article/Journal/JournalIssue/PubDate/Year/text()"
                       " | .//Article/Journal/JournalIssue/PubDate/MedlineDate/text()"
                       " | .//BookDocument/Book/PubDate/Year/text()")
    year = next((int(m.group()) for y in years if (m := re.search(r"\d{4}", y))), None)
    return ArticleText(pmid, _plain(f"{title} {abstract}"), mesh, languages, year, dois)


def _term_matches(raw: str, article: ArticleText) -> bool:
    match = _TAGGED.match(raw.strip())
    if match is None:
        raise UnsupportedTerm(raw)
    text = match.group("text").strip().strip('"').strip()
    tag = (match.group("tag") or "").strip().lower()
    if tag in ("tiab", "ti", "title/abstract", "title"):
        return bool(_phrase(text).search(article.text))
    if tag in ("mh", "mesh terms", "mesh terms:noexp", "mh:noexp", "majr", "mesh"):
        return text.lower() in article.mesh
    if tag in ("la", "language"):
        return text.lower()[:3] in {lang[:3] for lang in article.languages}
    if tag in ("dp", "pdat", "publication date"):
        first, _, last = text.partition(":")
        low = int(first[:4])
        high = int(last[:4]) if last else low
        return article.year is not None and low <= article.year <= high
    if tag in ("uid", "pmid"):
        return text == article.pmid
    if tag in ("aid", "doi"):
        return text.lower() in article.dois
    if tag in ("crdt", "create date", "mhda", "mesh date"):
        return True
    if tag == "":
        return (bool(_phrase(text).search(article.text)) or text.lower() in article.mesh)
    raise UnsupportedTerm(f"[{match.group('tag')}]")


def _tokens(term: str) -> list[str]:
    out, position = [], 0
    term = term.strip()
    while position < len(term):
        match = _TOKEN.match(term, position)
        if match is None or match.end() == position:
            raise UnsupportedTerm(term[position:position + 30])
        out.append(match.group().strip())
        position = match.end()
    return [t for t in out if t]


def matches(term: str, article: ArticleText) -> bool:
    """Whether the article satisfies the whole term."""
    tokens = _tokens(term)
    position = 0

    def sequence() -> bool:
        nonlocal position
        value: bool | None = None
        operator = "AND"
        while position < len(tokens):
            token = tokens[position]
            if token == ")":
                break
            position += 1
            if token in _OPERATORS:
                operator = token
                continue
            if token == "(":
                operand = sequence()
                position += 1  # the closing bracket
            elif position < len(tokens) and tokens[position] == ":":
                # a range, "2024/05/01"[crdt] : "2024/05/31"[crdt]: a date window, checked apart
                position += 2
                operand = True
            else:
                operand = _term_matches(token, article)
            if value is None:
                value = operand
            elif operator == "AND":
                value = value and operand
            elif operator == "OR":
                value = value or operand
            else:
                value = value and not operand
            operator = "AND"  # adjacent terms are ANDed
        return bool(value)

    return sequence()
