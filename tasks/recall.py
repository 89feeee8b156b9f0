"""Search recall on the known included studies, measured on every monthly run."""

from __future__ import annotations

from typing import Any

import httpx
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from livingreview.config import Settings, scrub
from livingreview.errors import SourceError
from livingreview.recall import known_studies, measure_recall, recall_table
from livingreview.store.database import session_scope
from tasks.harvest import RunArchive


@task(cache_policy=NO_CACHE)
def measure_search_recall(settings: Settings, review: dict[str, Any], run_id: int,
                          http: httpx.Client, sources: list[str]) -> dict[str, Any]:
    """Per source: how many of the corpus's included studies the configured search finds.

    A measurement, not a step of the update: a source that fails here is reported as not
    measured (with its error) and the run goes on; its harvest has already succeeded or failed.
    """
    logger = get_run_logger()
    with session_scope(settings.database_url) as session:
        studies = known_studies(session)
    if not studies:
        return {"sources": [], "note": "no included studies in the store to measure against"}
    try:
        results = measure_recall(settings, review, studies, http, RunArchive(settings, run_id),
                                 only=sources)
    except SourceError as exc:
        message = scrub(f"{type(exc).__name__}: {exc}", settings)
        logger.warning("search recall not measured: %s", message)
        return {"sources": [], "error": message}
    logger.info("search recall on the known included studies:\n%s", recall_table(results))
    return {"sources": [r.as_dict() for r in results]}


@task(cache_policy=NO_CACHE)
def check_recall(settings: Settings, review: dict[str, Any], http: httpx.Client,
                 sources: list[str] | None) -> dict[str, Any]:
    """Search recall outside an update (the recall-check deployment): nothing is stored."""
    from prefect.artifacts import create_markdown_artifact

    with session_scope(settings.database_url) as session:
        studies = known_studies(session)
    results = measure_recall(settings, review, studies, http, lambda raw: None, only=sources)
    table = recall_table(results)
    create_markdown_artifact(markdown=f"```\n{table}\n```", key="search-recall",
                             description="Search recall on the known included studies")
    get_run_logger().info("search recall on the known included studies:\n%s", table)
    return {"sources": [r.as_dict() for r in results]}
