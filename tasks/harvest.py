"""Harvesting one source for its window, archiving every response first."""

from __future__ import annotations

from typing import Any

import httpx
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from livingreview.config import Settings
from livingreview.harvest.run import SourceHarvest, harvest_source
from livingreview.harvest.windows import Window
from livingreview.store.database import session_scope
from livingreview.store.runs import archive_response


class RunArchive:
    """Archives each raw response of a run in its own committed transaction, so a response stays
    archived even if the run later fails; counts what it archived."""

    def __init__(self, settings: Settings, run_id: int) -> None:
        self.settings, self.run_id, self.archived = settings, run_id, 0

    def __call__(self, raw: Any) -> None:
        with session_scope(self.settings.database_url) as session:
            archive_response(session, self.run_id, source=raw.source, method=raw.method,
                             url=raw.url, params=raw.params, status=raw.status,
                             headers=raw.headers, body=raw.body)
        self.archived += 1


@task(cache_policy=NO_CACHE, task_run_name="fetch-{window.source}")
def fetch_source(settings: Settings, review: dict[str, Any], window: Window, run_id: int,
                 http: httpx.Client) -> SourceHarvest:
    logger = get_run_logger()
    archive = RunArchive(settings, run_id)
    harvest = harvest_source(window, settings, review, http, archive)
    logger.info("%s: %d records from %d archived responses (%d dropped by the local strategy)",
                window.source, len(harvest.records), archive.archived, harvest.filtered_out)
    for key in ("querytranslation", "warnings", "errors"):
        if harvest.summary.get(key):
            logger.info("%s %s: %s", window.source, key, harvest.summary[key])
    harvest.summary["archived_responses"] = archive.archived
    return harvest
