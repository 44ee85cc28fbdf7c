"""How training rows are kept apart from evaluation rows.

The default is a time-ordered hold-out: the model is trained on the past and scored on the
future, as it will be in production. A random split would let the model learn from transactions
that come after the ones it is judged on (and, with history features, from the same customers'
later behaviour), which flatters every metric. Stratified K-fold is offered for small data sets
where one hold-out holds too few frauds to measure anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold

from fraud_training.choices import DEFAULT_FOLDS, DEFAULT_TEST_FRACTION
from fraud_training.errors import DataError

SPLIT_STRATEGIES: tuple[str, ...] = ("time", "kfold")


@dataclass(frozen=True)
class Split:
    """Row positions of one train/test partition."""

    train: np.ndarray
    test: np.ndarray


def time_holdout(
    timestamps_ms: np.ndarray, labels: np.ndarray, test_fraction: float = DEFAULT_TEST_FRACTION
) -> Split:
    """Train on rows before a cut-off time, test on the rows at or after it.

    The cut-off is the timestamp of the first row of the last ``test_fraction`` of rows in time
    order. Rows sharing that timestamp all go to the test side, so no test row is older than a
    training row.
    """
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test_fraction: must be strictly between 0 and 1, got {test_fraction}")
    timestamps_ms = np.asarray(timestamps_ms)
    n = len(timestamps_ms)
    cut_position = min(int(np.floor(n * (1.0 - test_fraction))), n - 1)
    cutoff = np.sort(timestamps_ms, kind="stable")[cut_position] if n else 0
    is_test = timestamps_ms >= cutoff
    split = Split(train=np.flatnonzero(~is_test), test=np.flatnonzero(is_test))
    _require_both_classes(labels, split, "time-ordered hold-out")
    return split


def stratified_kfold(labels: np.ndarray, folds: int = DEFAULT_FOLDS, seed: int = 0) -> list[Split]:
    """``folds`` shuffled partitions, each holding the same share of frauds."""
    labels = np.asarray(labels)
    frauds = int(np.sum(labels == 1))
    if folds < 2:
        raise DataError(f"folds: need at least 2 folds, got {folds}")
    if frauds < folds:
        raise DataError(f"is_fraud: {folds} folds need at least {folds} frauds, got {frauds}")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [Split(train, test) for train, test in splitter.split(np.zeros(len(labels)), labels)]


def _require_both_classes(labels: np.ndarray, split: Split, what: str) -> None:
    """A side without frauds (or without legit rows) can neither train nor be scored."""
    labels = np.asarray(labels)
    for side, rows in (("training", split.train), ("test", split.test)):
        classes = set(np.unique(labels[rows]).tolist())
        if classes != {0, 1}:
            raise DataError(
                f"is_fraud: the {side} side of the {what} holds {len(rows)} rows with labels "
                f"{sorted(classes)}; it needs both frauds and legit transactions "
                f"(add data or change --test-fraction)"
            )
