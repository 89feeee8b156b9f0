"""Running one source's harvest for its window: the passes each source makes, merged into one
record per work, and the local search strategy applied where the API has no Boolean search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from livingreview.config import Settings
from livingreview.errors import ConfigError
from livingreview.harvest.windows import Window
from livingreview.records import Record


@dataclass
class SourceHarvest:
    source: str
    window: Window
    records: list[Record]
    summary: dict[str, Any] = field(default_factory=dict)
    filtered_out: int = 0


def _add_unseen(records: dict[str, Record], found: list[Record],
                key: Callable[[Record], str]) -> int:
    """Add the records an earlier pass did not give (the first copy wins); how many were new."""
    before = len(records)
    for record in found:
        records.setdefault(key(record), record)
    return len(records) - before


def harvest_source(window: Window, settings: Settings, review: dict[str, Any],
                   http: httpx.Client, archive: Callable[[Any], None]) -> SourceHarvest:
    """Query one source for its window; every response is archived before it is parsed."""
    from livingreview.sources import crossref, pubmed
    from livingreview.strategy import evaluate, local_strategy, pubmed_query, source_variant

    config = review["sources"].get(window.source, {})
    variant = source_variant(review, window.source)
    if window.source == "pubmed":
        # Create Date finds the month's new records; a MeSH Date pass (search-strategy.md, "MeSH
        # lag") finds older ones that match only now that they are indexed. One record per PMID.
        fields = list(config.get("date_fields", ["crdt"]))
        records: dict[str, Record] = {}
        summary: dict[str, Any] = {}
        passes: dict[str, Any] = {}
        for date_field in fields:
            result = pubmed.harvest(http, settings, pubmed_query(config, variant), window.start,
                                    window.end,
                                    archive, batch_size=int(config.get("batch_size", 200)),
                                    date_field=date_field)
            if variant != "faithful":
                # What the variant adds: the faithful query's count for the same window.
                passes_faithful = pubmed.count(http, settings, config["query"], window.start,
                                               window.end, archive, date_field=date_field)
                result.summary["count_faithful"] = passes_faithful
            summary = summary or dict(result.summary)
            passes[date_field] = {key: result.summary[key] for key in
                                  ("count", "fetched", "querytranslation", "windows", "splits")
                                  if key in result.summary}
            if "count_faithful" in result.summary:
                passes[date_field]["count_faithful"] = result.summary["count_faithful"]
            passes[date_field]["new"] = _add_unseen(records, result.records, lambda r: r.pmid)
        if len(fields) > 1:
            summary["passes"] = passes
            summary["fetched"] = len(records)
        summary["variant"] = variant
        if variant != "faithful":
            summary["count_faithful"] = sum(p.get("count_faithful", 0) for p in passes.values())
            summary["count_variant"] = sum(p["count"] for p in passes.values())
        return SourceHarvest("pubmed", window, list(records.values()), summary)
    if window.source == "crossref":
        # Two passes (search-strategy.md part c): created-date finds new DOIs, index-date finds
        # works whose metadata (an abstract, say) arrived after first deposit.
        records: dict[str, Record] = {}
        summaries = {}
        for date_field in config.get("date_fields", ["created"]):
            result = crossref.harvest(http, settings, config["queries"], window.start, window.end,
                                      archive, max_per_query=int(config.get("max_per_query", 1000)),
                                      rows=int(config.get("rows", 200)), date_field=date_field,
                                      **({"from_pub_date": config["from_pub_date"]}
                                         if "from_pub_date" in config else {}))
            summaries[date_field] = result.summary
            _add_unseen(records, result.records, lambda r: r.doi or r.source_id)
        # What the local strategy drops stays in the raw archive and is counted, never stored as
        # a candidate: it did not match the review's search strategy. Both variants are counted
        # so the report can say what the variant adds.
        # Most Crossref works carry no abstract: look them up by DOI first (field provenance in
        # each record's field_sources), so the strategy and the detectors read the abstract.
        from livingreview.abstracts import enrich_abstracts

        lookups = tuple(review.get("search", {}).get("abstract_sources", ["pubmed"]))
        abstracts = enrich_abstracts(http, settings, list(records.values()), archive, lookups)
        chosen = local_strategy(review, variant).compiled()
        faithful = local_strategy(review, "faithful").compiled()
        kept = [r for r in records.values() if evaluate(chosen, r).kept]
        summary = {"passes": summaries, "variant": variant, "received": len(records),
                   "kept_variant": len(kept),
                   "kept_faithful": sum(evaluate(faithful, r).kept for r in records.values()),
                   "needs_abstract": sum(evaluate(chosen, r).needs_abstract for r in kept),
                   "abstracts": abstracts}
        return SourceHarvest("crossref", window, kept, summary,
                             filtered_out=len(records) - len(kept))
    raise ConfigError(f"{window.source}: harvesting is not available yet. "
                      f"Fix: enable only pubmed and crossref in review.toml [sources]")
