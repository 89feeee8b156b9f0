"""The Record model and identifier normalisation.

A ``Record`` is one bibliographic item as a source gave it. Every parser (API responses, RIS,
BibTeX, nbib, CSV) produces Records; the store, deduplication and screening consume them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|https?://doi\.org/)", re.I)
_DOI_SUFFIX = re.compile(r"(?:/full/html|/full|/abstract|/pdf|\.pdf|\?.*)$", re.I)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")


def normalise_doi(value: str | None) -> str | None:
    """Canonical DOI key: lower case, no resolver prefix, whitespace or publisher suffix.

    Follows ``seed/search-strategy.md`` (c) "DOI key"; idempotent. Returns None when the value
    does not look like a DOI at all.
    """
    if value is None:
        return None
    doi = unquote(str(value)).strip()
    doi = re.sub(r"\s+", "", doi)
    doi = _DOI_PREFIX.sub("", doi)
    doi = doi.lower()
    while True:
        stripped = _DOI_SUFFIX.sub("", doi).rstrip(".,;")
        if stripped == doi:
            break
        doi = stripped
    return doi if _DOI_SHAPE.match(doi) else None


def normalise_pmid(value: str | int | None) -> str | None:
    """PMID as a string of digits without leading zeros or a ``PMID:``/URL prefix."""
    if value is None:
        return None
    text = str(value).strip()
    text = re.sub(r"^(?:https?://pubmed\.ncbi\.nlm\.nih\.gov/|pmid:?\s*)", "", text, flags=re.I)
    text = text.rstrip("/")
    if not text.isdigit():
        return None
    return str(int(text)) if int(text) > 0 else None


def normalise_pmcid(value: str | None) -> str | None:
    """PMCID as ``PMC`` followed by digits."""
    if value is None:
        return None
    text = str(value).strip().upper()
    text = re.sub(r"^HTTPS?://.*/(PMC\d+)/?$", r"\1", text)
    if text.isdigit():
        text = "PMC" + text
    return text if re.fullmatch(r"PMC\d+", text) else None


def normalise_openalex_id(value: str | None) -> str | None:
    """OpenAlex work id as ``W`` followed by digits (the URL form is stripped)."""
    if value is None:
        return None
    text = str(value).strip()
    text = text.rsplit("/", 1)[-1].upper()
    return text if re.fullmatch(r"W\d+", text) else None


_LANGUAGE_CODES = {
    "en": "eng", "english": "eng", "no": "nor", "nb": "nob", "nn": "nno", "norwegian": "nor",
    "de": "ger", "deu": "ger", "german": "ger", "fr": "fre", "fra": "fre", "french": "fre",
    "es": "spa", "spanish": "spa", "sv": "swe", "swedish": "swe", "da": "dan", "danish": "dan",
    "nl": "dut", "nld": "dut", "dutch": "dut", "it": "ita", "italian": "ita", "pt": "por",
    "portuguese": "por", "zh": "chi", "zho": "chi", "chinese": "chi", "ja": "jpn",
    "japanese": "jpn", "fi": "fin", "finnish": "fin", "ru": "rus", "russian": "rus",
}


def normalise_language(value: str | None) -> str | None:
    """Language as a MEDLINE three-letter code (``eng``), the form PubMed uses."""
    if not value:
        return None
    text = str(value).strip().lower()
    text = text.split("-")[0].split("_")[0]
    return _LANGUAGE_CODES.get(text, text if len(text) == 3 else None)


def plain_text(value: str | None) -> str | None:
    """Whitespace-collapsed text with Unicode normalised to NFC; None for blanks."""
    if value is None:
        return None
    # str.split() splits at exactly the characters r"\s" matches, several times faster
    text = " ".join(str(value).split())
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return text or None


#: Record fields that are not columns of a stored record (they live in the hit's payload).
NOT_STORED = ("source", "source_id", "field_sources")


@dataclass
class Record:
    """One bibliographic item as one source gave it.

    ``source`` names where it came from (``pubmed``, ``crossref``, ``openalex``, ``europepmc``,
    ``seed``, ``import:ris`` ...) and ``source_id`` its stable id there (PMID, DOI, OpenAlex id,
    file record number). Authors are display strings, ``"Surname, Given"`` for people and the
    name as printed for collective authors.
    """

    source: str
    source_id: str
    title: str | None = None
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    openalex_id: str | None = None
    publication_types: list[str] = field(default_factory=list)
    language: str | None = None
    keywords: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    created_date: str | None = None  # ISO date the source first registered the item
    url: str | None = None
    # Field-level provenance: a field another source filled in, e.g. {"abstract": "pubmed:123"}
    # for a Crossref record whose abstract came from PubMed. Kept with the hit, not a column.
    field_sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.doi = normalise_doi(self.doi)
        self.pmid = normalise_pmid(self.pmid)
        self.pmcid = normalise_pmcid(self.pmcid)
        self.openalex_id = normalise_openalex_id(self.openalex_id)
        self.language = normalise_language(self.language)
        self.title = plain_text(self.title)
        self.abstract = plain_text(self.abstract)
        self.journal = plain_text(self.journal)
        if self.year is not None:
            self.year = int(self.year)

    @property
    def first_author(self) -> str | None:
        return self.authors[0] if self.authors else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Record":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})
