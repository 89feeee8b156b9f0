"""The co-creation detector: the rules, and a model that learns from maintainers' decisions.

In ``rules`` mode a record is flagged when its rule score (``rules.rule_score``) reaches the
threshold in review.toml. Once maintainers have confirmed and dismissed enough alerts
(``learn_after`` decisions, at least ``learn_min_each`` of each), the detector runs in ``learned``
mode: a logistic regression over the rule features and the words of the text, fitted to those
decisions, decides among the records that carry any rule evidence. The model sits next to the
rules, not in their place: a record without rule evidence is never flagged, so every flag is
still explained by the passages that carry it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from livingreview.cocreation.rules import Evidence, evidence, feature_vector, record_text, rule_score
from livingreview.errors import ConfigError

RULES, LEARNED = "rules", "learned"


@dataclass(frozen=True)
class DetectorConfig:
    """review.toml ``[alerts.co_creation]``."""

    threshold: float = 3.0
    # A title alone has room for one activity: 2 points is all it can show.
    threshold_title_only: float = 2.0
    learn_after: int = 20
    learn_min_each: int = 5
    learned_cutoff: float = 0.5

    @classmethod
    def from_review(cls, review: dict[str, Any]) -> "DetectorConfig":
        section = (review.get("alerts") or {}).get("co_creation") or {}
        known = {"threshold", "threshold_title_only", "learn_after", "learn_min_each",
                 "learned_cutoff"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ConfigError(f"review.toml [alerts.co_creation]: unknown setting(s) "
                              f"{', '.join(unknown)}. Fix: use {', '.join(sorted(known))}")
        try:
            config = cls(**{k: type(getattr(cls, k))(v) for k, v in section.items()})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"review.toml [alerts.co_creation]: {exc}. Fix: give numbers") \
                from exc
        if config.learn_min_each < 1 or config.learn_after < 2 * config.learn_min_each:
            raise ConfigError("review.toml [alerts.co_creation]: learn_after must be at least "
                              "twice learn_min_each, and learn_min_each at least 1. Fix: raise "
                              "learn_after")
        return config


@dataclass(frozen=True)
class Text:
    """What the detector reads of a record."""

    record_id: str
    title: str | None
    abstract: str | None
    keywords: str | None = None


@dataclass(frozen=True)
class Flag:
    record_id: str
    flagged: bool
    score: float  # rules: the rule score; learned: the model's probability
    evidence: tuple[Evidence, ...]
    mode: str

    def evidence_text(self) -> str:
        """The passages that carry the flag, each led by its cues (phase/strength: words)."""
        cues: dict[str, list[str]] = {}
        for item in self.evidence:
            cues.setdefault(item.passage, []).append(f"{item.phase}/{item.strength}: {item.cue}")
        return " || ".join(f"[{'; '.join(found)}] {passage}" for passage, found in cues.items())


@dataclass(frozen=True)
class Example:
    """A decided alert: its text and whether a maintainer confirmed it."""

    text: Text
    confirmed: bool


def _joined(text: Text) -> str:
    return record_text(text.title, text.abstract, text.keywords)


def _learning_ready(examples: Sequence[Example], config: DetectorConfig) -> bool:
    confirmed = sum(e.confirmed for e in examples)
    dismissed = len(examples) - confirmed
    return (len(examples) >= config.learn_after and confirmed >= config.learn_min_each
            and dismissed >= config.learn_min_each)


class _Model:
    """TF-IDF words and the rule features, one logistic regression (scikit-learn)."""

    def __init__(self, examples: Sequence[Example]) -> None:
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self._hstack, self._csr = hstack, csr_matrix
        self._words = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                                      stop_words="english")
        texts = [_joined(e.text) for e in examples]
        words = self._words.fit_transform(texts)
        self._model = LogisticRegression(class_weight="balanced", C=1.0, max_iter=1000)
        self._model.fit(self._matrix(words, [e.text for e in examples]),
                        [int(e.confirmed) for e in examples])

    def _matrix(self, words: Any, texts: Sequence[Text]) -> Any:
        rules = [feature_vector(evidence(t.title, t.abstract, t.keywords)) for t in texts]
        return self._hstack([words, self._csr(rules)]).tocsr()

    def probabilities(self, texts: Sequence[Text]) -> list[float]:
        if not texts:
            return []
        words = self._words.transform([_joined(t) for t in texts])
        return [float(p) for p in self._model.predict_proba(self._matrix(words, texts))[:, 1]]


@dataclass
class Detector:
    config: DetectorConfig = field(default_factory=DetectorConfig)
    examples: Sequence[Example] = ()

    def __post_init__(self) -> None:
        self.mode = LEARNED if _learning_ready(self.examples, self.config) else RULES
        self._model = _Model(self.examples) if self.mode == LEARNED else None

    def threshold_for(self, text: Text) -> float:
        """A record without an abstract is not held to what only an abstract can show."""
        if (text.abstract or "").strip():
            return self.config.threshold
        return min(self.config.threshold, self.config.threshold_title_only)

    def detect(self, texts: Iterable[Text]) -> list[Flag]:
        texts = list(texts)
        found = [tuple(evidence(t.title, t.abstract, t.keywords)) for t in texts]
        if self._model is None:
            return [Flag(t.record_id, rule_score(list(ev)) >= self.threshold_for(t),
                         rule_score(list(ev)), ev, RULES) for t, ev in zip(texts, found)]
        probabilities = self._model.probabilities(texts)
        return [Flag(t.record_id, bool(ev) and p >= self.config.learned_cutoff, round(p, 4), ev,
                     LEARNED) for t, ev, p in zip(texts, found, probabilities)]


def cross_validated_precision(examples: Sequence[Example], config: DetectorConfig,
                              folds: int = 5) -> dict[str, Any]:
    """Precision of the learned mode on the decided alerts, each predicted by a model fitted
    without it (stratified folds), next to the precision the alerts had when they were raised."""
    confirmed = sum(e.confirmed for e in examples)
    out: dict[str, Any] = {"decided": len(examples), "confirmed": confirmed,
                           "alert_precision": round(confirmed / len(examples), 3)
                           if examples else None}
    if not _learning_ready(examples, config):
        return out
    from sklearn.model_selection import StratifiedKFold

    labels = [int(e.confirmed) for e in examples]
    k = max(2, min(folds, confirmed, len(examples) - confirmed))
    kept = kept_confirmed = 0
    for train, test in StratifiedKFold(n_splits=k, shuffle=True, random_state=1).split(
            labels, labels):
        model = _Model([examples[i] for i in train])
        held = [examples[i] for i in test]
        for example, p in zip(held, model.probabilities([e.text for e in held])):
            if p >= config.learned_cutoff:
                kept += 1
                kept_confirmed += example.confirmed
    out["learned_precision"] = round(kept_confirmed / kept, 3) if kept else None
    out["learned_kept"] = kept
    out["folds"] = k
    return out
