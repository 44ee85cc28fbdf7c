"""The devcluster's kubelet stand-in for its one node (and its scheduler: it binds pending pods).

Run as `python -m devcluster.podrunner ...` by `devcluster.start()`. It registers the Node, keeps
its Lease and Ready heartbeat fresh, watches all pods, binds unscheduled ones to the node and
runs every pod bound to it as local processes, one `PodWorker` thread per pod.

What is emulated, and what is not:

* The image name is ignored. Each container's `command` + `args` run as a local process in the
  project's environment: the runner's own environment with the project's virtualenv first on
  PATH, so `python -m fraud_inference` or `fraudctl train` are the project's code. A container
  without `command` cannot run (there is no image to read an entrypoint from).
* Each pod gets its own loopback address 127.N.x.y as `status.podIP` and `POD_IP` (Linux routes
  all of 127/8 to `lo`, so a server binds it directly). There is no network isolation and no
  kube-proxy: reach pods by pod IP or via EndpointSlices, never via ClusterIPs.
* The environment: literal values, `secretKeyRef`, `configMapKeyRef`, `fieldRef` and `envFrom`;
  plus POD_IP, KUBECONFIG and KUBERNETES_SERVICE_HOST/PORT pointing at the API server.
* Volumes are not mounted and the filesystem is not isolated (no read-only root either): the
  process's working directory is a per-pod scratch folder, shared by the pod's containers.
* httpGet readiness and liveness probes, restartPolicy with a back-off, exit codes, terminated
  messages (log tail on failure), SIGTERM then SIGKILL after the grace period on deletion.
* Logs go to `<log_dir>/<namespace>_<pod>_<container>.log` (`kubectl logs` needs a kubelet).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kubernetes import client, watch

from . import node
from .kube import ApiException, api_client, call_json
from .podworker import SHUTDOWN_GRACE_SECONDS, TERMINAL, PodContext, PodWorker, base_environment

log = logging.getLogger("devcluster.podrunner")


def pod_ips(prefix: str) -> Iterator[str]:
    """Addresses 127.N.x.y under `prefix` ("127.N"), never reused while the runner lives."""
    for x, y in itertools.product(range(256), range(1, 255)):
        if (x, y) != (0, 1):
            yield f"{prefix}.{x}.{y}"


class PodRunner:
    """Watches pods, binds the unscheduled ones to our node, and runs those bound to it."""

    def __init__(self, ctx: PodContext, ip_prefix: str) -> None:
        self.ctx = ctx
        self.core = client.CoreV1Api(ctx.api)
        self.workers: dict[str, PodWorker] = {}
        self.ips = pod_ips(ip_prefix)
        self.lock = threading.Lock()

    def serve(self, stop: threading.Event) -> None:
        """List, then watch pods until `stop`; a broken or expired watch lists again."""
        while not stop.is_set():
            try:
                version = self._relist()
                stream = watch.Watch().stream(
                    self.core.list_pod_for_all_namespaces,
                    resource_version=version,
                    timeout_seconds=300,
                    allow_watch_bookmarks=True,
                    deserialize=False,
                )
                for event in stream:
                    if stop.is_set():
                        return
                    if event["type"] == "ERROR":
                        break
                    if event["type"] != "BOOKMARK":
                        self.handle(event["type"], event["object"])
            except Exception:
                if not stop.is_set():
                    log.exception("pod watch failed; listing again")
                    stop.wait(1)

    def _relist(self) -> str:
        listing = call_json(self.core.list_pod_for_all_namespaces)
        seen = set()
        for pod in listing["items"]:
            seen.add(pod["metadata"]["uid"])
            self.handle("MODIFIED", pod)
        with self.lock:
            vanished = [uid for uid in self.workers if uid not in seen]
        for uid in vanished:
            self._forget(uid)
        return listing["metadata"]["resourceVersion"]

    def handle(self, kind: str, pod: dict[str, Any]) -> None:
        """React to one pod event: bind it, start or update its worker, or stop it."""
        uid = pod["metadata"]["uid"]
        if kind == "DELETED":
            self._forget(uid)
            return
        node_name = pod["spec"].get("nodeName")
        if not node_name:
            self._bind(pod)
        elif node_name == self.ctx.node_name:
            with self.lock:
                worker = self.workers.get(uid)
                if worker is None:
                    worker = PodWorker(self.ctx, pod, next(self.ips))
                    self.workers[uid] = worker
                    worker.start()
                    return
            worker.update(pod)

    def _forget(self, uid: str) -> None:
        with self.lock:
            worker = self.workers.pop(uid, None)
        if worker is not None:
            worker.gone()

    def _bind(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        if meta.get("deletionTimestamp") or (pod.get("status") or {}).get("phase") in TERMINAL:
            return
        body = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]},
            "target": {"apiVersion": "v1", "kind": "Node", "name": self.ctx.node_name},
        }
        try:
            self.core.create_namespaced_pod_binding(
                meta["name"], meta["namespace"], body, _preload_content=False
            )
        except ApiException as error:
            if error.status not in (404, 409):
                log.warning("binding %s/%s failed: %s", meta["namespace"], meta["name"], error)

    def shutdown(self) -> None:
        """Stop every pod's processes (SIGTERM, SIGKILL soon after); the API is not told."""
        with self.lock:
            workers = list(self.workers.values())
            self.workers.clear()
        for worker in workers:
            worker.gone()
        for worker in workers:
            worker.join(timeout=SHUTDOWN_GRACE_SECONDS + 3)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devcluster.podrunner",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--node-name", required=True)
    parser.add_argument("--log-dir", type=Path, required=True)
    parser.add_argument("--pods-dir", type=Path, required=True)
    parser.add_argument("--ip-prefix", required=True, help='"127.N": pods get 127.N.x.y')
    parser.add_argument("--api-host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, required=True)
    parser.add_argument("--host-ip", default="127.0.0.1")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Register the node, run pods until SIGTERM/SIGINT, then stop every pod process."""
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    api = api_client(args.kubeconfig)
    node.register(api, args.node_name, args.host_ip)
    ctx = PodContext(
        api=api,
        node_name=args.node_name,
        host_ip=args.host_ip,
        log_dir=args.log_dir,
        pods_dir=args.pods_dir,
        base_env=base_environment(
            args.kubeconfig, args.api_host, args.api_port, Path(sys.executable).parent
        ),
    )
    runner = PodRunner(ctx, args.ip_prefix)
    threading.Thread(
        target=node.keep_alive, args=(api, args.node_name, stop), name="node-heartbeat", daemon=True
    ).start()
    threading.Thread(target=runner.serve, args=(stop,), name="pod-watch", daemon=True).start()
    log.info("node %s ready; running pods", args.node_name)
    stop.wait()
    runner.shutdown()
    log.info("pod runner stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
