"""Rendering the chart offline (``helm template`` with the Makefile's helm, no cluster)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from devcluster import K8S_VERSION
from devcluster.binaries import binary

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "fraudops"
NAMESPACE = "fraudops-system"
RELEASE = "fraudops"
#: The values eks leaves empty on purpose (the install must fail until they are set), filled in.
EKS_REQUIRED = [
    "postgresql.external.host=fraudops.abc123.us-east-1.rds.amazonaws.com",
    "postgresql.external.secret.name=fraudops-rds",
    "serving.redisUrl=rediss://master.fraudops.abc123.use1.cache.amazonaws.com:6379/0",
    "objectStore.external.bucket=fraudops-artifacts",
    "mlflow.serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/mlflow",
    "prometheus.external.url=http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
]
#: Each values file the chart ships, with the settings its user must add.
VALUES_FILES = {
    "values.yaml": [],
    "values-kind.yaml": [],
    "values-devcluster.yaml": [],
    "values-eks.yaml": EKS_REQUIRED,
}


def helm(*args: str, namespace: str = NAMESPACE) -> subprocess.CompletedProcess[str]:
    """Run the Makefile's helm on the chart's folder with the pinned Kubernetes version."""
    return subprocess.run(
        [str(binary("helm")), *args, "--namespace", namespace, "--kube-version", K8S_VERSION],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def render_args(values_file: str, settings: list[str], *extra: str) -> list[str]:
    """``helm template`` arguments for one values file (values.yaml is always the base)."""
    args = ["template", RELEASE, str(CHART), "-f", str(CHART / values_file)]
    for setting in settings:
        args += ["--set", setting]
    return [*args, *extra]


def render(
    values_file: str = "values.yaml", settings: list[str] | None = None, *extra: str
) -> list[dict[str, Any]]:
    """The chart's objects for one values file; a failure shows helm's own message."""
    result = helm(*render_args(values_file, settings or [], *extra))
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def failure(*settings: str, values_file: str = "values.yaml", namespace: str = NAMESPACE) -> str:
    """helm's error for a values file and settings the chart must refuse."""
    result = helm(*render_args(values_file, list(settings)), namespace=namespace)
    assert result.returncode != 0, "helm template accepted values it should refuse"
    return result.stderr


def pod_specs(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every pod spec the objects create, by "Kind/name"."""
    specs = {}
    for obj in objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "Pod":
            specs[name] = obj["spec"]
        elif obj["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
            specs[name] = obj["spec"]["template"]["spec"]
    return specs


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` called ``name``."""
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found
