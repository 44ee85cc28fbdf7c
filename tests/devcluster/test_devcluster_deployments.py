"""Deployments work end to end: ReplicaSets, readiness, EndpointSlices, scaling, garbage collection.

Pods serve `python -m http.server` on their own loopback pod IP; traffic only ever goes to those
127.x addresses, never to a Service's ClusterIP (there is no kube-proxy).
"""

from __future__ import annotations

import textwrap
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from devcluster import DevCluster
from devcluster.pytest_plugin import eventually
from kubernetes import client

pytestmark = pytest.mark.cluster


def web_manifest(name: str, replicas: int) -> str:
    return textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: {name}}}
        spec:
          replicas: {replicas}
          selector: {{matchLabels: {{app: {name}}}}}
          template:
            metadata: {{labels: {{app: {name}}}}}
            spec:
              containers:
                - name: web
                  image: python:3.11-slim
                  command: [python, -m, http.server, "8080", --bind, $(POD_IP)]
                  env:
                    - name: POD_IP
                      valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}
                  ports: [{{name: http, containerPort: 8080}}]
                  readinessProbe:
                    httpGet: {{path: /, port: http}}
                    periodSeconds: 1
        ---
        apiVersion: v1
        kind: Service
        metadata: {{name: {name}}}
        spec:
          selector: {{app: {name}}}
          ports: [{{name: http, port: 80, targetPort: http}}]
        """)


def ready_pods(core: client.CoreV1Api, namespace: str, app: str) -> list[client.V1Pod]:
    pods = core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return [
        p
        for p in pods
        if p.metadata.deletion_timestamp is None
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    ]


def available(apps: client.AppsV1Api, namespace: str, name: str) -> bool:
    conditions = apps.read_namespaced_deployment_status(name, namespace).status.conditions or []
    return any(c.type == "Available" and c.status == "True" for c in conditions)


@pytest.fixture(scope="module")
def web(devcluster: DevCluster, api: client.ApiClient) -> Iterator[str]:
    """A namespace with the 2-replica `web` Deployment and its Service, once Available."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    namespace = f"web-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    eventually(
        lambda: core.read_namespaced_service_account("default", namespace),
        "the default ServiceAccount",
    )
    devcluster.kubectl("apply", "-n", namespace, "-f", "-", input=web_manifest("web", 2))
    eventually(lambda: available(apps, namespace, "web"), "the Deployment to become Available")
    yield namespace
    core.delete_namespace(namespace)


def test_deployment_with_two_replicas_becomes_available(api: client.ApiClient, web: str) -> None:
    status = client.AppsV1Api(api).read_namespaced_deployment_status("web", web).status

    assert available(client.AppsV1Api(api), web, "web")
    assert status.available_replicas == 2


def test_each_pod_answers_http_on_its_own_pod_ip(core: client.CoreV1Api, web: str) -> None:
    pods = ready_pods(core, web, "web")
    ips = {p.status.pod_ip for p in pods}

    assert len(ips) == 2
    for ip in ips:
        assert ip.startswith("127.")
        with urllib.request.urlopen(f"http://{ip}:8080/", timeout=5) as response:
            assert response.status == 200


def test_endpointslice_lists_both_pod_ips(
    api: client.ApiClient, core: client.CoreV1Api, web: str
) -> None:
    discovery = client.DiscoveryV1Api(api)
    expected = {p.status.pod_ip for p in ready_pods(core, web, "web")}

    def listed() -> set[str]:
        slices = discovery.list_namespaced_endpoint_slice(
            web, label_selector="kubernetes.io/service-name=web"
        ).items
        return {a for s in slices for e in s.endpoints or [] for a in e.addresses}

    assert eventually(lambda: listed() == expected and listed(), "the EndpointSlice") == expected


def test_scaling_to_three_adds_a_pod(
    devcluster: DevCluster, core: client.CoreV1Api, web: str
) -> None:
    before = {p.metadata.name for p in ready_pods(core, web, "web")}

    devcluster.kubectl("scale", "-n", web, "deployment/web", "--replicas=3")
    after = eventually(
        lambda: (
            {p.metadata.name for p in ready_pods(core, web, "web")}
            if len(ready_pods(core, web, "web")) == 3
            else None
        ),
        "a third Ready pod",
    )

    assert before < after


def test_deleting_a_deployment_removes_its_replicaset_and_pods(
    devcluster: DevCluster, api: client.ApiClient, core: client.CoreV1Api, namespace: str
) -> None:
    apps = client.AppsV1Api(api)
    devcluster.kubectl("apply", "-n", namespace, "-f", "-", input=web_manifest("doomed", 1))
    eventually(lambda: available(apps, namespace, "doomed"), "the Deployment to become Available")

    devcluster.kubectl("delete", "-n", namespace, "deployment/doomed", "--wait=false")

    eventually(
        lambda: not apps.list_namespaced_replica_set(namespace).items,
        "the garbage collector to delete the ReplicaSet",
    )
    eventually(
        lambda: not core.list_namespaced_pod(namespace, label_selector="app=doomed").items,
        "the garbage collector to delete the pods",
    )
