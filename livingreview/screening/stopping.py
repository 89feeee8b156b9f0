"""How many relevant records probably remain among those not yet screened (a stopping aid).

Method: calibrated score positions.

1. Score every screened record with a model that did not see it (k-fold cross-fitting over the
   screened records, each fold's model trained as the ranker is, presumed exclusions included).
   Each fold's model also scores the unscreened records, and a screened record's position is
   the share of those unscreened records that it outscores. Positions, unlike raw scores, mean
   the same thing for every fold's model: a linear model's scores shift from fit to fit, and a
   calibration on raw out-of-fold scores was off by a factor of two on a random 100/200 split.
2. Fit a logistic curve, P(included | logit(position)), to the screened records' positions and
   their true labels.
3. Score the unscreened records with the model trained on all screened records, take each one's
   position among the unscreened and turn it into a probability with that curve. The expected
   number of relevant records remaining is the sum of the probabilities.
4. The interval repeats step 2 on bootstrap resamples of the screened records and draws, for
   each, how many unscreened records turn out relevant (one Bernoulli draw per record); the
   5th and 95th percentiles of those counts bound the estimate.

Assumptions (the estimate is as good as these):

* Which records got screened depended on their text only (through the ranking), so among
  records at the same position, screened and unscreened ones are equally likely to be
  relevant. This holds for prioritised screening; it fails if reviewers picked records by
  something the model does not see (e.g. a known author, full text).
* The logistic curve fitted where screened records are dense (mostly above the unscreened
  ones, in prioritised screening) extends to the positions where the unscreened records lie. Early in a screening, with few screened exclusions at low
  scores, this extrapolation is weak: the estimate needs at least
  ``MIN_SCREENED_INCLUSIONS`` inclusions and as many exclusions, and returns None before.
* Screening decisions are correct and final. Relevant records the ranker finds hard (unusual
  wording, missing abstract) score low and are the ones the estimate is most likely to miss:
  treat it as a guide for when to look harder, not as a guarantee of recall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from livingreview.screening.ranking import DEFAULT_MODEL, PRESUMED_EXCLUSIONS, fit_scores

#: Fewer screened inclusions (or exclusions) than this and no estimate is given.
MIN_SCREENED_INCLUSIONS = 3
FOLDS = 5
BOOTSTRAPS = 200


@dataclass(frozen=True)
class RemainingEstimate:
    """Relevant records probably left among the unscreened ones."""

    expected: float
    low: float
    high: float
    n_screened: int
    n_unscreened: int

    def describe(self) -> str:
        return (f"about {self.expected:.0f} relevant records probably remain among "
                f"{self.n_unscreened} unscreened (90% interval {self.low:.0f}-{self.high:.0f}; "
                f"estimated from {self.n_screened} screened)")


def _positions(reference: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """logit of the share of ``reference`` scores below each score (ties count half)."""
    reference = np.sort(reference)
    below = np.searchsorted(reference, scores, side="left")
    tied = np.searchsorted(reference, scores, side="right") - below
    share = (below + 0.5 * tied + 0.5) / (reference.size + 1)
    return np.log(share / (1 - share))


def _out_of_fold_positions(screened: sparse.csr_matrix, labels: np.ndarray,
                           unscreened: sparse.csr_matrix, model: str,
                           rng: np.random.Generator, presumed_exclusions: int) -> np.ndarray:
    n_in = int(labels.sum())
    n_out = labels.size - n_in
    folds = max(2, min(FOLDS, n_in, n_out))
    # Stratified folds: deal the inclusions and the exclusions round-robin after shuffling,
    # so every fold's model has inclusions to learn from.
    fold_of = np.empty(labels.size, dtype=np.int64)
    for value in (0, 1):
        members = rng.permutation(np.flatnonzero(labels == value))
        fold_of[members] = np.arange(members.size) % folds
    positions = np.empty(labels.size, dtype=np.float64)
    for fold in range(folds):
        held = fold_of == fold
        n_held = int(held.sum())
        scores = fit_scores(screened[~held], labels[~held],
                            sparse.vstack([screened[held], unscreened], format="csr"),
                            unscreened, model=model, rng=rng,
                            presumed_exclusions=presumed_exclusions)
        positions[held] = _positions(scores[n_held:], scores[:n_held])
    return positions


class _Curve:
    """P(included | x) = 1 / (1 + exp(-(a + b x))), fitted by Newton's method.

    Two parameters fitted a few hundred times per estimate: scikit-learn's L-BFGS took 10 ms a
    fit under load, this takes well under one. A small ridge keeps the fit finite when the
    positions separate the labels perfectly.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, ridge: float = 1e-3) -> None:
        design = np.column_stack([np.ones_like(x), x])
        theta = np.zeros(2)
        for _ in range(100):
            p = 1 / (1 + np.exp(-design @ theta))
            gradient = design.T @ (y - p) - ridge * theta
            hessian = (design * (p * (1 - p))[:, None]).T @ design + ridge * np.eye(2)
            step = np.linalg.solve(hessian, gradient)
            theta += step
            if np.abs(step).max() < 1e-8:
                break
        self.theta = theta

    def proba(self, x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(self.theta[0] + self.theta[1] * x)))


def estimate_remaining(screened: sparse.csr_matrix, labels: np.ndarray,
                       unscreened: sparse.csr_matrix, *, model: str = DEFAULT_MODEL,
                       seed: int = 0, presumed_exclusions: int = PRESUMED_EXCLUSIONS
                       ) -> RemainingEstimate | None:
    """Estimate relevant records among ``unscreened`` from the ``screened`` decisions.

    ``screened`` and ``unscreened`` are feature matrices from the same vectoriser (see
    ``ranking.vectorise``). None when there is too little to calibrate on (see module docstring).
    """
    labels = np.asarray(labels, dtype=np.int64)
    n_unscreened = unscreened.shape[0]
    if n_unscreened == 0:
        return RemainingEstimate(0.0, 0.0, 0.0, labels.size, 0)
    n_in = int(labels.sum())
    if n_in < MIN_SCREENED_INCLUSIONS or labels.size - n_in < MIN_SCREENED_INCLUSIONS:
        return None
    rng = np.random.default_rng(seed)
    oof = _out_of_fold_positions(screened, labels, unscreened, model, rng, presumed_exclusions)
    scores = fit_scores(screened, labels, unscreened, unscreened, model=model, rng=rng,
                        presumed_exclusions=presumed_exclusions)
    pending = _positions(scores, scores)
    expected = float(_Curve(oof, labels).proba(pending).sum())

    counts = np.empty(BOOTSTRAPS)
    for b in range(BOOTSTRAPS):
        rows = rng.integers(0, labels.size, labels.size)
        if labels[rows].min() == labels[rows].max():
            rows = np.arange(labels.size)
        proba = _Curve(oof[rows], labels[rows]).proba(pending)
        counts[b] = (rng.random(proba.size) < proba).sum()
    low, high = np.percentile(counts, [5, 95])
    return RemainingEstimate(expected=expected, low=float(min(low, expected)),
                             high=float(max(high, expected)), n_screened=int(labels.size),
                             n_unscreened=int(n_unscreened))
