"""Time-ordered hold-out and stratified K-fold."""

from __future__ import annotations

import numpy as np
import pytest
from fraud_training.errors import DataError
from fraud_training.splits import DAY_MS, stratified_kfold, time_holdout, time_split


def test_time_holdout_trains_on_the_past_and_tests_on_the_future() -> None:
    rng = np.random.default_rng(1)
    timestamps = rng.integers(0, 1_000_000, size=1_000)
    labels = (np.arange(1_000) % 10 == 0).astype(int)
    split = time_holdout(timestamps, labels, test_fraction=0.2)
    assert timestamps[split.train].max() < timestamps[split.test].min()
    assert len(split.test) == pytest.approx(200, abs=2)
    assert sorted(np.r_[split.train, split.test].tolist()) == list(range(1_000))


def test_rows_sharing_the_cutoff_time_all_go_to_the_test_side() -> None:
    timestamps = np.array([1, 2, 3, 4, 5, 5, 5, 6, 7, 8])
    labels = np.array([0, 1, 0, 0, 0, 1, 0, 0, 1, 0])
    split = time_holdout(timestamps, labels, test_fraction=0.5)
    assert timestamps[split.train].tolist() == [1, 2, 3, 4]
    assert timestamps[split.test].tolist() == [5, 5, 5, 6, 7, 8]


def test_a_side_without_frauds_is_refused() -> None:
    timestamps = np.arange(10)
    labels = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])  # no fraud in the latest 20 %
    with pytest.raises(DataError, match="is_fraud: the test side"):
        time_holdout(timestamps, labels, test_fraction=0.2)


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5])
def test_test_fraction_must_be_a_proper_fraction(fraction: float) -> None:
    with pytest.raises(DataError, match="test_fraction"):
        time_holdout(np.arange(10), np.arange(10) % 2, test_fraction=fraction)


def test_kfold_partitions_rows_with_frauds_in_every_fold() -> None:
    labels = (np.arange(500) % 25 == 0).astype(int)  # 20 frauds
    folds = stratified_kfold(labels, folds=4, seed=0)
    tested = np.concatenate([fold.test for fold in folds])
    assert sorted(tested.tolist()) == list(range(500))
    assert [int(labels[fold.test].sum()) for fold in folds] == [5, 5, 5, 5]
    for fold in folds:
        assert not set(fold.train.tolist()) & set(fold.test.tolist())


def test_kfold_needs_a_fraud_per_fold() -> None:
    with pytest.raises(DataError, match="5 folds need at least 5 frauds, got 3"):
        stratified_kfold(np.array([1, 1, 1] + [0] * 50), folds=5)


def _days(n_days: int, per_day: int) -> tuple[np.ndarray, np.ndarray]:
    """``per_day`` rows on each of ``n_days`` days, every fifth a fraud."""
    timestamps = np.repeat(np.arange(n_days) * DAY_MS, per_day) + np.tile(
        np.arange(per_day), n_days
    )
    return timestamps, (np.arange(len(timestamps)) % 5 == 0).astype(int)


def test_time_split_orders_train_then_validation_then_test() -> None:
    timestamps, labels = _days(30, 10)
    split = time_split(timestamps, labels, test_fraction=0.2, validation_fraction=0.1)
    assert timestamps[split.train].max() < timestamps[split.validation].min()
    assert timestamps[split.validation].max() < timestamps[split.test].min()
    assert (len(split.train), len(split.validation), len(split.gap), len(split.test)) == (
        210,
        30,
        0,
        60,
    )


def test_label_delay_leaves_the_days_before_the_test_period_out() -> None:
    timestamps, labels = _days(30, 10)
    split = time_split(timestamps, labels, 0.2, 0.1, label_delay_days=3)
    test_start = timestamps[split.test].min()
    assert timestamps[split.gap].min() >= test_start - 3 * DAY_MS
    assert timestamps[split.labelled].max() < test_start - 3 * DAY_MS
    assert len(split.gap) == 30
    assert len(split.validation) == 30  # a share of all rows, whatever the delay


def test_a_delay_that_leaves_no_training_rows_is_refused() -> None:
    timestamps, labels = _days(10, 10)
    with pytest.raises(DataError, match="label_delay_days"):
        time_split(timestamps, labels, 0.2, 0.1, label_delay_days=8)


def test_a_validation_period_without_frauds_is_refused() -> None:
    timestamps, _ = _days(10, 10)
    labels = np.zeros(100, dtype=int)
    labels[[0, 95]] = 1  # frauds only in the first training row and the test period
    with pytest.raises(DataError, match="the validation side"):
        time_split(timestamps, labels, 0.2, 0.1)
