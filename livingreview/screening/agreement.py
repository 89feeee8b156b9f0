"""Dual screening: a seeded random share of candidates for a second reviewer, and agreement.

The review double-screened a random 20% at both stages. ``assign_second_reviewers`` marks that
share among candidates that have never been in a sample, with a seeded generator, and records
fraction, seed, pool and picks in an ``update_runs`` row's ``counts`` (the update run's own,
when given, so the report can cite it), so the draw can be checked and replayed.

``agreement`` reports Cohen's kappa (scikit-learn) per stage and per reviewer pair over the
records both reviewers voted on (standing votes, automatic votes and resolutions left out).
"""

from __future__ import annotations

import math
import random
import warnings
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

from sklearn.metrics import cohen_kappa_score
from sqlalchemy import select
from sqlalchemy.orm import Session

from livingreview.errors import LivingReviewError
from livingreview.screening.status import DECISIONS, STAGES, standing_votes, vote_order
from livingreview.store.models import Candidate, ScreeningDecision, UpdateRun

SAMPLE_KEY = "second_reviewer_sample"
DEFAULT_FRACTION = 0.20
DEFAULT_SEED = 20211214


@dataclass(frozen=True)
class SecondReviewSample:
    run_id: int  # the run whose counts record the draw
    fraction: float
    seed: int
    pool: list[int]
    selected: list[int]


def sampled_record_ids(session: Session) -> set[int]:
    """Candidates that were already in a draw (picked or not)."""
    seen: set[int] = set()
    for counts in session.scalars(select(UpdateRun.counts)):
        sample = (counts or {}).get(SAMPLE_KEY)
        if sample:
            seen.update(sample.get("pool", []))
    return seen


def assign_second_reviewers(session: Session, run_id: int | None = None,
                            fraction: float = DEFAULT_FRACTION, seed: int = DEFAULT_SEED,
                            ) -> SecondReviewSample:
    """Mark ``round(fraction * pool)`` (half up) of the not-yet-sampled candidates for a second
    reviewer. The pool is the candidates of ``run_id`` (all runs when None) that were never in
    a draw; the same pool, fraction and seed always give the same picks, whichever run number
    drew them (a run killed and run again draws what an undisturbed run would have).
    """
    if not 0.0 <= fraction <= 1.0:
        raise LivingReviewError(f"second-reviewer fraction {fraction} is not between 0 and 1. "
                                "Fix: set [screening] second_reviewer_fraction, e.g. 0.2")
    query = select(Candidate.record_id)
    if run_id is not None:
        query = query.where(Candidate.run_id == run_id)
    done = sampled_record_ids(session)
    pool = sorted(set(session.scalars(query)) - done)
    size = math.floor(fraction * len(pool) + 0.5)
    # A string seed is hashed deterministically (not by PYTHONHASHSEED), so draws replay.
    rng = random.Random(f"{seed}:{','.join(map(str, pool))}")
    selected = sorted(rng.sample(pool, size)) if size else []
    if selected:
        for cand in session.scalars(select(Candidate).where(Candidate.record_id.in_(selected))):
            cand.second_reviewer = True
    run = session.get(UpdateRun, run_id) if run_id is not None else None
    if run is None:
        run = UpdateRun(kind="screening_sample", status="succeeded")
        session.add(run)
        session.flush()
    previous = (run.counts or {}).get(SAMPLE_KEY)
    entry = {"fraction": fraction, "seed": seed, "pool": pool, "selected": selected,
             "source_run_id": run_id}
    if previous:  # a second draw on the same run keeps the first one's record
        entry["pool"] = sorted(set(previous["pool"]) | set(pool))
        entry["selected"] = sorted(set(previous["selected"]) | set(selected))
    run.counts = {**(run.counts or {}), SAMPLE_KEY: entry}
    session.flush()
    return SecondReviewSample(run.id, fraction, seed, pool, selected)


@dataclass(frozen=True)
class Kappa:
    stage: str
    reviewers: tuple[str, ...]  # a pair, or ("all pairs",) for the stage's pooled figure
    records: int
    observed_agreement: float
    kappa: float | None  # None when undefined (both reviewers used one category only)
    disagreements: int


def _kappa(stage: str, who: tuple[str, ...], a: list[str], b: list[str]) -> Kappa:
    observed = sum(x == y for x, y in zip(a, b)) / len(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = float(cohen_kappa_score(a, b, labels=list(DECISIONS)))
    return Kappa(stage, who, len(a), observed, None if math.isnan(value) else value,
                 sum(x != y for x, y in zip(a, b)))


def agreement(session: Session) -> list[Kappa]:
    """Cohen's kappa per stage (first two voters of each record) and per reviewer pair."""
    events: dict[tuple[int, str], list[ScreeningDecision]] = defaultdict(list)
    for event in session.scalars(select(ScreeningDecision)):
        events[(event.record_id, event.stage)].append(event)
    votes_by_stage: dict[str, list[dict]] = defaultdict(list)
    for (_, stage), rows in events.items():
        votes = {r: v for r, v in standing_votes(rows).items()
                 if not v.resolution and not v.automatic}
        if len(votes) >= 2:
            votes_by_stage[stage].append(votes)
    report: list[Kappa] = []
    for stage in STAGES:
        records = votes_by_stage.get(stage, [])
        if not records:
            continue
        first, second = [], []
        for votes in records:
            ordered = sorted(votes.values(), key=vote_order)
            first.append(ordered[0].decision)
            second.append(ordered[1].decision)
        report.append(_kappa(stage, ("all pairs",), first, second))
        pairs: dict[tuple[str, str], tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
        for votes in records:
            for x, y in combinations(sorted(votes), 2):
                pairs[(x, y)][0].append(votes[x].decision)
                pairs[(x, y)][1].append(votes[y].decision)
        for (x, y), (a, b) in sorted(pairs.items()):
            report.append(_kappa(stage, (x, y), a, b))
    return report
