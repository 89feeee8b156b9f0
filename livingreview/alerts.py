"""Alert rules and notifications (apprise): new co-creation candidates, run failures.

Notification URLs are secrets (they embed webhook tokens and SMTP passwords): they come from the
environment and are never logged; what is logged names only how many targets were notified.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import apprise
from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.cocreation.decisions import detector_for, raise_alerts
from livingreview.cocreation.detector import DetectorConfig
from livingreview.config import Settings, scrub
from livingreview.store.models import CoCreationAlert, StoredRecord

log = logging.getLogger(__name__)


@dataclass
class Notification:
    title: str
    body: str


@dataclass
class DeliveryReport:
    targets: int
    delivered: bool


def new_co_creation_candidates(session: Session, run_id: int,
                                config: DetectorConfig) -> list[dict[str, Any]]:
    """Raise an alert for every new candidate of the run the co-creation detector flags; the
    alerts raised now (a record is alerted once)."""
    raised = {alert.id for alert, _, _ in raise_alerts(session, run_id, detector_for(session, config))}
    return [item for item in alerts_of_run(session, run_id) if item["alert_id"] in raised]


def alerts_of_run(session: Session, run_id: int | None) -> list[dict[str, Any]]:
    """Every co-creation alert a run raised, with up to two passages that carry it (peers as
    the agents first)."""
    if run_id is None:
        return []
    found = []
    for alert, record in session.execute(
            select(CoCreationAlert, StoredRecord)
            .join(StoredRecord, StoredRecord.id == CoCreationAlert.record_id)
            .where(CoCreationAlert.run_id == run_id).order_by(CoCreationAlert.id)):
        evidence = list(alert.evidence or [])
        found.append({"alert_id": alert.id, "record_id": record.id, "title": record.title,
                      "year": record.year, "doi": record.doi, "pmid": record.pmid,
                      "score": alert.score, "mode": alert.mode,
                      "evidence": [e["passage"] for e in evidence
                                   if e.get("strength") == "actor"][:2]
                      or [e["passage"] for e in evidence][:1]})
    return found


def co_creation_notification(review_title: str, version: int | None,
                             found: list[dict[str, Any]]) -> Notification:
    lines = [f"{len(found)} new candidate(s) for '{review_title}' may describe co-creation "
             "(peer workers in the early phases of the service cycle: commissioning, planning, "
             "design, governance):"]
    for item in found:
        ident = f"doi:{item['doi']}" if item["doi"] else f"PMID {item['pmid']}"
        lines.append(f"- alert {item['alert_id']}: {item['title']} ({item['year']}; {ident})")
        lines += [f"    \"{passage}\"" for passage in item["evidence"]]
    lines.append("They are in the screening queue (`livingreview queue`). Confirm or dismiss each "
                 "alert (`livingreview alerts confirm ID`, `alerts dismiss ID --why ...`): the "
                 "detector learns from these decisions.")
    if version is not None:
        lines.append(f"Report version {version}.")
    return Notification(title=f"livingreview: {len(found)} new co-creation candidate(s)",
                        body="\n".join(lines))


def search_change_notification(review_title: str, version: int,
                               log: dict[str, Any]) -> Notification:
    pubmed = log.get("pubmed") or {}
    return Notification(
        title="livingreview: PubMed's translation of the review's search changed",
        body=(f"PubMed's translation of the search for '{review_title}' changed since report "
              f"version {log.get('compared_with_version')} (MeSH updates and phrase-index changes "
              "do this). Check that the search still means what the review's Table 1 says.\n\n"
              f"Before:\n{log.get('previous_querytranslation')}\n\n"
              f"Now (version {version}):\n{pubmed.get('querytranslation')}\n\n"
              f"Errors: {pubmed.get('errors') or 'none'}; warnings: {pubmed.get('warnings') or 'none'}"))


def failure_notification(review_title: str, run_id: int | None, error: str) -> Notification:
    return Notification(
        title="livingreview: the monthly update failed",
        body=(f"The update run {run_id} of '{review_title}' failed; nothing was lost and the "
              f"watermarks were not advanced, so the next run covers the same window.\n\n{error}"))


def send(notification: Notification, settings: Settings) -> DeliveryReport:
    """Deliver to every URL in LR_NOTIFY_URLS; text is scrubbed of secrets first."""
    urls = [u for u in settings.notify_urls.reveal().replace(",", " ").split() if u]
    if not urls:
        log.info("no notification targets configured (LR_NOTIFY_URLS); alert not sent")
        return DeliveryReport(targets=0, delivered=False)
    client = apprise.Apprise()
    for url in urls:
        if not client.add(url):
            log.warning("a notification URL in LR_NOTIFY_URLS is not valid apprise syntax; skipped")
    delivered = bool(client.notify(title=scrub(notification.title, settings),
                                   body=scrub(notification.body, settings)))
    log.info("alert sent to %d target(s): %s", len(client), "delivered" if delivered else "FAILED")
    return DeliveryReport(targets=len(client), delivered=delivered)
