"""Recomputing the review's summaries into a new report version and publishing them."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from livingreview.cocreation.detector import DetectorConfig
from livingreview.config import Settings
from livingreview.store.database import session_scope
from livingreview.summaries.report import write_report
from livingreview.summaries.versions import new_version


def _link_page(page, version: int) -> None:
    # The HTML page embeds its figures, so the link alone opens the whole report offline.
    create_link_artifact(link=page.resolve().as_uri(), link_text=f"report version {version}",
                         key="review-report-page",
                         description=f"Living review, version {version}, as one HTML page")


@task(cache_policy=NO_CACHE)
def summarise_review(settings: Settings, review: dict[str, Any], run_id: int) -> dict[str, Any]:
    with session_scope(settings.database_url) as session:
        version = new_version(session, settings.report_dir)
        report = write_report(session, settings.report_dir, version, run_id,
                              search_note=review["review"].get("narrower_search_note"),
                              detector=DetectorConfig.from_review(review), demo=settings.demo)
    label = "DEMO DATA: living review" if settings.demo else "Living review"
    create_markdown_artifact(markdown=report.markdown, key="review-report",
                             description=f"{label}, version {version}")
    _link_page(report.report_html, version)
    for name, rows in report.tables.items():
        create_table_artifact(table=rows, key=f"table-{name}".replace("_", "-"),
                              description=f"{name} (version {version})")
    get_run_logger().info("report version %d written to %s", version, report.directory)
    return {"version": version, "directory": str(report.directory),
            "search_log": report.summary.get("search_log", {})}


@task(cache_policy=NO_CACHE)
def rewrite_review_report(settings: Settings, review: dict[str, Any],
                          run_id: int | None) -> dict[str, Any]:
    from livingreview.summaries.versions import rewrite_report_for

    paths = rewrite_report_for(settings, review, run_id=run_id)
    create_markdown_artifact(markdown=paths.report_md.read_text(encoding="utf-8"),
                             key="review-report",
                             description=f"Living review, version {paths.version} (rewritten)")
    _link_page(paths.report_html, paths.version)
    get_run_logger().info("report version %d written to %s", paths.version, paths.directory)
    return {"version": paths.version, "directory": str(paths.directory)}
