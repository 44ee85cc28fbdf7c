"""The user's own columns as model inputs: encodings learned at fit time, open vocabularies;
the entity histories over the windows the model is given, and the one column order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from fraud_training.config import TrainingConfig
from fraud_training.entity_history import ENTITY_WINDOWS_MS
from fraud_training.features import (
    CATEGORICAL,
    CREDITCARD_FEATURES,
    ENTITY_HISTORIES,
    NUMERIC,
    PAIR_WINDOWS_MS,
    TRANSACTION_FEATURES,
    FeatureInputs,
    PassThroughFeature,
    builtin_histories,
    model_feature_names,
)


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
    assert inputs.column_names == ("merchant_category", "merchant_category_frequency")
    generated = pd.DataFrame({"merchant_category": ["fuel", "grocery"]})
    assert FeatureInputs.fit(generated, {}).column_names == ()


def test_encodings_are_fitted_only_on_the_rows_given() -> None:
    frame = pd.DataFrame({"product": ["W", "W", "C", "C", "C"]})
    inputs = FeatureInputs.fit(frame, {"product": CATEGORICAL}, rows=np.array([0, 1]))
    assert inputs.columns[0].vocabulary == ("W",)
    assert inputs.describe() == [{"name": "product", "kind": CATEGORICAL, "vocabulary_size": 1}]


def test_a_user_entity_has_the_windows_it_is_given() -> None:
    frame = pd.DataFrame({"ip": ["a", "b"]})
    inputs = FeatureInputs.fit(frame, {}, entities=("ip",), entity_windows_ms=(("6h", 21_600_000),))
    (ip,) = inputs.entities
    assert "ip_txn_count_6h" in ip.feature_names
    assert not any(name.endswith("_24h") for name in ip.feature_names)


def test_the_default_user_entity_windows_are_the_merchants() -> None:
    assert TrainingConfig(data=Path("x.csv")).entity_windows_ms() == tuple(
        ENTITY_WINDOWS_MS.items()
    )


def test_the_default_built_in_windows_are_the_documented_ones() -> None:
    config = TrainingConfig(data=Path("x.csv"))
    assert builtin_histories(config.entity_windows_ms(), config.pair_windows_ms()) == (
        ENTITY_HISTORIES
    )
    assert config.pair_windows_ms() == tuple(PAIR_WINDOWS_MS.items())


def test_the_merchant_and_card_histories_take_the_entity_windows() -> None:
    merchant, pair, card = builtin_histories((("6h", 21_600_000), ("3d", 259_200_000)))
    assert "merchant_txn_count_6h" in merchant.feature_names
    assert "card_amount_std_3d" in card.feature_names
    assert not any(name.endswith(("_1h", "_30d")) for name in merchant.feature_names)
    assert pair.windows_ms == tuple(PAIR_WINDOWS_MS.items())


def test_the_pair_history_takes_the_pair_windows() -> None:
    _, pair, _ = builtin_histories(pair_windows_ms=(("12h", 43_200_000),))
    assert [w.suffix for w in pair.windows] == ["12h"]
    assert "card_merchant_txn_count_12h" in pair.feature_names


def test_a_model_names_its_columns_set_histories_risk_then_pass_through() -> None:
    frame = pd.DataFrame({"ip": ["a"], "score": [0.5]})
    inputs = FeatureInputs.fit(frame, {"score": NUMERIC}, entities=("ip",))
    names = model_feature_names("transactions", inputs, ("risk_x",))
    ip_first = names.index(inputs.entities[0].feature_names[0])
    assert names[: len(TRANSACTION_FEATURES)] == TRANSACTION_FEATURES
    assert ip_first == len(TRANSACTION_FEATURES)
    assert names[-2:] == ("risk_x", "score")


def test_a_set_without_histories_names_no_built_in_features() -> None:
    assert model_feature_names("creditcard", FeatureInputs()) == CREDITCARD_FEATURES


def test_an_entitys_online_state_is_named_after_its_windows() -> None:
    default_merchant = ENTITY_HISTORIES[0]
    other_merchant = builtin_histories((("6h", 21_600_000),))[0]
    assert default_merchant.state_name.startswith("merchant.")
    assert default_merchant.state_name != other_merchant.state_name
    assert default_merchant.state_name == builtin_histories()[0].state_name
