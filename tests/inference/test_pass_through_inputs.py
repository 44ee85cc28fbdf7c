"""Serving takes what the model needs: the user's own columns from the request, extra fields
ignored, a bad value a 422 naming the field."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from fraud_inference.responses import ClientError
from fraud_inference.schemas import Transaction
from fraud_inference.scoring import pass_through_inputs
from fraud_training.bundle import ModelBundle, Thresholds
from fraud_training.features import CATEGORICAL, NUMERIC, TRANSACTION_FEATURES, FeatureInputs

TRAINING = pd.DataFrame({"risk_score": [0.1, 0.9, 0.5], "product": ["W", "W", "C"]})


def bundle() -> ModelBundle:
    inputs = FeatureInputs.fit(TRAINING, {"risk_score": NUMERIC, "product": CATEGORICAL})
    return ModelBundle("transactions", "xgboost", None, Thresholds(0.5, 0.9), inputs=inputs)


def transaction(**extra: Any) -> Any:
    return Transaction.model_validate(
        {
            "transaction_id": "t1",
            "customer_id": "c1",
            "timestamp": "2026-01-01T00:00:00Z",
            "amount": 12.5,
            "merchant_category": "casino",  # outside the generator's vocabulary: accepted
            **extra,
        }
    )


def test_the_bundle_names_its_inputs_after_the_fixed_features() -> None:
    served = bundle()
    assert served.feature_names[len(TRANSACTION_FEATURES) :] == (
        "risk_score",
        "product",
        "product_frequency",
    )
    schema = served.input_schema()
    assert schema["required"] == ["transaction_id", "customer_id", "timestamp", "amount"]
    assert [f["name"] for f in schema["features"]] == ["risk_score", "product"]


def test_pass_through_fields_are_read_from_the_request_and_extras_ignored() -> None:
    rows = [transaction(risk_score=0.7, product="W", unused_field="x"), transaction()]
    encoded = pass_through_inputs(bundle(), rows)
    np.testing.assert_allclose(encoded[0], [0.7, 0.0, 2 / 3])
    assert np.isnan(encoded[1, 0]) and np.isnan(encoded[1, 1])  # left out: missing


def test_a_non_numeric_value_for_a_numeric_input_is_a_422_naming_it() -> None:
    with pytest.raises(ClientError) as caught:
        pass_through_inputs(bundle(), [transaction(), transaction(risk_score="high")])
    assert caught.value.status_code == 422
    assert caught.value.message.startswith("transactions[1].risk_score: must be a number")
