"""Every prediction lands in PostgreSQL (batched, off the request path); feedback is recorded."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.services

FLUSH_TIMEOUT_S = 15.0


def audited(dsn: str, customer_id: str, expected: int) -> list[tuple[Any, ...]]:
    """The customer's audit rows once ``expected`` have arrived (the writer works in batches)."""
    deadline = time.monotonic() + FLUSH_TIMEOUT_S
    rows: list[tuple[Any, ...]] = []
    while len(rows) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        with psycopg.connect(dsn) as connection:
            rows = connection.execute(
                "SELECT transaction_id, route, decision, model_name, model_version, "
                "fraud_probability, latency_ms, features, input, features_degraded "
                "FROM predictions WHERE customer_id = %s ORDER BY scored_at, request_id",
                (customer_id,),
            ).fetchall()
    return rows


def test_every_prediction_is_stored_with_input_features_and_model(
    client: TestClient, postgres_server: Any, make_transaction: Any
) -> None:
    sent = [make_transaction() for _ in range(3)]
    answers = [client.post("/predict", json=row).json() for row in sent]
    batch = client.post("/predict/batch", json={"transactions": [make_transaction()]}).json()

    rows = audited(postgres_server.dsn, sent[0]["customer_id"], expected=4)

    assert len(rows) == 4
    assert [row[0] for row in rows[:3]] == [row["transaction_id"] for row in sent]
    assert [row[1] for row in rows] == ["predict"] * 3 + ["batch"]
    assert {(row[3], row[4]) for row in rows} == {("fraud-v1", "local")}
    assert [row[2] for row in rows[:3]] == [a["decision"] for a in answers]
    assert rows[3][2] == batch["predictions"][0]["decision"]
    assert rows[0][5] == answers[0]["fraud_probability"]
    assert rows[0][8]["amount"] == sent[0]["amount"]
    assert all(row[6] > 0 and row[9] is False for row in rows)


def test_stored_features_carry_the_customer_history(
    client: TestClient, postgres_server: Any, make_transaction: Any
) -> None:
    sent = [make_transaction() for _ in range(3)]
    for row in sent:
        client.post("/predict", json=row)

    rows = audited(postgres_server.dsn, sent[0]["customer_id"], expected=3)

    assert [row[7]["n_prior_txns"] for row in rows] == [0.0, 1.0, 2.0]
    assert [row[7]["amount"] for row in rows] == [row["amount"] for row in sent]


def test_feedback_records_a_confirmed_label(client: TestClient, postgres_server: Any) -> None:
    response = client.post(
        "/feedback", json={"transaction_id": "tx-chargeback-1", "is_fraud": True}
    )

    assert response.status_code == 201
    receipt = response.json()
    with psycopg.connect(postgres_server.dsn) as connection:
        stored = connection.execute(
            "SELECT transaction_id, is_fraud, source FROM feedback WHERE feedback_id = %s",
            (receipt["feedback_id"],),
        ).fetchone()
    assert stored == ("tx-chargeback-1", True, "chargeback")


def test_feedback_without_a_label_is_a_422_naming_it(client: TestClient) -> None:
    response = client.post("/feedback", json={"transaction_id": "tx-1"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "is_fraud"


def test_schema_is_managed_by_alembic(client: TestClient, postgres_server: Any) -> None:
    client.post("/feedback", json={"transaction_id": "tx-2", "is_fraud": False})

    with psycopg.connect(postgres_server.dsn) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == "0001"
