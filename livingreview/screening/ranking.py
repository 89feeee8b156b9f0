"""Rank records for screening: likely inclusions first.

A record's text is its title and abstract. Texts become TF-IDF vectors (word unigrams and
bigrams, sublinear term frequency, terms in more than 95% of records dropped), and a linear
classifier trained on the screening decisions made so far scores the records still to screen.
Higher scores mean "more likely to be included"; only the order is meaningful.

The feature settings, the classifier (a linear SVM, C=0.11) and the class weighting are those of
ASReview's default model (ELAS u4, tuned by ASReview on the SYNERGY sets); NB (multinomial naive
Bayes) is kept as an alternative for the benchmark. Two choices shape the ranking (measured in
``benchmarks/screening.py``):

* Class balance, as ASReview's "balanced" sampler: exclusions together weigh
  ``1 / INCLUSION_WEIGHT_RATIO`` as much as inclusions together, whatever the counts, so that a
  handful of inclusions among hundreds of exclusions still shapes the model.
* Presumed exclusions, which ASReview does not use. Each fit also trains on a sample of
  ``PRESUMED_EXCLUSIONS`` records still to screen, labelled as excluded (as Cormack and
  Grossman's BMI for continuous active learning does).
  Where inclusions are rare the sample is almost all true exclusions; it keeps the model from
  ranking on vocabulary that merely separates the few screened records, and it lets the ranker
  work when only inclusions are known, as on a living review's first run, where the baseline
  corpus supplies the inclusions and nobody has excluded anything yet. The sample is drawn from
  the lower-scored half of an earlier ranking, to keep likely inclusions out of it; the active
  learner (``simulation.ActiveLearner``) also shrinks it when the discovery curve says more
  than a few percent of the unscreened records are relevant, as on a set with 27% inclusions
  where presumed exclusions cost WSS@95.

The vocabulary and IDF weights are learnt from all texts, screened or not: they use no labels,
and the records still to screen are where the ranking has to work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC

#: Exclusions together weigh 1/ratio of the inclusions together (ASReview's "balanced" sampler).
INCLUSION_WEIGHT_RATIO = 9.8
#: How many records still to screen join each fit as presumed exclusions.
PRESUMED_EXCLUSIONS = 100

MODELS = ("svm", "nb")
DEFAULT_MODEL = "svm"


def record_text(title: object, abstract: object) -> str:
    """The text a record is ranked on: title and abstract, either of which may be missing."""
    parts = []
    for value in (title, abstract):
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            continue
        text = str(value).strip()
        if text:
            parts.append(text)
    return " ".join(parts)


def frame_texts(frame: pd.DataFrame) -> list[str]:
    """Ranking texts for the rows of a frame with ``title`` and/or ``abstract`` columns."""
    titles = frame["title"] if "title" in frame else [None] * len(frame)
    abstracts = frame["abstract"] if "abstract" in frame else [None] * len(frame)
    return [record_text(t, a) for t, a in zip(titles, abstracts, strict=True)]


def text_features() -> TfidfVectorizer:
    """A fresh vectoriser with the project's settings (see the module docstring)."""
    # max_df=0.95 cannot be met by a handful of texts: sklearn then rejects every term, so
    # tiny corpora fall back to keeping all terms.
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_df=0.95, min_df=1,
                           strip_accents="unicode")


def vectorise(texts: Sequence[str]) -> tuple[TfidfVectorizer, sparse.csr_matrix]:
    """Fit the project's vectoriser on ``texts``; return it and their feature matrix."""
    vectoriser = text_features()
    try:
        matrix = vectoriser.fit_transform(texts)
    except ValueError:
        # Too few texts for max_df, or no word at all: keep every term, or give up on words.
        vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
                                     strip_accents="unicode")
        try:
            matrix = vectoriser.fit_transform(texts)
        except ValueError:
            return vectoriser, sparse.csr_matrix((len(texts), 1), dtype=np.float32)
    return vectoriser, matrix.tocsr()


def balanced_weights(labels: np.ndarray, ratio: float = INCLUSION_WEIGHT_RATIO) -> np.ndarray:
    """Sample weights giving exclusions together 1/ratio of the inclusions' total weight."""
    labels = np.asarray(labels)
    n_in = int((labels == 1).sum())
    n_out = int((labels == 0).sum())
    weights = np.ones(labels.size, dtype=np.float64)
    if n_in and n_out:
        weights[labels == 0] = n_in / (ratio * n_out)
    return weights * (labels.size / weights.sum())


def _decision_scores(model: str, train: sparse.csr_matrix, labels: np.ndarray,
                     candidates: sparse.csr_matrix) -> np.ndarray:
    weights = balanced_weights(labels)
    if model == "svm":
        # C as ASReview's ELAS u4 (tuned on the SYNERGY sets); a small C is strong
        # regularisation, which suits training sets of a few dozen records.
        classifier = LinearSVC(C=0.11, loss="squared_hinge", random_state=0)
        classifier.fit(train, labels, sample_weight=weights)
        return classifier.decision_function(candidates)
    if model == "nb":
        classifier = MultinomialNB(alpha=3.822)
        classifier.fit(train, labels, sample_weight=weights)
        log_proba = classifier.predict_log_proba(candidates)
        return log_proba[:, 1] - log_proba[:, 0]
    raise ValueError(f"unknown ranking model {model!r}; choose one of {', '.join(MODELS)}")


def fit_scores(train: sparse.csr_matrix, labels: np.ndarray, candidates: sparse.csr_matrix,
               unlabelled: sparse.csr_matrix | None = None, *, model: str = DEFAULT_MODEL,
               rng: np.random.Generator | None = None,
               presumed_exclusions: int = PRESUMED_EXCLUSIONS,
               unlabelled_scores: np.ndarray | None = None) -> np.ndarray:
    """Train on ``train``/``labels`` (plus presumed exclusions from ``unlabelled``); score
    ``candidates``.

    With ``unlabelled_scores`` (an earlier fit's scores for ``unlabelled``) the presumed
    exclusions are drawn from the lower-scored half only, which keeps likely inclusions out of
    them when inclusions are common.

    Returns zeros, an order with no information, when there is no inclusion to learn from or
    nothing at all to contrast it with.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if candidates.shape[0] == 0:
        return np.zeros(0)
    if unlabelled is not None and presumed_exclusions and unlabelled.shape[0]:
        rng = rng if rng is not None else np.random.default_rng(0)
        pool = np.arange(unlabelled.shape[0])
        if unlabelled_scores is not None and pool.size >= 2 * presumed_exclusions:
            pool = pool[unlabelled_scores <= np.median(unlabelled_scores)]
        take = min(presumed_exclusions, pool.size)
        rows = rng.choice(pool, size=take, replace=False)
        train = sparse.vstack([train, unlabelled[rows]], format="csr")
        labels = np.concatenate([labels, np.zeros(take, dtype=np.int64)])
    if not ((labels == 1).any() and (labels == 0).any()):
        return np.zeros(candidates.shape[0])
    return np.asarray(_decision_scores(model, train, labels, candidates), dtype=np.float64)


@dataclass
class Ranker:
    """Scores records by how likely they are to be included, from earlier decisions.

    ``fit(texts, labels, unlabelled_texts)`` learns from screened records (labels 1 included,
    0 excluded); ``unlabelled_texts`` are records still to screen, used for the vocabulary and
    as presumed exclusions. ``score(texts)`` returns one score per text, higher first.
    """

    model: str = DEFAULT_MODEL
    seed: int = 0
    presumed_exclusions: int = PRESUMED_EXCLUSIONS

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown ranking model {self.model!r}; choose one of "
                             f"{', '.join(MODELS)}")
        self._vectoriser: TfidfVectorizer | None = None

    def fit(self, texts: Sequence[str], labels: Iterable[int],
            unlabelled_texts: Sequence[str] = ()) -> Ranker:
        texts = list(texts)
        labels = np.asarray(list(labels), dtype=np.int64)
        if labels.size != len(texts):
            raise ValueError(f"fit got {len(texts)} texts but {labels.size} labels")
        if labels.size and not np.isin(labels, (0, 1)).all():
            raise ValueError("labels must be 1 (included) or 0 (excluded)")
        unlabelled_texts = list(unlabelled_texts)
        self._vectoriser, matrix = vectorise(texts + unlabelled_texts)
        self._train = matrix[: len(texts)]
        self._unlabelled = matrix[len(texts):]
        self._labels = labels
        return self

    def _features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if self._vectoriser is None:
            raise RuntimeError("call Ranker.fit before Ranker.score")
        if not hasattr(self._vectoriser, "vocabulary_"):
            return sparse.csr_matrix((len(texts), 1), dtype=np.float32)
        return self._vectoriser.transform(list(texts)).tocsr()

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """One score per text, higher = more likely included (zeros if nothing to learn)."""
        candidates = self._features(texts)
        rng = np.random.default_rng(self.seed)
        # Two passes, as the active learner's successive fits: a first ranking of the records
        # still to screen, then presumed exclusions drawn from its lower half.
        first = None
        if self.presumed_exclusions and self._unlabelled.shape[0]:
            first = fit_scores(self._train, self._labels, self._unlabelled, self._unlabelled,
                               model=self.model, rng=rng,
                               presumed_exclusions=self.presumed_exclusions)
        return fit_scores(self._train, self._labels, candidates, self._unlabelled,
                          model=self.model, rng=rng,
                          presumed_exclusions=self.presumed_exclusions,
                          unlabelled_scores=first)


def rank(train_texts: Sequence[str], train_labels: Iterable[int],
         candidate_texts: Sequence[str], *, model: str = DEFAULT_MODEL,
         seed: int = 0) -> np.ndarray:
    """Scores for ``candidate_texts`` from decisions on ``train_texts`` (higher first)."""
    ranker = Ranker(model=model, seed=seed).fit(train_texts, train_labels, candidate_texts)
    return ranker.score(candidate_texts)
