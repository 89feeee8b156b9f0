"""The Great Expectations gate before anything is recomputed."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from livingreview.config import Settings
from livingreview.store.database import session_scope
from livingreview.validation import EXPECTATIONS_DIR, require, validate, write_page


@task(cache_policy=NO_CACHE)
def validate_data(settings: Settings, run_id: int) -> dict[str, int]:
    directory = settings.expectations_dir or EXPECTATIONS_DIR
    with session_scope(settings.database_url) as session:
        outcome = validate(session, run_id, directory)
    page = write_page(outcome, settings.report_dir, f"run-{run_id:04d}")
    create_markdown_artifact(markdown=outcome.report, key="data-validation",
                             description=f"Data validation of update run {run_id}")
    create_link_artifact(link=page.resolve().as_uri(), link_text=f"data validation, run {run_id}",
                         key="data-validation-page",
                         description="The gate's account as a self-contained HTML page")
    logger = get_run_logger()
    if outcome.success:
        logger.info("validation passed: %s", outcome.checked)
    else:
        logger.error("validation failed (%s):\n%s", page, outcome.report)
    require(outcome)
    return outcome.checked
