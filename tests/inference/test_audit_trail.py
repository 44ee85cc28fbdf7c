"""Every prediction lands in PostgreSQL (batched, off the request path)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from fraud_inference.api import create_app
from fraud_inference.settings import Settings
from fraud_training.features import TRANSACTION_FEATURES
from live_service import wait_ready

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


def test_schema_is_managed_by_alembic(
    client: TestClient, postgres_server: Any, make_transaction: Any
) -> None:
    row = make_transaction()
    client.post("/predict", json=row)
    audited(postgres_server.dsn, row["customer_id"], expected=1)

    with psycopg.connect(postgres_server.dsn) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == "0003"


def v2_rows(dsn: str) -> int:
    with psycopg.connect(dsn) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM predictions WHERE route = 'v2'"
        ).fetchone()
    return count


def test_v2_predictions_are_stored_even_when_clients_reuse_an_id(
    client: TestClient, postgres_server: Any
) -> None:
    before = v2_rows(postgres_server.dsn)
    width = len(TRANSACTION_FEATURES)
    tensor = {"name": "features", "shape": [1, width], "datatype": "FP64", "data": [0.0] * width}
    for _ in range(2):
        response = client.post(
            "/v2/models/fraud-detector/infer", json={"id": "same", "inputs": [tensor]}
        )
        assert response.json()["id"] == "same"

    deadline = time.monotonic() + FLUSH_TIMEOUT_S
    while v2_rows(postgres_server.dsn) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)

    assert v2_rows(postgres_server.dsn) == before + 2


def test_ids_with_copy_special_characters_are_stored_intact(
    client: TestClient, postgres_server: Any, make_transaction: Any
) -> None:
    row = make_transaction()
    awkward = row["transaction_id"] + "\ttab\\backslash\nnewline"
    client.post("/predict", json={**row, "transaction_id": awkward})

    stored = audited(postgres_server.dsn, row["customer_id"], expected=1)

    assert stored[0][0] == awkward
    assert stored[0][8]["transaction_id"] == awkward


def test_nul_characters_are_a_422_not_a_poisoned_audit_row(
    client: TestClient, make_transaction: Any
) -> None:
    response = client.post("/predict", json=make_transaction(customer_id="bad\u0000id"))

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "customer_id"


def test_a_segment_postgres_rejects_is_set_aside_and_the_trail_goes_on(
    service_settings: Settings, postgres_server: Any, make_transaction: Any
) -> None:
    spool = service_settings.audit_spool_dir
    spool.mkdir(parents=True)
    (spool / "00000000000000000001-1.copy").write_bytes(b"not\ta\tprediction\n")

    with TestClient(create_app(service_settings)) as fresh:
        wait_ready(fresh)
        row = make_transaction()
        fresh.post("/predict", json=row)
        stored = audited(postgres_server.dsn, row["customer_id"], expected=1)
        metrics = fresh.get("/metrics").text

    assert len(stored) == 1
    assert [p.name for p in spool.iterdir()] == ["00000000000000000001-1.rejected"]
    assert "fraudops_audit_rows_dropped_total 1.0" in metrics
