"""pytest plugin: one real ``mlflow server`` for the test session, stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localservices.mlflow_server import MlflowServer, started_mlflow


@pytest.fixture(scope="session")
def mlflow_server() -> Iterator[MlflowServer]:
    """A running MLflow tracking server with serve-artifacts: ``.tracking_uri``."""
    server = started_mlflow()
    yield server
    server.close()
