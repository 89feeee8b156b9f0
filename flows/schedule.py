"""Serving the monthly update on the schedule from review.toml (``livingreview serve``)."""

from __future__ import annotations

from prefect.schedules import Cron

from flows.update_review import update_review
from livingreview.config import Settings, load_review

DEPLOYMENT_NAME = "monthly"


def monthly_schedule(settings: Settings) -> Cron:
    schedule = load_review(settings.review_file)["schedule"]
    return Cron(schedule["cron"], timezone=schedule.get("timezone", "UTC"))


def serve_update(settings: Settings) -> None:
    """Register the deployment with the Prefect server and run its scheduled flow runs."""
    update_review.serve(name=DEPLOYMENT_NAME, schedule=monthly_schedule(settings),
                        description="Monthly update of the living review",
                        tags=["livingreview"])
