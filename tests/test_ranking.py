"""Screening prioritisation: the metrics on hand-computed orders, the ranker on real records, and
the remaining-relevant estimate on discovery curves.

The real records are the first 300 of the Kitchenham 2010 set (45 inclusions); see
tests/fixtures/screening/PROVENANCE.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.metrics import roc_auc_score

from livingreview.screening.metrics import (
    inclusions_needed,
    loss,
    recall_after,
    records_to_recall,
    wss,
)
from livingreview.screening.ranking import (
    DEFAULT_VIEWS,
    VIEWS,
    Ranker,
    _fit,
    balanced_weights,
    frame_texts,
    rank,
    record_text,
    text_features,
)
from livingreview.screening.stopping import estimate_remaining

SLICE = Path(__file__).parent / "fixtures" / "screening" / "kitchenham_2010_first300.csv"


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return pd.read_csv(SLICE)


# ----------------------------------------------------------------------------------- metrics
def test_wss_when_both_inclusions_come_first():
    # 10 records, 2 inclusions: 95% of 2 needs both, found after 2 screened; 8 unscreened.
    order = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert records_to_recall(order) == 2
    assert wss(order) == pytest.approx(8 / 10 - 0.05)


def test_wss_when_the_last_inclusion_comes_last_is_worse_than_random():
    order = [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert records_to_recall(order) == 10
    assert wss(order) == pytest.approx(-0.05)


def test_wss_needs_19_of_20_inclusions_despite_floating_point():
    # 0.95 * 20 is 19.000000000000004; a naive ceil would demand all 20.
    assert inclusions_needed(20, 0.95) == 19
    order = [1] * 19 + [0] * 80 + [1]
    assert records_to_recall(order) == 19
    assert wss(order) == pytest.approx(81 / 100 - 0.05)


def test_wss_at_95_of_16_inclusions_needs_all_16():
    assert inclusions_needed(16, 0.95) == 16  # 15.2 rounds up


def test_recall_after_ten_percent_counts_the_first_tenth():
    # 20 records: the first 2 are screened; one of the 4 inclusions is among them.
    order = [0, 1] + [0] * 14 + [1, 1, 1, 0]
    assert recall_after(order, 0.10) == pytest.approx(0.25)
    # 25 records: floor(2.5) = 2 screened.
    assert recall_after([0, 1, 1] + [0] * 22, 0.10) == pytest.approx(0.5)


def test_loss_is_the_share_of_inclusion_exclusion_pairs_in_the_wrong_order():
    # Inclusions at positions 2 and 4 of 5: the step sum of found inclusions is
    # 0 + 1 + 1 + 2 + 2 = 6; the best order (1, 1, 0, 0, 0) has 1 + 2 + 2 + 2 + 2 = 9, the worst
    # (0, 0, 0, 1, 1) has 0 + 0 + 0 + 1 + 2 = 3, so loss = (9 - 6) / (9 - 3) = 0.5: of the six
    # (inclusion, exclusion) pairs, three put the exclusion first.
    assert loss([0, 1, 0, 1, 0]) == 0.5
    # Inclusions at 1 and 4 of 4: found 1, 1, 1, 2 (sum 5); best 1 + 2 + 2 + 2 = 7, worst
    # 0 + 0 + 1 + 2 = 3: loss 2 / 4, two of the four pairs (both exclusions before the second
    # inclusion).
    assert loss([1, 0, 0, 1]) == 0.5
    # Inclusions at 2, 3 of 6: pairs out of order 1 + 1 of 2 * 4 = 8.
    assert loss([0, 1, 1, 0, 0, 0]) == 0.25
    assert loss([1, 1, 0, 0, 0]) == 0.0
    assert loss([0, 0, 0, 1, 1]) == 1.0


def test_metrics_reject_orders_they_cannot_score():
    with pytest.raises(ValueError, match="every record is an inclusion"):
        loss([1, 1, 1])
    with pytest.raises(ValueError, match="no inclusion"):
        wss([0, 0, 0])
    with pytest.raises(ValueError, match="only 0"):
        recall_after([0, 2, 1])
    with pytest.raises(ValueError, match="non-empty"):
        wss([])


# ----------------------------------------------------------------------------------- texts
def test_record_text_joins_title_and_abstract_and_skips_missing_parts():
    assert record_text("Peer workers", "An abstract.") == "Peer workers An abstract."
    assert record_text(float("nan"), "Only abstract") == "Only abstract"
    assert record_text("Only title", None) == "Only title"
    assert record_text(None, pd.NA) == ""
    frame = pd.DataFrame({"title": ["A", None], "abstract": [np.nan, "B"]})
    assert frame_texts(frame) == ["A", "B"]


# ----------------------------------------------------------------------------------- ranking
def _split(records: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(records))
    return order[:100], order[100:]


def test_ranker_puts_inclusions_ahead_of_exclusions(records):
    texts = frame_texts(records)
    labels = records["label_included"].to_numpy()
    train, test = _split(records, 0)
    ranker = Ranker().fit([texts[i] for i in train], labels[train], [texts[i] for i in test])
    scores = ranker.score([texts[i] for i in test])
    assert scores.shape == (len(test),)
    # Random order gives an AUC of 0.5.
    assert roc_auc_score(labels[test], scores) > 0.75
    # Screening the top 20% finds far more than the 20% random order would.
    top = test[np.argsort(-scores)[: len(test) // 5]]
    assert labels[top].sum() / labels[test].sum() > 0.5


def test_ranker_works_from_known_inclusions_alone(records):
    # A living review's first run: the baseline corpus gives inclusions, nobody has excluded
    # anything yet. Presumed exclusions drawn from the candidates make a ranking possible.
    texts = frame_texts(records)
    labels = records["label_included"].to_numpy()
    known = np.flatnonzero(labels == 1)[:10]
    candidates = np.setdiff1d(np.arange(len(records)), known)
    scores = rank([texts[i] for i in known], np.ones(known.size, dtype=int),
                  [texts[i] for i in candidates])
    assert roc_auc_score(labels[candidates], scores) > 0.7


def test_character_view_credits_spelling_variants_that_words_miss():
    # Inclusions spelt the British way; one candidate about the same drugs spelt the American
    # way shares no whole word with them, another shares nothing at all.
    included = ["Sulphonylurea monotherapy and glycaemic control",
                "Hypoglycaemic episodes under sulphonylureas",
                "Oral hypoglycaemic agents compared: sulphonylurea trials"]
    excluded = ["Knee arthroplasty rehabilitation outcomes", "Asthma inhaler adherence",
                "Hip fracture surgery timing", "Migraine prophylaxis with beta blockers"]
    variant, unrelated = "Sulfonylurea hypoglycemic risk", "Dermatitis patch testing"
    texts, labels = included + excluded, [1] * 3 + [0] * 4
    words_only = rank(texts, labels, [variant, unrelated], views=("words",))
    assert words_only[0] == pytest.approx(words_only[1])  # no shared word: no preference
    both = rank(texts, labels, [variant, unrelated], views=VIEWS)
    assert both[0] > both[1]


def test_default_features_and_classifier_are_asreview_elas_u4():
    # ASReview 3's default model: TF-IDF of word 1-2 grams (sublinear tf, min_df 1,
    # max_df 0.95, ASReview's tokens), a linear SVM with C = 0.11 and squared hinge loss, and
    # exclusions together weighing 1/9.8 of the inclusions.
    assert DEFAULT_VIEWS == ("words",)
    words = text_features("words").get_params()
    assert (words["ngram_range"], words["sublinear_tf"], words["min_df"], words["max_df"],
            words["strip_accents"], words["lowercase"], words["analyzer"]) == \
        ((1, 2), True, 1, 0.95, None, True, "word")
    train = sparse.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.9], [0.1, 1.0]]))
    svm = _fit("svm", train, np.array([1, 0, 0, 0])).__self__
    params = svm.get_params()
    assert (type(svm).__name__, params["C"], params["loss"], params["penalty"]) == \
        ("LinearSVC", 0.11, "squared_hinge", "l2")
    # One inclusion, three exclusions weighing 1 / (9.8 * 3) each (together 1/9.8 of the
    # inclusion), then rescaled to sum to the 4 records: 29.4 : 1 : 1 : 1 times 4 / 32.4.
    weights = balanced_weights(np.array([1, 0, 0, 0]))
    assert weights == pytest.approx(np.array([29.4, 1, 1, 1]) * 4 / 32.4)


def test_ranker_rejects_unknown_views():
    with pytest.raises(ValueError, match="words, characters"):
        Ranker(views=("words", "pixels"))
    with pytest.raises(ValueError, match="each once"):
        Ranker(views=("words", "words"))


def test_ranker_without_any_inclusion_gives_no_preference(records):
    texts = frame_texts(records)
    scores = rank(texts[:5], [0] * 5, texts[5:50])
    assert np.all(scores == 0)


def test_ranker_is_reproducible_and_checks_its_input(records):
    texts = frame_texts(records)
    labels = records["label_included"].to_numpy()
    a = rank(texts[:150], labels[:150], texts[150:], seed=3)
    b = rank(texts[:150], labels[:150], texts[150:], seed=3)
    assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        Ranker().fit(["a b", "c d"], [1])
    with pytest.raises(ValueError, match="1 \\(included\\) or 0"):
        Ranker().fit(["a b", "c d"], [1, 2])
    with pytest.raises(ValueError, match="unknown ranking model"):
        Ranker(model="deep")
    with pytest.raises(RuntimeError, match="fit"):
        Ranker().score(["x"])


def test_remaining_estimate_follows_a_thinning_discovery_curve():
    # Inclusions thin out along the order: 30 in the first 100 decisions, 10 in the next 200,
    # 3 in the next 300. Extrapolating the curve leaves a handful at most, not dozens.
    rng = np.random.default_rng(0)
    blocks = []
    for size, hits in ((100, 30), (200, 10), (300, 3)):
        block = np.zeros(size, dtype=int)
        block[rng.choice(size, hits, replace=False)] = 1
        blocks.append(block)
    decisions = np.concatenate(blocks)
    estimate = estimate_remaining(decisions, 400)
    assert estimate is not None
    assert (estimate.n_screened, estimate.n_unscreened) == (600, 400)
    assert 0 <= estimate.low <= estimate.expected <= estimate.high <= 400
    assert 0 < estimate.expected < 6
    assert "relevant records probably remain among 400 unscreened" in estimate.describe()
    # The same decisions with the inclusions still coming as fast as ever: many remain.
    steady = np.tile([1, 0, 0, 0, 0], 120)
    assert estimate_remaining(steady, 400).expected > 50


def test_remaining_estimate_needs_a_few_decisions_and_is_zero_when_done():
    assert estimate_remaining([1, 0, 0, 1, 0], 100) is None
    assert estimate_remaining([0] * 50, 100) is None
    done = estimate_remaining([1, 0] * 20, 0)
    assert (done.expected, done.low, done.high) == (0, 0, 0)
    with pytest.raises(ValueError, match="0/1"):
        estimate_remaining([1, 2, 0], 5)
