"""On a real API server (the devcluster; no kubelet needed): `helm upgrade` keeps every generated
credential (read back with lookup), and `helm uninstall` leaves the credential Secrets behind."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator

import pytest
from devcluster import DevCluster
from platform_chart import CHART

pytestmark = pytest.mark.cluster

RELEASE = "fops-creds"
NAMESPACE = "fops-creds"
SETTINGS = [
    f"watchNamespace={NAMESPACE}",
    f"mlflow.trackingUri=http://mlflow.{NAMESPACE}.svc:5000",
    f"serving.redisUrl=redis://redis.{NAMESPACE}.svc:6379/0",
]
GENERATED = {
    f"{RELEASE}-postgresql": ["password"],
    f"{RELEASE}-object-store": ["accessKey", "secretKey", "s3.json"],
    f"{RELEASE}-grafana": ["admin-password"],
    "fraudops-database": ["url"],
}


def helm(cluster: DevCluster, *args: str) -> None:
    settings = [arg for setting in SETTINGS for arg in ("--set", setting)]
    result = subprocess.run(
        [str(cluster.bin_dir / "helm"), *args, "--namespace", NAMESPACE, *settings],
        capture_output=True,
        text=True,
        env=cluster.env(),
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def credentials(cluster: DevCluster) -> dict[str, dict[str, str]]:
    """The generated values now in the cluster, by Secret and key."""
    found = {}
    for name, keys in GENERATED.items():
        secret = json.loads(
            cluster.kubectl("get", "secret", name, "-n", NAMESPACE, "-o", "json").stdout
        )
        found[name] = {key: base64.b64decode(secret["data"][key]).decode() for key in keys}
    return found


@pytest.fixture(scope="module")
def installed(devcluster: DevCluster) -> Iterator[dict[str, dict[str, str]]]:
    """The chart installed with every service bundled (its pods never start: no kubelet); the
    credentials right after install. The namespace is removed afterwards; the devcluster runs no
    PVC-protection controller, so the StatefulSets' claims lose their finalizer by hand."""
    devcluster.kubectl("create", "namespace", NAMESPACE)
    try:
        helm(devcluster, "install", RELEASE, str(CHART), "--skip-crds")
        yield credentials(devcluster)
    finally:
        subprocess.run(
            [str(devcluster.bin_dir / "helm"), "uninstall", RELEASE, "--namespace", NAMESPACE],
            capture_output=True,
            env=devcluster.env(),
            timeout=180,
            check=False,
        )
        claims = devcluster.kubectl("get", "pvc", "-n", NAMESPACE, "-o", "name").stdout.split()
        for claim in claims:
            devcluster.kubectl(
                "patch",
                claim,
                "-n",
                NAMESPACE,
                "--type",
                "merge",
                "-p",
                '{"metadata":{"finalizers":null}}',
            )
        devcluster.kubectl("delete", "namespace", NAMESPACE, "--wait=true", "--timeout=90s")


def test_install_generates_every_credential(installed: dict[str, dict[str, str]]) -> None:
    password = installed[f"{RELEASE}-postgresql"]["password"]

    assert len(password) == 32
    assert f":{password}@" in installed["fraudops-database"]["url"]
    assert len(installed[f"{RELEASE}-object-store"]["secretKey"]) == 40


def test_helm_upgrade_keeps_every_credential(
    devcluster: DevCluster, installed: dict[str, dict[str, str]]
) -> None:
    helm(devcluster, "upgrade", RELEASE, str(CHART), "--skip-crds")

    assert credentials(devcluster) == installed


def test_helm_uninstall_leaves_the_credential_secrets(
    devcluster: DevCluster, installed: dict[str, dict[str, str]]
) -> None:
    subprocess.run(
        [str(devcluster.bin_dir / "helm"), "uninstall", RELEASE, "--namespace", NAMESPACE],
        capture_output=True,
        env=devcluster.env(),
        timeout=180,
        check=True,
    )
    left = devcluster.kubectl("get", "secrets", "-n", NAMESPACE, "-o", "name").stdout.split()

    assert {f"{RELEASE}-postgresql", f"{RELEASE}-object-store", f"{RELEASE}-grafana"} <= {
        name.removeprefix("secret/") for name in left
    }
    assert "secret/fraudops-database" not in left
