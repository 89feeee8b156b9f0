"""Abstract enrichment: a record without an abstract (most of Crossref) is looked up by DOI in
PubMed (``"<doi>"[aid]``, batched), Europe PMC (``DOI:"..."``) or OpenAlex (``filter=doi:a|b``),
in the order of review.toml ``[search] abstract_sources``, before the local strategy and the
detectors read it.

The borrowed abstract is marked in the record's ``field_sources`` (``{"abstract":
"pubmed:<PMID>"}``, ``"europepmc:MED:<id>"``, ``"openalex:W..."``), which is stored with the
source hit: field-level provenance.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from livingreview.config import Settings
from livingreview.errors import ConfigError
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


def _openalex_abstracts(http: httpx.Client | SourceClient, settings: Settings, dois: list[str],
                        archive: Archive) -> dict[str, tuple[str, str]]:
    """DOI -> (abstract, "openalex:<W id>"); OpenAlex rebuilds it from its inverted index."""
    from livingreview.sources import openalex

    return {doi: (record.abstract, f"openalex:{record.source_id}")
            for doi, record in openalex.works_by_doi(http, settings, dois, archive).items()
            if record.abstract}


def _europepmc_abstracts(http: httpx.Client | SourceClient, settings: Settings, dois: list[str],
                         archive: Archive) -> dict[str, tuple[str, str]]:
    """DOI -> (abstract, "europepmc:<source>:<id>")."""
    from livingreview.sources import europepmc

    return {doi: (record.abstract, f"europepmc:{record.source_id}")
            for doi, record in europepmc.results_by_doi(http, settings, dois, archive).items()
            if record.abstract}


LOOKUPS = {"pubmed": _pubmed_abstracts, "europepmc": _europepmc_abstracts,
           "openalex": _openalex_abstracts}


def enrich_abstracts(http: httpx.Client | SourceClient, settings: Settings,
                     records: list[Record], archive: Archive,
                     sources: tuple[str, ...] = ("pubmed",)) -> dict[str, Any]:
    """Fill in missing abstracts by DOI from ``sources`` (in order); returns counts per source."""
    unknown = [s for s in sources if s not in LOOKUPS]
    if unknown:
        raise ConfigError(f"review.toml [search] abstract_sources: {unknown} cannot be asked for "
                          f"abstracts. Fix: choose from {sorted(LOOKUPS)}")
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
