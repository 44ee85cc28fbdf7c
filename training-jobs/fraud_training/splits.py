"""How training rows are kept apart from evaluation rows.

The default is time-ordered: the model is trained on the past and scored on the future, as it
will be in production. A random split would let the model learn from transactions that come after
the ones it is judged on (and, with history features, from the same customers' later behaviour),
which flatters every metric. Three periods, oldest first:

* **train** — what the learner fits;
* **validation** — the end of the training period: early stopping and the decision thresholds are
  chosen there, so nothing about the model is tuned on the rows it is judged on;
* an optional **label-delay gap** — the last days before the test period, left out entirely:
  in production a fraud is confirmed days or weeks after it happened, so a model deployed at
  the test start could not have had those labels;
* **test** — the latest ``test_fraction`` of rows, where every reported metric is measured.

Stratified K-fold is offered for small data sets where one hold-out holds too few frauds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold

from fraud_training.choices import (
    DEFAULT_FOLDS,
    DEFAULT_LABEL_DELAY_DAYS,
    DEFAULT_TEST_FRACTION,
    DEFAULT_VALIDATION_FRACTION,
)
from fraud_training.errors import DataError

SPLIT_STRATEGIES: tuple[str, ...] = ("time", "kfold")


@dataclass(frozen=True)
class Split:
    """Row positions of one train/test partition."""

    train: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class TimeSplit:
    """Row positions of the time-ordered periods; ``gap`` rows are used for nothing."""

    train: np.ndarray
    validation: np.ndarray
    gap: np.ndarray
    test: np.ndarray

    @property
    def labelled(self) -> np.ndarray:
        """Train and validation rows: every label the model may learn from, in row order."""
        return np.sort(np.r_[self.train, self.validation])


DAY_MS = 86_400_000


def time_split(
    timestamps_ms: np.ndarray,
    labels: np.ndarray,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
    label_delay_days: float = DEFAULT_LABEL_DELAY_DAYS,
) -> TimeSplit:
    """Train / validation / gap / test by time (see the module docstring).

    The test period starts at the cut-off of :func:`time_holdout`. Rows less than
    ``label_delay_days`` before it form the gap. Of the rows before the gap, the latest
    ``validation_fraction`` (a share of *all* rows, so the test and validation sizes do not depend
    on the delay) are validation, cut the same way: rows sharing the validation start time all
    go to validation.
    """
    if not 0.0 < validation_fraction < 1.0 - test_fraction:
        raise DataError(
            f"validation_fraction: must be > 0 and leave training rows beside test_fraction "
            f"{test_fraction}, got {validation_fraction}"
        )
    if not np.isfinite(label_delay_days) or label_delay_days < 0:
        raise DataError(f"label_delay_days: must be a number >= 0, got {label_delay_days}")
    holdout = time_holdout(timestamps_ms, labels, test_fraction)
    timestamps_ms = np.asarray(timestamps_ms)
    test_start = timestamps_ms[holdout.test].min()
    gap_start = test_start - label_delay_days * DAY_MS
    before_gap = holdout.train[timestamps_ms[holdout.train] < gap_start]
    gap = np.setdiff1d(holdout.train, before_gap)
    wanted = round(len(timestamps_ms) * validation_fraction)
    if len(before_gap) <= wanted:
        raise DataError(
            f"label_delay_days: a gap of {label_delay_days:g} days before the test period leaves "
            f"{len(before_gap)} rows, too few for a validation share of {validation_fraction:g} "
            "and a training set (shorten the delay or lower the fractions)"
        )
    ordered = np.sort(timestamps_ms[before_gap], kind="stable")
    validation_start = ordered[len(ordered) - wanted]
    is_validation = timestamps_ms[before_gap] >= validation_start
    split = TimeSplit(
        train=before_gap[~is_validation],
        validation=before_gap[is_validation],
        gap=gap,
        test=holdout.test,
    )
    _require_both_classes(
        labels, Split(split.train, split.validation), "time split", ("training", "validation")
    )
    return split


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


def _require_both_classes(
    labels: np.ndarray, split: Split, what: str, sides: tuple[str, str] = ("training", "test")
) -> None:
    """A side without frauds (or without legit rows) can neither train nor be scored."""
    labels = np.asarray(labels)
    for side, rows in zip(sides, (split.train, split.test), strict=True):
        classes = set(np.unique(labels[rows]).tolist())
        if classes != {0, 1}:
            raise DataError(
                f"is_fraud: the {side} side of the {what} holds {len(rows)} rows with labels "
                f"{sorted(classes)}; it needs both frauds and legit transactions "
                f"(add data or change --test-fraction)"
            )
