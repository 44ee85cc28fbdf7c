"""Liveness and readiness are separate; a model that cannot load is a clear not-ready state."""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest

pytestmark = pytest.mark.services


def test_bad_model_uri_leaves_the_process_live_but_not_ready(start_service: Any) -> None:
    service = start_service(MODEL_URI="/no/such/model/folder")

    ready = service.wait_until("/readyz", 503)
    time.sleep(0.5)

    assert "/no/such/model/folder" in ready.json()["error"]
    assert service.wait_until("/healthz", 200).json() == {"status": "live"}
    assert service.wait_until("/v2/health/live", 200).json() == {"live": True}
    assert service.wait_until("/v2/health/ready", 503).json() == {"ready": False}
    assert service.process.poll() is None, "the service must not exit (no crash loop)"
    log = service.log()
    assert "cannot load model /no/such/model/folder" in log
    assert "Traceback" not in log


def test_service_becomes_ready_once_the_model_is_loaded(
    start_service: Any, model_folder: Any
) -> None:
    service = start_service(MODEL_URI=str(model_folder))

    body = service.wait_until("/readyz", 200).json()

    assert body == {"status": "ready", "model_name": "fraud-v1", "model_version": "local"}


def test_sigterm_shuts_the_service_down_gracefully(start_service: Any, model_folder: Any) -> None:
    service = start_service(MODEL_URI=str(model_folder))
    service.wait_until("/readyz", 200)

    exit_code = service.stop()

    assert exit_code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has drained
    assert "Application shutdown complete" in service.log()
    assert "Traceback" not in service.log()
