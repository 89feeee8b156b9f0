"""The partitioned deduplication flow on a real local Dask cluster (two in-process workers)
gives exactly the groups and pairs of the single-process path."""

from __future__ import annotations

import random

import pytest
from prefect_dask import DaskTaskRunner

from flows.dedup_partitioned import dedupe_partitioned
from livingreview.dedup import dedupe_batch
from livingreview.dedup.match import cluster_table
from livingreview.dedup.table import RecordTable
from livingreview.records import Record

WORDS = ("peer support workers mental health services recovery coproduction community "
         "randomised trial outcomes inpatient outpatient experiences qualitative study "
         "substance use peer-led intervention hospital discharge stigma employment").split()
SURNAMES = ["Smith", "Ness", "Akerblom", "Davidson", "Repper", "Chinman", "Mead", "Gillard",
            "Walker", "Bellamy", "Cabral", "Solomon", "Watson", "Castelein", "Pitt"]


def corpus(n_works: int = 400, seed: int = 7) -> list[tuple[str, Record]]:
    """Works plus damaged copies: typos, truncated author lists, abbreviated journals."""
    rng = random.Random(seed)
    keyed = []
    for i in range(n_works):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(7, 12)))
        authors = [f"{rng.choice(SURNAMES)}, {rng.choice('ABCDEFG')}." for _ in range(3)]
        work = Record("test", str(i), title=title.capitalize(), authors=authors,
                      year=rng.randint(2000, 2024), journal="Psychiatric Services",
                      volume=str(rng.randint(1, 70)), pages=f"{rng.randint(1, 900)}-9",
                      doi=f"10.1000/w{i}" if rng.random() < 0.5 else None)
        keyed.append((f"w{i}", work))
        if rng.random() < 0.4:
            copy = Record("copy", str(i), title=title.upper(), authors=authors[:1],
                          year=work.year, journal="Psychiatr Serv", volume=work.volume,
                          pages=work.pages)
            keyed.append((f"c{i}", copy))
    rng.shuffle(keyed)
    return keyed


@pytest.mark.timeout(240)
def test_partitioned_flow_on_dask_gives_the_single_process_groups(prefect_harness):
    keyed = corpus()
    single = dedupe_batch(keyed)
    expected_groups = cluster_table(RecordTable.from_records(keyed), single).groups
    assert len(expected_groups) > 50  # the corpus does hold duplicates to find

    on_dask = dedupe_partitioned.with_options(
        task_runner=DaskTaskRunner(cluster_kwargs={"n_workers": 2, "processes": False,
                                                   "threads_per_worker": 1})
    )
    matches, groups = on_dask(keyed, partitions=3, chunks=3)

    assert sorted(map(sorted, groups)) == sorted(map(sorted, expected_groups))
    assert sorted((m.left, m.right, m.zone, m.method) for m in matches) == \
        sorted((m.left, m.right, m.zone, m.method) for m in single)
