"""End to end: the real operator, MLflow, Redis, PostgreSQL and the devcluster's pod runner.

Pods of the training Job and of serving run the project's real code as local processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.kube import CRD, kubectl
from e2e.operator_process import OperatorProcess


@pytest.fixture(scope="session")
def fraudmodel_crd(devcluster: Any) -> Path:
    kubectl("apply", "-f", str(CRD))
    kubectl("wait", "--for=condition=Established", "crd/fraudmodels.fraudops.io", "--timeout=60s")
    return CRD


@pytest.fixture(scope="session")
def operator(
    fraudmodel_crd: Path,
    devcluster: Any,
    mlflow_server: Any,
    redis_server: Any,
    postgres_server: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    """The operator, configured to hand serving pods the harness's Redis and PostgreSQL."""
    process = OperatorProcess(
        {
            "KUBECONFIG": str(devcluster.kubeconfig),
            "MLFLOW_TRACKING_URI": mlflow_server.tracking_uri,
            "FRAUDOPS_SERVING_ENV_REDIS_URL": redis_server.url,
            "FRAUDOPS_SERVING_ENV_DATABASE_URL": postgres_server.dsn,
            "FRAUDOPS_JOB_TTL_SECONDS": "3600",
        },
        tmp_path_factory.mktemp("operator") / "operator.log",
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
def namespace(devcluster: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of the test's own, deleted afterwards (with everything in it)."""
    name = f"e2e-{request.node.name[:40].replace('_', '-').lower()}-{int(time.time()) % 100000}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)
