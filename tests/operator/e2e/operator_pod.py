"""The operator as the chart runs it: a pod of its Deployment, from its image, under its own
ServiceAccount. Killing it is what a node failure does; the Deployment brings a new one."""

from __future__ import annotations

import json

from devcluster import DevCluster
from devcluster.operator_install import OPERATOR_DEPLOYMENT, SYSTEM_NAMESPACE, operator_logs
from devcluster.pytest_plugin import eventually

SELECTOR = "app.kubernetes.io/component=operator"


class OperatorPod:
    """Handle on the installed operator: which pod runs it, kill it, read its log."""

    def __init__(self, cluster: DevCluster) -> None:
        self.cluster = cluster

    def pods(self) -> list[dict]:
        found = self.cluster.kubectl(
            "get", "pods", "-n", SYSTEM_NAMESPACE, "-l", SELECTOR, "-o", "json"
        ).stdout
        return [p for p in json.loads(found)["items"] if not p["metadata"].get("deletionTimestamp")]

    def ready_pod(self) -> str | None:
        for pod in self.pods():
            conditions = pod["status"].get("conditions") or []
            if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                return pod["metadata"]["name"]
        return None

    def kill(self) -> None:
        """Delete the pod with no grace period (SIGKILL, no clean-up) and wait for its successor."""
        victim = self.ready_pod()
        assert victim, "no ready operator pod to kill"
        self.cluster.kubectl(
            "delete", "pod", victim, "-n", SYSTEM_NAMESPACE, "--grace-period=0", "--force"
        )
        eventually(
            lambda: (name := self.ready_pod()) and name != victim and name,
            f"a new ready pod of deployment/{OPERATOR_DEPLOYMENT}",
            timeout=180,
        )

    def log_tail(self, lines: int = 200) -> str:
        return operator_logs(self.cluster, lines)
