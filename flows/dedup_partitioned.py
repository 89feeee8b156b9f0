"""Deduplication scaled out: normalising, blocking and scoring run as tasks on a Dask cluster.

The work is the same as ``livingreview.dedup.dedupe_batch`` (and gives the same matches), cut
along the lines ``livingreview.dedup.partition`` draws: records are normalised in parts;
blocking entries are dealt into partitions by key hash so each key is blocked on one worker;
the candidate pairs are cut into chunks scored on the workers; the chain guard runs last, on
the flow's side, over the duplicate pairs only.

Run locally (a temporary ``LocalCluster``)::

    python -m flows.dedup_partitioned RECORDS.csv --out GROUPS.csv --partitions 8

or point the task runner at an existing scheduler with
``dedupe_partitioned.with_options(task_runner=DaskTaskRunner(address="tcp://..."))``.
"""

from __future__ import annotations

import argparse
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from livingreview.dedup.match import DecidedPairs, Match, cluster_table, decide_pairs, to_matches
from livingreview.dedup.partition import Entries, block_partition, pair_chunks, split_entries
from livingreview.dedup.table import RecordTable
from livingreview.records import Record


@task(cache_policy=NO_CACHE)
def normalise_part(keyed_records: list[tuple[str, Record]]) -> RecordTable:
    return RecordTable.from_records(keyed_records)


@task(cache_policy=NO_CACHE)
def block_part(entries: Entries, n_rows: int) -> tuple[Any, Any]:
    return block_partition(entries, n_rows)


@task(cache_policy=NO_CACHE)
def decide_chunk(table: RecordTable, later: Any, earlier: Any) -> DecidedPairs:
    return decide_pairs(table, table, later, earlier)


@flow(name="dedupe-partitioned",
      task_runner=DaskTaskRunner(cluster_kwargs={"n_workers": 2, "processes": False}))
def dedupe_partitioned(keyed_records: list[tuple[str, Record]], partitions: int = 4,
                       chunks: int = 4) -> tuple[list[Match], list[list[str]]]:
    """Duplicate and maybe pairs within ``keyed_records``, computed on the Dask cluster, and
    the duplicate groups they make (canonical key first)."""
    logger = get_run_logger()
    size = max(1, -(-len(keyed_records) // partitions))
    parts = [normalise_part.submit(keyed_records[i:i + size])
             for i in range(0, len(keyed_records), size)]
    table = RecordTable.concat([p.result() for p in parts]) if parts else RecordTable.empty()
    blocked = [block_part.submit(entries, len(table))
               for entries in split_entries(table, partitions)]
    pairs = [future.result() for future in blocked]
    decided = [decide_chunk.submit(table, later, earlier)
               for later, earlier in pair_chunks(pairs, len(table), chunks)]
    matches = to_matches(table, table, DecidedPairs.concat([f.result() for f in decided]))
    logger.info("%d records, %d candidate pairs, %d matches (%d duplicate)", len(table),
                sum(len(p[0]) for p in pairs), len(matches),
                sum(m.zone == "duplicate" for m in matches))
    return matches, cluster_table(table, matches).groups


def main() -> None:
    from livingreview.dedup.record_files import read_record_file, write_groups

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", help="records CSV (bib-dedupe or ASySD layout)")
    parser.add_argument("--out", required=True, help="groups CSV to write")
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args()
    keyed = read_record_file(args.records)
    _matches, groups = dedupe_partitioned(keyed, partitions=args.partitions,
                                          chunks=args.partitions)
    write_groups(groups, args.out)


if __name__ == "__main__":
    main()
