"""Prefect flows that compose the tasks."""
