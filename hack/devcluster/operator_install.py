"""The operator installed on a devcluster as a user installs it: our chart, our image, its own
ServiceAccount, with the harness's MLflow, Redis and PostgreSQL offered to pods as Services.

The tests' end-to-end stories and `make demo` install it the same way through `install()`.
The chart's bundled services are switched off (`chart_values.operator_only`): the harness runs
those on the host, throw-away, and `expose_services` gives pods their in-cluster names.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from .chart_values import operator_only
from .cluster import DevCluster

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "fraudops"
SYSTEM_NAMESPACE = "fraudops-system"
RELEASE = "fraudops"
#: The chart's Deployment of the operator (the chart's fullname for release `fraudops`).
OPERATOR_DEPLOYMENT = "fraudops-operator"


@dataclass(frozen=True)
class InClusterServices:
    """How pods reach the harness's services: URLs with Service DNS names."""

    tracking_uri: str
    redis_url: str
    database_url: str
    postgres_host: str


def expose_services(
    cluster: DevCluster, mlflow_port: int, redis_port: int, postgres_port: int
) -> InClusterServices:
    """Services `mlflow`, `redis` and `postgresql` in fraudops-system for the host's servers."""
    mlflow = cluster.expose_host_port("mlflow", SYSTEM_NAMESPACE, 5000, mlflow_port)
    redis = cluster.expose_host_port("redis", SYSTEM_NAMESPACE, 6379, redis_port)
    postgres = cluster.expose_host_port("postgresql", SYSTEM_NAMESPACE, 5432, postgres_port)
    return InClusterServices(
        tracking_uri=f"http://{mlflow}:5000",
        redis_url=f"redis://{redis}:6379/0",
        database_url=f"postgresql://fraudops@{postgres}:5432/fraudops",
        postgres_host=postgres,
    )


def image_flags(cluster: DevCluster) -> list[str]:
    """The operator image imported into the node, never pulled."""
    repository, tag = cluster.images["operator"].rsplit(":", 1)
    return ["--set", f"image.repository={repository},image.tag={tag},image.pullPolicy=Never"]


def install(
    cluster: DevCluster,
    services: InClusterServices,
    extra: tuple[str, ...] = (),
    timeout: str = "5m",
) -> None:
    """`helm upgrade --install` the chart and wait for the operator pod to be Ready."""
    command = [
        str(cluster.bin_dir / "helm"),
        "upgrade",
        "--install",
        RELEASE,
        str(CHART),
        "--namespace",
        SYSTEM_NAMESPACE,
        "--create-namespace",
        *image_flags(cluster),
        "--set",
        f"mlflow.trackingUri={services.tracking_uri}",
        "--set",
        f"serving.redisUrl={services.redis_url}",
        "--set",
        f"serving.databaseUrl={services.database_url}",
        *operator_only(services.postgres_host, f"http://prometheus.{SYSTEM_NAMESPACE}.svc:9090"),
        *extra,
        "--wait",
        "--timeout",
        timeout,
    ]
    result = subprocess.run(command, env=cluster.env(), capture_output=True, text=True)
    if result.returncode != 0:
        described = cluster.kubectl("describe", "pods", "-n", SYSTEM_NAMESPACE, check=False).stdout[
            -3000:
        ]
        raise RuntimeError(f"helm install failed: {result.stderr.strip()}\n{described}")


def operator_logs(cluster: DevCluster, tail: int = 200) -> str:
    """The operator pod's log, through the kubelet (`kubectl logs`)."""
    return cluster.kubectl(
        "logs",
        "-n",
        SYSTEM_NAMESPACE,
        f"deployment/{OPERATOR_DEPLOYMENT}",
        f"--tail={tail}",
        check=False,
    ).stdout
