"""The Great Expectations gate before anything is recomputed."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from livingreview.config import Settings
from livingreview.store.database import session_scope
from livingreview.validation import EXPECTATIONS_DIR, require, validate


@task(cache_policy=NO_CACHE)
def validate_data(settings: Settings, run_id: int) -> dict[str, int]:
    directory = settings.expectations_dir or EXPECTATIONS_DIR
    with session_scope(settings.database_url) as session:
        outcome = validate(session, run_id, directory)
    create_markdown_artifact(markdown=outcome.report, key="data-validation",
                             description=f"Data validation of update run {run_id}")
    logger = get_run_logger()
    if outcome.success:
        logger.info("validation passed: %s", outcome.checked)
    else:
        logger.error("validation failed:\n%s", outcome.report)
    require(outcome)
    return outcome.checked
