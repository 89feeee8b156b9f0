"""`livingreview simulate`: screening replayed on a labelled set, through the real command line.

Data: the first 300 records of the Kitchenham 2010 set (see fixtures/screening/PROVENANCE.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from livingreview.cli import app
from livingreview.errors import InputError
from livingreview.screening.metrics import loss, recall_after, wss
from livingreview.screening.ranking import frame_texts
from livingreview.screening.simulation import (
    DEFAULT_LEARNER,
    LEARNERS,
    ActiveLearner,
    check_learner,
    choose_priors,
    read_labelled_set,
    simulate,
)

SLICE = Path(__file__).parent / "fixtures" / "screening" / "kitchenham_2010_first300.csv"
runner = CliRunner()


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return pd.read_csv(SLICE)


def _simulate(dataset: Path, seed: int, out: Path):
    return runner.invoke(app, ["simulate", str(dataset), "--seed", str(seed), "--out", str(out)])


def test_simulate_writes_every_record_once_priors_first(tmp_path, records):
    out = tmp_path / "order.csv"
    result = _simulate(SLICE, 1, out)
    assert result.exit_code == 0, result.output
    order = pd.read_csv(out)
    assert list(order.columns) == ["record_id"]
    assert sorted(order["record_id"]) == sorted(records["record_id"])
    label_of = dict(zip(records["record_id"], records["label_included"], strict=True))
    first, second = order["record_id"].iloc[:2]
    assert (label_of[first], label_of[second]) == (1, 0)
    # The order is the prioritised screening: it finds 95% of the inclusions well before the
    # end (random order scores about 0).
    screened = [label_of[r] for r in order["record_id"]]
    assert wss(screened) > 0.3
    assert (f"WSS@95 {wss(screened):.3f}, loss {loss(screened):.3f}, recall after 10% "
            f"{recall_after(screened):.3f}") in result.output


def test_simulate_is_reproducible_by_seed(tmp_path, records):
    # 120 records keep three runs quick; reproducibility does not depend on the size.
    dataset = tmp_path / "sample.csv"
    records.iloc[:120].to_csv(dataset, index=False)
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    for out, seed in ((a, 7), (b, 7), (c, 8)):
        assert _simulate(dataset, seed, out).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    assert pd.read_csv(a)["record_id"].iloc[:2].tolist() != \
        pd.read_csv(c)["record_id"].iloc[:2].tolist()


def test_simulate_handles_missing_titles_and_abstracts(tmp_path, records):
    sample = records.iloc[:60].copy()
    sample.loc[sample.index[:10], "abstract"] = np.nan
    sample.loc[sample.index[10:15], "title"] = np.nan
    sample.loc[sample.index[15], ["title", "abstract"]] = np.nan
    dataset = tmp_path / "gaps.csv"
    sample.to_csv(dataset, index=False)
    out = tmp_path / "order.csv"
    result = _simulate(dataset, 1, out)
    assert result.exit_code == 0, result.output
    assert sorted(pd.read_csv(out)["record_id"]) == sorted(sample["record_id"])


def test_simulate_names_the_file_and_missing_column(tmp_path, records):
    dataset = tmp_path / "no_labels.csv"
    records.drop(columns=["label_included"]).iloc[:20].to_csv(dataset, index=False)
    result = _simulate(dataset, 1, tmp_path / "order.csv")
    assert result.exit_code == 2
    assert str(dataset) in result.output
    assert "missing column(s) label_included" in result.output
    assert not (tmp_path / "order.csv").exists()


def test_simulate_names_the_row_with_a_label_that_is_not_0_or_1(tmp_path, records):
    sample = records.iloc[:20].astype({"label_included": object})
    sample.loc[sample.index[4], "label_included"] = "yes"
    dataset = tmp_path / "bad_label.csv"
    sample.to_csv(dataset, index=False)
    with pytest.raises(InputError) as caught:
        read_labelled_set(dataset)
    message = str(caught.value)
    assert str(dataset) in message
    assert "data row 5" in message and f"record_id {sample['record_id'].iloc[4]}" in message
    assert "'yes' is not 0 or 1" in message
    result = _simulate(dataset, 1, tmp_path / "order.csv")
    assert result.exit_code == 2 and "label_included" in result.output


def test_simulate_rejects_a_set_without_both_labels_and_a_missing_file(tmp_path, records):
    dataset = tmp_path / "all_excluded.csv"
    records[records["label_included"] == 0].iloc[:20].to_csv(dataset, index=False)
    with pytest.raises(InputError, match="at least one inclusion"):
        read_labelled_set(dataset)
    with pytest.raises(InputError, match="no such file"):
        read_labelled_set(tmp_path / "absent.csv")


def test_priors_are_one_inclusion_and_one_exclusion_by_seed(records):
    labels = records["label_included"].to_numpy()
    assert choose_priors(labels, 3) == choose_priors(labels, 3)
    included, excluded = choose_priors(labels, 3)
    assert labels[included] == 1 and labels[excluded] == 0


def test_active_learner_refits_every_decision_early_then_in_batches(records):
    texts = frame_texts(records)
    labels = records["label_included"].to_numpy()
    learner = ActiveLearner(texts, seed=1, every_step_until=50, batch_fraction=0.1)
    learner.label(list(choose_priors(labels, 1)), labels[list(choose_priors(labels, 1))])
    sizes = []
    while (batch := learner.next_batch()).size:
        sizes.append(batch.size)
        learner.label(batch, labels[batch])
    assert sizes[:48] == [1] * 48
    assert max(sizes) >= 0.1 * 250 - 1
    assert learner.fits == len(sizes) < len(records)
    with pytest.raises(ValueError, match="only once"):
        learner.label([0], [1])
    with pytest.raises(ValueError, match="text views"):
        ActiveLearner(texts, views=("pixels",))


def test_default_learner_is_asreview_elas_u4_loop(records):
    # ASReview's loop: a refit after every decision, training on the real decisions only.
    assert DEFAULT_LEARNER == "elas_u4"
    assert LEARNERS["elas_u4"] == {"views": ("words",), "presumed_exclusions": 0,
                                   "every_step_until": None}
    sample = records.iloc[:60]
    texts = frame_texts(sample)
    labels = sample["label_included"].to_numpy()
    learner = ActiveLearner(texts, seed=1)
    priors = list(choose_priors(labels, 1))
    learner.label(priors, labels[priors])
    sizes = []
    while (batch := learner.next_batch()).size:
        sizes.append(batch.size)
        learner.label(batch, labels[batch])
        assert learner.presumed_now() == 0
    assert sizes == [1] * 58 and learner.fits == 58
    assert simulate(texts, labels, 1) == learner.order
    with pytest.raises(ValueError, match="unknown active learner 'svm'; choose one of elas_u4"):
        check_learner("svm")


def test_simulation_beats_random_order_across_seeds(records):
    texts = frame_texts(records)
    labels = records["label_included"].to_numpy()
    scores = [wss(labels[simulate(texts, labels, seed)]) for seed in (1, 2, 3)]
    assert min(scores) > 0.3
