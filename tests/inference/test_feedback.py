"""POST /feedback: a confirmed outcome for an audited prediction, admin-only, one per transaction,
counted by the model version and decision served."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_text import sample

pytestmark = pytest.mark.services

ADMIN = {"Authorization": "Bearer test-admin-token"}
AUDIT_TIMEOUT_S = 15.0


def wait_audited(dsn: str, transaction_id: str) -> None:
    """Block until the background writer has stored the prediction of ``transaction_id``."""
    deadline = time.monotonic() + AUDIT_TIMEOUT_S
    while time.monotonic() < deadline:
        with psycopg.connect(dsn) as connection:
            found = connection.execute(
                "SELECT 1 FROM predictions WHERE transaction_id = %s", (transaction_id,)
            ).fetchone()
        if found:
            return
        time.sleep(0.1)
    raise AssertionError(f"{transaction_id} never reached the audit trail")


@pytest.fixture
def scored(
    client: TestClient, postgres_server: Any, make_transaction: Callable[..., dict[str, Any]]
) -> Callable[[], dict[str, Any]]:
    """Score a fresh transaction, wait for its audit row, return the prediction."""

    def score() -> dict[str, Any]:
        answer = client.post("/predict", json=make_transaction()).json()
        wait_audited(postgres_server.dsn, answer["transaction_id"])
        return answer

    return score


def feedback_rows(dsn: str, transaction_id: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as connection:
        return connection.execute(
            "SELECT feedback_id, is_fraud, source FROM feedback WHERE transaction_id = %s",
            (transaction_id,),
        ).fetchall()


def test_feedback_stores_the_label_of_an_audited_prediction(
    client: TestClient, postgres_server: Any, scored: Callable[[], dict[str, Any]]
) -> None:
    prediction = scored()

    response = client.post(
        "/feedback",
        json={"transaction_id": prediction["transaction_id"], "is_fraud": 1},
        headers=ADMIN,
    )

    assert response.status_code == 201
    receipt = response.json()
    assert receipt["created"] is True
    assert receipt["model_version"] == prediction["model_version"]
    assert receipt["decision"] == prediction["decision"]
    assert feedback_rows(postgres_server.dsn, prediction["transaction_id"]) == [
        (receipt["feedback_id"], True, "chargeback")
    ]


def test_feedback_needs_the_admin_token(client: TestClient) -> None:
    response = client.post("/feedback", json={"transaction_id": "tx-any", "is_fraud": True})

    assert response.status_code == 401


def test_the_same_label_twice_is_stored_and_counted_once(
    client: TestClient, postgres_server: Any, scored: Callable[[], dict[str, Any]]
) -> None:
    prediction = scored()
    body = {"transaction_id": prediction["transaction_id"], "is_fraud": False}
    labels = {"model_version": prediction["model_version"], "decision": prediction["decision"]}

    first = client.post("/feedback", json=body, headers=ADMIN)
    counted = sample(
        client.get("/metrics").text, "fraudops_feedback_total", **labels, outcome="legit"
    )
    second = client.post("/feedback", json=body, headers=ADMIN)
    recounted = sample(
        client.get("/metrics").text, "fraudops_feedback_total", **labels, outcome="legit"
    )

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["feedback_id"] == first.json()["feedback_id"]
    assert second.json()["created"] is False
    assert len(feedback_rows(postgres_server.dsn, prediction["transaction_id"])) == 1
    assert recounted == counted


def test_the_opposite_label_is_a_409_naming_the_transaction(
    client: TestClient, scored: Callable[[], dict[str, Any]]
) -> None:
    transaction_id = scored()["transaction_id"]
    client.post(
        "/feedback", json={"transaction_id": transaction_id, "is_fraud": True}, headers=ADMIN
    )

    response = client.post(
        "/feedback", json={"transaction_id": transaction_id, "is_fraud": False}, headers=ADMIN
    )

    assert response.status_code == 409
    assert transaction_id in response.json()["error"]


def test_an_unknown_transaction_is_a_404_naming_it(client: TestClient) -> None:
    response = client.post(
        "/feedback", json={"transaction_id": "tx-never-scored-42", "is_fraud": True}, headers=ADMIN
    )

    assert response.status_code == 404
    assert "tx-never-scored-42" in response.json()["error"]


@pytest.mark.parametrize("label", [2, -1, 0.5, "yes", None])
def test_a_label_outside_0_and_1_is_a_422_naming_the_field(client: TestClient, label: Any) -> None:
    response = client.post(
        "/feedback", json={"transaction_id": "tx-1", "is_fraud": label}, headers=ADMIN
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "is_fraud"


def test_a_label_is_counted_by_served_version_decision_and_outcome_with_its_lag(
    client: TestClient, scored: Callable[[], dict[str, Any]]
) -> None:
    prediction = scored()
    labels = {"model_version": prediction["model_version"], "decision": prediction["decision"]}
    before = client.get("/metrics").text

    client.post(
        "/feedback",
        json={"transaction_id": prediction["transaction_id"], "is_fraud": True},
        headers=ADMIN,
    )
    after = client.get("/metrics").text

    def fraud_count(text: str) -> float:
        try:
            return sample(text, "fraudops_feedback_total", **labels, outcome="fraud")
        except AssertionError:
            return 0.0

    assert fraud_count(after) == fraud_count(before) + 1
    assert sample(after, "fraudops_label_lag_seconds_count") >= 1
    assert sample(after, "fraudops_label_lag_seconds_bucket", le="60.0") >= 1
