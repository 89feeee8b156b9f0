"""Bibliographic API sources: build requests (pure), send them (``client``), parse responses.

``PARSERS`` maps a source name to ``parse(text, origin=...) -> list[Record]``; it accepts any
response body that source returns (for PubMed an ESearch or EPost result parses to ``[]``: they
hold PMIDs, not records). ``HARVESTERS`` maps a source name to its ``harvest`` function; their
signatures differ only in the query argument (Crossref takes a list of queries, the others one)
and in source-specific keyword options.
"""

from __future__ import annotations

from typing import Callable

from livingreview.records import Record
from livingreview.sources import crossref, europepmc, openalex, pubmed
from livingreview.sources.client import RawResponse, RetryPolicy, SourceClient
from livingreview.harvest.fetching import HarvestResult

Parser = Callable[..., list[Record]]

PARSERS: dict[str, Parser] = {
    "pubmed": pubmed.parse,
    "crossref": crossref.parse_works,
    "openalex": openalex.parse_works,
    "europepmc": europepmc.parse_search,
}

HARVESTERS: dict[str, Callable[..., HarvestResult]] = {
    "pubmed": pubmed.harvest,
    "crossref": crossref.harvest,
    "openalex": openalex.harvest,
    "europepmc": europepmc.harvest,
}

__all__ = ["PARSERS", "HARVESTERS", "HarvestResult", "RawResponse", "RetryPolicy", "SourceClient"]
