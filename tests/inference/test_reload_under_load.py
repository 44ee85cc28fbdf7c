"""A reload under continuous load fails no request, and every response names its version.

The service serves ``models:/<name>@champion`` from a real MLflow server and is reloaded, while
clients keep scoring, to version 2, back to the champion alias (version 1) and to version 2.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.services

CLIENTS = 4
TOKEN = "reload-test-token"


def hammer(url: str, stop: threading.Event, make_transaction: Any, results: list[Any]) -> None:
    """POST /predict in a loop until ``stop``; record (status, model name, version)."""
    with httpx.Client(base_url=url, timeout=10.0) as session:
        while not stop.is_set():
            try:
                response = session.post("/predict", json=make_transaction())
            except httpx.HTTPError as error:
                results.append(("transport error", repr(error), None))
                continue
            body = response.json()
            results.append(
                (response.status_code, body.get("model_name"), body.get("model_version"))
            )


def test_reload_under_load_fails_no_request(
    start_service: Any,
    registered_model: str,
    mlflow_server: Any,
    redis_server: Any,
    postgres_server: Any,
    make_transaction: Any,
) -> None:
    service = start_service(
        MODEL_URI=f"models:/{registered_model}@champion",
        MLFLOW_TRACKING_URI=mlflow_server.tracking_uri,
        REDIS_URL=redis_server.url,
        DATABASE_URL=postgres_server.dsn,
        ADMIN_TOKEN=TOKEN,
    )
    served = service.wait_until("/readyz", 200).json()
    stop, results = threading.Event(), []
    clients = [
        threading.Thread(target=hammer, args=(service.url, stop, make_transaction, results))
        for _ in range(CLIENTS)
    ]
    for thread in clients:
        thread.start()
    reloads = []
    try:
        time.sleep(1.0)
        for target in ({"version": "2"}, {"alias": "champion"}, {"version": "2"}):
            reloads.append(
                httpx.post(
                    service.url + "/reload",
                    json=target,
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=60.0,
                )
            )
            time.sleep(1.0)
    finally:
        stop.set()
        for thread in clients:
            thread.join()

    assert served["model_version"] == "1"
    assert [r.status_code for r in reloads] == [200, 200, 200]
    assert [r.json()["version"] for r in reloads] == ["2", "1", "2"]
    assert reloads[1].json()["alias"] == "champion"
    statuses = Counter(status for status, _, _ in results)
    assert statuses == {200: len(results)}, statuses
    assert {name for _, name, _ in results} == {registered_model}
    assert {version for _, _, version in results} == {"1", "2"}
    assert len(results) > 50
