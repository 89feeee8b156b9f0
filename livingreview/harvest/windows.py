"""Which sources a run harvests and the window each one covers.

The watermark of a source is the last day it was harvested successfully; the next window starts
a few days before it (``overlap_days``; deduplication absorbs the overlap) and, on the first
run, at the published search's cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from livingreview.errors import ConfigError
from livingreview.store.runs import watermark

KNOWN_SOURCES = ("pubmed", "crossref", "openalex", "europepmc")


@dataclass(frozen=True)
class Window:
    source: str
    start: date
    end: date
    # Why it starts where it does: "baseline" (first run), "watermark" (the monthly run),
    # "backfill" (an explicit --since), "query_changed" (a new search from the cut-off).
    reason: str = "watermark"
    query_sha256: str = ""
    previous_query_sha256: str = ""


def enabled_sources(review: dict[str, Any], only: list[str] | None = None) -> list[str]:
    enabled = list(review["sources"].get("enabled", []))
    unknown = [s for s in enabled if s not in KNOWN_SOURCES]
    if unknown:
        raise ConfigError(f"review.toml [sources] enabled: unknown source(s) {unknown}. "
                          f"Fix: use some of {', '.join(KNOWN_SOURCES)}")
    if only:
        # Named by the user (update --source): say which ones this review searches.
        missing = [s for s in only if s not in enabled]
        if missing:
            what = ("not a source livingreview knows" if all(s not in KNOWN_SOURCES for s in missing)
                    else "not enabled in review.toml [sources]")
            raise ConfigError(f"source {', '.join(missing)}: {what}. Fix: choose from the "
                              f"enabled sources: {', '.join(enabled)}")
        return list(only)
    return enabled


def plan_windows(session: Session, review: dict[str, Any], sources: list[str], *,
                 since: date | None = None, until: date | None = None,
                 today: date | None = None) -> list[Window]:
    """Each source's window: from its watermark (less the overlap), or from the baseline cut-off
    on its first run or when its query changed since its last successful run; an explicit
    ``since`` (a backfill) wins. The watermark itself only ever moves forward."""
    from livingreview.harvest.queries import last_query_versions, query_version

    end = until or today or date.today()
    cutoff = review["review"]["baseline_cutoff"]
    overlap = timedelta(days=int(review["schedule"].get("overlap_days", 0)))
    before = last_query_versions(session)
    windows = []
    for source in sources:
        mark = watermark(session, source)
        current = query_version(review, source)["sha256"]
        previous = (before.get(source) or {}).get("sha256", "")
        if since is not None:
            start, reason = since, "backfill"
        elif mark is None:
            start, reason = cutoff, "baseline"
        elif previous and previous != current:
            start, reason = cutoff, "query_changed"
        else:
            start, reason = mark - overlap, "watermark"
        if start > end:
            raise ConfigError(f"{source}: window start {start} is after its end {end}. "
                              "Fix: give --since before --until")
        windows.append(Window(source, start, end, reason, current,
                              previous if previous != current else ""))
    return windows
