"""Why serving pods cannot start, read from pod bodies as the kubelet writes them (unit tests on
hand-written bodies, then real pods on the devcluster's node)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from devcluster import DevCluster
from fraud_operator.observed import pods_not_starting, training_run


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


def test_a_pod_that_keeps_exiting_is_named_with_its_last_exit() -> None:
    looping = pod("fm-a", {"reason": "CrashLoopBackOff", "message": "back-off 10s"})
    looping["status"]["containerStatuses"][0]["lastState"] = {
        "terminated": {"reason": "OOMKilled", "exitCode": 137}
    }

    assert pods_not_starting([looping]) == (
        "pod fm-a: CrashLoopBackOff: back-off 10s (last exit: OOMKilled, code 137)"
    )


def test_an_active_job_whose_pod_cannot_start_names_the_kubelets_reason() -> None:
    job = {"metadata": {"name": "fm-train-abc"}, "status": {"active": 1}}
    blocked = pod("fm-train-abc-x", {"reason": "ErrImageNeverPull", "message": "not present"})

    run = training_run(job, [blocked])

    assert (run.state, run.reason) == ("Active", "PodNotStarting")
    assert run.message == (
        "Job fm-train-abc cannot start: pod fm-train-abc-x: ErrImageNeverPull: not present"
    )


def kubelet_report(cluster: DevCluster, container: dict[str, Any], timeout: float = 120) -> str:
    """Run a pod of one container on the node and return what `pods_not_starting` makes of
    the kubelet's status for it (empty if it never got blocked within `timeout`)."""
    name = f"blocked-{uuid.uuid4().hex[:8]}"
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "predictor", **container}]},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    try:
        deadline = time.monotonic() + timeout
        reported = ""
        while not reported and time.monotonic() < deadline:
            body = json.loads(
                cluster.kubectl("get", "pod", name, "-n", "default", "-o", "json").stdout
            )
            reported = pods_not_starting([body])
            time.sleep(0.5)
    finally:
        cluster.kubectl("delete", "pod", name, "-n", "default", "--wait=false")
    return reported.replace(name, "<pod>")


@pytest.mark.cluster
def test_a_real_pod_whose_secret_is_missing_is_reported_with_the_secret_name(
    devcluster: DevCluster,
) -> None:
    reported = kubelet_report(
        devcluster,
        {
            "image": devcluster.images["serving"],
            "command": ["python", "-c", "pass"],
            "env": [
                {
                    "name": "DATABASE_URL",
                    "valueFrom": {"secretKeyRef": {"name": "no-such-db", "key": "url"}},
                }
            ],
        },
    )

    assert reported.startswith("pod <pod>: CreateContainerConfigError")
    assert "no-such-db" in reported


@pytest.mark.cluster
def test_a_real_pod_whose_image_is_not_on_the_node_is_reported_as_the_kubelet_says(
    devcluster: DevCluster,
) -> None:
    reported = kubelet_report(
        devcluster, {"image": "ghcr.io/fraudops/no-such-image:0", "imagePullPolicy": "Never"}
    )

    assert reported.startswith("pod <pod>: ErrImageNeverPull")
    assert "ghcr.io/fraudops/no-such-image:0" in reported


@pytest.mark.cluster
def test_a_real_pod_killed_for_memory_is_reported_with_oomkilled(devcluster: DevCluster) -> None:
    reported = kubelet_report(
        devcluster,
        {
            "image": devcluster.images["serving"],
            "command": ["python", "-c", "b = bytearray(256 * 2**20)"],
            "resources": {"limits": {"memory": "64Mi", "cpu": "500m"}},
        },
        timeout=180,
    )

    assert reported.startswith("pod <pod>: CrashLoopBackOff")
    assert "(last exit: OOMKilled, code 137)" in reported
