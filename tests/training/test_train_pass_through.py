"""Training on a mapped file with the user's own columns: they reach the model, its bundle and
MLflow, and the test metrics are measured at thresholds chosen on validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fraud_inference.serving_bundle import read_servable
from fraud_training.config import TrainingConfig
from fraud_training.loaders import ColumnMapping
from fraud_training.registry import download_bundle, download_model
from fraud_training.risk_features import risk_entities
from fraud_training.tracking import TrackingTarget, load_run_holdout
from fraud_training.train import TrainingResult, run_training
from training_setup import FAST_XGBOOST


@pytest.fixture(scope="module")
def trained(
    transactions_file: Path,
    local_tracking: TrackingTarget,
    tmp_path_factory: pytest.TempPathFactory,
) -> TrainingResult:
    frame = pd.read_parquet(transactions_file)
    rng = np.random.default_rng(5)
    export = pd.DataFrame(
        {
            "card": frame["customer_id"],
            "ts": frame["timestamp"],
            "eur": frame["amount"],
            "cb": frame["is_fraud"],
            # A column that carries signal, with gaps, and a categorical one never seen before.
            "issuer_score": np.where(
                rng.random(len(frame)) < 0.1,
                np.nan,
                frame["is_fraud"] * 2.0 + rng.random(len(frame)),
            ),
            "product": rng.choice(["W", "C", "H", "R"], size=len(frame)),
            # a key column named as an entity: its history becomes features
            "ip": rng.choice([f"10.0.0.{i}" for i in range(50)], size=len(frame)),
        }
    )
    path = tmp_path_factory.mktemp("mapped") / "export.csv"
    export.to_csv(path, index=False)
    mapping = ColumnMapping(
        {"customer_id": "card", "timestamp": "ts", "amount": "eur", "is_fraud": "cb"},
        features=("issuer_score", "product"),
        entities=("ip",),
    )
    return run_training(
        TrainingConfig(
            data=path,
            mapping=mapping,
            model_name="fraud-mapped",
            tracking_uri=local_tracking.tracking_uri,
            hyperparameters=FAST_XGBOOST,
            risk_entities=risk_entities(["ip"]),
            pair_windows=("12h", "30d"),
        )
    )


def test_pass_through_columns_are_model_inputs_in_the_bundle_and_mlflow(
    trained: TrainingResult, local_tracking: TrackingTarget
) -> None:
    client = local_tracking.client()
    bundle = download_bundle(trained.model_uri, local_tracking.tracking_uri).bundle
    assert bundle.feature_names[-3:] == ("issuer_score", "product", "product_frequency")
    assert [f["name"] for f in bundle.input_schema()["features"]] == ["issuer_score", "product"]
    params = client.get_run(trained.run_id).data.params
    assert json.loads(params["feature_inputs"])[0] == {"name": "issuer_score", "kind": "numeric"}
    assert params["feature_names"].endswith("issuer_score,product,product_frequency")


def test_the_history_feature_definition_is_data_in_the_bundle_and_mlflow(
    trained: TrainingResult, local_tracking: TrackingTarget
) -> None:
    bundle = download_bundle(trained.model_uri, local_tracking.tracking_uri).bundle
    params = local_tracking.client().get_run(trained.run_id).data.params
    definition = json.loads(params["feature_definition"])
    assert definition == bundle.metadata()["feature_definition"]
    by_name = {entity["entity"]: entity for entity in definition["entities"]}
    assert list(by_name) == ["merchant", "card_merchant", "card", "ip"]
    assert by_name["merchant"]["columns"] == ["merchant_id"]
    assert by_name["card_merchant"]["columns"] == ["customer_id", "merchant_id"]
    assert [w["name"] for w in by_name["merchant"]["windows"]] == ["1h", "24h", "7d", "30d"]
    assert [w["name"] for w in by_name["card_merchant"]["windows"]] == ["12h", "30d"]
    assert params["pair_windows"] == "12h,30d"
    assert by_name["merchant"]["distinct"] == ["customer_id"]
    assert by_name["ip"]["columns"] == ["ip"]
    assert "merchant_txn_count_30d" in bundle.feature_names
    assert "ip_distinct_customer_id_24h" in bundle.feature_names


def test_a_user_entity_named_as_risk_entity_gets_delayed_fraud_rates(
    trained: TrainingResult, local_tracking: TrackingTarget
) -> None:
    bundle = download_bundle(trained.model_uri, local_tracking.tracking_uri).bundle
    assert {"ip_risk_7d", "ip_delayed_txn_count_30d"} <= set(bundle.feature_names)
    assert bundle.input_schema()["entity_columns"] == ["ip"]
    params = local_tracking.client().get_run(trained.run_id).data.params
    assert params["risk_entities"] == "merchant,ip"


def test_a_strong_pass_through_column_lifts_the_test_metrics(trained: TrainingResult) -> None:
    assert trained.metrics["pr_auc"] > 0.9
    assert "card_precision_at_100" in trained.metrics
    assert trained.metrics["validation_rows"] > 0


def test_the_bundle_orders_its_columns_as_the_model_was_trained(
    trained: TrainingResult, local_tracking: TrackingTarget
) -> None:
    """With a user entity and risk features both present, the gate and serving read the
    hold-out in the bundle's column order: the scores must be the ones training measured."""
    bundle = download_bundle(trained.model_uri, local_tracking.tracking_uri).bundle
    holdout = load_run_holdout(local_tracking.client(), trained.run_id)
    assert bundle.feature_names == holdout.feature_names
    features = holdout.features_for(bundle.feature_names)
    assert features is not None
    np.testing.assert_allclose(bundle.predict_proba(features), holdout.scores, rtol=1e-6)


def test_the_serving_payload_keeps_the_built_in_windows_the_model_was_trained_with(
    trained: TrainingResult, local_tracking: TrackingTarget
) -> None:
    bundle = download_bundle(trained.model_uri, local_tracking.tracking_uri).bundle
    served = download_model(trained.model_uri, local_tracking.tracking_uri, read_servable).bundle
    assert served.inputs.builtin == bundle.inputs.builtin
    assert served.feature_names == bundle.feature_names
    assert "card_merchant_txn_count_12h" in served.feature_names
