"""Screening simulated on a fully labelled set: how well would prioritisation have done?

An ``ActiveLearner`` holds every record's features and the decisions made so far; it refits the
ranking model and hands out the next records to screen. A simulation seeds it with one random
inclusion and one random exclusion, then keeps screening the top-ranked records, "deciding"
each with its true label, until every record is screened. The order is what the metrics in
``livingreview.screening.metrics`` score.

By default the learner is ASReview's: it refits after every decision (``every_step_until``
None), on the real decisions only, and draws the SVM solver's seed from a NumPy RandomState
seeded by ``seed`` once per fit, as ASReview's global state under ``asreview simulate --seed``;
from the same priors it then screens in ASReview's order. Refitting after every decision is what
makes active learning work early on, when each new inclusion changes the ranking a lot; later a
decision barely moves it. ``every_step_until=N`` refits after every decision for the first N
decisions only, then screens batches of ``batch_fraction`` of the decisions made so far (2%:
20 records after 1,000 decisions), which keeps a 2,000-record simulation to about 250 fits.

Input sets are ASReview-style CSVs: ``record_id``, ``title``, ``abstract``, ``label_included``
(1 included, 0 excluded).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from livingreview.errors import InputError
from livingreview.screening.ranking import (
    DEFAULT_MODEL,
    DEFAULT_VIEWS,
    PRESUMED_EXCLUSIONS,
    check_model,
    fit_scores,
    rows_of,
    vectorise,
)
from livingreview.screening.stopping import (
    RemainingEstimate,
    estimate_remaining,
    expected_remaining,
)

REQUIRED_COLUMNS = ("record_id", "title", "abstract", "label_included")

#: The active learners the benchmark chooses between (``ActiveLearner`` keyword arguments).
#: ``elas_u4`` is ASReview's default model and loop exactly: word view, linear SVM, balanced
#: weights, a refit after every decision, no presumed exclusions. The others add to it; one
#: becomes the default only if it is at least as good as ``elas_u4`` on every left-out set
#: (``benchmarks/screening.py``; the figures are in ``benchmarks/README.md``).
LEARNERS: dict[str, dict] = {
    "elas_u4": {"views": ("words",), "presumed_exclusions": 0, "every_step_until": None},
    "elas_u4+presumed": {"views": ("words",), "presumed_exclusions": PRESUMED_EXCLUSIONS,
                         "every_step_until": 100},
    "elas_u4+characters": {"views": ("words", "characters"),
                           "presumed_exclusions": PRESUMED_EXCLUSIONS, "every_step_until": 100},
}
DEFAULT_LEARNER = "elas_u4"


def check_learner(name: str) -> dict:
    """The keyword arguments of learner ``name``, or ValueError naming the known ones."""
    if name not in LEARNERS:
        raise ValueError(f"unknown active learner {name!r}; choose one of {', '.join(LEARNERS)}")
    return dict(LEARNERS[name])
#: No presumed exclusions once an estimated 10% of the unscreened records are relevant.
PRESUMED_UNTIL_SHARE = 0.10


class ActiveLearner:
    """Ranks the unscreened records of a fixed set, refitting as decisions arrive.

    ``label(indices, labels)`` records decisions (row positions into ``texts``);
    ``next_batch()`` refits and returns the positions to screen next, best first.
    """

    def __init__(self, texts: Sequence[str], *, model: str = DEFAULT_MODEL, seed: int = 0,
                 every_step_until: int | None = None, batch_fraction: float = 0.02,
                 presumed_exclusions: int = 0,
                 presumed_from_low_half: bool = True,
                 views: Sequence[str] = DEFAULT_VIEWS) -> None:
        self.model = check_model(model)
        _, self._features = vectorise(list(texts), views)
        self.views = tuple(views)
        self.seed = seed
        self.every_step_until = every_step_until
        self.batch_fraction = batch_fraction
        self.presumed_exclusions = presumed_exclusions
        self.presumed_from_low_half = presumed_from_low_half
        self._rng = np.random.default_rng(seed)
        # Drawn from once per SVM fit, as ASReview's global NumPy state: with the ELAS u4
        # settings the two tools then screen in the same order.
        self._solver_state = np.random.RandomState(seed)
        n = self._features[0].shape[0]
        self._labels = np.full(n, -1, dtype=np.int64)
        self._last_scores = np.full(n, np.nan)
        self._order: list[int] = []
        self.fits = 0

    @property
    def order(self) -> list[int]:
        """Row positions in the order they were screened."""
        return list(self._order)

    @property
    def pending(self) -> np.ndarray:
        """Row positions not yet screened, in row order."""
        return np.flatnonzero(self._labels < 0)

    @property
    def screened_labels(self) -> np.ndarray:
        """Decisions so far, in screening order."""
        return self._labels[self._order]

    def label(self, indices: Sequence[int], labels: Sequence[int]) -> None:
        indices = np.asarray(indices, dtype=np.int64)
        labels = np.asarray(labels, dtype=np.int64)
        if indices.shape != labels.shape:
            raise ValueError("label() needs one label per index")
        if not np.isin(labels, (0, 1)).all():
            raise ValueError("labels must be 1 (included) or 0 (excluded)")
        if (self._labels[indices] >= 0).any() or np.unique(indices).size != indices.size:
            raise ValueError("a record can be screened only once")
        self._labels[indices] = labels
        self._order.extend(indices.tolist())

    def batch_size(self) -> int:
        done = len(self._order)
        if self.every_step_until is None or done < self.every_step_until:
            return 1
        return max(1, int(done * self.batch_fraction))

    def presumed_now(self) -> int:
        """How many presumed exclusions the next fit gets.

        Presumed exclusions only hold while the unscreened records are mostly exclusions, so
        they follow the discovery curve's estimate of the share of relevant records left among
        the unscreened: all of ``presumed_exclusions`` while it is near 0, none from
        PRESUMED_UNTIL_SHARE (10%) up. Before the curve can be fitted (see ``stopping``) there
        is no estimate, and they all join: the first fits, with a single exclusion to learn
        from, need them most. (Leaving them out until the curve is fitted was measured too: it
        cost WSS@95 on the set with 27% inclusions rather than saving it.)
        """
        decided = self.screened_labels
        left = expected_remaining(decided, int(self.pending.size))
        if left is None or not self.pending.size:
            return self.presumed_exclusions
        share = left / self.pending.size
        return round(self.presumed_exclusions
                     * min(1.0, max(0.0, 1 - share / PRESUMED_UNTIL_SHARE)))

    def scores(self) -> tuple[np.ndarray, np.ndarray]:
        """Refit on the decisions so far; return (pending positions, their scores)."""
        pending = self.pending
        screened = np.asarray(self._order, dtype=np.int64)
        pool = rows_of(self._features, pending)
        earlier = self._last_scores[pending]
        scores = fit_scores(rows_of(self._features, screened), self._labels[screened], pool, pool,
                            model=self.model, rng=self._rng,
                            presumed_exclusions=self.presumed_now(),
                            unlabelled_scores=earlier if self.presumed_from_low_half
                            and not np.isnan(earlier).any() else None,
                            solver_state=self._solver_state)
        self._last_scores[pending] = scores
        self.fits += 1
        return pending, scores

    def next_batch(self) -> np.ndarray:
        """Positions to screen next, best first (empty when everything is screened)."""
        if not self.pending.size:
            return np.zeros(0, dtype=np.int64)
        pending, scores = self.scores()
        # Stable sort on the negated scores: ties (e.g. no model yet) keep row order, so a
        # run is reproducible and, without information, the queue is read top-down.
        best = np.argsort(-scores, kind="stable")[: self.batch_size()]
        return pending[best]

    def estimate_remaining(self) -> RemainingEstimate | None:
        """Relevant records probably left among the pending ones (see ``stopping``)."""
        return estimate_remaining(self.screened_labels, int(self.pending.size), seed=self.seed)


def choose_priors(labels: Sequence[int], seed: int) -> tuple[int, int]:
    """One random inclusion and one random exclusion (row positions), reproducible by seed."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    included = np.flatnonzero(labels == 1)
    excluded = np.flatnonzero(labels == 0)
    if not included.size or not excluded.size:
        raise ValueError("a simulation needs at least one inclusion and one exclusion")
    return int(rng.choice(included)), int(rng.choice(excluded))


def simulate(texts: Sequence[str], labels: Sequence[int], seed: int, *,
             learner: str = DEFAULT_LEARNER, priors: Sequence[int] | None = None) -> list[int]:
    """Screen every record with active learner ``learner`` (a name in LEARNERS); return row
    positions, priors first.

    ``priors`` defaults to ``choose_priors(labels, seed)``; other records are decided with
    their true ``labels``.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(texts) != labels.size:
        raise ValueError(f"simulate got {len(texts)} texts but {labels.size} labels")
    options = check_learner(learner)
    learner = ActiveLearner(texts, seed=seed, **options)
    priors = list(choose_priors(labels, seed) if priors is None else priors)
    learner.label(priors, labels[priors])
    while (batch := learner.next_batch()).size:
        learner.label(batch, labels[batch])
    return learner.order


def read_labelled_set(path: str | Path) -> pd.DataFrame:
    """Read an ASReview-style labelled CSV, rejecting what a simulation cannot use.

    Returns a frame with ``record_id``, ``title``, ``abstract`` and integer ``label_included``.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError(source, "file", "no such file (or not a file)",
                         "give the path of an existing CSV file")
    try:
        # Text columns as strings: record_id may be alphanumeric, and an empty title must stay
        # "missing" rather than become a float.
        frame = pd.read_csv(path, dtype={"record_id": str, "title": str, "abstract": str},
                            keep_default_na=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(source, "file", f"not a readable CSV ({exc})",
                         "save the data as UTF-8 CSV with a header row") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(source, "header row",
                         f"missing column(s) {', '.join(missing)} (found: "
                         f"{', '.join(map(str, frame.columns))})",
                         "add the columns record_id, title, abstract and label_included "
                         "(1 = included, 0 = excluded); empty title/abstract cells are fine")
    if frame.empty:
        raise InputError(source, "rows", "the file has a header but no records",
                         "add the labelled records")
    raw = frame["label_included"]
    numeric = pd.to_numeric(raw, errors="coerce")
    bad = ~numeric.isin([0, 1])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        # Data rows, not lines: quoted abstracts span several lines.
        raise InputError(source, f"column label_included, data row {row + 1} "
                                 f"(record_id {frame['record_id'].iloc[row]})",
                         f"label {raw.iloc[row]!r} is not 0 or 1 ({int(bad.sum())} such rows)",
                         "label every record 1 (included) or 0 (excluded); a simulation "
                         "needs every label")
    ids = frame["record_id"]
    if ids.isna().any() or ids.duplicated().any():
        row = int(np.flatnonzero((ids.isna() | ids.duplicated()).to_numpy())[0])
        raise InputError(source, f"column record_id, data row {row + 1}",
                         f"record_id {ids.iloc[row]!r} is empty or repeated",
                         "give every record a unique record_id")
    frame = frame.assign(label_included=numeric.astype(np.int64))
    if frame["label_included"].nunique() < 2:
        raise InputError(source, "column label_included",
                         "every record has the same label",
                         "a simulation needs at least one inclusion (1) and one exclusion (0)")
    return frame
