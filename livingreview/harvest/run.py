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


def _pubmed(window: Window, settings: Settings, review: dict[str, Any], http: httpx.Client,
            archive: Callable[[Any], None], config: dict[str, Any], variant: str) -> SourceHarvest:
    from livingreview.sources import pubmed
    from livingreview.strategy import pubmed_query

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


def _crossref(window: Window, settings: Settings, review: dict[str, Any], http: httpx.Client,
              archive: Callable[[Any], None], config: dict[str, Any], variant: str) -> SourceHarvest:
    from livingreview.sources import crossref
    from livingreview.strategy import evaluate, local_strategy

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


def _openalex(window: Window, settings: Settings, review: dict[str, Any], http: httpx.Client,
              archive: Callable[[Any], None], config: dict[str, Any], variant: str) -> SourceHarvest:
    # OpenAlex runs the Boolean strategy itself; no local filter. Each page costs money, so the
    # faithful query's yield is not fetched a second time.
    from livingreview.sources import openalex
    from livingreview.strategy import source_query

    budget = config.get("budget_usd")
    result = openalex.harvest(http, settings, source_query(config, variant, "openalex"), window.start,
                              window.end, archive, per_page=int(config.get("per_page", openalex.PER_PAGE)),
                              date_field=config.get("date_field", "created"),
                              budget_usd=float(budget) if budget is not None else None)
    return SourceHarvest("openalex", window, result.records, {**result.summary, "variant": variant})


def _europepmc(window: Window, settings: Settings, review: dict[str, Any], http: httpx.Client,
               archive: Callable[[Any], None], config: dict[str, Any], variant: str) -> SourceHarvest:
    from livingreview.sources import europepmc
    from livingreview.strategy import source_query

    date_field = config.get("date_field", "index")
    result = europepmc.harvest(http, settings, source_query(config, variant, "europepmc"), window.start,
                               window.end, archive,
                               page_size=int(config.get("page_size", europepmc.PAGE_SIZE)),
                               date_field=date_field)
    summary = {**result.summary, "variant": variant}
    if variant != "faithful":
        # What the variant adds: one idlist request of one result gives the faithful hit count.
        summary["count_faithful"] = europepmc.count(http, settings, config["query"], window.start,
                                                    window.end, archive, date_field=date_field)
        summary["count_variant"] = result.summary.get("count")
    return SourceHarvest("europepmc", window, result.records, summary)


_HARVESTS = {"pubmed": _pubmed, "crossref": _crossref, "openalex": _openalex, "europepmc": _europepmc}


def harvest_source(window: Window, settings: Settings, review: dict[str, Any],
                   http: httpx.Client, archive: Callable[[Any], None]) -> SourceHarvest:
    """Query one source for its window; every response is archived before it is parsed."""
    from livingreview.strategy import source_variant

    if window.source not in _HARVESTS:
        raise ConfigError(f"{window.source}: no harvest for this source. "
                          f"Fix: enable only {', '.join(_HARVESTS)} in review.toml [sources]")
    config = review["sources"].get(window.source, {})
    return _HARVESTS[window.source](window, settings, review, http, archive, config,
                                    source_variant(review, window.source))
