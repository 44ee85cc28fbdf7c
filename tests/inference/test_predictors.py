"""The compiled predictor agrees with the bundle; other estimators are served as they are."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from fraud_inference.predictor import predictor_for, probe_rows
from fraud_training.algorithms import build_estimator
from fraud_training.bundle import ModelBundle, Thresholds
from fraud_training.features import transaction_features
from fraud_training.schema import LABEL


@pytest.fixture(scope="module")
def bundle(model_folder: Any) -> ModelBundle:
    return ModelBundle.load(model_folder)


def test_xgboost_bundles_are_served_by_onnx_runtime_with_the_same_probabilities(
    bundle: ModelBundle, transactions_frame: pd.DataFrame
) -> None:
    features = transaction_features(transactions_frame)[:2_000]

    predictor = predictor_for(bundle)

    assert predictor.kind == "onnxruntime"
    np.testing.assert_allclose(
        predictor.probability(features), bundle.predict_proba(features), atol=1e-6
    )


def test_single_rows_score_like_batches(bundle: ModelBundle) -> None:
    predictor = predictor_for(bundle)
    rows = probe_rows(len(bundle.feature_names), rows=20)

    singles = np.concatenate([predictor.probability(rows[i : i + 1]) for i in range(len(rows))])

    np.testing.assert_array_equal(singles, predictor.probability(rows))


def test_the_estimator_can_be_forced(bundle: ModelBundle) -> None:
    assert predictor_for(bundle, "estimator").kind == "estimator"


def test_a_scaled_linear_model_is_served_by_its_estimator(transactions_frame: pd.DataFrame) -> None:
    features = transaction_features(transactions_frame)
    labels = transactions_frame[LABEL].to_numpy()
    estimator = build_estimator("logistic_regression", labels).fit(features, labels)
    linear = ModelBundle("transactions", "logistic_regression", estimator, Thresholds(0.3, 0.7))

    predictor = predictor_for(linear)

    assert predictor.kind == "estimator"
    np.testing.assert_array_equal(
        predictor.probability(features[:5]), linear.predict_proba(features[:5])
    )
