"""The user's own columns as model inputs: encodings learned at fit time, open vocabularies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from fraud_training.config import TrainingConfig
from fraud_training.entity_history import ENTITY_WINDOWS_MS
from fraud_training.features import CATEGORICAL, NUMERIC, FeatureInputs, PassThroughFeature


def test_a_numeric_column_is_used_as_it_is_with_missing_values_kept() -> None:
    column = PassThroughFeature.fit("score", NUMERIC, pd.Series([1.5, np.nan]))
    np.testing.assert_array_equal(column.encode([2.5, None])[:, 0], [2.5, np.nan])
    assert column.feature_names == ("score",)


def test_a_categorical_column_becomes_rank_and_frequency_learned_on_training_rows() -> None:
    column = PassThroughFeature.fit("product", CATEGORICAL, pd.Series(["W", "W", "W", "C", "C"]))
    assert column.vocabulary == ("W", "C")
    encoded = column.encode(["C", "W"])
    np.testing.assert_allclose(encoded, [[1.0, 0.4], [0.0, 0.6]])


def test_an_unseen_or_rare_value_scores_as_not_in_the_vocabulary() -> None:
    column = PassThroughFeature.fit("product", CATEGORICAL, pd.Series(["W", "W", "R"]))
    encoded = column.encode(["R", "never-seen", None])
    assert np.isnan(encoded[:, 0]).all()  # rank missing: the learner's default branch
    np.testing.assert_array_equal(encoded[:, 1], [0.0, 0.0, 0.0])


def test_merchant_categories_outside_the_generators_become_an_input() -> None:
    frame = pd.DataFrame({"merchant_category": ["casino", "casino", "grocery"]})
    inputs = FeatureInputs.fit(frame, {})
    assert inputs.names == ("merchant_category", "merchant_category_frequency")
    generated = pd.DataFrame({"merchant_category": ["fuel", "grocery"]})
    assert FeatureInputs.fit(generated, {}).names == ()


def test_encodings_are_fitted_only_on_the_rows_given() -> None:
    frame = pd.DataFrame({"product": ["W", "W", "C", "C", "C"]})
    inputs = FeatureInputs.fit(frame, {"product": CATEGORICAL}, rows=np.array([0, 1]))
    assert inputs.columns[0].vocabulary == ("W",)
    assert inputs.describe() == [{"name": "product", "kind": CATEGORICAL, "vocabulary_size": 1}]


def test_a_user_entity_has_the_windows_it_is_given() -> None:
    frame = pd.DataFrame({"ip": ["a", "b"]})
    inputs = FeatureInputs.fit(frame, {}, entities=("ip",), entity_windows_ms=(("6h", 21_600_000),))
    assert "ip_txn_count_6h" in inputs.entity_names
    assert not any(name.endswith("_24h") for name in inputs.entity_names)


def test_the_default_user_entity_windows_are_the_merchants() -> None:
    assert TrainingConfig(data=Path("x.csv")).entity_windows_ms() == tuple(
        ENTITY_WINDOWS_MS.items()
    )
