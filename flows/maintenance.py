"""The deployments a maintainer runs between monthly updates: the report rewritten from the
store (after screening, imports or coding), and the search-recall check."""

from __future__ import annotations

from typing import Any

import httpx
from prefect import flow

from livingreview.config import Settings, load_review, protect_logs
from tasks.recall import check_recall
from tasks.summaries import rewrite_review_report


@flow(name="report-review", log_prints=True)
def report_review(run_id: int | None = None) -> dict[str, Any]:
    """Write the next report version from the store as it is now, through the gate."""
    settings = Settings.from_env()
    protect_logs(settings)
    return rewrite_review_report(settings, load_review(settings.review_file), run_id)


@flow(name="check-search-recall", log_prints=True)
def check_search_recall(sources: list[str] | None = None) -> dict[str, Any]:
    """Does the configured search still retrieve the corpus's included studies, per source?"""
    settings = Settings.from_env()
    protect_logs(settings)
    headers = {"User-Agent": f"livingreview/0.1 (mailto:{settings.contact_email})"}
    with httpx.Client(timeout=settings.http_timeout, headers=headers,
                      follow_redirects=True) as http:
        return check_recall(settings, load_review(settings.review_file), http, sources)
