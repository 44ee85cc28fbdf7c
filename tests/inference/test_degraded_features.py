"""Redis down: requests are still scored, from the fields they carry, and say so."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fraud_inference.online_redis import BREAKER_COOLDOWN_S

pytestmark = pytest.mark.services


def degraded_count(client: TestClient) -> float:
    """The value of the degraded-features counter on /metrics."""
    text = client.get("/metrics").text
    match = re.search(r"^fraudops_features_degraded_total ([\d.e+]+)$", text, re.MULTILINE)
    assert match, "fraudops_features_degraded_total not exported"
    return float(match[1])


def test_redis_outage_degrades_features_instead_of_failing(
    client: TestClient, redis_server: Any, make_transaction: Any
) -> None:
    assert client.post("/predict", json=make_transaction()).json()["features_degraded"] is False
    before = degraded_count(client)
    redis_server.stop()
    try:
        responses = [client.post("/predict", json=make_transaction()) for _ in range(3)]
        batch = client.post("/predict/batch", json={"transactions": [make_transaction()] * 2})
    finally:
        redis_server.start()

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all(r.json()["features_degraded"] is True for r in responses)
    assert batch.status_code == 200 and batch.json()["features_degraded"] is True
    assert degraded_count(client) == before + 5


def test_scoring_recovers_once_redis_is_back(
    client: TestClient, redis_server: Any, make_transaction: Any
) -> None:
    redis_server.stop()
    try:
        assert client.post("/predict", json=make_transaction()).json()["features_degraded"]
    finally:
        redis_server.start()
    time.sleep(BREAKER_COOLDOWN_S + 0.2)

    assert client.post("/predict", json=make_transaction()).json()["features_degraded"] is False
