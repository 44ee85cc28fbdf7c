"""Schemathesis fuzzes every operation of the OpenAPI schema: no input yields a 5xx.

The schema is the app's own OpenAPI document; the calls go to a real service process with its
model, Redis and PostgreSQL (admin endpoints disabled: no token).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fraud_inference.api import create_app
from fraud_inference.settings import Settings
from hypothesis import HealthCheck, settings
from live_service import launch

pytestmark = pytest.mark.services

EXAMPLES_PER_OPERATION = 25

schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@pytest.fixture(scope="module")
def service_url(
    model_folder: Any, redis_server: Any, postgres_server: Any, tmp_path_factory: Any
) -> Iterator[str]:
    """A complete service process, shared by every fuzzed operation."""
    service = launch(
        tmp_path_factory.mktemp("fuzz"),
        MODEL_URI=str(model_folder),
        REDIS_URL=redis_server.url,
        DATABASE_URL=postgres_server.dsn,
        MAX_BATCH_ROWS="20",
    )
    service.wait_until("/readyz", 200)
    yield service.url
    service.stop()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck)
)
def test_no_input_causes_a_server_error(case: Any, service_url: str) -> None:
    response = case.call(base_url=service_url, timeout=30)

    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
