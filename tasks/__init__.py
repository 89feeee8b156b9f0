"""Prefect tasks: thin wrappers, one pipeline step each, around the ``livingreview`` core."""
