"""The `helm test` script (files/helm-tests/check_service.py) against the real services the harness
starts: each check passes on a working service and fails with a one-line reason otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from localservices.mlflow_server import MlflowServer
from localservices.ports import free_port
from localservices.postgres import PostgresServer
from localservices.prometheus_server import PrometheusServer
from localservices.redis_server import RedisServer
from platform_chart import CHART

pytestmark = pytest.mark.services

SCRIPT = CHART / "files" / "helm-tests" / "check_service.py"
RULES = CHART / "files" / "prometheus" / "fraudops-rules.yaml"


def check(service: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the check as the test pod does: the script, one service name, settings in env."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), service],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def prometheus() -> Iterator[PrometheusServer]:
    """A Prometheus with the chart's rules file, as the bundled one mounts it."""
    server = PrometheusServer({}, rule_files=[RULES])
    server.start()
    try:
        yield server
    finally:
        server.close()


def test_the_postgresql_check_logs_in_and_queries(postgres_server: PostgresServer) -> None:
    result = check("postgresql", DATABASE_URL=postgres_server.dsn)

    assert (result.returncode, result.stdout.strip()) == (0, "PostgreSQL: login and query work")


def test_the_redis_check_pings(redis_server: RedisServer) -> None:
    result = check("redis", REDIS_URL=redis_server.url)

    assert (result.returncode, result.stdout.strip()) == (0, "Redis: PING answered")


def test_the_mlflow_check_reads_the_store_and_the_served_artifacts(
    mlflow_server: MlflowServer,
) -> None:
    result = check("mlflow", MLFLOW_URL=mlflow_server.tracking_uri)

    assert result.returncode == 0, result.stderr
    assert "backend store and served artifacts reachable" in result.stdout


def test_the_prometheus_check_sees_the_charts_rule_groups(prometheus: PrometheusServer) -> None:
    result = check("prometheus", PROMETHEUS_URL=prometheus.url)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Prometheus: ready, ")


def test_a_service_that_does_not_answer_fails_with_a_one_line_reason() -> None:
    result = check("redis", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    assert result.returncode == 1
    assert result.stderr.startswith("redis: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreachable_object_store_fails_naming_it() -> None:
    result = check(
        "object-store",
        S3_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        S3_BUCKET="fraudops",
        AWS_ACCESS_KEY_ID="k",
        AWS_SECRET_ACCESS_KEY="s",
    )

    assert result.returncode == 1
    assert result.stderr.startswith("object-store: ")


def test_an_unknown_service_is_a_usage_error() -> None:
    result = check("grafana")

    assert result.returncode == 2
    assert "usage: check_service.py" in result.stderr
