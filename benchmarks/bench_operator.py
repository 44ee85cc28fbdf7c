"""Operator latency and footprint on the devcluster's real node, measured in one run.

The operator runs as the chart installs it (a pod from its image, under its own ServiceAccount),
training Jobs and serving pods from theirs, MLflow/Redis/PostgreSQL offered to pods as Services.

1. ``kubectl apply`` of the minimal sample → training Job created; the Job's pod created →
   container running (from the pod's own timestamps); the Job's start → complete; apply → Ready;
   the first serving pod created → Ready (its readiness probe passes only once the model is
   loaded and warmed).
2. HPA reaction: load through the serving Service (by its DNS name) → the HPA asks for a second
   pod, and → that pod is Ready.
3. N FraudModels present (``--models 50 1000``), the operator pod's memory (working set, from the
   kubelet's stats) and CPU while its timers keep reconciling all of them. They live in a
   namespace whose ResourceQuota allows no pods, so each gets its training Job, which can start
   no pod and fails at its 60 s deadline: every FraudModel goes Training → Failed with a reason.

The pod runner these used to run on is retired; its figures (RUNNER) are printed beside, as
measured on this machine before it went.

Run: ``PYTHONPATH=hack .venv/bin/python benchmarks/bench_operator.py [--models 50 1000]``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from devcluster import DevCluster, start, stop
from devcluster.operator_install import (
    OPERATOR_DEPLOYMENT,
    SYSTEM_NAMESPACE,
    expose_services,
    install,
)
from localservices.mlflow_server import started_mlflow
from localservices.postgres import started_postgres
from localservices.redis_server import started_redis

REPO = Path(__file__).resolve().parents[1]
CRD = REPO / "manifests" / "crds" / "fraudmodels.fraudops.io.yaml"
SAMPLE = REPO / "manifests" / "samples" / "minimal.yaml"
MODEL = "fraud-minimal"
UNSCHEDULABLE = """apiVersion: fraudops.io/v1alpha1
kind: FraudModel
metadata: {{name: bench-{index:04d}}}
spec:
  data: {{uri: "s3://nonexistent/bench/{index:04d}.csv"}}
  training: {{activeDeadlineSeconds: 60}}
"""
NO_PODS_QUOTA = """apiVersion: v1
kind: ResourceQuota
metadata: {name: no-pods}
spec:
  hard: {pods: "0"}
"""
#: Seconds the footprint is sampled: two periods of the settled objects' timer.
WINDOW_S = 120
#: The retired pod runner, same machine (2026-12-01, commit 3a3a888): `make demo`'s apply → Ready
#: and benchmarks/bench_node.py's pod medians (its "Ready" = stack imported, no model loaded).
RUNNER = {
    "apply → Ready (s)": 47.0,
    "training pod: created → running (s)": 0.24,
    "serving pod: created → Ready (s)": 14.43,
}
TRANSACTION = {
    "transaction_id": "bench-1",
    "customer_id": "c-42",
    "timestamp": "2026-01-20T12:00:00Z",
    "amount": 129.99,
    "merchant_id": "m-7",
    "merchant_category": "electronics",
    "merchant_country": "US",
    "channel": "online",
    "device_id": "d-1",
    "lat": 40.7,
    "lon": -74.0,
    "home_lat": 40.7,
    "home_lon": -74.0,
    "home_country": "US",
}


def get(cluster: DevCluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def wait(predicate: Any, timeout: float = 900) -> float:
    """Seconds until ``predicate()`` is truthy (polled every 0.2 s)."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit("timed out")
        time.sleep(0.2)
    return time.monotonic() - started


def seconds_between(first: str, second: str) -> float:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (parse(second) - parse(first)).total_seconds()


def phase(cluster: DevCluster, namespace: str, name: str) -> str:
    return get(cluster, "fm", name, "-n", namespace).get("status", {}).get("phase", "")


def pods(cluster: DevCluster, namespace: str, component: str) -> list[dict[str, Any]]:
    selector = f"fraudops.io/fraudmodel={MODEL},app.kubernetes.io/component={component}"
    return get(cluster, "pods", "-n", namespace, "-l", selector)["items"]


def ready_since(pod: dict[str, Any]) -> str | None:
    for condition in pod["status"].get("conditions") or []:
        if condition["type"] == "Ready" and condition["status"] == "True":
            return condition["lastTransitionTime"]
    return None


def latency(cluster: DevCluster, namespace: str) -> dict[str, float]:
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("apply", "-n", namespace, "-f", str(SAMPLE))
    job_created = wait(lambda: get(cluster, "jobs", "-n", namespace)["items"])
    ready = wait(lambda: phase(cluster, namespace, MODEL) == "Ready") + job_created
    job = get(cluster, "jobs", "-n", namespace, "-l", "app.kubernetes.io/component=training")
    job_status = job["items"][0]["status"]
    (train_pod,) = pods(cluster, namespace, "training")
    running = train_pod["status"]["containerStatuses"][0]["state"]
    started_at = (running.get("terminated") or running.get("running"))["startedAt"]
    serving = min(pods(cluster, namespace, "serving"), key=lambda p: p["metadata"]["name"])
    return {
        "apply → Job created (s)": job_created,
        "training pod: created → running (s)": seconds_between(
            train_pod["metadata"]["creationTimestamp"], started_at
        ),
        "Job run: start → complete (s)": seconds_between(
            job_status["startTime"], job_status["completionTime"]
        ),
        "apply → Ready (s)": ready,
        "serving pod: created → Ready (s)": seconds_between(
            serving["metadata"]["creationTimestamp"], ready_since(serving) or ""
        ),
    }


def scale_out(cluster: DevCluster, namespace: str) -> dict[str, float]:
    """Load through the Service until the HPA adds a pod; seconds to its decision and to Ready."""
    patch = {"spec": {"serving": {"maxReplicas": 2, "targetCPUUtilizationPercentage": 30}}}
    cluster.kubectl("patch", "fm", MODEL, "-n", namespace, "--type=merge", "-p", json.dumps(patch))
    url = cluster.service_url(f"{MODEL}-serving", namespace, 8080)
    stop_load = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=10) as client:
            while not stop_load.is_set():
                try:
                    client.post(f"{url}/predict", json=TRANSACTION)
                except httpx.HTTPError:
                    time.sleep(0.1)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        decided = wait(
            lambda: (
                get(cluster, "hpa", "-n", namespace)["items"][0]["status"].get("desiredReplicas", 0)
                >= 2
            ),
            timeout=600,
        )
        ready = decided + wait(
            lambda: sum(bool(ready_since(p)) for p in pods(cluster, namespace, "serving")) >= 2,
            timeout=300,
        )
    finally:
        stop_load.set()
        for thread in threads:
            thread.join()
    return {
        "HPA: load start → second pod asked for (s)": decided,
        "HPA: load start → second pod Ready (s)": ready,
    }


def operator_usage(cluster: DevCluster) -> tuple[float, float]:
    """The operator pod's working set (MiB) and CPU (cores), as the kubelet reports them."""
    summary = json.loads(
        cluster.kubectl(
            "get", "--raw", f"/api/v1/nodes/{cluster.node_name}/proxy/stats/summary"
        ).stdout
    )
    for pod in summary["pods"]:
        ref = pod["podRef"]
        if ref["namespace"] == SYSTEM_NAMESPACE and ref["name"].startswith(OPERATOR_DEPLOYMENT):
            (container,) = pod["containers"]
            return (
                container["memory"]["workingSetBytes"] / 2**20,
                container["cpu"]["usageNanoCores"] / 1e9,
            )
    raise SystemExit("no operator pod in the kubelet's stats")


def footprint(cluster: DevCluster, counts: list[int]) -> dict[str, float]:
    cluster.kubectl("create", "namespace", "bench-many")
    cluster.kubectl("apply", "-n", "bench-many", "-f", "-", input=NO_PODS_QUOTA)
    rows = {"operator memory before any FraudModel (MiB)": operator_usage(cluster)[0]}
    present = 0
    for models in counts:
        manifests = "---\n".join(UNSCHEDULABLE.format(index=i) for i in range(present, models))
        cluster.kubectl("apply", "-n", "bench-many", "-f", "-", input=manifests, timeout=600)
        present = models

        def all_failed(expected: int = models) -> bool:
            items = get(cluster, "fm", "-n", "bench-many")["items"]
            return sum(i.get("status", {}).get("phase") == "Failed" for i in items) == expected

        settle = wait(all_failed, timeout=3600)
        samples = []
        for _ in range(WINDOW_S // 10):
            samples.append(operator_usage(cluster))
            time.sleep(10)
        rows |= {
            f"{models} FraudModels: time until all are Failed with a reason (s)": settle,
            f"{models} FraudModels: operator memory, max over {WINDOW_S} s (MiB)": max(
                m for m, _ in samples
            ),
            f"{models} FraudModels: operator CPU while settled (% of one core)": 100
            * sum(c for _, c in samples)
            / len(samples),
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, nargs="+", default=[50])
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    cluster = start()
    mlflow, redis, postgres = started_mlflow(), started_redis(), started_postgres()
    try:
        cluster.kubectl("apply", "-f", str(CRD))
        cluster.kubectl("wait", "--for=condition=Established", "crd/fraudmodels.fraudops.io")
        install(cluster, expose_services(cluster, mlflow.port, redis.port, postgres.port))
        rows: dict[str, float] = {}
        if not args.skip_latency:
            rows |= latency(cluster, "bench-latency")
            rows |= scale_out(cluster, "bench-latency")
        rows |= footprint(cluster, sorted(args.models))
        width = max(map(len, rows))
        print(f"\n{'measure':<{width}}  pod runner  real node  real/runner")
        for name, value in rows.items():
            before = RUNNER.get(name)
            old = f"{before:10.2f}" if before is not None else f"{'-':>10}"
            ratio = f"{value / before:10.2f}x" if before else f"{'':>11}"
            print(f"{name:<{width}}  {old}  {value:9.2f}  {ratio}")
    finally:
        for service in (mlflow, redis, postgres):
            service.close()
        stop(cluster)


if __name__ == "__main__":
    main()
