"""Telling maintainers about new co-creation candidates (notifications and Prefect events)."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from livingreview.alerts import (
    alerts_of_run,
    co_creation_notification,
    new_co_creation_candidates,
    search_change_notification,
    send,
)
from livingreview.cocreation.detector import DetectorConfig
from livingreview.config import Settings
from livingreview.store.database import session_scope


@task(cache_policy=NO_CACHE)
def raise_co_creation_alerts(settings: Settings, review: dict[str, Any], run_id: int) -> int:
    """Flag the run's new candidates before the report is written, so that it lists them."""
    with session_scope(settings.database_url) as session:
        return len(new_co_creation_candidates(session, run_id, DetectorConfig.from_review(review)))


@task(cache_policy=NO_CACHE)
def alert_maintainers(settings: Settings, review: dict[str, Any], run_id: int,
                      report: dict[str, Any]) -> dict[str, Any]:
    version = report["version"]
    logger = get_run_logger()
    search_log = report.get("search_log") or {}
    if search_log.get("querytranslation_changed"):
        # The design asks for an alert whenever PubMed reads the query differently.
        send(search_change_notification(review["review"]["title"], version, search_log), settings)
        emit_event(event="livingreview.search.translation-changed",
                   resource={"prefect.resource.id": "livingreview.search.pubmed"},
                   payload={"run_id": run_id, "version": version})
        logger.warning("PubMed's query translation changed since version %s",
                       search_log.get("compared_with_version"))
    with session_scope(settings.database_url) as session:
        # Raised before the report was written (raise_co_creation_alerts); told about now.
        new_co_creation_candidates(session, run_id, DetectorConfig.from_review(review))
        found = alerts_of_run(session, run_id)
    if not found:
        logger.info("no new co-creation candidates")
        return {"co_creation": 0, "notified": 0}
    for item in found:
        emit_event(event="livingreview.candidate.co-creation",
                   resource={"prefect.resource.id": f"livingreview.record.{item['record_id']}",
                             "prefect.resource.name": (item["title"] or "")[:200]},
                   payload={"run_id": run_id, "doi": item["doi"], "pmid": item["pmid"],
                            "year": item["year"], "alert_id": item["alert_id"],
                            "score": item["score"], "mode": item["mode"],
                            "evidence": item["evidence"]})
    delivery = send(co_creation_notification(review["review"]["title"], version, found), settings)
    logger.info("%d co-creation candidate(s); notified %d target(s)", len(found), delivery.targets)
    return {"co_creation": len(found), "notified": delivery.targets,
            "delivered": delivery.delivered}
