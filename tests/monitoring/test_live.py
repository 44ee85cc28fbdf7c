"""Live performance at the served decisions, on the labelled rows only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fraud_training.evaluation import CostModel
from fraud_training.monitoring.live import live_performance, live_performance_by_version

NAN = float("nan")


def frame() -> pd.DataFrame:
    """Six labelled rows and two unlabelled ones, two model versions."""
    return pd.DataFrame(
        {
            "decision": [
                "decline",
                "review",
                "review",
                "approve",
                "approve",
                "decline",
                "approve",
                "review",
            ],
            "label": [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, NAN, NAN],
            "fraud_probability": [0.9, 0.5, 0.4, 0.1, 0.05, 0.8, 0.01, 0.3],
            "transaction_amount": [100.0, 50.0, 20.0, 300.0, 10.0, 40.0, 5.0, 7.0],
            "label_lag_s": [3600.0, 7200.0, 3600.0, 36000.0, 3600.0, 7200.0, NAN, NAN],
            "model_name": ["fraud"] * 8,
            "model_version": ["1", "1", "1", "1", "2", "2", "2", "2"],
        }
    )


def test_precision_and_recall_count_review_and_decline_as_flagged() -> None:
    live = live_performance(frame())

    assert live.labelled_rows == 6
    assert live.frauds == 3
    assert live.flagged == 4
    assert live.precision == pytest.approx(2 / 4)
    assert live.recall == pytest.approx(2 / 3)
    assert live.decline_precision == pytest.approx(1 / 2)


def test_cost_is_missed_fraud_amounts_plus_review_fees_of_false_alarms() -> None:
    live = live_performance(frame(), CostModel(review_fee=5.0))

    assert live.cost == pytest.approx(300.0 + 2 * 5.0)


def test_pr_auc_and_label_lag_come_from_the_labelled_rows() -> None:
    live = live_performance(frame())

    assert 0.0 < live.pr_auc <= 1.0
    assert live.label_lag_p50_hours == pytest.approx(np.median([1, 2, 1, 10, 1, 2]))


def test_without_labels_nothing_is_claimed() -> None:
    unlabelled = frame().assign(label=NAN)

    live = live_performance(unlabelled)

    assert (live.labelled_rows, live.precision, live.recall, live.pr_auc, live.cost) == (
        0,
        None,
        None,
        None,
        None,
    )


def test_each_model_version_is_measured_on_its_own_rows() -> None:
    by_version = live_performance_by_version(frame())

    assert set(by_version) == {"fraud/1", "fraud/2"}
    assert by_version["fraud/1"].recall == pytest.approx(2 / 3)
    assert by_version["fraud/2"].precision == 0.0
    assert by_version["fraud/2"].recall is None
