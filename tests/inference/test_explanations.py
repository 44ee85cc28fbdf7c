"""top_features: path attribution equals XGBoost's own, exact mode is the bundle's definition."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from fraud_inference.explain import TreePathExplainer, explainer_for, top_contributions
from fraud_inference.predictor import xgboost_learner
from fraud_training.bundle import ModelBundle
from fraud_training.features import transaction_features
from xgboost import DMatrix


@pytest.fixture(scope="module")
def bundle(model_folder: Any) -> ModelBundle:
    return ModelBundle.load(model_folder)


@pytest.fixture(scope="module")
def features(transactions_frame: pd.DataFrame) -> np.ndarray:
    rows = transaction_features(transactions_frame)[:300].copy()
    rows[::7, 7] = np.nan  # missing values take each split's default branch
    return rows


def test_path_attribution_equals_xgboost_approx_contribs(
    bundle: ModelBundle, features: np.ndarray
) -> None:
    booster = xgboost_learner(bundle).get_booster()
    expected = booster.predict(DMatrix(features), pred_contribs=True, approx_contribs=True)[:, :-1]

    got = TreePathExplainer.from_xgboost(booster, features.shape[1]).contributions(features)

    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_path_contributions_of_one_row_equal_those_in_a_batch(
    bundle: ModelBundle, features: np.ndarray
) -> None:
    explainer = explainer_for(bundle, "path")

    np.testing.assert_allclose(
        explainer.contributions(features[5:6]), explainer.contributions(features)[5:6]
    )


def test_exact_method_is_the_bundles_own_definition(
    bundle: ModelBundle, features: np.ndarray
) -> None:
    explainer = explainer_for(bundle, "exact")

    np.testing.assert_array_equal(
        explainer.contributions(features[:10]), bundle.contributions(features[:10])
    )


def test_top_contributions_are_the_largest_in_magnitude_first() -> None:
    contributions = np.array([[0.1, -0.9, 0.5, 0.0]])
    features = np.array([[1.0, 2.0, 3.0, 4.0]])

    (top,) = top_contributions(contributions, features, ("a", "b", "c", "d"), k=2)

    assert top == [
        {"feature": "b", "value": 2.0, "contribution": -0.9},
        {"feature": "c", "value": 3.0, "contribution": 0.5},
    ]
