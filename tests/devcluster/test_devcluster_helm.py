"""The built helm installs a chart of ours through the devcluster's API server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from devcluster import DevCluster
from kubernetes import client

pytestmark = pytest.mark.cluster

CHART = Path(__file__).parent / "charts" / "hello"


def test_helm_install_creates_the_charts_configmap(
    devcluster: DevCluster, core: client.CoreV1Api, namespace: str
) -> None:
    subprocess.run(
        [
            str(devcluster.bin_dir / "helm"),
            "install",
            "demo",
            str(CHART),
            "--namespace",
            namespace,
            "--set",
            "greeting=hi devcluster",
            "--wait",
            "--timeout",
            "60s",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=devcluster.env(),
        timeout=120,
    )

    configmap = core.read_namespaced_config_map("demo-greeting", namespace)

    assert configmap.data == {"greeting": "hi devcluster"}
    assert configmap.metadata.labels["app.kubernetes.io/managed-by"] == "Helm"
