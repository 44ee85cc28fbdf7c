"""A model with risk features, served: scoring records each transaction in the risk state,
``POST /feedback`` applies a confirmed fraud to it once, and later transactions at the same
merchant and card see it once its transaction is the label delay old."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest
from fastapi.testclient import TestClient
from fraud_inference.api import create_app
from fraud_inference.settings import Settings
from fraud_training.algorithms import build_estimator
from fraud_training.bundle import ModelBundle, Thresholds
from fraud_training.features import transaction_features
from fraud_training.risk_features import CARD_FEATURE, RiskFeatures
from fraud_training.schema import LABEL
from live_service import wait_ready
from test_feedback import ADMIN, wait_audited

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def risk_model_folder(
    tmp_path_factory: pytest.TempPathFactory, transactions_frame: pd.DataFrame
) -> Path:
    """A small XGBoost bundle trained on the transaction and risk features (1-day delay)."""
    labels = transactions_frame[LABEL].to_numpy()
    risk = RiskFeatures.configured(1, ("7d",), 5.0).fitted(labels)
    features = np.column_stack(
        [transaction_features(transactions_frame), risk.build(transactions_frame, labels)]
    )
    estimator = build_estimator(
        "xgboost", labels, hyperparameters={"n_estimators": 20, "max_depth": 3, "n_jobs": 1}
    )
    estimator.fit(features, labels)
    bundle = ModelBundle("transactions", "xgboost", estimator, Thresholds(0.2, 0.6), risk=risk)
    return bundle.save(tmp_path_factory.mktemp("models") / "fraud-risk")


@pytest.fixture
def risk_client(
    risk_model_folder: Path, redis_server: Any, postgres_server: Any, tmp_path: Path
) -> Iterator[TestClient]:
    settings = Settings(
        model_uri=str(risk_model_folder),
        redis_url=redis_server.url,
        database_url=postgres_server.dsn,
        admin_token="test-admin-token",
        audit_spool_dir=tmp_path / "spool",
        log_level="warning",
    )
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        yield client


def audited_features(dsn: str, transaction_id: str) -> dict[str, float]:
    """The feature vector the audit trail stored for a scored transaction."""
    wait_audited(dsn, transaction_id)
    with psycopg.connect(dsn) as connection:
        row = connection.execute(
            "SELECT features FROM predictions WHERE transaction_id = %s", (transaction_id,)
        ).fetchone()
    assert row is not None
    return row[0] if isinstance(row[0], dict) else json.loads(row[0])


def test_feedback_applies_a_fraud_once_and_later_transactions_see_it(
    risk_client: TestClient,
    risk_model_folder: Path,
    postgres_server: Any,
    make_transaction: Callable[..., dict[str, Any]],
) -> None:
    merchant = f"m-{make_transaction()['customer_id']}"  # fresh: no other test pays there
    first = make_transaction(merchant_id=merchant, timestamp="2026-03-01T10:00:00Z")
    scored = risk_client.post("/predict", json=first)
    assert scored.status_code == 200, scored.text
    assert scored.json()["features_degraded"] is False
    wait_audited(postgres_server.dsn, first["transaction_id"])

    label = {"transaction_id": first["transaction_id"], "is_fraud": True}
    applied = risk_client.post("/feedback", json=label, headers=ADMIN)
    repeated = risk_client.post("/feedback", json=label, headers=ADMIN)

    assert (applied.status_code, applied.json()["risk_state"]) == (201, "applied")
    assert (repeated.status_code, repeated.json()["risk_state"]) == (200, "already_applied")

    later = make_transaction(merchant_id=merchant, timestamp="2026-03-03T10:00:00Z")
    assert risk_client.post("/predict", json=later).status_code == 200
    features = audited_features(postgres_server.dsn, later["transaction_id"])
    prior = ModelBundle.load(risk_model_folder).risk.prior  # type: ignore[union-attr]
    assert features["merchant_delayed_txn_count_7d"] == 1.0
    assert features["merchant_risk_7d"] == pytest.approx((1.0 + 5.0 * prior) / 6.0)
    assert features[CARD_FEATURE] == 1.0


def test_a_legitimate_outcome_leaves_the_risk_state_alone(
    risk_client: TestClient,
    postgres_server: Any,
    make_transaction: Callable[..., dict[str, Any]],
) -> None:
    transaction = make_transaction()
    assert risk_client.post("/predict", json=transaction).status_code == 200
    wait_audited(postgres_server.dsn, transaction["transaction_id"])
    receipt = risk_client.post(
        "/feedback",
        json={"transaction_id": transaction["transaction_id"], "is_fraud": False},
        headers=ADMIN,
    )
    assert (receipt.status_code, receipt.json()["risk_state"]) == (201, "not_a_fraud")
