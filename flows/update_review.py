"""The monthly update of the living review, composed from thin tasks.

harvest (per source, concurrently; responses archived first) -> search recall on the known
included studies -> deduplicate -> pre-filter and
queue -> rank -> validate (gate) -> summarise -> alert -> advance watermarks.
A failure anywhere keeps what was stored, records the run as failed, alerts the maintainers and
leaves the watermarks where they were, so the next run covers the window again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from prefect import flow, get_run_logger
from prefect.client.schemas.objects import Flow, FlowRun, State

from livingreview.alerts import failure_notification, send
from livingreview.config import Settings, load_review, protect_logs, scrub
from livingreview.errors import ValidationFailed
from livingreview.harvest.queries import query_version
from tasks.alerts import alert_maintainers, raise_co_creation_alerts
from tasks.harvest import fetch_source
from tasks.intake import dedupe_records, queue_new_candidates, rank_candidates
from tasks.recall import measure_search_recall
from tasks.runs import advance_source_watermarks, close_run, open_run, save_run_counts
from tasks.summaries import summarise_review
from tasks.validation import validate_data


def _notify_failure(flow_: Flow, flow_run: FlowRun, state: State) -> None:
    settings = Settings.from_env()
    review = load_review(settings.review_file)
    if review["alerts"].get("notify_on_failure", True):
        message = scrub(str(state.message or state.name), settings)
        send(failure_notification(review["review"]["title"], flow_run.name, message), settings)


@flow(name="update-review", log_prints=True, on_failure=[_notify_failure])
def update_review(since: date | None = None, until: date | None = None,
                  sources: list[str] | None = None) -> dict[str, Any]:
    """Run one update of the living review for the window since each source's watermark.

    since/until override the window (ISO dates); sources limits the run to some of the
    sources enabled in review.toml.
    """
    settings = Settings.from_env()
    protect_logs(settings)
    review = load_review(settings.review_file)
    logger = get_run_logger()
    run_id, windows = open_run(settings, review, since, until, sources)
    counts: dict[str, Any] = {"windows": {w.source: [str(w.start), str(w.end)] for w in windows},
                              "window_reasons": {w.source: w.reason for w in windows},
                              "queries": {w.source: query_version(review, w.source) for w in windows}}
    for w in windows:
        if w.reason == "query_changed":
            logger.warning("%s: its query changed since its last successful run (%s -> %s); "
                           "searching again from the baseline cut-off %s", w.source,
                           w.previous_query_sha256[:12], w.query_sha256[:12], w.start)
    try:
        headers = {"User-Agent": f"livingreview/0.1 (mailto:{settings.contact_email})"}
        with httpx.Client(timeout=settings.http_timeout, headers=headers,
                          follow_redirects=True) as http:
            futures = [fetch_source.submit(settings, review, w, run_id, http) for w in windows]
            harvests = []
            for window, future in zip(windows, futures):
                try:
                    harvests.append(future.result())
                except Exception as exc:
                    # "Failed" is not "0 new": the run record names the source and the cause
                    # (the message names the request, its secrets redacted).
                    counts["failed_source"] = {"source": window.source,
                                               "error": scrub(f"{type(exc).__name__}: {exc}", settings)}
                    raise
            counts["recall"] = measure_search_recall(settings, review, run_id, http,
                                                     [w.source for w in windows])
        counts["identified"] = {h.source: len(h.records) for h in harvests}
        counts["filtered_out"] = {h.source: h.filtered_out for h in harvests}
        counts["sources"] = {h.source: h.summary for h in harvests}
        records = [r for h in harvests for r in h.records]
        counts["intake"] = dedupe_records(settings, run_id, records)
        counts["queue"] = queue_new_candidates(settings, review, run_id)
        counts["ranking"] = rank_candidates(settings)
        save_run_counts(settings, run_id, counts)
        counts["validation"] = validate_data(settings, run_id)
        raise_co_creation_alerts(settings, review, run_id)
        report = summarise_review(settings, review, run_id)
        counts["alerts"] = alert_maintainers(settings, review, run_id, report)
    except ValidationFailed as exc:
        close_run(settings, run_id, "validation_failed", counts, error=exc.report)
        raise
    except Exception as exc:
        close_run(settings, run_id, "failed", counts, error=scrub(f"{type(exc).__name__}: {exc}",
                                                                   settings))
        raise
    # A source that stopped before its window was complete (OpenAlex's budget, say) keeps its
    # watermark, so the next run covers the window again.
    stopped = {h.source: h.summary["stopped"] for h in harvests if h.summary.get("stopped")}
    if stopped:
        counts["incomplete"] = stopped
        for source, reason in stopped.items():
            logger.warning("%s stopped before its window was complete; its watermark stays: %s",
                           source, reason)
    advance_source_watermarks(settings, run_id, [w for w in windows if w.source not in stopped])
    close_run(settings, run_id, "succeeded", counts, report_version=report["version"])
    logger.info("update run %s succeeded: report version %s in %s", run_id, report["version"],
                report["directory"])
    return {"run_id": run_id, "report_version": report["version"],
            "report_directory": report["directory"], "counts": counts}


if __name__ == "__main__":
    update_review()
