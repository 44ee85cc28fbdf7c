"""Pod latency on the devcluster's real node (kubelet on containerd) beside the retired pod runner.

The cluster's start (sandbox, control plane, containerd, image import, kubelet, kube-proxy,
CoreDNS), then for the training and the serving image a pod that imports its component's stack
and starts listening, measured from the client's side: created → Running (container started) and
created → Ready (its httpGet readiness probe passed, i.e. the stack is imported). The pod runner
(which ran the same command in the project's virtualenv, ignoring the image) is gone; its figures
are the medians measured on this machine on 2026-12-01, before it was retired (RUNNER).

Run: ``PYTHONPATH=hack .venv/bin/python benchmarks/bench_node.py`` (needs `make images`).
"""

from __future__ import annotations

import json
import time
from typing import Any

from devcluster import DevCluster, start, stop

SERVER = """
import http.server, importlib, sys
importlib.import_module(sys.argv[1])
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("", 8000), Ok).serve_forever()
"""
WORKLOADS = {"training": "fraud_training.job", "serving": "fraud_inference.api"}
IMAGES = ("training", "serving", "coredns")
RUNS = 3
#: The pod runner's medians of 3 (same script, same machine, 2026-12-01, commit 3a3a888).
RUNNER = {
    "cluster start → usable (s)": 7.84,
    f"training pod: created → Running (s, median of {RUNS})": 0.24,
    f"training pod: created → Ready (s, median of {RUNS})": 12.38,
    f"serving pod: created → Running (s, median of {RUNS})": 0.31,
    f"serving pod: created → Ready (s, median of {RUNS})": 14.43,
}


def pod(name: str, image: str, module: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["python", "-c", SERVER, module],
                    "ports": [{"containerPort": 8000}],
                    "readinessProbe": {"httpGet": {"path": "/", "port": 8000}, "periodSeconds": 1},
                    "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


def pod_status(cluster: DevCluster, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", "pod", name, "-o", "json", check=False).stdout
    return json.loads(out).get("status", {}) if out else {}


def running(status: dict[str, Any]) -> bool:
    return any("running" in c.get("state", {}) for c in status.get("containerStatuses", []))


def ready(status: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))


def measure(cluster: DevCluster, component: str, run: int) -> tuple[float, float]:
    name = f"{component}-{run}"
    image = cluster.images[component]
    manifest = json.dumps(pod(name, image, WORKLOADS[component]))
    created = time.monotonic()
    cluster.kubectl("apply", "-f", "-", input=manifest)
    to_running = to_ready = None
    while to_ready is None:
        if time.monotonic() - created > 300:
            raise SystemExit(f"{name} not Ready after 300 s: {pod_status(cluster, name)}")
        status = pod_status(cluster, name)
        if to_running is None and running(status):
            to_running = time.monotonic() - created
        if ready(status):
            to_ready = time.monotonic() - created
            to_running = to_running if to_running is not None else to_ready
        time.sleep(0.1)
    cluster.kubectl("delete", "pod", name, "--wait=true", "--timeout=60s", check=False)
    return to_running, to_ready


def real_node_rows() -> dict[str, float]:
    t0 = time.monotonic()
    cluster = start(images=IMAGES, timeout=180)
    rows = {"cluster start → usable (s)": time.monotonic() - t0}
    try:
        for component in WORKLOADS:
            results = [measure(cluster, component, run) for run in range(RUNS)]
            rows[f"{component} pod: created → Running (s, median of {RUNS})"] = sorted(
                r[0] for r in results
            )[RUNS // 2]
            rows[f"{component} pod: created → Ready (s, median of {RUNS})"] = sorted(
                r[1] for r in results
            )[RUNS // 2]
    finally:
        stop(cluster)
    return rows


def main() -> None:
    new = real_node_rows()
    width = max(map(len, RUNNER))
    print(f"\n{'measure':<{width}}  pod runner  real node  real/runner")
    for name, before in RUNNER.items():
        after = new[name]
        print(f"{name:<{width}}  {before:10.2f}  {after:9.2f}  {after / before:10.2f}x")


if __name__ == "__main__":
    main()
