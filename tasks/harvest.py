"""Harvesting one source for its window, archiving every response first."""

from __future__ import annotations

from typing import Any

import httpx
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from livingreview.config import Settings
from livingreview.harvest import SourceHarvest, Window, harvest_source
from livingreview.store.database import session_scope
from livingreview.store.runs import archive_response


@task(cache_policy=NO_CACHE, task_run_name="fetch-{window.source}")
def fetch_source(settings: Settings, review: dict[str, Any], window: Window, run_id: int,
                 http: httpx.Client) -> SourceHarvest:
    logger = get_run_logger()
    archived = 0

    def archive(raw: Any) -> None:
        # Its own committed transaction: a response stays archived even if the run later fails.
        nonlocal archived
        with session_scope(settings.database_url) as session:
            archive_response(session, run_id, source=raw.source, method=raw.method, url=raw.url,
                             params=raw.params, status=raw.status, headers=raw.headers,
                             body=raw.body)
        archived += 1

    harvest = harvest_source(window, settings, review, http, archive)
    logger.info("%s: %d records from %d archived responses (%d dropped by the post-filter)",
                window.source, len(harvest.records), archived, harvest.filtered_out)
    for key in ("querytranslation", "warnings", "errors"):
        if harvest.summary.get(key):
            logger.info("%s %s: %s", window.source, key, harvest.summary[key])
    harvest.summary["archived_responses"] = archived
    return harvest
