"""The operator installed on a devcluster as a user installs it: our chart, our image, its own
ServiceAccount, beside the harness's services or with every service of the chart.

The tests' end-to-end stories install it through `install()`: the chart's bundled services are
switched off (`chart_values.operator_only`), the harness runs those on the host, throw-away, and
`expose_services` gives pods their in-cluster names. `make demo` and the platform test install
the whole chart with every service bundled through `install_platform()`.
"""

from __future__ import annotations

import json
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


#: The devcluster's values (charts/fraudops/values-devcluster.yaml): every service bundled.
DEVCLUSTER_VALUES = CHART / "values-devcluster.yaml"
#: Chart value -> the devcluster image (hack/build-images.sh component) it runs. The MLflow server
#: runs from the training image (mlflow, psycopg, boto3); `helm test` pods from the serving image
#: (psycopg, redis).
PLATFORM_IMAGES = {
    "image": "operator",
    "mlflow.image": "training",
    "platformImage": "serving",
    "postgresql.image": "postgresql",
    "redis.image": "redis",
    "objectStore.image": "seaweedfs",
    "prometheus.image": "prometheus",
}


def platform_flags(
    cluster: DevCluster, namespace: str, serving_namespaces: tuple[str, ...]
) -> list[str]:
    """`helm` flags installing the whole platform into `namespace` from the node's images: the
    devcluster values, each image by the reference it was imported under, the in-cluster URLs of
    the bundled MLflow and Redis in that namespace."""
    flags = ["--values", str(DEVCLUSTER_VALUES)]
    for value, component in PLATFORM_IMAGES.items():
        repository, tag = cluster.images[component].rsplit(":", 1)
        # --set-string: a tag such as 15 is a string to the chart, not a number.
        flags += ["--set", f"{value}.repository={repository}", "--set-string", f"{value}.tag={tag}"]
    flags += [
        "--set",
        f"mlflow.trackingUri=http://mlflow.{namespace}.svc:5000",
        "--set",
        f"serving.redisUrl=redis://redis.{namespace}.svc:6379/0",
        "--set-json",
        f"serving.namespaces={json.dumps(list(serving_namespaces))}",
    ]
    return flags


def install_platform(
    cluster: DevCluster,
    release: str,
    namespace: str,
    serving_namespaces: tuple[str, ...],
    extra: tuple[str, ...] = (),
    timeout: str = "10m",
) -> None:
    """`helm upgrade --install` the chart with every bundled service (PostgreSQL, Redis, the
    object store, MLflow, Prometheus; Grafana stays off here) and wait until all are Ready.
    Their StatefulSets' claims need volumes: `volumes.provide_volumes` first."""
    command = [
        str(cluster.bin_dir / "helm"),
        "upgrade",
        "--install",
        release,
        str(CHART),
        "--namespace",
        namespace,
        "--create-namespace",
        *platform_flags(cluster, namespace, serving_namespaces),
        *extra,
        "--wait",
        "--timeout",
        timeout,
    ]
    result = subprocess.run(command, env=cluster.env(), capture_output=True, text=True)
    if result.returncode != 0:
        described = cluster.kubectl("describe", "pods", "-n", namespace, check=False).stdout
        raise RuntimeError(f"helm install failed: {result.stderr.strip()}\n{described[-6000:]}")


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
