"""The life of one pod on the devcluster node, from bound to deleted, in its own thread.

The worker starts the init containers one after the other and then the containers, restarts them
as `restartPolicy` says, runs their probes, reports the pod's status (phase, IPs, conditions,
container states) whenever it changes, and on deletion stops the processes (SIGTERM, then SIGKILL
after the grace period) before removing the pod object with a zero grace period, as the kubelet
does.
"""

from __future__ import annotations

import base64
import logging
import os
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client

from .containers import Container, now_rfc3339
from .kube import ApiException, call_json
from .logs import pod_log_path
from .podenv import ContainerConfigError, container_env, decode_secret_data

log = logging.getLogger("devcluster.podrunner")

TERMINAL = ("Succeeded", "Failed")
#: Grace used when the pod object vanished or the runner itself stops: nobody waits for it.
SHUTDOWN_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class PodContext:
    """What every pod worker shares: the API, where things go, and the pods' base environment."""

    api: client.ApiClient
    node_name: str
    host_ip: str
    log_dir: Path
    pods_dir: Path
    base_env: Mapping[str, str]


class PodWorker(threading.Thread):
    """Runs one pod; the runner feeds it the latest object (`update`) or its disappearance."""

    def __init__(self, ctx: PodContext, pod: dict[str, Any], pod_ip: str) -> None:
        meta = pod["metadata"]
        super().__init__(name=f"pod-{meta['namespace']}/{meta['name']}", daemon=True)
        self.ctx = ctx
        self.core = client.CoreV1Api(ctx.api)
        self.pod = pod
        self.namespace: str = meta["namespace"]
        self.pod_name: str = meta["name"]
        self.uid: str = meta["uid"]
        self.pod_ip = pod_ip
        self.workdir = ctx.pods_dir / f"{self.namespace}_{self.pod_name}"
        spec = pod["spec"]
        self.policy: str = spec.get("restartPolicy", "Always")
        self.images = {c["name"]: c.get("image", "") for c in spec.get("initContainers") or []}
        self.images.update({c["name"]: c.get("image", "") for c in spec["containers"]})
        self.init_containers = [self._container(c) for c in spec.get("initContainers") or []]
        self.containers = [self._container(c) for c in spec["containers"]]
        self._wake = threading.Event()
        self._gone = False
        self._phase = "Pending"
        self._start_time = now_rfc3339()
        self._transitions: dict[str, tuple[str, str]] = {}
        self._reported: dict[str, Any] | None = None

    def _container(self, spec: Mapping[str, Any]) -> Container:
        path = pod_log_path(self.ctx.log_dir, self.namespace, self.pod_name, spec["name"])
        return Container(spec, path)

    def update(self, pod: dict[str, Any]) -> None:
        """The API has a newer version of this pod."""
        self.pod = pod
        self._wake.set()

    def gone(self) -> None:
        """The pod object is gone (or the runner stops): stop the processes at once."""
        self._gone = True
        self._wake.set()

    def run(self) -> None:
        try:
            self._run()
        except Exception:
            log.exception(
                "pod %s/%s: worker failed; stopping its processes", self.namespace, self.pod_name
            )
            for c in self._all():
                c.stop(SHUTDOWN_GRACE_SECONDS)

    def _all(self) -> list[Container]:
        return [*self.init_containers, *self.containers]

    def _run(self) -> None:
        if (self.pod.get("status") or {}).get("phase") in TERMINAL:
            self._phase = self.pod["status"]["phase"]
            self._wait_for_deletion()
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._report()
        while True:
            self._wake.wait(0.2)
            self._wake.clear()
            if self._gone:
                for c in self._all():
                    c.stop(SHUTDOWN_GRACE_SECONDS)
                return
            if self.pod["metadata"].get("deletionTimestamp"):
                self._delete_gracefully()
                return
            self._step()
            self._report()
            if self._phase in TERMINAL:
                self._wait_for_deletion()
                return

    def _wait_for_deletion(self) -> None:
        """A finished pod stays until its owner (Job, GC, TTL) deletes it; then finalize."""
        while not self._gone:
            if self.pod["metadata"].get("deletionTimestamp"):
                self._finalize_delete()
                return
            self._wake.wait(1)
            self._wake.clear()

    def _step(self) -> None:
        pending_init = [
            c for c in self.init_containers if not (c.terminated and c.terminated["exitCode"] == 0)
        ]
        if pending_init:
            self._supervise(pending_init[0], init=True)
            return
        for container in self.containers:
            self._supervise(container, init=False)
        self._phase = self._phase_now()

    def _supervise(self, c: Container, init: bool) -> None:
        if c.running:
            if c.probe(self.pod_ip):
                log.info(
                    "pod %s/%s: liveness probe of %s failed; restarting",
                    self.namespace,
                    self.pod_name,
                    c.name,
                )
                c.stop(self._grace())
                c.schedule_restart()
                return
            if c.poll() and self._restarts(c, init):
                c.schedule_restart()
            elif init and c.terminated and c.terminated["exitCode"] != 0:
                self._phase = "Failed"
            return
        if c.terminated is not None and not c.waiting:
            return  # finished for good
        if time.monotonic() < c.next_start:
            return
        try:
            env = self._env(c.spec)
            argv = c.argv(env)
        except (ContainerConfigError, ValueError) as error:
            c.config_error(str(error))
            return
        c.start(argv, env, self.workdir)
        if c.terminated is not None and self._restarts(c, init):
            c.schedule_restart()

    def _restarts(self, c: Container, init: bool) -> bool:
        exit_code = (c.terminated or {}).get("exitCode", 0)
        if self.policy == "Always":
            return not init or exit_code != 0
        if self.policy == "OnFailure":
            return exit_code != 0
        return False

    def _phase_now(self) -> str:
        if self._phase == "Failed":
            return "Failed"
        finished = [
            c
            for c in self.containers
            if c.terminated is not None and not c.waiting and not c.running
        ]
        if len(finished) < len(self.containers):
            return "Running" if any(c.started_once for c in self.containers) else "Pending"
        if all(c.terminated and c.terminated["exitCode"] == 0 for c in finished):
            return "Succeeded"
        return "Failed"

    def _grace(self) -> float:
        meta, spec = self.pod["metadata"], self.pod["spec"]
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", 30)
        return float(grace)

    def _delete_gracefully(self) -> None:
        """SIGTERM every container, SIGKILL after the grace period, report, then finalize."""
        running = [c for c in self._all() if c.running]
        log.info("pod %s/%s: deleting, grace %.0fs", self.namespace, self.pod_name, self._grace())
        for c in running:
            c.signal(signal.SIGTERM)
        deadline = time.monotonic() + self._grace()
        while any(c.running and c.proc and c.proc.poll() is None for c in running):
            if self._gone or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        for c in running:
            c.stop(0)
        if self._phase not in TERMINAL:
            ok = all(c.terminated and c.terminated["exitCode"] == 0 for c in self.containers)
            self._phase = "Succeeded" if ok else "Failed"
        self._report()
        if not self._gone:
            self._finalize_delete()

    def _finalize_delete(self) -> None:
        log.info("pod %s/%s: removing the pod object", self.namespace, self.pod_name)
        try:
            # The API server ignores query parameters when a body is sent: grace goes in the body.
            self.core.delete_namespaced_pod(
                self.pod_name,
                self.namespace,
                body={"gracePeriodSeconds": 0, "preconditions": {"uid": self.uid}},
                _preload_content=False,
            )
        except ApiException as error:
            if error.status not in (404, 409):
                raise

    def _read(self, kind: str, namespace: str, name: str) -> Mapping[str, str] | None:
        try:
            if kind == "Secret":
                return decode_secret_data(
                    call_json(self.core.read_namespaced_secret, name, namespace).get("data")
                )
            obj = call_json(self.core.read_namespaced_config_map, name, namespace)
            binary = {
                k: base64.b64decode(v).decode(errors="replace")
                for k, v in (obj.get("binaryData") or {}).items()
            }
            return {**binary, **(obj.get("data") or {})}
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def _env(self, spec: Mapping[str, Any]) -> dict[str, str]:
        pod = {**self.pod, "status": {**(self.pod.get("status") or {}), **self._ips()}}
        env = dict(self.ctx.base_env)
        env.update(HOSTNAME=self.pod_name, POD_IP=self.pod_ip)
        env.update(container_env(pod, spec, self._read))
        return env

    def _ips(self) -> dict[str, Any]:
        return {
            "podIP": self.pod_ip,
            "podIPs": [{"ip": self.pod_ip}],
            "hostIP": self.ctx.host_ip,
            "hostIPs": [{"ip": self.ctx.host_ip}],
        }

    def _condition(self, kind: str, ok: bool) -> dict[str, str]:
        status = "True" if ok else "False"
        previous = self._transitions.get(kind)
        if previous is None or previous[0] != status:
            self._transitions[kind] = (status, now_rfc3339())
        return {"type": kind, "status": status, "lastTransitionTime": self._transitions[kind][1]}

    def _status(self) -> dict[str, Any]:
        initialized = all(
            c.terminated and c.terminated["exitCode"] == 0 for c in self.init_containers
        )
        ready = self._phase == "Running" and all(c.ready for c in self.containers)
        status: dict[str, Any] = {
            "phase": self._phase,
            "startTime": self._start_time,
            **self._ips(),
            "conditions": [
                self._condition("PodReadyToStartContainers", True),
                self._condition("Initialized", initialized),
                self._condition("ContainersReady", ready),
                self._condition("Ready", ready),
                self._condition("PodScheduled", True),
            ],
            "containerStatuses": [c.status(self.images[c.name]) for c in self.containers],
        }
        if self.init_containers:
            status["initContainerStatuses"] = [
                c.status(self.images[c.name]) for c in self.init_containers
            ]
        return status

    def _report(self) -> None:
        """Send the pod's status to the API when it differs from what was last sent."""
        status = self._status()
        if status == self._reported:
            return
        try:
            self.core.patch_namespaced_pod_status(
                self.pod_name, self.namespace, {"status": status}, _preload_content=False
            )
            self._reported = status
        except ApiException as error:
            if error.status != 404:
                log.warning(
                    "pod %s/%s: status update failed: %s",
                    self.namespace,
                    self.pod_name,
                    error.body or error,
                )


def base_environment(
    kubeconfig: Path, api_host: str, api_port: int, venv_bin: Path
) -> dict[str, str]:
    """The environment every pod process starts from: the project's own, pointed at the cluster.

    `venv_bin` goes first on PATH so `python`, `fraudctl` and friends are the project's. The
    in-cluster variables and KUBECONFIG let a pod (the operator, say) talk to the API server.
    PYTHONUNBUFFERED makes Python pods' logs readable while they run: logs are files here.
    """
    env = dict(os.environ)
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env.update(
        KUBECONFIG=str(kubeconfig),
        KUBERNETES_SERVICE_HOST=api_host,
        KUBERNETES_SERVICE_PORT=str(api_port),
        KUBERNETES_SERVICE_PORT_HTTPS=str(api_port),
        PYTHONUNBUFFERED="1",
    )
    return env
