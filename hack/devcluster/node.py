"""The devcluster's one Node: registration and heartbeats, as a kubelet would do them.

The node's status says what the pod runner offers (this machine's CPUs and memory, 110 pods) and
its Ready condition and kube-node-lease Lease are renewed every few seconds, so the node looks
healthy to anything that checks (kubectl, the operator, a node-lifecycle controller if enabled).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import threading

import psutil
import urllib3
from kubernetes import client

from .kube import ApiException, call_json
from .versions import K8S_VERSION

HEARTBEAT_SECONDS = 10
LEASE_SECONDS = 40


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _conditions(transition: str) -> list[dict[str, str]]:
    now = _now()
    healthy = [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID"),
        ("Ready", "True", "KubeletReady"),
    ]
    return [
        {
            "type": t,
            "status": s,
            "reason": r,
            "message": "devcluster pod runner is serving",
            "lastHeartbeatTime": now,
            "lastTransitionTime": transition,
        }
        for t, s, r in healthy
    ]


def node_status(host_ip: str, transition: str) -> dict[str, object]:
    """The node's full status: resources of this machine, Ready, loopback address."""
    resources = {
        "cpu": str(os.cpu_count() or 1),
        "memory": f"{psutil.virtual_memory().total // 1024}Ki",
        "pods": "110",
        "ephemeral-storage": "100Gi",
    }
    return {
        "capacity": resources,
        "allocatable": resources,
        "conditions": _conditions(transition),
        "addresses": [
            {"type": "InternalIP", "address": host_ip},
            {"type": "Hostname", "address": platform.node() or "localhost"},
        ],
        "nodeInfo": {
            "machineID": "",
            "systemUUID": "",
            "bootID": "",
            "kernelVersion": platform.release(),
            "osImage": "devcluster local processes",
            "containerRuntimeVersion": "devcluster://local-process",
            "kubeletVersion": K8S_VERSION,
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
    }


def register(api: client.ApiClient, name: str, host_ip: str) -> None:
    """Create (or refresh) the Node object and make its status Ready."""
    core = client.CoreV1Api(api)
    transition = _now()
    body = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "fraudops.dev/devcluster": "true",
            },
        },
        "spec": {},
    }
    try:
        call_json(core.create_node, body)
    except ApiException as error:
        if error.status != 409:
            raise
    core.patch_node_status(
        name, {"status": node_status(host_ip, transition)}, _preload_content=False
    )


def _renew_lease(api: client.ApiClient, name: str) -> None:
    leases = client.CoordinationV1Api(api)
    spec = {
        "holderIdentity": name,
        "leaseDurationSeconds": LEASE_SECONDS,
        "renewTime": _micro_now(),
    }
    try:
        leases.patch_namespaced_lease(
            name, "kube-node-lease", {"spec": spec}, _preload_content=False
        )
    except ApiException as error:
        if error.status != 404:
            raise
        body = {"metadata": {"name": name, "namespace": "kube-node-lease"}, "spec": spec}
        leases.create_namespaced_lease("kube-node-lease", body, _preload_content=False)


def _heartbeat(api: client.ApiClient, name: str) -> None:
    core = client.CoreV1Api(api)
    node = call_json(core.read_node_status, name)
    conditions = node.get("status", {}).get("conditions") or []
    now = _now()
    for condition in conditions:
        condition["lastHeartbeatTime"] = now
    core.patch_node_status(name, {"status": {"conditions": conditions}}, _preload_content=False)


def keep_alive(api: client.ApiClient, name: str, stop: threading.Event) -> None:
    """Renew the node's Lease and Ready heartbeat until `stop` is set (run it in a thread)."""
    while not stop.is_set():
        try:
            _renew_lease(api, name)
            _heartbeat(api, name)
        except (ApiException, OSError, urllib3.exceptions.HTTPError):
            pass  # the API server may be briefly unavailable; the next beat retries
        stop.wait(HEARTBEAT_SECONDS)
