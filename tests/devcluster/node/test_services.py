"""Services and cluster DNS on the real node: kube-proxy and CoreDNS do what they do on kind. (The
HPA, with metrics-server, is proven through the product: the FraudModel lifecycle story scales
serving out under load and back in.)"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request

import pytest
from devcluster import DevCluster
from devcluster.pytest_plugin import eventually
from kubernetes import client

from .pods import finished
from .workloads import client_pod, server_deployment, service

pytestmark = pytest.mark.cluster


def apply(cluster: DevCluster, namespace: str, *objects: dict) -> None:
    body = json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)})
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=body)


def ready_replicas(apps: client.AppsV1Api, namespace: str, name: str) -> int:
    return apps.read_namespaced_deployment_status(name, namespace).status.ready_replicas or 0


def test_a_pod_reaches_every_replica_of_a_deployment_through_its_service_by_dns_name(
    devcluster: DevCluster,
    api: client.ApiClient,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    image = devcluster.images["operator"]
    apps = client.AppsV1Api(api)
    echo = server_deployment("echo", image, replicas=2)
    apply(devcluster, namespace, echo, service("echo"))
    eventually(lambda: ready_replicas(apps, namespace, "echo") == 2, "both echo replicas", 180)

    url = f"http://echo.{namespace}.svc.cluster.local/"
    apply(devcluster, namespace, client_pod("caller", image, url, seconds=5, workers=2))
    final = eventually(lambda: finished(core, namespace, "caller"), "the caller", 120)

    logs = devcluster.kubectl("logs", "-n", namespace, "caller").stdout
    assert final == "Succeeded", logs
    assert "from 2 pods; errors: {}" in logs


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"from-the-host"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_service_the_harness_runs_on_the_host_is_reached_by_its_service_name(
    devcluster: DevCluster, core: client.CoreV1Api, namespace: str
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        name = devcluster.expose_host_port("hello", namespace, 8080, server.server_port)
        image = devcluster.images["operator"]
        caller = client_pod("caller", image, f"http://{name}:8080/", seconds=0, workers=1)
        apply(devcluster, namespace, caller)
        final = eventually(lambda: finished(core, namespace, "caller"), "the caller", 120)
    finally:
        server.shutdown()

    logs = devcluster.kubectl("logs", "-n", namespace, "caller").stdout
    assert final == "Succeeded", logs
    assert "answers: 1 from 1 pods; errors: {}" in logs


def test_the_host_reaches_every_replica_of_a_service_by_its_dns_name(
    devcluster: DevCluster, api: client.ApiClient, namespace: str
) -> None:
    apps = client.AppsV1Api(api)
    apply(
        devcluster,
        namespace,
        server_deployment("echo", devcluster.images["operator"], replicas=2),
        service("echo"),
    )
    eventually(lambda: ready_replicas(apps, namespace, "echo") == 2, "both echo replicas", 180)
    url = devcluster.service_url("echo", namespace, 80)

    def answers() -> bytes:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.read()

    # kube-proxy programs a new Service's rules, and adds each ready endpoint to them, a moment
    # after the pods are ready: ask until both replicas have answered (or give up after a minute).
    answered: set[bytes] = set()

    def both_answered() -> bool:
        answered.add(answers())
        return len(answered) == 2

    eventually(both_answered, "both echo replicas to answer through the Service", 60)

    assert len(answered) == 2
