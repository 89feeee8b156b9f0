"""Prefect flows that compose the tasks."""

from livingreview.config import apply_prefect_defaults

# Before any flow module imports Prefect: the project's Prefect home, no telemetry, start-up time.
apply_prefect_defaults()
