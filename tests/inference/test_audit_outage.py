"""A 30 s PostgreSQL outage under load loses no audit row: spooled, then flushed on recovery."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from prometheus_text import sample

pytestmark = pytest.mark.services

OUTAGE_S = 30.0
CLIENTS = 2
CUSTOMERS = 40
FLUSH_TIMEOUT_S = 60.0
START = datetime(2026, 4, 1, tzinfo=UTC)


def backlog(url: str) -> float:
    """The audit backlog gauge from /metrics."""
    return sample(httpx.get(url + "/metrics", timeout=5.0).text, "fraudops_audit_backlog_rows")


def send(url: str, prefix: str, client: int, stop: threading.Event, outcomes: list[int]) -> None:
    """POST /predict at a steady pace until ``stop``; record each status code."""
    with httpx.Client(base_url=url, timeout=10.0) as session:
        n = 0
        while not stop.is_set():
            n += 1
            response = session.post(
                "/predict",
                json={
                    "transaction_id": f"{prefix}-{client}-{n}",
                    "customer_id": f"{prefix}-c{n % CUSTOMERS}",
                    "timestamp": (START + timedelta(seconds=n)).isoformat(),
                    "amount": 10.0 + n % 500,
                },
            )
            outcomes.append(response.status_code)
            time.sleep(0.005)


def test_postgres_outage_under_load_loses_no_prediction(
    start_service: Any, model_folder: Any, redis_server: Any, postgres_server: Any
) -> None:
    service = start_service(
        MODEL_URI=str(model_folder), REDIS_URL=redis_server.url, DATABASE_URL=postgres_server.dsn
    )
    service.wait_until("/readyz", 200)
    prefix = f"outage-{uuid.uuid4().hex[:8]}"
    stop, outcomes = threading.Event(), []
    clients = [
        threading.Thread(target=send, args=(service.url, prefix, i, stop, outcomes))
        for i in range(CLIENTS)
    ]
    for thread in clients:
        thread.start()
    try:
        time.sleep(3.0)
        postgres_server.stop()
        try:
            time.sleep(OUTAGE_S)
            backlog_during_outage = backlog(service.url)
        finally:
            postgres_server.start()
        time.sleep(3.0)
    finally:
        stop.set()
        for thread in clients:
            thread.join()

    deadline = time.monotonic() + FLUSH_TIMEOUT_S
    while backlog(service.url) > 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    with psycopg.connect(postgres_server.dsn) as connection:
        (stored,) = connection.execute(
            "SELECT count(*) FROM predictions WHERE transaction_id LIKE %s", (f"{prefix}-%",)
        ).fetchone()

    assert set(outcomes) == {200}
    assert backlog_during_outage > 0
    assert stored == len(outcomes)
