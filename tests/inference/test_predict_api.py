"""The REST contract of the scoring service, against the service with real Redis and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fraud_inference.api import create_app
from fraud_inference.settings import Settings
from fraud_training.bundle import DECISIONS
from fraud_training.features import TRANSACTION_FEATURES

pytestmark = pytest.mark.services

ADMIN = {"Authorization": "Bearer test-admin-token"}


def test_predict_returns_probability_decision_version_and_top_features(
    client: TestClient, make_transaction: Any
) -> None:
    response = client.post("/predict", json=make_transaction())

    assert response.status_code == 200
    body = response.json()
    assert 0.0 <= body["fraud_probability"] <= 1.0
    assert body["decision"] in DECISIONS
    assert (body["model_name"], body["model_version"]) == ("fraud-v1", "local")
    assert len(body["top_features"]) == 5
    magnitudes = [abs(item["contribution"]) for item in body["top_features"]]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert body["request_id"] and body["latency_ms"] > 0
    assert body["features_degraded"] is False


def test_predict_decision_follows_the_model_thresholds(
    client: TestClient, make_transaction: Any
) -> None:
    body = client.post("/predict", json=make_transaction()).json()

    expected = (
        "decline"
        if body["fraud_probability"] >= 0.6
        else ("review" if body["fraud_probability"] >= 0.2 else "approve")
    )
    assert body["decision"] == expected


def test_optional_fields_may_be_left_out(client: TestClient, make_transaction: Any) -> None:
    full = make_transaction()
    minimal = {key: full[key] for key in ("transaction_id", "customer_id", "timestamp", "amount")}

    assert client.post("/predict", json=minimal).status_code == 200


def test_batch_scores_every_row_in_order(client: TestClient, make_transaction: Any) -> None:
    rows = [make_transaction() for _ in range(7)]

    response = client.post("/predict/batch", json={"transactions": rows})

    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert [p["transaction_id"] for p in predictions] == [r["transaction_id"] for r in rows]
    assert all(p["top_features"] == [] for p in predictions)


def test_batch_explains_rows_when_asked(client: TestClient, make_transaction: Any) -> None:
    response = client.post(
        "/predict/batch?explain=true", json={"transactions": [make_transaction()]}
    )

    assert len(response.json()["predictions"][0]["top_features"]) == 5


def test_negative_amount_is_a_422_naming_the_field(
    client: TestClient, make_transaction: Any
) -> None:
    response = client.post("/predict", json=make_transaction(amount=-5))

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "amount"
    assert response.json()["error"].startswith("amount: ")


def test_a_category_never_seen_in_training_scores_normally(
    client: TestClient, make_transaction: Any
) -> None:
    response = client.post("/predict", json=make_transaction(merchant_category="casino"))

    assert response.status_code == 200
    assert 0.0 <= response.json()["fraud_probability"] <= 1.0


def test_a_field_the_model_does_not_use_is_ignored(
    client: TestClient, make_transaction: Any
) -> None:
    response = client.post("/predict", json=make_transaction(loyalty_tier="gold"))

    assert response.status_code == 200


def test_a_missing_required_field_is_a_422_naming_it(
    client: TestClient, make_transaction: Any
) -> None:
    transaction = make_transaction()
    del transaction["amount"]
    response = client.post("/predict", json=transaction)

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "amount"


def test_bad_row_in_a_batch_is_named_by_its_position(
    client: TestClient, make_transaction: Any
) -> None:
    rows = [make_transaction(), make_transaction(lat=91.0)]

    response = client.post("/predict/batch", json={"transactions": rows})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "transactions[1].lat"


def test_malformed_json_is_a_422(client: TestClient) -> None:
    response = client.post(
        "/predict", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422


def test_oversized_batch_is_a_413(client: TestClient, make_transaction: Any) -> None:
    rows = [make_transaction() for _ in range(51)]

    response = client.post("/predict/batch", json={"transactions": rows})

    assert response.status_code == 413
    assert "at most 50" in response.json()["error"]


def test_model_endpoint_describes_the_served_model(client: TestClient) -> None:
    body = client.get("/model").json()

    assert body["name"] == "fraud-v1"
    assert body["algorithm"] == "xgboost"
    assert body["metrics"] == {"roc_auc": 0.95}
    assert body["thresholds"] == {"review": 0.2, "decline": 0.6}
    assert body["predictor"] == "onnxruntime"
    assert tuple(body["feature_names"]) == TRANSACTION_FEATURES
    assert body["loaded_at"]


def test_health_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "live"}
    assert client.get("/readyz").json()["status"] == "ready"


def test_reload_with_a_wrong_token_is_a_401(client: TestClient) -> None:
    response = client.post("/reload", headers={"Authorization": "Bearer wrong"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_reload_swaps_to_the_given_model(client: TestClient, other_model_folder: Any) -> None:
    response = client.post("/reload", headers=ADMIN, json={"model_uri": str(other_model_folder)})

    assert response.status_code == 200
    assert client.get("/model").json()["name"] == "fraud-v2"


def test_reload_of_a_missing_model_keeps_the_old_one(client: TestClient) -> None:
    response = client.post("/reload", headers=ADMIN, json={"model_uri": "/no/such/model"})

    assert response.status_code == 422
    assert "model_uri" in response.json()["error"]
    assert client.get("/model").json()["name"] == "fraud-v1"


def test_reload_by_version_needs_a_registered_model(client: TestClient) -> None:
    response = client.post("/reload", headers=ADMIN, json={"version": "3"})

    assert response.status_code == 422
    assert "registered model" in response.json()["error"]


def test_admin_endpoints_are_disabled_without_a_token(service_settings: Settings) -> None:
    with TestClient(create_app(replace(service_settings, admin_token=None))) as open_client:
        response = open_client.post("/reload", headers=ADMIN)

    assert response.status_code == 403
    assert "ADMIN_TOKEN" in response.json()["error"]
