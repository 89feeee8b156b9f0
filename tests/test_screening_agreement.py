"""Dual screening: a seeded, recorded 20% draw, and Cohen's kappa per stage and reviewer pair."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from livingreview.screening.agreement import SAMPLE_KEY, agreement, assign_second_reviewers
from livingreview.screening.status import record_decision
from livingreview.store.database import session_scope
from livingreview.store.models import Candidate, StoredRecord, UpdateRun


def _candidates(url: str, n: int, run_id: int | None = None) -> list[int]:
    ids = []
    with session_scope(url) as s:
        for i in range(n):
            row = StoredRecord(origin="pubmed", title=f"Record {i}")
            s.add(row)
            s.flush()
            s.add(Candidate(record_id=row.id, run_id=run_id))
            ids.append(row.id)
    return ids


def _run(url: str) -> int:
    with session_scope(url) as s:
        run = UpdateRun(kind="update", status="running", counts={"queued": 50})
        s.add(run)
        s.flush()
        return run.id


def test_twenty_percent_draw_is_seeded_recorded_and_not_repeated(store_url):
    run_id = _run(store_url)
    ids = _candidates(store_url, 50, run_id)
    with session_scope(store_url) as s:
        sample = assign_second_reviewers(s, run_id, fraction=0.2, seed=7)
    assert len(sample.selected) == 10 and set(sample.selected) <= set(ids)
    with session_scope(store_url) as s:
        marked = set(s.scalars(select(Candidate.record_id).where(Candidate.second_reviewer)))
        counts = s.get(UpdateRun, run_id).counts
    assert marked == set(sample.selected)
    assert counts["queued"] == 50  # the run's other counts are kept
    assert counts[SAMPLE_KEY]["seed"] == 7 and counts[SAMPLE_KEY]["selected"] == sample.selected
    # Drawing again adds nothing: every candidate of the run was already in the pool.
    with session_scope(store_url) as s:
        again = assign_second_reviewers(s, run_id, fraction=0.2, seed=7)
    assert again.pool == [] and again.selected == []


def test_the_same_seed_replays_the_same_draw(tmp_path):
    from livingreview.store.database import upgrade

    picks = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.sqlite"
        upgrade(url)
        run_id = _run(url)
        _candidates(url, 40, run_id)
        with session_scope(url) as s:
            picks.append(assign_second_reviewers(s, run_id, 0.25, seed=20211214).selected)
    assert picks[0] == picks[1] and len(picks[0]) == 10


def test_bad_fraction_is_refused(store_url):
    with session_scope(store_url) as s:
        with pytest.raises(Exception, match="between 0 and 1"):
            assign_second_reviewers(s, None, fraction=20)


def test_kappa_per_stage_and_pair_matches_the_hand_computation(store_url):
    ids = _candidates(store_url, 10)
    ann = ["include"] * 5 + ["exclude"] * 5
    bob = ["include"] * 4 + ["exclude"] * 6
    with session_scope(store_url) as s:
        for rid, a, b in zip(ids, ann, bob):
            record_decision(s, rid, "title_abstract", a, "ann",
                            reason_code="EX_SETTING" if a == "exclude" else None)
            record_decision(s, rid, "title_abstract", b, "bob",
                            reason_code="EX_SETTING" if b == "exclude" else None)
        # A third reviewer on two records, and an automatic vote that must not count.
        record_decision(s, ids[0], "title_abstract", "include", "cat")
        record_decision(s, ids[9], "title_abstract", "include", "cat")
        record_decision(s, ids[4], "title_abstract", "include", "cat", resolution=True)
        report = agreement(s)
    by_key = {(k.stage, k.reviewers): k for k in report}
    pair = by_key[("title_abstract", ("ann", "bob"))]
    # po = 0.9; pe = 0.5*0.4 + 0.5*0.6 = 0.5; kappa = (0.9 - 0.5) / 0.5 = 0.8
    assert pair.records == 10 and pair.observed_agreement == pytest.approx(0.9)
    assert pair.kappa == pytest.approx(0.8) and pair.disagreements == 1
    assert by_key[("title_abstract", ("ann", "cat"))].records == 2
    pooled = by_key[("title_abstract", ("all pairs",))]
    assert pooled.records == 10 and pooled.kappa == pytest.approx(0.8)
    assert not any(k.stage == "full_text" for k in report)


def test_kappa_is_undefined_when_both_used_one_category(store_url):
    ids = _candidates(store_url, 3)
    with session_scope(store_url) as s:
        for rid in ids:
            record_decision(s, rid, "title_abstract", "include", "ann")
            record_decision(s, rid, "title_abstract", "include", "bob")
        (pair,) = [k for k in agreement(s) if k.reviewers == ("ann", "bob")]
    assert pair.kappa is None and pair.observed_agreement == 1.0
