"""Query versions: what each source is asked, as text and hash, so that two strategies are never
silently mixed in one corpus.

A source's version is the text of everything that decides what it returns: the search variant's
name and, for a Boolean source, its query for that variant with the date fields it windows on;
for Crossref, its queries, filters and the local strategy's patterns for the variant. Every run
records each source's version (``counts["queries"]``); when a source's version differs from the
one its last successful run recorded, its window starts again at the baseline cut-off: a new
search over the whole living period, annotated in the report, not a month of the new query on
top of years of the old one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.store.models import UpdateRun


def query_version(review: dict[str, Any], source: str) -> dict[str, str]:
    """``{"variant", "text", "sha256"}`` of ``source``'s search as review.toml configures it."""
    from livingreview.strategy import local_strategy, source_query, source_variant

    variant = source_variant(review, source)
    config = review["sources"].get(source, {})
    if source == "crossref":
        described: dict[str, Any] = {
            "queries": list(config.get("queries", [])),
            "from_pub_date": str(config.get("from_pub_date", "")),
            "date_fields": list(config.get("date_fields", ["created"])),
            "local_strategy": {block: list(patterns) for block, patterns in
                               local_strategy(review, variant).patterns.items()},
        }
    else:
        described = {"query": " ".join(source_query(config, variant, source).split()),
                     "date_fields": list(config.get("date_fields", [config.get("date_field", "")]))}
    text = f"variant: {variant}\n" + json.dumps(described, indent=1, sort_keys=True, default=str)
    return {"variant": variant, "text": text, "sha256": hashlib.sha256(text.encode()).hexdigest()}


def last_query_versions(session: Session) -> dict[str, dict[str, str]]:
    """Each source's version as its latest successful update run recorded it."""
    found: dict[str, dict[str, str]] = {}
    runs = session.scalars(select(UpdateRun).where(UpdateRun.kind == "update",
                                                   UpdateRun.status == "succeeded")
                           .order_by(UpdateRun.id.desc()))
    for run in runs:
        for source, version in ((run.counts or {}).get("queries") or {}).items():
            found.setdefault(source, version)
    return found
