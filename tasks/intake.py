"""Storing hits with their duplicate links, then pre-filtering and queueing new records."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from livingreview.config import Settings
from livingreview.intake import queue_candidates, save_index, store_hits
from livingreview.records import Record
from livingreview.screening.agreement import assign_second_reviewers
from livingreview.screening.priority import prioritise
from livingreview.store.database import session_scope


@task(cache_policy=NO_CACHE)
def dedupe_records(settings: Settings, run_id: int, records: list[Record]) -> dict[str, Any]:
    with session_scope(settings.database_url) as session:
        counts = store_hits(session, run_id, records, index_path=settings.dedup_index).as_dict()
    if settings.dedup_index is not None:
        # After the commit: an index never holds records the store does not.
        with session_scope(settings.database_url) as session:
            save_index(session, settings.dedup_index)
    get_run_logger().info(
        "%d hits: %d already known, %d stored, %d duplicates linked, %d pairs for a person",
        counts["received"], counts["already_known"], counts["added"], counts["duplicates_total"],
        counts["maybe_pairs"])
    return counts


@task(cache_policy=NO_CACHE)
def queue_new_candidates(settings: Settings, review: dict[str, Any], run_id: int) -> dict[str, Any]:
    screening = review.get("screening", {})
    with session_scope(settings.database_url) as session:
        counts = queue_candidates(session, run_id, review["eligibility"]).as_dict()
        # The review double-screened a random share; the draw is seeded and recorded.
        sample = assign_second_reviewers(
            session, run_id, fraction=float(screening.get("second_reviewer_fraction", 0.2)),
            seed=int(screening.get("seed", 20211214)))
    counts["second_reviewer"] = len(sample.selected)
    get_run_logger().info("%d queued for screening (%d for a second reviewer), %d excluded by "
                          "metadata rules %s", counts["queued"], counts["second_reviewer"],
                          counts["auto_excluded_total"], counts["auto_excluded"])
    return counts


@task(cache_policy=NO_CACHE)
def rank_candidates(settings: Settings) -> dict[str, Any]:
    with session_scope(settings.database_url) as session:
        ranking = prioritise(session)
    get_run_logger().info("ranked %d pending candidates (%s)", ranking["ranked"], ranking["model"])
    return ranking
