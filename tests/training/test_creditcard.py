"""The must-have: the default algorithm on the real ULB credit-card file, trained on the first
80 % by time and tested on the last 20 %, reaches PR-AUC >= 0.80 and ROC-AUC >= 0.98."""

from __future__ import annotations

from pathlib import Path

import pytest
from fraud_training.choices import DEFAULT_ALGORITHM
from fraud_training.config import TrainingConfig
from fraud_training.tracking import local_store
from fraud_training.train import run_training
from training_setup import ULB_FILE

ULB_ROWS = 284_807


@pytest.mark.realdata
@pytest.mark.skipif(not ULB_FILE.is_file(), reason=f"the ULB data set is not at {ULB_FILE}")
def test_default_algorithm_on_the_ulb_time_split_reaches_the_target(tmp_path: Path) -> None:
    result = run_training(
        TrainingConfig(data=ULB_FILE, tracking_uri=local_store(tmp_path).tracking_uri)
    )
    assert (result.algorithm, result.split, result.feature_set) == (
        DEFAULT_ALGORITHM,
        "time",
        "creditcard",
    )
    assert result.train_rows + result.test_rows == ULB_ROWS
    assert result.test_rows == pytest.approx(0.2 * ULB_ROWS, rel=0.01)
    assert result.metrics["pr_auc"] >= 0.80
    assert result.metrics["roc_auc"] >= 0.98
