"""The real node runs what a kind node runs: our images on containerd, under the pod's own
ServiceAccount and securityContext, with `kubectl logs`, and a missing image shown as such."""

from __future__ import annotations

import json

import pytest
from devcluster import DevCluster
from devcluster.pytest_plugin import eventually
from kubernetes import client

from .pods import finished, restricted_pod

pytestmark = pytest.mark.cluster

WHOAMI = """
import json, ssl, urllib.request
sa = "/var/run/secrets/kubernetes.io/serviceaccount"
token = open(f"{sa}/token").read()
context = ssl.create_default_context(cafile=f"{sa}/ca.crt")
request = urllib.request.Request(
    "https://kubernetes.default.svc/apis/authentication.k8s.io/v1/selfsubjectreviews",
    data=b'{"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}',
    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    method="POST",
)
with urllib.request.urlopen(request, context=context, timeout=10) as response:
    print("user:", json.load(response)["status"]["userInfo"]["username"])
"""

IMAGE_CHECK = """
import importlib, os, sys
importlib.import_module(sys.argv[1])
open("/tmp/scratch", "w").write("ok")
try:
    open("/opt/fraudops/written", "w")
except OSError as error:
    print("root filesystem:", error.strerror)
print("uid:", os.getuid())
"""


def test_a_pod_from_our_image_calls_the_api_as_its_own_service_account(
    devcluster: DevCluster, core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "reader"}})
    image = devcluster.images["operator"]
    pod = restricted_pod("whoami", image, ["python", "-c", WHOAMI], service_account="reader")
    core.create_namespaced_pod(namespace, pod)

    final = eventually(lambda: finished(core, namespace, "whoami"), "whoami to finish")

    logs = devcluster.kubectl("logs", "-n", namespace, "whoami").stdout
    assert final == "Succeeded", logs
    assert f"user: system:serviceaccount:{namespace}:reader" in logs


@pytest.mark.parametrize(
    ("component", "module"),
    [
        ("operator", "fraud_operator.main"),
        ("training", "fraud_training.job"),
        ("serving", "fraud_inference.api"),
    ],
)
def test_each_image_runs_as_non_root_with_a_read_only_root_filesystem(
    devcluster: DevCluster,
    core: client.CoreV1Api,
    namespace: str,
    component: str,
    module: str,
) -> None:
    name = f"check-{component}"
    image = devcluster.images[component]
    pod = restricted_pod(name, image, ["python", "-c", IMAGE_CHECK, module], memory="512Mi")
    core.create_namespaced_pod(namespace, pod)

    final = eventually(lambda: finished(core, namespace, name), f"{name} to finish", 180)

    logs = devcluster.kubectl("logs", "-n", namespace, name).stdout
    assert final == "Succeeded", logs
    assert "uid: 10001" in logs
    assert "root filesystem: Read-only file system" in logs


def test_a_missing_image_shows_the_kubelets_reason(
    devcluster: DevCluster, core: client.CoreV1Api, namespace: str
) -> None:
    pod = restricted_pod("ghost", "ghcr.io/fraudops/no-such-image:0", ["true"])
    core.create_namespaced_pod(namespace, pod)

    def waiting_reason() -> str | None:
        status = core.read_namespaced_pod_status("ghost", namespace).status
        for container in status.container_statuses or []:
            if container.state.waiting and container.state.waiting.reason != "ContainerCreating":
                return container.state.waiting.reason
        return None

    assert eventually(waiting_reason, "the ghost pod's waiting reason") == "ErrImageNeverPull"


def test_the_node_reports_real_pod_usage_through_the_kubelet(
    devcluster: DevCluster, namespace: str
) -> None:
    stats = devcluster.kubectl(
        "get", "--raw", f"/api/v1/nodes/{devcluster.node_name}/proxy/stats/summary"
    ).stdout
    summary = json.loads(stats)

    assert summary["node"]["nodeName"] == devcluster.node_name
    assert summary["node"]["cpu"]["usageNanoCores"] > 0
