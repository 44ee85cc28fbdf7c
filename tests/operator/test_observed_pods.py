"""Why serving pods cannot start, read from pod bodies as the kubelet (or devcluster) writes."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from devcluster import DevCluster
from fraud_operator.observed import pods_not_starting


def pod(name: str, waiting: dict[str, str] | None = None, ready: bool = False) -> dict[str, Any]:
    state = {"waiting": waiting} if waiting else {"running": {}}
    return {
        "metadata": {"name": name},
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "predictor", "state": state}],
        },
    }


def test_a_pod_blocked_by_a_missing_secret_is_named_with_the_kubelets_message() -> None:
    blocked = pod(
        "fm-a", {"reason": "CreateContainerConfigError", "message": 'secret "db" not found'}
    )

    assert pods_not_starting([blocked]) == (
        'pod fm-a: CreateContainerConfigError: secret "db" not found'
    )


def test_pods_on_their_way_up_are_not_blocked() -> None:
    starting = pod("fm-a", {"reason": "ContainerCreating"})
    running = pod("fm-b")

    assert pods_not_starting([starting, running]) == ""


def test_more_blocked_pods_are_counted_after_the_first() -> None:
    pods = [pod(f"fm-{i}", {"reason": "ImagePullBackOff"}) for i in range(3)]

    assert pods_not_starting(pods) == "pod fm-0: ImagePullBackOff (and 2 more pod(s))"


def test_a_pod_being_deleted_is_not_reported() -> None:
    leaving = pod("fm-a", {"reason": "CrashLoopBackOff"})
    leaving["metadata"]["deletionTimestamp"] = "2026-11-22T00:00:00Z"

    assert pods_not_starting([leaving]) == ""


@pytest.mark.cluster
def test_a_real_pod_whose_secret_is_missing_is_reported_with_the_secret_name(
    devcluster: DevCluster,
) -> None:
    name = f"blocked-{uuid.uuid4().hex[:8]}"
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "containers": [
                {
                    "name": "predictor",
                    "image": "ghcr.io/fraudops/fraudops:0.1.0",
                    "command": ["python", "-c", "pass"],
                    "env": [
                        {
                            "name": "DATABASE_URL",
                            "valueFrom": {"secretKeyRef": {"name": "no-such-db", "key": "url"}},
                        }
                    ],
                }
            ]
        },
    }
    devcluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    try:
        deadline = time.monotonic() + 60
        reported = ""
        while not reported and time.monotonic() < deadline:
            body = json.loads(
                devcluster.kubectl("get", "pod", name, "-n", "default", "-o", "json").stdout
            )
            reported = pods_not_starting([body])
            time.sleep(0.5)
    finally:
        devcluster.kubectl("delete", "pod", name, "-n", "default", "--wait=false")

    assert reported.startswith(f"pod {name}: CreateContainerConfigError")
    assert "no-such-db" in reported
