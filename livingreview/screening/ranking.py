"""Rank records for screening: likely inclusions first.

A record's text is its title and abstract. The default ranker is ASReview's default model,
ELAS u4 (tuned by ASReview on the SYNERGY sets), exactly: a TF-IDF matrix of the words
(unigrams and bigrams, sublinear term frequency, terms in more than 95% of records dropped,
ASReview's tokens) and a linear SVM (C=0.11, squared hinge) trained with class balancing
(``balanced_weights``: exclusions together weigh ``1 / INCLUSION_WEIGHT_RATIO`` as much as
inclusions together, whatever the counts, so that a handful of inclusions among hundreds of
exclusions still shapes the model). Higher scores mean "more likely to be included"; only the
order is meaningful. ELAS u4 is the floor: anything added to it becomes a default only when it
is at least as good on every set it was not chosen on (``benchmarks/screening.py``,
leave-one-set-out; figures in ``benchmarks/README.md``). Two additions are kept as options:

* A **character** view (``views=VIEWS``): 3- to 5-character pieces within words, found in at
  least two records, with its own SVM; each view's scores are standardised over the records to
  rank and added, so each view has an equal say. Pieces match what whole words miss (British and
  American spellings, inflections, compounds, hyphenation, short texts). It raised WSS@95 on the
  five benchmark sets it was chosen on, but lost to ELAS u4 in loss where loss was measured and
  in WSS@95 on a set it had not been chosen on (issue 9: Nagtegaal_2019), so it is not the
  default.
* **Presumed exclusions**, which ASReview does not use. A fit can also train on a sample of
  ``PRESUMED_EXCLUSIONS`` records still to screen, labelled as excluded (as Cormack and
  Grossman's BMI for continuous active learning does). Where inclusions are rare the sample is
  almost all true exclusions. The one-shot ``Ranker`` keeps them, because it must work when only
  inclusions are known, as on a living review's first run, where the baseline corpus supplies
  the inclusions and nobody has excluded anything yet. The sample is drawn from the lower-scored
  half of an earlier ranking, to keep likely inclusions out of it. The active learner
  (``simulation.ActiveLearner``) uses none by default, as ASReview.

The vocabularies and IDF weights are learnt from all texts, screened or not: they use no labels,
and the records still to screen are where the ranking has to work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

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
#: The ways a text becomes features; each view gets its own classifier.
VIEWS = ("words", "characters")
#: ASReview's ELAS u4 features; the character view is an option (see benchmarks/README.md:
#: it lost to ELAS u4 on sets it had not been chosen on).
DEFAULT_VIEWS = ("words",)

#: One matrix per view, the rows the same records in the same order.
Features = tuple[sparse.csr_matrix, ...]


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


def check_views(views: Sequence[str]) -> tuple[str, ...]:
    """``views`` as a tuple, or ValueError naming the unknown ones."""
    views = tuple(views)
    unknown = [v for v in views if v not in VIEWS]
    if not views or unknown or len(set(views)) != len(views):
        raise ValueError(f"text views must be one or more of {', '.join(VIEWS)}, each once "
                         f"(got {', '.join(map(repr, views)) or 'none'})")
    return views


def check_model(model: str) -> str:
    if model not in MODELS:
        raise ValueError(f"unknown ranking model {model!r}; choose one of {', '.join(MODELS)}")
    return model


def text_features(view: str = "words", *, lenient: bool = False) -> TfidfVectorizer:
    """A fresh vectoriser for ``view`` with the project's settings (see the module docstring).

    ``lenient`` drops the document-frequency limits, which a handful of texts cannot meet.
    """
    limits = {} if lenient else {"max_df": 0.95, "min_df": 1 if view == "words" else 2}
    if view == "words":
        # ASReview's ELAS u4 features exactly (no accent stripping): the default must not
        # differ from the floor it is measured against by its tokens.
        return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, **limits)
    if view == "characters":
        # Within word boundaries: pieces spanning two words are the bigrams' job, and would
        # multiply the features (and the fitting time) several times over.
        return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                               strip_accents="unicode", **limits)
    raise ValueError(f"unknown text view {view!r}; choose from {', '.join(VIEWS)}")


def _empty(n: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((n, 1), dtype=np.float64)


def _vectorise_view(view: str, texts: list[str]) -> tuple[TfidfVectorizer, sparse.csr_matrix]:
    vectoriser = text_features(view)
    try:
        return vectoriser, vectoriser.fit_transform(texts).tocsr()
    except ValueError:
        # Too few texts for the document-frequency limits (sklearn then rejects every term):
        # keep every term, or give up on this view when the texts have none.
        vectoriser = text_features(view, lenient=True)
        try:
            return vectoriser, vectoriser.fit_transform(texts).tocsr()
        except ValueError:
            return vectoriser, _empty(len(texts))


def vectorise(texts: Sequence[str], views: Sequence[str] = DEFAULT_VIEWS
              ) -> tuple[list[TfidfVectorizer], Features]:
    """Fit one vectoriser per view on ``texts``; return them and the texts' matrices."""
    texts = list(texts)
    fitted = [_vectorise_view(view, texts) for view in check_views(views)]
    return [v for v, _ in fitted], tuple(m for _, m in fitted)


def transform(vectorisers: Sequence[TfidfVectorizer], texts: Sequence[str]) -> Features:
    """The matrices of ``texts`` under vectorisers returned by ``vectorise``."""
    texts = list(texts)
    return tuple(v.transform(texts).tocsr() if hasattr(v, "vocabulary_") else _empty(len(texts))
                 for v in vectorisers)


def rows_of(features: Features, rows: np.ndarray) -> Features:
    """The given rows of every view."""
    return tuple(matrix[rows] for matrix in features)


def balanced_weights(labels: np.ndarray, ratio: float = INCLUSION_WEIGHT_RATIO) -> np.ndarray:
    """Sample weights giving exclusions together 1/ratio of the inclusions' total weight."""
    labels = np.asarray(labels)
    n_in = int((labels == 1).sum())
    n_out = int((labels == 0).sum())
    weights = np.ones(labels.size, dtype=np.float64)
    if n_in and n_out:
        weights[labels == 0] = n_in / (ratio * n_out)
    return weights * (labels.size / weights.sum())


def _fit(model: str, train: sparse.csr_matrix, labels: np.ndarray,
         solver_state: np.random.RandomState | int = 0
         ) -> Callable[[sparse.csr_matrix], np.ndarray]:
    """Train ``model``; return its scoring function (higher = more likely included).

    ``solver_state`` seeds liblinear's coordinate order; a RandomState is drawn from once per
    fit, as ASReview's SVM draws from NumPy's global state seeded by ``asreview simulate --seed``.
    """
    weights = balanced_weights(labels)
    if model == "svm":
        # C as ASReview's ELAS u4 (tuned on the SYNERGY sets); a small C is strong
        # regularisation, which suits training sets of a few dozen records.
        svm = LinearSVC(C=0.11, loss="squared_hinge", random_state=solver_state)
        svm.fit(train, labels, sample_weight=weights)
        return svm.decision_function
    if model == "nb":
        nb = MultinomialNB(alpha=3.822)
        nb.fit(train, labels, sample_weight=weights)

        def log_odds(matrix: sparse.csr_matrix) -> np.ndarray:
            log_proba = nb.predict_log_proba(matrix)
            return log_proba[:, 1] - log_proba[:, 0]
        return log_odds
    raise ValueError(f"unknown ranking model {model!r}; choose one of {', '.join(MODELS)}")


#: A view whose scores spread less than this over the records to rank has no preference: the
#: differences are the solver's rounding (LinearSVC stops at tol 1e-4), and dividing by the
#: spread would blow them up into a ranking.
NO_SPREAD = 1e-6


def _standardised(scores: np.ndarray, reference: np.ndarray) -> np.ndarray:
    spread = float(reference.std())
    if spread < NO_SPREAD:
        return np.zeros_like(scores)
    return (scores - reference.mean()) / spread


def fit_scores(train: Features, labels: np.ndarray, candidates: Features,
               unlabelled: Features | None = None, *, model: str = DEFAULT_MODEL,
               rng: np.random.Generator | None = None,
               presumed_exclusions: int = PRESUMED_EXCLUSIONS,
               unlabelled_scores: np.ndarray | None = None,
               solver_state: np.random.RandomState | int = 0) -> np.ndarray:
    """Train on ``train``/``labels`` (plus presumed exclusions from ``unlabelled``); score
    ``candidates``. Each of ``train``, ``candidates`` and ``unlabelled`` holds one matrix per
    view, in the same view order (see ``vectorise``).

    With ``unlabelled_scores`` (an earlier fit's scores for ``unlabelled``) the presumed
    exclusions are drawn from the lower-scored half only, which keeps likely inclusions out of
    them when inclusions are common. The same presumed exclusions serve every view. With several
    views each view's scores are standardised by their mean and spread over ``unlabelled`` (the
    records to rank; ``candidates`` when there are none) before they are added.

    Returns zeros, an order with no information, when there is no inclusion to learn from or
    nothing at all to contrast it with.
    """
    if not (len(train) == len(candidates) and (unlabelled is None
                                               or len(unlabelled) == len(train))):
        raise ValueError("train, candidates and unlabelled need one matrix per view each")
    labels = np.asarray(labels, dtype=np.int64)
    n_candidates = candidates[0].shape[0]
    if n_candidates == 0:
        return np.zeros(0)
    n_unlabelled = unlabelled[0].shape[0] if unlabelled is not None else 0
    presumed = np.zeros(0, dtype=np.int64)
    if presumed_exclusions and n_unlabelled:
        rng = rng if rng is not None else np.random.default_rng(0)
        pool = np.arange(n_unlabelled)
        if unlabelled_scores is not None and pool.size >= 2 * presumed_exclusions:
            pool = pool[unlabelled_scores <= np.median(unlabelled_scores)]
        presumed = rng.choice(pool, size=min(presumed_exclusions, pool.size), replace=False)
        labels = np.concatenate([labels, np.zeros(presumed.size, dtype=np.int64)])
    if not ((labels == 1).any() and (labels == 0).any()):
        return np.zeros(n_candidates)
    total = np.zeros(n_candidates)
    for view, matrix in enumerate(train):
        if presumed.size:
            matrix = sparse.vstack([matrix, unlabelled[view][presumed]], format="csr")
        score = _fit(model, matrix, labels, solver_state)
        scores = np.asarray(score(candidates[view]), dtype=np.float64)
        if len(train) == 1:
            return scores
        # The active learner passes the same matrices as candidates and unlabelled: score once.
        reference = (scores if not n_unlabelled or unlabelled[view] is candidates[view]
                     else np.asarray(score(unlabelled[view]), dtype=np.float64))
        total += _standardised(scores, reference)
    return total


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
    views: tuple[str, ...] = field(default=DEFAULT_VIEWS)

    def __post_init__(self) -> None:
        check_model(self.model)
        self.views = check_views(self.views)
        self._vectorisers: list[TfidfVectorizer] | None = None

    def fit(self, texts: Sequence[str], labels: Iterable[int],
            unlabelled_texts: Sequence[str] = ()) -> Ranker:
        texts = list(texts)
        labels = np.asarray(list(labels), dtype=np.int64)
        if labels.size != len(texts):
            raise ValueError(f"fit got {len(texts)} texts but {labels.size} labels")
        if labels.size and not np.isin(labels, (0, 1)).all():
            raise ValueError("labels must be 1 (included) or 0 (excluded)")
        unlabelled_texts = list(unlabelled_texts)
        self._vectorisers, features = vectorise(texts + unlabelled_texts, self.views)
        self._train = rows_of(features, np.arange(len(texts)))
        self._unlabelled = rows_of(features, np.arange(len(texts), features[0].shape[0]))
        self._labels = labels
        return self

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """One score per text, higher = more likely included (zeros if nothing to learn)."""
        if self._vectorisers is None:
            raise RuntimeError("call Ranker.fit before Ranker.score")
        candidates = transform(self._vectorisers, texts)
        unlabelled = self._unlabelled if self._unlabelled[0].shape[0] else None
        rng = np.random.default_rng(self.seed)
        # Two passes, as the active learner's successive fits: a first ranking of the records
        # still to screen, then presumed exclusions drawn from its lower half.
        first = None
        if self.presumed_exclusions and unlabelled is not None:
            first = fit_scores(self._train, self._labels, unlabelled, unlabelled,
                               model=self.model, rng=rng,
                               presumed_exclusions=self.presumed_exclusions)
        return fit_scores(self._train, self._labels, candidates, unlabelled,
                          model=self.model, rng=rng,
                          presumed_exclusions=self.presumed_exclusions,
                          unlabelled_scores=first)


def rank(train_texts: Sequence[str], train_labels: Iterable[int],
         candidate_texts: Sequence[str], *, model: str = DEFAULT_MODEL,
         seed: int = 0, views: Sequence[str] = DEFAULT_VIEWS) -> np.ndarray:
    """Scores for ``candidate_texts`` from decisions on ``train_texts`` (higher first)."""
    ranker = Ranker(model=model, seed=seed, views=tuple(views))
    return ranker.fit(train_texts, train_labels, candidate_texts).score(candidate_texts)
