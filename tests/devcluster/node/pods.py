"""Pods the real-node tests run: our images under the `restricted` Pod Security profile."""

from __future__ import annotations

from typing import Any

from kubernetes import client


def restricted_pod(
    name: str,
    image: str,
    command: list[str],
    service_account: str | None = None,
    labels: dict[str, str] | None = None,
    restart: str = "Never",
    cpu: str = "100m",
    memory: str = "256Mi",
) -> dict[str, Any]:
    """A pod as a careful chart writes one: non-root, read-only root, no capabilities, /tmp an
    emptyDir, requests and limits set."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {
            "restartPolicy": restart,
            "serviceAccountName": service_account or "default",
            "terminationGracePeriodSeconds": 2,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "main",
                    "image": image,
                    "imagePullPolicy": "Never",
                    "command": command,
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "resources": {
                        "requests": {"cpu": cpu, "memory": memory},
                        "limits": {"cpu": "1", "memory": memory},
                    },
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


def phase(core: client.CoreV1Api, namespace: str, name: str) -> str:
    return core.read_namespaced_pod_status(name, namespace).status.phase


def finished(core: client.CoreV1Api, namespace: str, name: str) -> str | None:
    """The pod's final phase once it has one (Succeeded or Failed), else None."""
    current = phase(core, namespace, name)
    return current if current in ("Succeeded", "Failed") else None
