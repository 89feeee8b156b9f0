"""Alert rules and notifications (apprise): new co-creation candidates, run failures.

Notification URLs are secrets (they embed webhook tokens and SMTP passwords): they come from the
environment and are never logged; what is logged names only how many targets were notified.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import apprise
from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.config import Settings, scrub
from livingreview.records import Record
from livingreview.store.models import Candidate, StoredRecord

log = logging.getLogger(__name__)


@dataclass
class Notification:
    title: str
    body: str


@dataclass
class DeliveryReport:
    targets: int
    delivered: bool


def co_creation_matches(record: Record, patterns: list[str]) -> list[str]:
    """The patterns a record's title or abstract matches (case-insensitive)."""
    text = " ".join(filter(None, [record.title, record.abstract]))
    return [p for p in patterns if re.search(p, text, flags=re.IGNORECASE)]


def new_co_creation_candidates(session: Session, run_id: int, patterns: list[str]) -> list[dict[str, Any]]:
    from livingreview.intake import to_record

    found = []
    for candidate, row in session.execute(
            select(Candidate, StoredRecord).join(StoredRecord, StoredRecord.id == Candidate.record_id)
            .where(Candidate.run_id == run_id).order_by(StoredRecord.id)):
        matched = co_creation_matches(to_record(row), patterns)
        if matched:
            found.append({"record_id": row.id, "title": row.title, "year": row.year,
                          "doi": row.doi, "pmid": row.pmid, "matched": matched})
    return found


def co_creation_notification(review_title: str, version: int | None,
                             found: list[dict[str, Any]]) -> Notification:
    lines = [f"{len(found)} new candidate(s) for '{review_title}' mention co-creation or co-design:"]
    for item in found:
        ident = f"doi:{item['doi']}" if item["doi"] else f"PMID {item['pmid']}"
        lines.append(f"- {item['title']} ({item['year']}; {ident})")
    lines.append("They are in the screening queue (`livingreview queue`).")
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
