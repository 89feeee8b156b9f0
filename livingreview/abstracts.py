"""Abstract enrichment: a record without an abstract (most of Crossref) is looked up by DOI in
PubMed (``"<doi>"[aid]``, batched) before the local strategy and the detectors read it.

The borrowed abstract is marked in the record's ``field_sources`` (``{"abstract":
"pubmed:<PMID>"}``), which is stored with the source hit: field-level provenance. Europe PMC and
OpenAlex look-ups by DOI join the list of ``LOOKUPS`` once their single-work requests exist.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from livingreview.config import Settings
from livingreview.records import Record
from livingreview.sources.client import Archive, SourceClient

log = logging.getLogger("livingreview.abstracts")

AID_BATCH = 100  # DOIs ORed into one PubMed ESearch term


def pubmed_records_by_doi(http: httpx.Client | SourceClient, settings: Settings,
                          dois: list[str], archive: Archive) -> dict[str, Record]:
    """DOI -> the PubMed record that carries it, for the DOIs PubMed holds."""
    from livingreview.sources import pubmed

    found: dict[str, Record] = {}
    for first in range(0, len(dois), AID_BATCH):
        batch = dois[first:first + AID_BATCH]
        term = " OR ".join(f'"{doi}"[aid]' for doi in batch)
        _, records = pubmed.search(http, settings, term, archive, retmax=len(batch), fetch=True)
        for record in records:
            if record.doi in batch and record.doi not in found:
                found[record.doi] = record
    return found


def _pubmed_abstracts(http: httpx.Client | SourceClient, settings: Settings, dois: list[str],
                      archive: Archive) -> dict[str, tuple[str, str]]:
    """DOI -> (abstract, "pubmed:<PMID>") for the DOIs PubMed holds with an abstract."""
    return {doi: (record.abstract, f"pubmed:{record.pmid}")
            for doi, record in pubmed_records_by_doi(http, settings, dois, archive).items()
            if record.abstract}


LOOKUPS = {"pubmed": _pubmed_abstracts}


def enrich_abstracts(http: httpx.Client | SourceClient, settings: Settings,
                     records: list[Record], archive: Archive,
                     sources: tuple[str, ...] = ("pubmed",)) -> dict[str, Any]:
    """Fill in missing abstracts by DOI from ``sources`` (in order); returns counts per source."""
    counts: dict[str, Any] = {"without_abstract": 0, "filled": {}}
    waiting = {r.doi: r for r in records if not r.abstract and r.doi}
    counts["without_abstract"] = len(waiting)
    for source in sources:
        if not waiting:
            break
        found = LOOKUPS[source](http, settings, sorted(waiting), archive)
        for doi, (abstract, origin) in found.items():
            record = waiting.pop(doi)
            record.abstract = abstract
            record.field_sources["abstract"] = origin
        counts["filled"][source] = len(found)
        log.info("abstracts: %d of %d missing abstracts found in %s", len(found),
                 counts["without_abstract"], source)
    counts["still_missing"] = len(waiting)
    return counts
