"""A real node that loses its kubelet and containerd mid-run still goes without a trace."""

from __future__ import annotations

import json
import os
import signal

import pytest
from devcluster import sandbox, start, stop
from devcluster.pytest_plugin import eventually

pytestmark = pytest.mark.cluster

PAUSE_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "sleeper"},
    "spec": {
        "containers": [
            {
                "name": "main",
                "image": "localhost/fraudops/pause:devcluster",
                "imagePullPolicy": "Never",
            }
        ]
    },
}


def test_killing_the_kubelet_and_containerd_leaves_nothing_once_stopped() -> None:
    cluster = start(images=())
    try:
        cluster.kubectl("apply", "-f", "-", input=json.dumps(PAUSE_POD))
        eventually(
            lambda: "Running" in cluster.kubectl("get", "pod", "sleeper", check=False).stdout,
            "the sleeper pod to run",
            120,
        )
        for component in ("kubelet", "containerd"):
            os.kill(cluster.pids[component], signal.SIGKILL)
    finally:
        stop(cluster)

    assert sandbox.leftovers(cluster.sandbox, cluster.workdir) == []
