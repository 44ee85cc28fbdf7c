"""End to end, as shipped: the operator installed by our chart from its image, training Jobs and
serving pods from theirs, on the devcluster's real node, with the harness's real MLflow, Redis and
PostgreSQL reached by pods through Services."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devcluster import DevCluster
from devcluster.operator_install import expose_services, install

from e2e.kube import CRD, kubectl
from e2e.operator_pod import OperatorPod


@pytest.fixture(scope="session")
def fraudmodel_crd(devcluster: DevCluster) -> Path:
    kubectl("apply", "-f", str(CRD))
    kubectl("wait", "--for=condition=Established", "crd/fraudmodels.fraudops.io", "--timeout=60s")
    return CRD


@pytest.fixture(scope="session")
def operator(
    fraudmodel_crd: Path,
    devcluster: DevCluster,
    mlflow_server: Any,
    redis_server: Any,
    postgres_server: Any,
) -> Iterator[OperatorPod]:
    """The chart's operator, handing serving pods the harness's Redis and PostgreSQL."""
    services = expose_services(
        devcluster, mlflow_server.port, redis_server.port, postgres_server.port
    )
    install(devcluster, services, extra=("--set", "jobTtlSeconds=3600"))
    handle = OperatorPod(devcluster)
    yield handle
    print(f"\noperator log (tail):\n{handle.log_tail(40)}")


@pytest.fixture
def namespace(devcluster: DevCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of the test's own, deleted afterwards (with everything in it)."""
    name = f"e2e-{request.node.name[:40].replace('_', '-').lower()}-{int(time.time()) % 100000}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)
